package fetch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/clipsheet/clipsheet/internal/rules"
	"github.com/clipsheet/clipsheet/internal/store"
)

// maxCommitBatch bounds how many polls share one transaction.
const maxCommitBatch = 512

// committer writes finished polls from one goroutine, grouping whatever has
// queued up while the previous transaction was being fsynced. Workers never
// wait for the disk, which is what makes thousands of 304s per second
// possible; PollOnce and Run wait for it to drain before returning.
type committer struct {
	f    *Fetcher
	ch   chan *outcome
	done chan struct{}
}

func (f *Fetcher) startCommitter() *committer {
	c := &committer{f: f, ch: make(chan *outcome, 4*maxCommitBatch), done: make(chan struct{})}
	go c.loop()
	return c
}

func (c *committer) submit(o *outcome) { c.ch <- o }

// close waits until everything submitted is written.
func (c *committer) close() {
	close(c.ch)
	<-c.done
}

func (c *committer) loop() {
	defer close(c.done)
	for o := range c.ch {
		batch := []*outcome{o}
	drain:
		for len(batch) < maxCommitBatch {
			select {
			case o2, ok := <-c.ch:
				if !ok {
					break drain
				}
				batch = append(batch, o2)
			default:
				break drain
			}
		}
		c.f.commit(batch)
	}
}

// finish updates the counters and the next poll time once the number of
// items actually created is known.
func (f *Fetcher) finish(o *outcome, created int) {
	st := o.state
	o.res.NewItems = created
	if !o.failed {
		st.LastNewItems = created
		if created > 0 {
			st.LastNewItemAt = o.start
			st.Unchanged = 0
		} else {
			st.Unchanged++
		}
	}
	st.RetryAfter = time.Time{}
	if o.retry > 0 {
		st.RetryAfter = o.start.Add(min(o.retry, maxRetryAfter))
	}
	st.NextPoll = o.start.Add(nextDelay(st, o.interval, o.failed, o.retry, f.jitter()))
}

func (f *Fetcher) commit(batch []*outcome) {
	// Polls that finished must be recorded even if the caller is shutting
	// down, so the store write does not take the poll context.
	ctx := context.Background()
	f.applyRules(ctx, batch)
	if pw, ok := f.st.(pollWriter); ok {
		ws := make([]store.PollWrite, len(batch))
		for i, o := range batch {
			ws[i] = store.PollWrite{Items: o.items, SeenIDs: o.seen, State: o.state,
				BeforeState: func(created int) { f.finish(o, created) }}
		}
		if err := pw.WritePolls(ctx, ws); err != nil {
			f.log.Error("store poll results", "polls", len(batch), "err", err)
			for _, o := range batch {
				o.res.Err = errors.Join(o.res.Err, fmt.Errorf("store: %w", err))
			}
		}
	} else {
		for _, o := range batch {
			created := 0
			var errs []error
			for _, it := range o.items {
				ok, err := f.st.AddItem(ctx, it)
				if err != nil {
					errs = append(errs, err)
				} else if ok {
					created++
				}
			}
			f.finish(o, created)
			if err := f.st.PutSourceState(ctx, o.state); err != nil {
				errs = append(errs, err)
			}
			if len(errs) > 0 {
				o.res.Err = errors.Join(o.res.Err, fmt.Errorf("store: %w", errors.Join(errs...)))
			}
		}
	}
	for _, o := range batch {
		f.logOutcome(o)
		if f.onPoll != nil {
			f.onPoll(*o.res)
		}
		if o.done != nil {
			o.done(o)
		}
	}
}

func (f *Fetcher) logOutcome(o *outcome) {
	r := o.res
	attrs := []any{"source", r.Source, "status", r.Status, "entries", r.Entries, "new", r.NewItems,
		"duration", r.Duration.Round(1e6), "next_poll", o.state.NextPoll.Format("15:04:05")}
	if r.Excluded > 0 {
		attrs = append(attrs, "excluded", r.Excluded)
	}
	switch {
	case r.Err != nil:
		f.log.Warn("poll failed", append(attrs, "failures", o.state.ConsecutiveFailures, "err", r.Err)...)
	case r.MovedTo != "":
		f.log.Warn("source moved permanently; update sources.yaml", append(attrs, "moved_to", r.MovedTo)...)
	case r.NewItems > 0:
		f.log.Info("polled", attrs...)
	default:
		f.log.Log(context.Background(), slog.LevelDebug, "polled", append(attrs, "not_modified", r.NotModified)...)
	}
}

// applyRules runs the desk's rules on the batch's new items. A rule that
// no longer compiles, or a store that cannot list rules, is logged and the
// items are stored as they came: a broken rule must not lose stories.
func (f *Fetcher) applyRules(ctx context.Context, batch []*outcome) {
	if f.rules == nil {
		return
	}
	n := 0
	for _, o := range batch {
		n += len(o.items)
	}
	if n == 0 {
		return
	}
	rs, err := f.rules(ctx)
	if err != nil {
		f.log.Error("load rules; storing items without them", "err", err)
		return
	}
	cs, err := rules.Compile(rs)
	if err != nil {
		f.log.Warn("rules skipped", "err", err)
	}
	if len(cs) == 0 {
		return
	}
	for _, o := range batch {
		for _, it := range o.items {
			rules.Apply(cs, it)
		}
	}
}
