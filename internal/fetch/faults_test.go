package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/fetch/httpx"
)

// faultServer misbehaves in every way a publisher can, one path each.
func faultServer(t *testing.T) *httptest.Server {
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 16; i++ { // 16 MB of zeros in ~16 KB
		zw.Write(zeros)
	}
	zw.Close()
	stop := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", http.NotFound)
	mux.HandleFunc("/drip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		for i := 0; i < 60; i++ { // one byte a second, for a minute at most
			w.Write([]byte("<"))
			w.(http.Flusher).Flush()
			select {
			case <-time.After(time.Second):
			case <-r.Context().Done():
				return
			case <-stop:
				return
			}
		}
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>`))
		chunk := bytes.Repeat([]byte("endless "), 8<<10)
		for i := 0; i < 10000; i++ { // bounded: 640 MB at most
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10737418240")
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(`<?xml version="1.0"?><rss version="2.0">`))
	})
	mux.HandleFunc("/gzbomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(bomb.Bytes())
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Exception rendering module on server", http.StatusInternalServerError)
	})
	mux.HandleFunc("/png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	})
	mux.HandleFunc("/mislabelled", func(w http.ResponseWriter, r *http.Request) {
		// A real feed served as text/html: parsed anyway.
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, rssFeed("Mislabelled", "http://"+r.Host, []testEntry{{Path: "/article/m1", Title: "M1"}}))
	})
	// A real reset (RST, not FIN): SO_LINGER 0 makes Close abort the
	// connection. Once before any answer, once in the middle of the body.
	reset := func(w http.ResponseWriter, partial string) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		if partial != "" {
			io.WriteString(conn, partial)
			time.Sleep(50 * time.Millisecond) // let the client start reading the body
		}
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	}
	mux.HandleFunc("/reset", func(w http.ResponseWriter, r *http.Request) { reset(w, "") })
	mux.HandleFunc("/reset-midbody", func(w http.ResponseWriter, r *http.Request) {
		reset(w, "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 50000\r\n\r\n"+
			`<?xml version="1.0"?><rss version="2.0"><channel><title>Cut off</title><item><title>`)
	})
	mux.HandleFunc("/badutf8", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		feed := rssFeed("Bad bytes", "http://"+r.Host, []testEntry{{Path: "/missing/b1", Title: "Caf\xe9 \xff\xfe opens"}})
		fmt.Fprint(w, feed)
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Home</title></head><body><h1>Welcome</h1></body></html>")
	})
	mux.HandleFunc("/article/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, articleHTML("Fault server article", ""))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { close(stop); srv.Close() })
	return srv
}

func TestFaultsAreBoundedAndHealthySourcesStillPolled(t *testing.T) {
	fs := faultServer(t)
	// 429 gets its own server: its Retry-After cools down the whole host.
	var hits429 atomic.Int32
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		hits429.Add(1)
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	}))
	defer busy.Close()
	// 503 with Retry-After as an HTTP date, on its own host too.
	maint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Retry-After", time.Now().Add(2*time.Hour).UTC().Format(http.TimeFormat))
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer maint.Close()
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, rssFeed("TLS", "https://"+r.Host, nil))
	}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshake is expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	var healthy []*newsSite
	for i := 0; i < 3; i++ {
		healthy = append(healthy, newNewsSite(t, []testEntry{{Path: fmt.Sprintf("/news/h%d-1", i), Title: "H"}, {Path: fmt.Sprintf("/news/h%d-2", i), Title: "H2"}}))
	}

	want := map[string]string{ // source → error substring ("" = must succeed)
		"drip":        "timed out",
		"endless":     "exceeds the limit of 1048576 bytes",
		"huge":        "response of 10737418240 bytes exceeds the limit",
		"gzbomb":      "decompressed response exceeds the limit",
		"loop":        "stopped after 5 redirects",
		"500":         "HTTP 500",
		"429":         "HTTP 429 Too Many Requests (retry after 1h0m0s)",
		"png":         "not a feed: unrecognised document (image/png",
		"tls":         "certificate",
		"503":         "HTTP 503 Service Unavailable (retry after 1h59m|HTTP 503 Service Unavailable (retry after 2h0m",
		"tlsplain":    "TLS handshake failed (server does not speak TLS?)",
		"reset":       "connection reset by server",
		"reset-mid":   "connection reset by server",
		"html":        "not a feed: got an HTML page; try `clipsheet sources discover URL`",
		"badutf8":     "",
		"mislabelled": "",
		"healthy0":    "",
		"healthy1":    "",
		"healthy2":    "",
	}
	var srcs []config.Source
	for _, p := range []string{"drip", "endless", "huge", "gzbomb", "loop", "500", "png", "reset", "html", "badutf8", "mislabelled"} {
		srcs = append(srcs, feedSource(p, fs.URL+"/"+p))
	}
	srcs = append(srcs, feedSource("429", busy.URL+"/feed"), feedSource("tls", tlsSrv.URL+"/feed"),
		feedSource("503", maint.URL+"/feed"), feedSource("tlsplain", strings.Replace(fs.URL, "http://", "https://", 1)+"/html"),
		feedSource("reset-mid", fs.URL+"/reset-midbody"))
	for i, h := range healthy {
		srcs = append(srcs, feedSource(fmt.Sprint("healthy", i), h.URL+"/feed.xml"))
	}
	// Limits short enough to keep the test quick, long enough that a busy
	// machine does not turn a fast stream into a silence: 1.5 s without
	// data, 3 s in all.
	cfg := testConfig()
	cfg.Timeout, cfg.ConnectTimeout = 3*time.Second, 1500*time.Millisecond
	f, st := newTestFetcher(t, cfg)
	start := time.Now()
	rs := f.PollOnce(context.Background(), sourcesFile(srcs...))
	elapsed := time.Since(start)
	if elapsed > 10*time.Second {
		t.Errorf("PollOnce took %s; every fault must be cut off by the 3 s limits", elapsed)
	}
	if len(rs) != len(want) {
		t.Fatalf("%d results for %d sources", len(rs), len(want))
	}
	for _, r := range rs {
		sub, ok := want[r.Source]
		if !ok {
			t.Errorf("unexpected result %s", r.Source)
			continue
		}
		state := sourceState(t, st, r.Source)
		if r.Duration > 6*time.Second {
			t.Errorf("%s: took %s", r.Source, r.Duration)
		}
		if sub == "" {
			if r.Err != nil || r.NewItems == 0 {
				t.Errorf("%s: want success with items, got %+v", r.Source, r)
			}
			if strings.HasPrefix(r.Source, "healthy") {
				for _, it := range listItems(t, st, r.Source) {
					if it.FetchError != "" || it.Body == "" {
						t.Errorf("%s: article %s not fetched: %q", r.Source, it.URL, it.FetchError)
					}
				}
			}
			if state.LastError != "" || state.ConsecutiveFailures != 0 || state.LastSuccess.IsZero() {
				t.Errorf("%s: state %+v", r.Source, state)
			}
			continue
		}
		if r.Err == nil || !containsAny(r.Err.Error(), sub) {
			t.Errorf("%s: error %v, want it to contain %q", r.Source, r.Err, sub)
			continue
		}
		if !containsAny(state.LastError, sub) || state.ConsecutiveFailures != 1 || !state.LastSuccess.IsZero() || !state.NextPoll.After(start) {
			t.Errorf("%s: stored state %+v", r.Source, state)
		}
	}
	if s := sourceState(t, st, "500"); s.HTTPStatus != 500 {
		t.Errorf("500: stored status %d", s.HTTPStatus)
	}
	if s := sourceState(t, st, "503"); s.HTTPStatus != 503 || s.NextPoll.Before(start.Add(119*time.Minute)) {
		t.Errorf("503: state %+v", s)
	}
	s429 := sourceState(t, st, "429")
	if s429.HTTPStatus != 429 || s429.RetryAfter.Before(start.Add(time.Hour)) || s429.NextPoll.Before(start.Add(time.Hour)) {
		t.Errorf("429: state %+v", s429)
	}
	// Invalid UTF-8 was replaced, not fatal (the page 404s, so the title
	// is the feed's).
	for _, it := range listItems(t, st, "badutf8") {
		if it.Title != "Caf\uFFFD \uFFFD opens" {
			t.Errorf("badutf8 item %q", it.Title)
		}
	}
	// Until the Retry-After passes, the busy host is not asked again, even by
	// another source on it.
	hitsBefore := hits429.Load()
	r := f.PollOnce(context.Background(), sourcesFile(feedSource("429b", busy.URL+"/other")))[0]
	if r.Err == nil || !strings.Contains(r.Err.Error(), "asked to wait") || hits429.Load() != hitsBefore {
		t.Errorf("host cool-down not honoured: %v, %d new hits", r.Err, hits429.Load()-hitsBefore)
	}
	if s := sourceState(t, st, "429b"); s.NextPoll.Before(start.Add(59 * time.Minute)) {
		t.Errorf("429b: next poll %s should wait for the host cool-down", s.NextPoll)
	}
}

func TestSSRFGuard(t *testing.T) {
	site := newNewsSite(t, []testEntry{{Path: "/news/a", Title: "A"}})
	// localhost resolves to a loopback address: the dialer must refuse it.
	u := strings.Replace(site.URL, "127.0.0.1", "localhost", 1) + "/feed.xml"
	cfg := testConfig()
	cfg.AllowPrivate = false
	f, st := newTestFetcher(t, cfg)
	r := f.PollOnce(context.Background(), sourcesFile(feedSource("local", u)))[0]
	if r.Err == nil || !strings.Contains(r.Err.Error(), "refusing to fetch private address") || !strings.Contains(r.Err.Error(), "(loopback; set fetch.allow_private to allow)") {
		t.Fatalf("want SSRF refusal, got %v", r.Err)
	}
	if n := site.hits.total("/"); n != 0 {
		t.Errorf("server got %d requests despite the guard", n)
	}
	if s := sourceState(t, st, "local"); !strings.Contains(s.LastError, "refusing to fetch private address") {
		t.Errorf("stored error %q", s.LastError)
	}
	// A public-looking name whose DNS answer is loopback (rebinding), and a
	// metadata-address literal: refused in the dialer the same way.
	f.configureHTTP(func(c *httpx.Config) {
		c.LookupHost = func(_ context.Context, host string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
	})
	rebound := strings.Replace(site.URL, "127.0.0.1", "feeds.example.com", 1) + "/feed.xml"
	rs := f.PollOnce(context.Background(), sourcesFile(feedSource("rebound", rebound), feedSource("metadata", "http://169.254.169.254/latest/meta-data/")))
	for i, want := range []string{"refusing to fetch private address 127.0.0.1 (loopback;", "refusing to fetch private address 169.254.169.254 (cloud metadata;"} {
		if r := rs[i]; r.Err == nil || !strings.Contains(r.Err.Error(), want) {
			t.Errorf("%s: want %q, got %v", r.Source, want, r.Err)
		}
	}
	if n := site.hits.total("/"); n != 0 {
		t.Errorf("server got %d requests despite the guard", n)
	}
	cfg.AllowPrivate = true
	f2, _ := newTestFetcher(t, cfg)
	if r := f2.PollOnce(context.Background(), sourcesFile(feedSource("local", u)))[0]; r.Err != nil || r.NewItems != 1 {
		t.Fatalf("allowed: %+v", r)
	}
}

func TestPerHostLimit(t *testing.T) {
	var inFlight, peak atomic.Int32
	var total atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", http.NotFound)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		total.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(15 * time.Millisecond)
		if strings.HasPrefix(r.URL.Path, "/feed") {
			var es []testEntry
			for i := 0; i < 3; i++ {
				es = append(es, testEntry{Path: fmt.Sprintf("/a%s-%d", r.URL.Path[5:], i), Title: "T"})
			}
			fmt.Fprint(w, rssFeed("F", "http://"+r.Host, es))
			return
		}
		fmt.Fprint(w, articleHTML("A", ""))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg := testConfig()
	cfg.Workers = 12
	cfg.PerHost = 0 // the default, 2
	f, _ := newTestFetcher(t, cfg)
	var srcs []config.Source
	for i := 0; i < 12; i++ {
		srcs = append(srcs, feedSource(fmt.Sprint("s", i), fmt.Sprintf("%s/feed/%d", srv.URL, i)))
	}
	rs := f.PollOnce(context.Background(), sourcesFile(srcs...))
	for _, r := range rs {
		if r.Err != nil || r.NewItems != 3 {
			t.Errorf("%+v", r)
		}
	}
	if total.Load() != 12*4 {
		t.Errorf("%d requests, want 48", total.Load())
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("peak concurrency per host %d exceeds the limit of 2", p)
	} else if p < 2 {
		t.Errorf("peak concurrency %d: the limit was never used (no concurrency?)", p)
	}
}

// containsAny reports whether s contains one of the |-separated substrings.
func containsAny(s, alternatives string) bool {
	for _, a := range strings.Split(alternatives, "|") {
		if strings.Contains(s, a) {
			return true
		}
	}
	return false
}

// TestSlowArticlesDoNotHoldAWorker: a feed whose article pages all drip
// until fetch.timeout gets a bounded poll; the stories it had no time for
// are left for the next poll (not marked seen, no 304), not lost.
func TestSlowArticlesDoNotHoldAWorker(t *testing.T) {
	var entries []testEntry
	for i := 0; i < 8; i++ {
		entries = append(entries, testEntry{Path: fmt.Sprintf("/slow/%d", i), Title: fmt.Sprint("Slow ", i), Desc: "Feed summary."})
	}
	stop := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", http.NotFound)
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, rssFeed("Slow pages", "http://"+r.Host, entries))
	})
	mux.HandleFunc("/slow/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		for {
			w.Write([]byte(" "))
			w.(http.Flusher).Flush()
			select {
			case <-time.After(200 * time.Millisecond):
			case <-r.Context().Done():
				return
			case <-stop:
				return
			}
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(stop)
	cfg := testConfig()
	cfg.Timeout = 500 * time.Millisecond
	f, st := newTestFetcher(t, cfg)
	file := sourcesFile(feedSource("slow", srv.URL+"/feed.xml"))
	start := time.Now()
	r := f.PollOnce(context.Background(), file)[0]
	took := time.Since(start)
	// Budget 3 × 0.5 s: about three pages, then stop; eight would take 4 s.
	if took > 3500*time.Millisecond {
		t.Errorf("poll took %s; the article budget is 1.5 s", took)
	}
	if r.Err != nil || r.NewItems < 2 || r.NewItems >= len(entries) {
		t.Fatalf("first poll %+v", r)
	}
	for _, it := range listItems(t, st, "slow") {
		if !strings.Contains(it.FetchError, "timed out") || it.Lead != "Feed summary." {
			t.Errorf("item %s: fetch error %q lead %q", it.URL, it.FetchError, it.Lead)
		}
	}
	first := r.NewItems
	r = f.PollOnce(context.Background(), file)[0]
	if r.NotModified || r.NewItems == 0 || first+r.NewItems > len(entries) {
		t.Errorf("second poll must take up the rest: %+v", r)
	}
}

// TestWorkerPoolBoundsConcurrency: however many hosts there are, no more
// requests are in flight than fetch.workers.
func TestWorkerPoolBoundsConcurrency(t *testing.T) {
	var inFlight, peak atomic.Int32
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, rssFeed("F", "http://"+r.Host, nil))
	})
	cfg := testConfig()
	cfg.Workers = 3
	f, _ := newTestFetcher(t, cfg)
	var srcs []config.Source
	for i := 0; i < 9; i++ {
		srv := httptest.NewServer(handler)
		defer srv.Close()
		srcs = append(srcs, feedSource(fmt.Sprint("s", i), srv.URL+"/feed"))
	}
	for _, r := range f.PollOnce(context.Background(), sourcesFile(srcs...)) {
		if r.Err != nil {
			t.Errorf("%+v", r)
		}
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak of %d requests in flight on 9 hosts with 3 workers", p)
	}
}
