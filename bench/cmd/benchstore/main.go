// Command benchstore measures Clipsheet's store at scale through the real
// server: it builds stores of 10k, 100k and 1M realistic items through the
// store API (the fetcher's batched WritePolls, the desk's UpdateItem),
// caches them, serves each with the real `clipsheet serve` on loopback and
// measures p50/p99 of the pages, feeds and API calls with 1 and 16 clients,
// start-up time, file size and the server's memory, then prints markdown
// tables: one per size and the ratios of each size to the smallest.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/clipsheet/clipsheet/internal/store"
)

type options struct {
	sizes         []int
	cache         string
	rebuild       bool
	copyDB        bool
	requests      int
	clients       []int
	cellCap       time.Duration
	buildTimeout  time.Duration
	maxRSS        int64
	briefingItems int
	batch         int
	keep          bool
	settle        time.Duration
	out           string
}

func main() {
	var o options
	sizes := flag.String("sizes", "10000,100000,1000000", "store sizes to measure, comma-separated")
	clients := flag.String("clients", "1,16", "concurrent clients per cell, comma-separated")
	flag.StringVar(&o.cache, "cache", filepath.Join(os.TempDir(), "clipsheet-benchstore"), "directory of built stores, kept between runs (keyed by size, schema and generator version)")
	flag.BoolVar(&o.rebuild, "rebuild", false, "build the stores again even when cached")
	flag.BoolVar(&o.copyDB, "copy", true, "serve a copy of the cached store (false: serve it in place; the approvals and sign-ins then stay in the cache)")
	flag.IntVar(&o.requests, "n", 200, "requests per cell")
	flag.DurationVar(&o.cellCap, "cap", 20*time.Second, "time cap per cell; requests still running then count as timed out")
	quick := flag.Bool("quick", false, "quick mode: -n 30 -cap 5s (unless given)")
	flag.DurationVar(&o.buildTimeout, "build-timeout", 0, "give up building a store after this long (0: no limit)")
	maxRSS := flag.Int64("max-anon-mb", 4096, "kill the server when its anonymous memory (RssAnon) passes this many MiB, and start it again for the next cell (0: never)")
	flag.IntVar(&o.briefingItems, "briefing-items", 150, "approvals in the last 48 hours, at every size (what / shows)")
	flag.IntVar(&o.batch, "batch", 1000, "items per WritePolls transaction while building")
	flag.DurationVar(&o.settle, "settle", time.Minute, "before each cell, wait up to this long for the server to go idle (requests cut off at the cap may still run in it)")
	flag.BoolVar(&o.keep, "keep", false, "keep each run's temporary directory (server log, sources file)")
	flag.StringVar(&o.out, "out", "", "also write the markdown tables to this file")
	flag.Parse()
	given := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if *quick {
		if !given["n"] {
			o.requests = 30
		}
		if !given["cap"] {
			o.cellCap = 5 * time.Second
		}
	}
	o.maxRSS = *maxRSS << 20
	var err error
	if o.sizes, err = intList(*sizes); err != nil {
		log.Fatalf("-sizes: %v", err)
	}
	if o.clients, err = intList(*clients); err != nil {
		log.Fatalf("-clients: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	md, err := run(ctx, o, os.Stderr)
	if md != "" {
		fmt.Print(md)
		if o.out != "" {
			if werr := os.WriteFile(o.out, []byte(md), 0o644); werr != nil {
				log.Print(werr)
			}
		}
	}
	if err != nil {
		log.Fatal(err)
	}
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want positive whole numbers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// sizeResult is everything measured at one size.
type sizeResult struct {
	n             int
	meta          *buildMeta
	built         bool // built in this run (else from the cache)
	startup       time.Duration
	fileBytes     int64
	after, peak   memStatus
	restarts      int // times the memory guard killed the server
	rows          []string
	cells         map[string][]cell // by row, one per client count
	staticRatio   float64           // static p50 / `/` p50 (1 client)
	staticCut     bool              // `/` p50 fell on a request cut off at the cap
	briefingBytes int64
	err           error
}

func run(ctx context.Context, o options, logw io.Writer) (string, error) {
	logf := func(format string, a ...any) { fmt.Fprintf(logw, "benchstore: "+format+"\n", a...) }
	tmp, err := os.MkdirTemp("", "benchstore-run-")
	if err != nil {
		return "", err
	}
	if !o.keep {
		defer os.RemoveAll(tmp)
	}
	logf("building the server (go build ./cmd/clipsheet)")
	bin, err := buildBinary(ctx, tmp)
	if err != nil {
		return "", err
	}
	var results []*sizeResult
	for _, n := range o.sizes {
		r := measureSize(ctx, o, n, bin, tmp, logf)
		results = append(results, r)
		if r.err != nil {
			logf("%d items: %v", n, r.err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return report(o, results), ctx.Err()
}

func measureSize(ctx context.Context, o options, n int, bin, tmp string, logf func(string, ...any)) *sizeResult {
	r := &sizeResult{n: n, cells: map[string][]cell{}}
	dir := cacheDir(o.cache, n)
	r.meta = loadCached(dir)
	if r.meta == nil || o.rebuild {
		logf("%d items: building into %s", n, dir)
		bctx := ctx
		if o.buildTimeout > 0 {
			var cancel context.CancelFunc
			bctx, cancel = context.WithTimeout(ctx, o.buildTimeout)
			defer cancel()
		}
		last := time.Now()
		r.meta, r.err = buildStore(bctx, dir, n, buildOptions{batch: o.batch, briefingItems: o.briefingItems,
			maxUpdates: 2000, seed: uint64(n), progress: func(done int) {
				if time.Since(last) > 10*time.Second {
					logf("%d items: %d stored", n, done)
					last = time.Now()
				}
			}})
		if r.err != nil {
			return r
		}
		r.built = true
		logf("%d items: built in %.1f s, %.0f items/s through WritePolls", n, r.meta.BuildSeconds, r.meta.InsertPerSec)
	} else {
		logf("%d items: cached store from %s", n, r.meta.BuiltAt.Format(time.RFC3339))
	}
	runDir, err := os.MkdirTemp(tmp, fmt.Sprintf("size-%d-", n))
	if err != nil {
		r.err = err
		return r
	}
	if !o.keep {
		defer os.RemoveAll(runDir)
	}
	if err := writeSources(filepath.Join(runDir, "sources.yaml")); err != nil {
		r.err = err
		return r
	}
	dataDir := dir
	if o.copyDB {
		dataDir = filepath.Join(runDir, "data")
		if err := copyFile(filepath.Join(dir, "clipsheet.db"), filepath.Join(dataDir, "clipsheet.db")); err != nil {
			r.err = err
			return r
		}
	}
	dbPath := filepath.Join(dataDir, "clipsheet.db")
	maxClients := 0
	for _, c := range o.clients {
		maxClients = max(maxClients, c)
	}
	acct, err := prepare(ctx, dbPath, len(o.clients)*(o.requests+maxClients)+1)
	if err != nil {
		r.err = err
		return r
	}
	logf("%d items: starting clipsheet serve", n)
	srv, err := startServer(ctx, bin, runDir, dataDir, o.maxRSS)
	if err != nil {
		r.err = err
		return r
	}
	r.startup = srv.startup
	if fi, err := os.Stat(dbPath); err == nil {
		r.fileBytes = fi.Size()
	}
	logf("%d items: serving on %s after %v", n, srv.base, srv.startup.Round(time.Millisecond))
	restart := func() (*server, error) {
		srv.stop()
		r.restarts++
		logf("%d items: the server was killed over -max-anon-mb; starting it again", n)
		var err error
		srv, err = startServer(ctx, bin, runDir, dataDir, o.maxRSS)
		return srv, err
	}
	if err := measureLoad(ctx, o, r, srv, restart, acct, runDir, logf); err != nil {
		r.err = err
	}
	if m, err := readStatus(srv.cmd.Process.Pid); err == nil {
		r.after = m
	}
	p, _ := srv.mem.peaks()
	r.peak.rssAnon = max(r.peak.rssAnon, p.rssAnon)
	r.peak.vmRSS = max(r.peak.vmRSS, p.vmRSS)
	r.peak.vmHWM = max(r.peak.vmHWM, p.vmHWM)
	srv.stop()
	return r
}

// connect signs in to a running server and makes the load's clients.
func connect(ctx context.Context, base string, acct *account) (*conn, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	desk, err := login(ctx, base, acct)
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	return &conn{base: base, anon: newClient(jar), desk: desk, api: newClient(nil),
		bearer: http.Header{"Authorization": {"Bearer " + acct.token}, "Accept": {"application/json"}}}, nil
}

func measureLoad(ctx context.Context, o options, r *sizeResult, srv *server, restart func() (*server, error),
	acct *account, runDir string, logf func(string, ...any)) error {
	cn, err := connect(ctx, srv.base, acct)
	if err != nil {
		return err
	}
	get := func(name string, w who, path string) *target {
		return &target{name: name, who: w, method: http.MethodGet, path: func(int) string { return path }, want: http.StatusOK}
	}
	q := url.QueryEscape
	targets := []*target{
		get("`/healthz`", anonymous, "/healthz"),
		get("`/` briefing", anonymous, "/"),
		nil, // the static baseline, made from `/`'s answer
		get("`/queue` (signed-in curator)", curator, "/queue"),
		get("`/queue?q=` rare word", curator, "/queue?q="+q(searchRare)),
		get("API list `/api/v1/items`", apiClient, "/api/v1/items"),
		get("API search `q=` common word", apiClient, "/api/v1/items?q="+q(searchCommon)),
		get("API search `q=` rare word", apiClient, "/api/v1/items?q="+q(searchRare)),
		get("API search `q=` absent word", apiClient, "/api/v1/items?q="+q(searchAbsent)),
		get("Atom feed `/feed.atom`", anonymous, "/feed.atom"),
		{name: "API approve (distinct queued items)", who: apiClient, method: http.MethodPost, want: http.StatusOK,
			path: func(i int) string {
				if i >= len(acct.queued) {
					return "/api/v1/items/no-such-item/approve"
				}
				return "/api/v1/items/" + acct.queued[i] + "/approve"
			}},
	}
	// ensureUp starts the server again if the memory guard killed it.
	ensureUp := func() error {
		if _, killed := srv.mem.peaks(); !killed {
			return nil
		}
		p, _ := srv.mem.peaks()
		r.peak.rssAnon = max(r.peak.rssAnon, p.rssAnon)
		r.peak.vmRSS = max(r.peak.vmRSS, p.vmRSS)
		r.peak.vmHWM = max(r.peak.vmHWM, p.vmHWM)
		var err error
		if srv, err = restart(); err != nil {
			return err
		}
		cn, err = connect(ctx, srv.base, acct)
		return err
	}
	approved := 0
	var briefingP50 sample
	for i, t := range targets {
		if t == nil {
			if err := ensureUp(); err != nil {
				return err
			}
			settle(ctx, srv.cmd.Process.Pid, o.settle)
			var body []byte
			for _, c := range r.cells[targets[1].name] {
				if c.body != nil {
					body = c.body
				}
			}
			st, err := staticTarget(ctx, cn, runDir, body, max(o.cellCap, 2*time.Minute))
			if err != nil {
				// Without an answer of `/` there is nothing to compare with;
				// the other rows are still worth measuring.
				logf("%d items: no static baseline: %v", r.n, err)
				continue
			}
			defer st.close()
			t = st.target
			targets[i] = t
		}
		r.rows = append(r.rows, t.name)
		for _, clients := range o.clients {
			if err := ensureUp(); err != nil {
				return err
			}
			if d := settle(ctx, srv.cmd.Process.Pid, o.settle); d > 2*time.Second {
				logf("%d items: waited %v for the server to finish abandoned requests", r.n, d.Round(time.Second/10))
			}
			first := 0
			if t.method == http.MethodPost {
				first = approved
			} else {
				// One unmeasured request, so the first measured one finds
				// connections open and caches as a reader would.
				wctx, cancel := context.WithTimeout(ctx, o.cellCap)
				do(wctx, cn, t, 0)
				cancel()
			}
			c := runCell(ctx, cn, t, clients, o.requests, first, o.cellCap)
			if t.method == http.MethodPost {
				approved += c.asked
			}
			if _, killed := srv.mem.peaks(); killed {
				c.killed = true
			}
			r.cells[t.name] = append(r.cells[t.name], c)
			logf("%d items: %-40s %2d clients: %s", r.n, t.name, clients, cellText(c, o.cellCap, o.requests))
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		switch i {
		case 1:
			briefingP50 = r.cells[t.name][0].p50
			r.briefingBytes = r.cells[t.name][0].bytes
		case 2:
			if s := r.cells[t.name][0].p50; s.d > 0 && briefingP50.d > 0 {
				r.staticRatio = float64(s.d) / float64(briefingP50.d)
				r.staticCut = briefingP50.cut
			}
			if r.briefingBytes == 0 {
				r.briefingBytes = r.cells[t.name][0].bytes
			}
		}
	}
	return nil
}

// static is Go's file server sending a file with the bytes of `/`'s
// answer (as sent, compressed if it was), on another loopback port.
type static struct {
	target *target
	close  func()
}

func staticTarget(ctx context.Context, cn *conn, runDir string, body []byte, wait time.Duration) (*static, error) {
	if body == nil {
		// No measured request of `/` finished: one more try, with time.
		ctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		t := &target{who: anonymous, method: http.MethodGet, path: func(int) string { return "/" }}
		status, _, b, err := do(ctx, cn, t, 0)
		if err != nil || status != http.StatusOK {
			return nil, fmt.Errorf("GET / (waited up to %s): %d %v", wait, status, err)
		}
		body = b
	}
	dir := filepath.Join(runDir, "static")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "briefing.html"), body, 0o644); err != nil {
		return nil, err
	}
	ts := httptest.NewServer(http.FileServer(http.Dir(dir)))
	return &static{
		target: &target{name: "static file server, same bytes as `/`", who: anonymous, method: http.MethodGet,
			path: func(int) string { return ts.URL + "/briefing.html" }, want: http.StatusOK},
		close: ts.Close,
	}, nil
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// storeSchema is the schema the cache keys use, for the report.
func storeSchema() int { return store.SchemaVersion }
