package fetch

import (
	"cmp"
	"context"
	"errors"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/model"
)

// PollOnce polls every enabled source once (concurrently, within the worker
// pool and per-host limits) and returns a result per enabled source, in
// sources-file order. One failing source never stops the others. Polls cut
// short because ctx ended are reported but not recorded as source failures.
func (f *Fetcher) PollOnce(ctx context.Context, sources *config.SourcesFile) []Result {
	if sources == nil {
		return nil
	}
	var srcs []config.Source
	for _, s := range sources.Sources {
		if s.IsEnabled() {
			srcs = append(srcs, s)
		}
	}
	results := make([]Result, len(srcs))
	for i, s := range srcs {
		results[i].Source = s.Name
	}
	c := f.startCommitter()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(f.cfg.Workers, len(srcs)) {
		wg.Go(func() {
			for i := range jobs {
				o := f.poll(ctx, srcs[i], sources.EffectiveInterval(srcs[i]))
				if o.failed && ctx.Err() != nil {
					results[i] = *o.res
					results[i].Err = ctx.Err()
					continue
				}
				o.done = func(o *outcome) { results[i] = *o.res }
				c.submit(o)
			}
		})
	}
	sent := 0
	order := interleaveByHost(srcs)
send:
	for _, i := range order {
		select {
		case jobs <- i:
			sent++
		case <-ctx.Done():
			break send
		}
	}
	close(jobs)
	wg.Wait()
	c.close()
	for _, i := range order[sent:] {
		results[i].Err = ctx.Err()
	}
	return results
}

// interleaveByHost orders sources round-robin by host, so the workers start
// on as many different hosts as possible instead of queueing behind one
// host's per-host limit.
func interleaveByHost(srcs []config.Source) []int {
	byHost := map[string][]int{}
	var hosts []string
	for i, s := range srcs {
		h := s.URL
		if u, err := url.Parse(s.URL); err == nil {
			h = hostKey(u)
		}
		if _, ok := byHost[h]; !ok {
			hosts = append(hosts, h)
		}
		byHost[h] = append(byHost[h], i)
	}
	out := make([]int, 0, len(srcs))
	for round := 0; len(out) < len(srcs); round++ {
		for _, h := range hosts {
			if round < len(byHost[h]) {
				out = append(out, byHost[h][round])
			}
		}
	}
	return out
}

// Scheduler timing.
const (
	// maxIdleWait bounds the scheduler's sleep so an edited sources list is
	// picked up promptly even when no poll is due.
	maxIdleWait = 5 * time.Second
	// providerEvery bounds how often provider is called while busy.
	providerEvery = time.Second
	// startSpread spreads first polls after start-up over this long (at
	// most a tenth of the source's interval).
	startSpread = 10 * time.Second
	// seenRetention is how long handled-link records are kept.
	seenRetention = 180 * 24 * time.Hour
	pruneEvery    = 24 * time.Hour
)

type schedEntry struct {
	src     config.Source
	key     string // what identifies the document polled (type and URL)
	gen     int    // bumped when the source changes, so stale completions are ignored
	due     time.Time
	queued  bool
	running bool
}

type runJob struct {
	name     string
	gen      int
	src      config.Source
	interval time.Duration
}

type completion struct {
	name string
	gen  int
	next time.Time
	res  *Result // nil when the poll was cut short by shutdown
}

// pollRequest asks Run to poll one source now; reply gets the result.
type pollRequest struct {
	name  string
	reply chan Result
}

// Errors of PollNow.
var (
	ErrNotRunning  = errors.New("the fetcher is not running (serve --no-fetch?)")
	ErrNotPolled   = errors.New("no such enabled source is being polled")
	errPollStopped = errors.New("the fetcher stopped before the poll finished")
)

// PollNow asks the running Run loop to poll the named source at once
// instead of at its scheduled time, and waits for that poll's result. A
// poll of the source already under way counts. It answers ErrNotRunning
// when no Run loop is running and ErrNotPolled for a source Run does not
// poll (unknown or disabled).
func (f *Fetcher) PollNow(ctx context.Context, name string) (Result, error) {
	req := pollRequest{name: name, reply: make(chan Result, 1)}
	if !f.running.Load() {
		return Result{}, ErrNotRunning
	}
	select {
	case f.pollNow <- req:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	select {
	case r := <-req.reply:
		if errors.Is(r.Err, ErrNotPolled) || errors.Is(r.Err, errPollStopped) {
			return r, r.Err
		}
		return r, nil
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// Run polls each source on its own schedule until ctx is done, then waits
// for polls in flight and returns nil. provider is called each scheduling
// round (at most once a second while busy, at least every few seconds while
// idle), so edited source lists take effect; removed or disabled sources
// stop being polled, and a source whose URL changed is polled at once.
func (f *Fetcher) Run(ctx context.Context, provider func() *config.SourcesFile) error {
	if provider == nil {
		return errors.New("fetch: Run needs a sources provider")
	}
	f.running.Store(true)
	defer f.running.Store(false)
	c := f.startCommitter()
	jobs := make(chan runJob)
	var mu sync.Mutex
	var finished []completion
	wake := make(chan struct{}, 1)
	notify := func(cp completion) {
		mu.Lock()
		finished = append(finished, cp)
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	var wg sync.WaitGroup
	for range f.cfg.Workers {
		wg.Go(func() {
			for j := range jobs {
				o := f.poll(ctx, j.src, j.interval)
				if ctx.Err() != nil && o.failed {
					// Shutting down: not the source's fault, retry next start.
					notify(completion{name: j.name, gen: j.gen})
					continue
				}
				o.done = func(o *outcome) {
					notify(completion{name: j.name, gen: j.gen, next: o.state.NextPoll, res: o.res})
				}
				c.submit(o)
			}
		})
	}
	defer func() {
		close(jobs)
		wg.Wait()
		c.close()
	}()

	sched := map[string]*schedEntry{}
	// waiting holds the PollNow callers of each source until its next
	// poll completes.
	waiting := map[string][]chan Result{}
	defer func() {
		for _, ws := range waiting {
			for _, w := range ws {
				w <- Result{Err: errPollStopped}
			}
		}
	}()
	var ready []string
	var file *config.SourcesFile
	var lastProvide, lastPrune time.Time
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := f.now()
		if file == nil || now.Sub(lastProvide) >= providerEvery {
			if p := provider(); p != nil {
				file = p
			} else if file == nil {
				file = &config.SourcesFile{}
			}
			lastProvide = now
			f.reconcile(ctx, sched, file, now)
			ready = slices.DeleteFunc(ready, func(n string) bool { return sched[n] == nil })
			for name, ws := range waiting {
				if sched[name] == nil {
					for _, w := range ws {
						w <- Result{Source: name, Err: ErrNotPolled}
					}
					delete(waiting, name)
				}
			}
		}
		if now.Sub(lastPrune) >= pruneEvery {
			lastPrune = now
			f.pruneSeen(ctx, now)
		}
		mu.Lock()
		done := finished
		finished = nil
		mu.Unlock()
		for _, cp := range done {
			if ws := waiting[cp.name]; len(ws) > 0 {
				r := Result{Source: cp.name, Err: errPollStopped}
				if cp.res != nil {
					r = *cp.res
				}
				for _, w := range ws {
					w <- r
				}
				delete(waiting, cp.name)
			}
			if e := sched[cp.name]; e != nil && e.gen == cp.gen {
				e.running = false
				e.due = cp.next
				if e.due.IsZero() {
					e.due = now.Add(startSpread)
				}
			}
		}
		var due []*schedEntry
		wait := maxIdleWait
		for _, e := range sched {
			if e.queued || e.running {
				continue
			}
			if !now.Before(e.due) {
				e.queued = true
				due = append(due, e)
			} else {
				wait = min(wait, e.due.Sub(now))
			}
		}
		slices.SortFunc(due, func(a, b *schedEntry) int { return cmp.Compare(a.due.UnixNano(), b.due.UnixNano()) })
		for _, e := range due {
			ready = append(ready, e.src.Name)
		}

		var send chan runJob
		var job runJob
		if len(ready) > 0 {
			e := sched[ready[0]]
			send = jobs
			job = runJob{name: e.src.Name, gen: e.gen, src: e.src, interval: file.EffectiveInterval(e.src)}
		}
		timer.Reset(max(wait, 10*time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case send <- job:
			if e := sched[job.name]; e != nil {
				e.queued, e.running = false, true
			}
			ready = ready[1:]
		case req := <-f.pollNow:
			e := sched[req.name]
			if e == nil {
				req.reply <- Result{Source: req.name, Err: ErrNotPolled}
				break
			}
			waiting[req.name] = append(waiting[req.name], req.reply)
			if !e.queued && !e.running {
				// Due now: the next round queues it ahead of later ones.
				e.due = now
			}
		case <-wake:
		case <-timer.C:
		}
		// Since Go 1.23 Stop/Reset leave no stale tick in the channel.
		timer.Stop()
	}
}

// reconcile brings the schedule in line with the current sources list.
func (f *Fetcher) reconcile(ctx context.Context, sched map[string]*schedEntry, file *config.SourcesFile, now time.Time) {
	present := map[string]bool{}
	for _, s := range file.Sources {
		if !s.IsEnabled() || s.Name == "" {
			continue
		}
		present[s.Name] = true
		key := s.KindOrDefault() + " " + s.URL
		e := sched[s.Name]
		switch {
		case e == nil:
			e = &schedEntry{src: s, key: key, due: f.firstDue(ctx, s, file.EffectiveInterval(s), now)}
			sched[s.Name] = e
		case e.key != key:
			// A new document: poll it now, and ignore the old poll's result.
			e.src, e.key, e.gen, e.due, e.running, e.queued = s, key, e.gen+1, now, false, false
		default:
			e.src = s // selectors, section, interval take effect next poll
		}
	}
	for name := range sched {
		if !present[name] {
			delete(sched, name)
		}
	}
}

// firstDue is when a source newly seen by Run is first polled: when its
// stored state says (so back-off survives restarts), else soon, spread a
// little so a restart does not fire every source in the same instant.
func (f *Fetcher) firstDue(ctx context.Context, s config.Source, interval time.Duration, now time.Time) time.Time {
	if st, err := f.st.SourceState(ctx, s.Name); err == nil && st != nil && st.URL == s.URL && st.NextPoll.After(now) {
		return st.NextPoll
	}
	spread := min(startSpread, interval/10)
	return now.Add(time.Duration(f.jitter() * float64(spread)))
}

func (f *Fetcher) pruneSeen(ctx context.Context, now time.Time) {
	p, ok := f.st.(interface {
		PruneSeen(context.Context, time.Time) (int, error)
	})
	if !ok {
		return
	}
	if n, err := p.PruneSeen(ctx, now.Add(-seenRetention)); err != nil {
		f.log.Warn("prune seen links", "err", err)
	} else if n > 0 {
		f.log.Info("pruned seen links", "removed", n)
	}
}

// Preview fetches a source now and returns what a poll would store for its
// first n entries (extracted, with the same fallbacks), without storing
// anything and without conditional GET. Entries already stored are
// included, so a source being edited still shows results. n <= 0 means 5.
func (f *Fetcher) Preview(ctx context.Context, src config.Source, n int) ([]*model.Item, error) {
	if n <= 0 {
		n = 5
	}
	var res Result
	doc, _, err := f.listEntries(ctx, src, src.URL, "", "", &res)
	if err != nil {
		return nil, err
	}
	var entries []feedEntry
	seen := map[string]bool{}
	for _, e := range doc.entries {
		if e.Link == "" || seen[e.Link] {
			continue
		}
		seen[e.Link] = true
		entries = append(entries, e)
		if len(entries) == n {
			break
		}
	}
	items := make([]*model.Item, len(entries))
	now := f.now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, f.cfg.PerHost)
	for i, e := range entries {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			items[i], _ = f.buildItem(ctx, src, e, doc.siteName, now)
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return items, nil
}
