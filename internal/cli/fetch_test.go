package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// publisher serves one small feed, its article pages and a home page that
// links the feed.
func publisher(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", http.NotFound)
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Local Gazette</title>
<item><title>First story</title><link>http://%[1]s/story/1</link><description>First summary.</description></item>
<item><title>Second story</title><link>http://%[1]s/story/2</link></item></channel></rss>`, r.Host)
	})
	mux.HandleFunc("/old-feed.xml", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/feed.xml", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/story/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><head><title>A story</title></head><body><article><h1>A story</h1>
<p>The council approved the new budget on Tuesday after a debate that lasted well into the evening, officials said.</p>
<p>Work on the bridge is expected to begin in the spring and to take about two years, according to the plan.</p></article></body></html>`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><head><title>Local Gazette</title><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body></body></html>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func writeSources(t *testing.T, dir, body string) string {
	p := filepath.Join(dir, "sources.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFetchOnceAndSourcesStatus(t *testing.T) {
	srv := publisher(t)
	dir := t.TempDir()
	cfg := writeSources(t, dir, fmt.Sprintf(`sections: [Local]
sources:
  - name: Gazette
    url: %[1]s/feed.xml
    section: Local
  - name: Broken
    url: %[1]s/missing.xml
    section: Local
  - name: Off
    url: %[1]s/off.xml
    enabled: false
  - name: Moved
    url: %[1]s/old-feed.xml
    section: Local
`, srv.URL))
	common := []string{"--config", cfg, "--data", filepath.Join(dir, "data"), "--allow-private"}
	fetchCmd := func(ctx context.Context, args []string, out, errb *bytes.Buffer) int {
		return Fetch(ctx, args, out, errb)
	}
	statusCmd := func(ctx context.Context, args []string, out, errb *bytes.Buffer) int {
		return SourcesStatus(ctx, args, out, errb)
	}

	code, out, errOut := runCmd(t, fetchCmd, append([]string{"--once"}, common...)...)
	if code != 0 {
		t.Fatalf("fetch --once exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Gazette", "ok (200)", "Broken", "FAILED", "HTTP 404", "3 sources polled", "2 new items, 1 failed",
		"moved permanently to " + srv.URL + "/feed.xml (polled there; update sources.yaml)"} {
		if !strings.Contains(out, want) {
			t.Errorf("fetch output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Off") {
		t.Errorf("disabled source polled:\n%s", out)
	}
	// Second run: conditional GET, nothing new.
	code, out, _ = runCmd(t, fetchCmd, append([]string{"--once", "--json", "--source", "Gazette"}, common...)...)
	if code != 0 {
		t.Fatalf("second fetch exit %d", code)
	}
	var line resultLine
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &line); err != nil || line.Source != "Gazette" || !line.NotModified || line.NewItems != 0 {
		t.Errorf("json line %q: %+v %v", out, line, err)
	}

	code, out, _ = runCmd(t, statusCmd, common...)
	if code != 0 {
		t.Fatalf("status exit %d", code)
	}
	for _, want := range []string{"Gazette", "ok", "Broken", "FAILING", "The site answered 404 Not Found.", "Off", "disabled", "4 sources, 1 failing",
		"moved permanently to " + srv.URL + "/feed.xml (polled there; update sources.yaml)"} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCmd(t, statusCmd, append([]string{"--json"}, common...)...)
	if code != 0 {
		t.Fatalf("status --json exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("want 4 JSON lines, got %q", out)
	}
	type statusJSON struct {
		Name                string    `json:"name"`
		Healthy             bool      `json:"healthy"`
		Enabled             bool      `json:"enabled"`
		HTTPStatus          int       `json:"http_status"`
		ConsecutiveFailures int       `json:"consecutive_failures"`
		ItemsFound          int       `json:"items_found"`
		LastError           string    `json:"last_error"`
		LastAttempt         time.Time `json:"last_attempt"`
		LastSuccess         time.Time `json:"last_success"`
		NextPoll            time.Time `json:"next_poll"`
		MovedTo             string    `json:"moved_to"`
	}
	var sts []statusJSON
	for _, l := range lines {
		var s statusJSON
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		sts = append(sts, s)
	}
	// Every health field: last attempt and success, error, HTTP status,
	// consecutive failures, items found, next poll.
	if g := sts[0]; g.Name != "Gazette" || !g.Healthy || !g.Enabled || g.HTTPStatus != 304 || g.ConsecutiveFailures != 0 || g.ItemsFound != 2 ||
		g.LastError != "" || g.LastAttempt.IsZero() || g.LastSuccess.IsZero() || !g.NextPoll.After(g.LastAttempt) {
		t.Errorf("gazette line %s: %+v", lines[0], g)
	}
	if b := sts[1]; b.Name != "Broken" || b.Healthy || b.HTTPStatus != 404 || b.ConsecutiveFailures != 1 || !strings.Contains(b.LastError, "HTTP 404") ||
		b.LastAttempt.IsZero() || !b.LastSuccess.IsZero() || !b.NextPoll.After(b.LastAttempt) {
		t.Errorf("broken line %s: %+v", lines[1], b)
	}
	if o := sts[2]; o.Name != "Off" || o.Enabled || !o.LastAttempt.IsZero() {
		t.Errorf("disabled line %s: %+v", lines[2], o)
	}
	if m := sts[3]; m.Name != "Moved" || !m.Healthy || m.MovedTo != srv.URL+"/feed.xml" {
		t.Errorf("moved line %s: %+v", lines[3], m)
	}

	// An invalid sources file is the one thing that fails the command.
	bad := writeSources(t, t.TempDir(), "sources:\n  - name: X\n")
	if code, _, errOut := runCmd(t, fetchCmd, "--once", "--config", bad, "--data", filepath.Join(dir, "data")); code == 0 || !strings.Contains(errOut, "url is required") {
		t.Errorf("invalid config: exit %d, %s", code, errOut)
	}
	if code, _, _ := runCmd(t, fetchCmd, "--once", "--source", "Nope", "--config", cfg, "--data", filepath.Join(dir, "data")); code == 0 {
		t.Error("unknown --source should fail")
	}
}

func TestSourcesDiscoverCommand(t *testing.T) {
	srv := publisher(t)
	cmd := func(ctx context.Context, args []string, out, errb *bytes.Buffer) int {
		return SourcesDiscover(ctx, args, out, errb)
	}
	code, out, errOut := runCmd(t, cmd, "--allow-private", srv.URL+"/")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{srv.URL + "/feed.xml", "rss 2.0, 2 entries", "found via link", "url: " + srv.URL + "/feed.xml"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Without --allow-private the SSRF guard refuses loopback.
	code, _, errOut = runCmd(t, cmd, srv.URL+"/")
	if code == 0 || !strings.Contains(errOut, "refusing to fetch private address 127.0.0.1") {
		t.Errorf("guard: exit %d, %s", code, errOut)
	}
	if code, _, _ := runCmd(t, cmd); code != 2 {
		t.Errorf("missing URL: exit %d", code)
	}
}

func TestFetchCommandsHelp(t *testing.T) {
	for name, fn := range map[string]func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) int{
		"fetch":            func(ctx context.Context, a []string, o, e *bytes.Buffer) int { return Fetch(ctx, a, o, e) },
		"sources status":   func(ctx context.Context, a []string, o, e *bytes.Buffer) int { return SourcesStatus(ctx, a, o, e) },
		"sources discover": func(ctx context.Context, a []string, o, e *bytes.Buffer) int { return SourcesDiscover(ctx, a, o, e) },
	} {
		code, _, errOut := runCmd(t, fn, "--help")
		if code != 0 || !strings.Contains(errOut, "usage: clipsheet "+name) {
			t.Errorf("%s --help: exit %d, %q", name, code, errOut)
		}
	}
}

func TestFetchRunsUntilCancelled(t *testing.T) {
	srv := publisher(t)
	dir := t.TempDir()
	cfg := writeSources(t, dir, fmt.Sprintf("sections: [Local]\nsources:\n  - name: Gazette\n    url: %s/feed.xml\n    section: Local\n", srv.URL))
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb lockedBuffer
	done := make(chan int, 1)
	go func() { done <- Fetch(ctx, []string{"--config", cfg, "--data", data, "--allow-private"}, &out, &errb) }()
	// Scheduled polls start within a couple of seconds; stop once the
	// first one has been logged.
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(errb.String(), "polled") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fetch did not stop")
	}
	if !strings.Contains(out.String(), "polling the sources") {
		t.Errorf("stdout %q", out.String())
	}
	code, status, _ := runCmd(t, func(ctx context.Context, a []string, o, e *bytes.Buffer) int { return SourcesStatus(ctx, a, o, e) },
		"--config", cfg, "--data", data)
	if code != 0 || !strings.Contains(status, "Gazette  ok") {
		t.Errorf("status after run: %d\n%s", code, status)
	}
	if code, _, _ := runCmd(t, func(ctx context.Context, a []string, o, e *bytes.Buffer) int { return Fetch(ctx, a, o, e) }, "--source", "X"); code != 2 {
		t.Errorf("--source without --once: exit %d", code)
	}
}

// lockedBuffer is a bytes.Buffer safe for the logger's goroutines.
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

// Settings layer clipsheet.yaml < CLIPSHEET_* < flags, with nested keys,
// and the result reaches the fetcher: fetch.allow_private decides whether
// the loopback publisher may be polled, excerpt.max_chars how long the
// stored leads are.
func TestSettingsLayersReachTheFetcher(t *testing.T) {
	srv := publisher(t)
	dir := t.TempDir()
	cfg := writeSources(t, dir, fmt.Sprintf("sections: [Local]\nsources:\n  - name: Gazette\n    url: %s/feed.xml\n    section: Local\n", srv.URL))
	if err := os.WriteFile(filepath.Join(dir, "clipsheet.yaml"), []byte("fetch:\n  allow_private: true\nexcerpt:\n  max_chars: 80\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // clipsheet.yaml is found in the working directory
	fetchCmd := func(ctx context.Context, args []string, out, errb *bytes.Buffer) int {
		return Fetch(ctx, args, out, errb)
	}
	run := 0
	// poll runs fetch --once into a fresh data directory and returns the
	// summary and the stored leads.
	poll := func(env map[string]string, flags ...string) (string, []string) {
		t.Helper()
		for k, v := range env {
			t.Setenv(k, v)
		}
		defer func() {
			for k := range env {
				os.Unsetenv(k)
			}
		}()
		run++
		data := filepath.Join(dir, fmt.Sprintf("data%d", run))
		args := append([]string{"--once", "--config", cfg, "--data", data}, flags...)
		code, out, errOut := runCmd(t, fetchCmd, args...)
		if code != 0 {
			t.Fatalf("fetch %v: exit %d: %s", args, code, errOut)
		}
		code, lines, errOut := runCmd(t, items, "--data", data, "--json")
		if code != 0 {
			t.Fatalf("items: exit %d: %s", code, errOut)
		}
		var leads []string
		for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
			if l == "" {
				continue
			}
			var it struct {
				Lead string `json:"lead"`
			}
			if err := json.Unmarshal([]byte(l), &it); err != nil {
				t.Fatal(err)
			}
			leads = append(leads, it.Lead)
		}
		return out, leads
	}
	refused := "refusing to fetch private address"

	out, leads := poll(nil)
	if strings.Contains(out, refused) || len(leads) != 2 {
		t.Fatalf("file allows private fetching: %d items\n%s", len(leads), out)
	}
	for _, l := range leads {
		if n := len([]rune(l)); n > 80 || n < 20 {
			t.Errorf("file max_chars 80: lead %q (%d chars)", l, n)
		}
	}

	out, leads = poll(map[string]string{"CLIPSHEET_FETCH_ALLOW_PRIVATE": "false"})
	if !strings.Contains(out, refused) || len(leads) != 0 {
		t.Errorf("environment false over file true: %d items\n%s", len(leads), out)
	}
	out, leads = poll(map[string]string{"CLIPSHEET_FETCH_ALLOW_PRIVATE": "false"}, "--allow-private")
	if strings.Contains(out, refused) || len(leads) != 2 {
		t.Errorf("--allow-private over environment false: %d items\n%s", len(leads), out)
	}
	out, leads = poll(map[string]string{"CLIPSHEET_FETCH_ALLOW_PRIVATE": "true"}, "--allow-private=false")
	if !strings.Contains(out, refused) || len(leads) != 0 {
		t.Errorf("--allow-private=false over environment true: %d items\n%s", len(leads), out)
	}
	out, leads = poll(nil, "--set", "fetch.allow_private=false")
	if !strings.Contains(out, refused) || len(leads) != 0 {
		t.Errorf("--set fetch.allow_private=false over the file: %d items\n%s", len(leads), out)
	}

	_, leads = poll(map[string]string{"CLIPSHEET_EXCERPT_MAX_CHARS": "150"})
	for _, l := range leads {
		if n := len([]rune(l)); n > 150 || n <= 80 {
			t.Errorf("environment max_chars 150 over the file's 80: lead %q (%d chars)", l, n)
		}
	}
	_, leads = poll(map[string]string{"CLIPSHEET_EXCERPT_MAX_CHARS": "150"}, "--set", "excerpt.max_chars=1000")
	for _, l := range leads {
		if !strings.Contains(l, "\n\nWork on the bridge") {
			t.Errorf("--set excerpt.max_chars=1000 over the environment: lead %q should carry both paragraphs", l)
		}
	}
}
