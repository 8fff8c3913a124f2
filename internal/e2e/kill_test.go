package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The figure: the real binary is killed at 50 random moments.
// KILL_TEST_ROUNDS changes it (a loaded CI can say 12); -short runs 12.
// KILL_TEST_SEED replays a run (the seed is logged).
const (
	defaultKillRounds = 50
	shortKillRounds   = 12
	defaultKillSeed   = 13
)

// kill -9 under load loses nothing acknowledged. The released binary
// (make release for this platform) serves a temporary data directory and
// polls feeds from a loopback publisher, whose sources grow every round so
// there is always something to fetch, while curators' scripts approve
// queued items through the API with a bearer token. At a random moment of
// each round the process is SIGKILLed and started again. At the end every
// approval that was answered 2xx is approved in the file, every item any
// answer showed is still there, bbolt's consistency check passes, and
// `clipsheet check` passes when the binary has it.
func TestKillNineUnderLoadLosesNoAcknowledgedApproval(t *testing.T) {
	rounds := defaultKillRounds
	if testing.Short() {
		rounds = shortKillRounds
	}
	if v := os.Getenv("KILL_TEST_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("KILL_TEST_ROUNDS=%q: want a positive number", v)
		}
		rounds = n
	}
	seed := uint64(defaultKillSeed)
	if v := os.Getenv("KILL_TEST_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("KILL_TEST_SEED=%q: want a number", v)
		}
		seed = n
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("%d rounds, KILL_TEST_SEED=%d", rounds, seed)

	bin := releaseBinary(t)
	start := time.Now()
	publisher := httptest.NewServer(newPublisher())
	defer publisher.Close()

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	sources := filepath.Join(dir, "sources.yaml")
	feeds := newFeedList(publisher.URL, sources)
	if err := feeds.grow(30); err != nil {
		t.Fatal(err)
	}
	child := childRunner{bin: bin, dir: dir, args: []string{"--config", sources, "--data", data}}
	if out, err := child.run(strings.NewReader("kill-test-password-1\n"), "user", "add", "desk", "--role", "curator", "--password-stdin"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	out, err := child.run(nil, "token", "add", "desk", "--name", "kill test")
	if err != nil {
		t.Fatalf("token add: %v\n%s", err, out)
	}
	fields := strings.Fields(out)
	token := fields[len(fields)-1]

	addr := freeLoopbackAddr(t)
	load := newApprovers("http://"+addr, token)
	loadCtx, stopLoad := context.WithCancel(context.Background())
	var loadDone sync.WaitGroup
	for i := range 3 {
		loadDone.Go(func() { load.run(loadCtx, rand.New(rand.NewPCG(seed, uint64(i)+1))) })
	}
	defer func() { stopLoad(); loadDone.Wait() }()

	serveArgs := append([]string{"serve", "--addr", addr, "--allow-private",
		// every source is on the one loopback publisher
		"--set", "fetch.per_host=16", "--set", "fetch.timeout=10s"}, child.args...)
	var startups, served time.Duration
	earlyKills := 0
	for round := range rounds {
		if err := feeds.grow(20); err != nil {
			t.Fatal(err)
		}
		srv, err := child.start(t, serveArgs...)
		if err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		// One kill in five lands while the server starts (opening the
		// file, its first writes), the rest while it serves the load.
		if healthy := round - earlyKills; rng.IntN(5) == 0 && healthy > 0 {
			earlyKills++
			time.Sleep(time.Duration(rng.Int64N(int64(startups / time.Duration(healthy)))))
		} else {
			if err := waitHealthy(addr, srv, 30*time.Second); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			startups += time.Since(began)
			window := time.Duration(rng.Int64N(int64(800 * time.Millisecond)))
			time.Sleep(window)
			served += window
		}
		if err := srv.kill(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if strings.Contains(srv.stderr.String(), "panic") {
			t.Fatalf("round %d: the server panicked before the kill:\n%s", round, srv.stderr.String())
		}
	}
	stopLoad()
	loadDone.Wait()
	killed := time.Since(start)

	// One last start shows the file opens after the last kill.
	srv, err := child.start(t, serveArgs...)
	if err != nil {
		t.Fatal(err)
	}
	if err := waitHealthy(addr, srv, 30*time.Second); err != nil {
		t.Fatalf("after the last kill: %v", err)
	}
	if err := srv.stop(); err != nil {
		t.Fatalf("stopping the last server: %v\n%s", err, srv.stderr.String())
	}

	db := filepath.Join(data, "clipsheet.db")
	boltCheck(t, db)
	ranCheck := false
	if out, err := child.run(nil, "check", "--help"); err == nil {
		ranCheck = true
		if out, err := child.run(nil, "check"); err != nil {
			t.Errorf("clipsheet check after %d kills: %v\n%s", rounds, err, out)
		}
	} else if !strings.Contains(out, `unknown command "check"`) {
		t.Errorf("clipsheet check --help: %v\n%s", err, out)
	}

	out, err = child.run(nil, "items", "--json")
	if err != nil {
		t.Fatalf("clipsheet items: %v\n%s", err, out)
	}
	status := map[string]string{}
	for line := range strings.Lines(out) {
		var it struct{ ID, Status string }
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			t.Fatalf("clipsheet items --json: %v in %q", err, line)
		}
		status[it.ID] = it.Status
	}
	acked, seen := load.results()
	lost := 0
	for id := range acked {
		if status[id] != "approved" {
			lost++
			if lost <= 10 {
				t.Errorf("approval of %s was answered 2xx, but the item is %q after the kills", id, status[id])
			}
		}
	}
	missing := 0
	for id := range seen {
		if _, ok := status[id]; !ok {
			missing++
			if missing <= 10 {
				t.Errorf("item %s was listed by the API, and is gone after the kills", id)
			}
		}
	}
	st := load.snapshot()
	approved := 0
	for _, s := range status {
		if s == "approved" {
			approved++
		}
	}
	t.Logf("%d kills (%d during start-up) in %v: start-up took %v on average, the others served %v on average before the kill",
		rounds, earlyKills, killed.Round(time.Millisecond), mean(startups, rounds-earlyKills), mean(served, rounds-earlyKills))
	t.Logf("load: %d approvals answered 2xx, %d API calls cut by a kill; %d items fetched, %d approved; clipsheet check run: %v",
		len(acked), st.cut, len(status), approved, ranCheck)
	// A run that approved or fetched next to nothing proved nothing.
	if len(acked) < rounds || len(status) < 3*rounds {
		t.Errorf("too little load to mean anything: %d approvals acknowledged and %d items fetched in %d rounds", len(acked), len(status), rounds)
	}
	if st.cut == 0 {
		t.Error("no API call was ever cut by a kill: the kills did not land under load")
	}
	if lost > 0 || missing > 0 {
		t.Errorf("%d acknowledged approvals lost, %d listed items gone (KILL_TEST_SEED=%d)", lost, missing, seed)
	}
}

func mean(total time.Duration, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	return (total / time.Duration(n)).Round(time.Millisecond)
}

// boltCheck runs bbolt's own consistency check on the file: every page
// reachable once, no page both free and in use.
func boltCheck(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open %s for bbolt's check: %v", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Errorf("bbolt check of %s: %v", path, err)
	}
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// childRunner runs the binary with the test's data directory and sources,
// and an environment without CLIPSHEET_ settings, which would change what
// it does (and unknown ones are refused).
type childRunner struct {
	bin, dir string
	args     []string
}

func (c childRunner) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CLIPSHEET_") {
			env = append(env, kv)
		}
	}
	return env
}

func (c childRunner) command(args ...string) *exec.Cmd {
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = c.dir
	cmd.Env = c.env()
	return cmd
}

// run runs one command to its end and returns its output.
func (c childRunner) run(stdin io.Reader, args ...string) (string, error) {
	if len(args) > 0 && args[len(args)-1] != "--help" {
		args = append(args, c.args...)
	}
	cmd := c.command(args...)
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	return string(out), err
}

type server struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	exited chan struct{}
	err    error
}

// start starts a server, which is killed when the test ends if it still
// runs then (a test that failed half way).
func (c childRunner) start(t *testing.T, args ...string) (*server, error) {
	s := &server{cmd: c.command(args...), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.bin, err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		s.cmd.Process.Kill() // an error when it has ended already
		<-s.exited
	})
	return s, nil
}

// kill sends SIGKILL and waits for the process to be gone. A process that
// had already exited by itself failed to start or crashed: that is an
// error with its output.
func (s *server) kill() error {
	select {
	case <-s.exited:
		return fmt.Errorf("the server exited before the kill: %v\n%s", s.err, s.stderr.String())
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("still running 10s after SIGKILL")
	}
}

// stop shuts the server down gracefully.
func (s *server) stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return s.err
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		return errors.New("still running 30s after SIGTERM")
	}
}

// waitHealthy polls /healthz until it answers 200, the process exits, or
// the time is up.
func waitHealthy(addr string, s *server, limit time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(limit)
	for {
		res, err := client.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(res.Status)
		}
		select {
		case <-s.exited:
			return fmt.Errorf("the server exited while starting: %v\n%s", s.err, s.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not healthy after %v (%v)\n%s", limit, err, s.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// feedList is the sources file, which gains sources every round: sources
// are polled soon after they first appear and then only after their
// interval (at least a minute, longer than the test), so new ones keep the
// fetcher writing through every round. The file is replaced atomically,
// as an editor would, for the server's watcher.
type feedList struct {
	base, path string
	n          int
}

func newFeedList(base, path string) *feedList { return &feedList{base: base, path: path} }

func (f *feedList) grow(by int) error {
	f.n += by
	var b strings.Builder
	b.WriteString("defaults: {interval: 1m}\nsections: [Local]\nsources:\n")
	for i := range f.n {
		fmt.Fprintf(&b, "  - name: Feed %d\n    url: %s/feed/%d.xml\n    section: Local\n", i, f.base, i)
	}
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, f.path)
}

// newPublisher serves /feed/N.xml (an RSS feed of storiesPerFeed stories)
// and each story's page, with a headline, byline, date and paragraphs for
// the extractor.
func newPublisher() http.Handler {
	const storiesPerFeed = 12
	published := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed/{n}", func(w http.ResponseWriter, r *http.Request) {
		n := strings.TrimSuffix(r.PathValue("n"), ".xml")
		base := "http://" + r.Host
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed %s</title><link>%s/</link><description>Local news</description>`, n, base)
		for i := range storiesPerFeed {
			fmt.Fprintf(&b, `<item><title>%s</title><link>%s/story/%s/%d.html</link><guid>%s/story/%s/%d.html</guid><pubDate>%s</pubDate></item>`,
				html.EscapeString(storyWords(fmt.Sprintf("%s-%d", n, i))(7)), base, n, i, base, n, i, published.Format(time.RFC1123Z))
		}
		b.WriteString(`</channel></rss>`)
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, b.String())
	})
	mux.HandleFunc("GET /story/{n}/{i}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("n") + "-" + strings.TrimSuffix(r.PathValue("i"), ".html")
		// Words of its own for each story: stories that read alike are
		// grouped as versions of one, and a copy of an approved story is
		// filed as a duplicate instead of queued, which would starve the
		// approvers.
		words := storyWords(id)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>%[1]s | Loopback Ledger</title>
<meta property="og:site_name" content="Loopback Ledger"><meta name="author" content="Kim Reporter">
<meta property="article:published_time" content="%[2]s"></head><body><article><h1>%[1]s</h1>
<p class="byline">By Kim Reporter</p>
<p>%[3]s.</p>
<p>%[4]s.</p>
<p>%[5]s.</p>
</article></body></html>`, html.EscapeString(words(7)), published.Format(time.RFC3339),
			html.EscapeString(words(16)), html.EscapeString(words(14)), html.EscapeString(words(18)))
	})
	return mux
}

// storyWords returns a generator of made-up words fixed by the story's id.
func storyWords(id string) func(n int) string {
	syllables := []string{"ka", "lo", "mi", "ter", "van", "dor", "sel", "pra", "qui", "nox", "bel", "ru",
		"fen", "gar", "hul", "jin", "mor", "pel", "sta", "tor", "ul", "vey", "wic", "zan"}
	var seed uint64 = 14695981039346656037
	for _, c := range []byte(id) {
		seed = (seed ^ uint64(c)) * 1099511628211
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	return func(n int) string {
		ws := make([]string, n)
		for i := range ws {
			var b strings.Builder
			for range 2 + rng.IntN(2) {
				b.WriteString(syllables[rng.IntN(len(syllables))])
			}
			ws[i] = b.String()
		}
		ws[0] = strings.ToUpper(ws[0][:1]) + ws[0][1:]
		return strings.Join(ws, " ")
	}
}

// approvers are the curators' scripts: each lists queued items and approves
// some of them, noting every approval answered 2xx and every item seen.
type approvers struct {
	base, token string
	client      *http.Client
	mu          sync.Mutex
	acked, seen map[string]bool
	cut         atomic.Int64
}

type loadStats struct{ cut int64 }

func newApprovers(base, token string) *approvers {
	return &approvers{base: base, token: token, acked: map[string]bool{}, seen: map[string]bool{},
		// A fresh connection for each call: one kept across a kill is
		// dead, and the failed call would be blamed on the kill twice.
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
}

func (a *approvers) snapshot() loadStats { return loadStats{cut: a.cut.Load()} }

func (a *approvers) results() (acked, seen map[string]bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.acked, a.seen
}

func (a *approvers) call(ctx context.Context, method, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	res, err := a.client.Do(req)
	if err != nil && ctx.Err() == nil && !errors.Is(err, syscall.ECONNREFUSED) {
		// Connected (or sent) and then lost: the server died under it.
		a.cut.Add(1)
	}
	return res, err
}

func (a *approvers) run(ctx context.Context, rng *rand.Rand) {
	for ctx.Err() == nil {
		res, err := a.call(ctx, http.MethodGet, "/api/v1/items?status=queued&limit=30")
		if err != nil {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		var page struct {
			Items []struct{ ID string } `json:"items"`
		}
		err = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		a.mu.Lock()
		for _, it := range page.Items {
			a.seen[it.ID] = true
		}
		a.mu.Unlock()
		if len(page.Items) == 0 {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		for range min(3, len(page.Items)) {
			id := page.Items[rng.IntN(len(page.Items))].ID
			res, err := a.call(ctx, http.MethodPost, "/api/v1/items/"+id+"/approve")
			if err != nil {
				break
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode >= 200 && res.StatusCode < 300 {
				a.mu.Lock()
				a.acked[id] = true
				a.mu.Unlock()
			}
		}
	}
}
