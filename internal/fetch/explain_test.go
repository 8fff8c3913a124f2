package fetch

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestExplainRealFailures polls sources that fail in each way a source
// fails in practice, with real servers on loopback (and a real DNS lookup
// of a name under .invalid, which RFC 6761 guarantees does not exist), and
// checks the plain sentence for the error the poll returned and for the
// text the poll stored.
func TestExplainRealFailures(t *testing.T) {
	serve := func(h http.HandlerFunc) *httptest.Server {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv
	}
	noRobots := func(next http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/robots.txt" {
				http.NotFound(w, r)
				return
			}
			next(w, r)
		}
	}
	// A port nothing listens on: bind, note, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().String()
	ln.Close()

	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	slow := serve(noRobots(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	missing := serve(noRobots(http.NotFound))
	busy := serve(noRobots(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	html := serve(noRobots(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!doctype html><title>Home</title><p>Welcome</p>"))
	}))
	forbidden := serve(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			w.Write([]byte("User-agent: *\nDisallow: /news/\n"))
			return
		}
		w.Write([]byte("<rss/>"))
	})
	tlsSrv := httptest.NewTLSServer(noRobots(http.NotFound))
	t.Cleanup(tlsSrv.Close)
	hostOf := func(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

	cases := []struct {
		name, url string
		private   bool // allow_private off
		want      string
	}{
		{"dns", "http://www.nosuch-clipsheet.invalid/feed", false,
			"The address www.nosuch-clipsheet.invalid could not be found: no such host name (a typo, or the site is gone)."},
		{"refused", "http://" + closedPort + "/feed", false,
			"The server at 127.0.0.1 refused the connection: nothing answers there."},
		{"timeout", slow.URL + "/feed", false, "The server took too long to answer."},
		{"tls", tlsSrv.URL + "/feed", false,
			"The security certificate of 127.0.0.1 is not valid (not signed by a trusted authority, e.g. self-signed)."},
		{"not found", missing.URL + "/feed", false, "The site answered 404 Not Found."},
		{"unavailable", busy.URL + "/feed", false,
			"The site answered 503 Service Unavailable: it asks Clipsheet to slow down or is down for now."},
		{"robots", forbidden.URL + "/news/feed.xml", false, "The site's robots.txt forbids Clipsheet to fetch /news/feed.xml."},
		{"html page", html.URL + "/", false,
			"The address is a web page, not a feed: use “Find feeds” on it, or make the source a page source."},
		{"private", "http://" + hostOf(missing) + "/feed", true,
			"127.0.0.1 leads to a private network address (127.0.0.1), which the fetch policy refuses (fetch.allow_private)."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Timeout = 500 * time.Millisecond
			cfg.AllowPrivate = !tc.private
			f, st := newTestFetcher(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r := f.PollOnce(ctx, sourcesFile(feedSource("s", tc.url)))[0]
			if r.Err == nil {
				t.Fatal("poll did not fail")
			}
			if got := Explain(r.Err); got != tc.want {
				t.Errorf("Explain(%q)\n got %q\nwant %q", r.Err, got, tc.want)
			}
			stored := sourceState(t, st, "s").LastError
			if got := ExplainText(stored); got != tc.want {
				t.Errorf("ExplainText(stored %q)\n got %q\nwant %q", stored, got, tc.want)
			}
		})
	}
}

func TestExplainUnknownAndEmpty(t *testing.T) {
	if got := ExplainText(""); got != "" {
		t.Errorf("empty: %q", got)
	}
	if got := Explain(nil); got != "" {
		t.Errorf("nil: %q", got)
	}
	if got := ExplainText("something nobody foresaw"); got != "The last poll failed; the details say why." {
		t.Errorf("unknown: %q", got)
	}
	// Stored texts of failures that are slow or awkward to cause for real,
	// as the errors of this package and httpx write them.
	for msg, want := range map[string]string{
		(&HostCooldownError{Host: "news.example", Until: time.Date(2026, 3, 9, 6, 0, 0, 0, time.UTC)}).Error():                                                                    "news.example asked Clipsheet to slow down; it is polled again after the wait it asked for.",
		"fetch https://news.example/feed: stopped after 10 redirects (redirect loop?), last to https://news.example/feed":                                                         "news.example redirects in a loop.",
		"fetch https://news.example/feed: response of 9000000 bytes exceeds the limit of 5242880 bytes (fetch.max_body_bytes)":                                                    "The answer was larger than the limit of 5242880 bytes (fetch.max_body_bytes).",
		"fetch https://news.example/feed: HTTP 403 Forbidden":                                                                                                                     "The site answered 403 Forbidden.",
		"fetch https://news.example/feed: robots.txt unavailable (HTTP 500); treating the site as disallowed for now (user agent Clipsheet; set fetch.ignore_robots to override)": "The site's robots.txt could not be read (HTTP 500), so the site is off limits until it can.",
	} {
		if got := ExplainText(msg); got != want {
			t.Errorf("ExplainText(%q)\n got %q\nwant %q", msg, got, want)
		}
	}
}
