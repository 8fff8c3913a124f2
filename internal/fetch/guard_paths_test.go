package fetch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clipsheet/clipsheet/internal/fetch/httpx"
)

// TestSiteLocalRefusedOnEveryPath: with fetch.allow_private off, a host that
// resolves into IPv6 site-local fec0::/10 is refused whether it is the
// source, a redirect target, an article link, a discovered feed or a
// previewed story. The publisher on loopback is exempt by its exact
// address:port, so the refusals come from the guard on the resolved
// address and need no server (or interface) at fec0::.
func TestSiteLocalRefusedOnEveryPath(t *testing.T) {
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", http.NotFound)
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, rssFeed("Public", "http://intranet.example", []testEntry{{Path: "/story", Title: "Story"}}))
	})
	mux.HandleFunc("/moved.xml", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "http://intranet.example/feed.xml", http.StatusFound)
	})
	mux.HandleFunc("/page.html", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, `<!doctype html><html><head><title>P</title><link rel="alternate" type="application/rss+xml" href="http://intranet.example/feed.xml"></head><body></body></html>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	public := strings.Replace(srv.URL, "127.0.0.1", "news.example.com", 1)

	cfg := testConfig()
	cfg.AllowPrivate = false
	f, st := newTestFetcher(t, cfg)
	f.configureHTTP(func(c *httpx.Config) {
		c.Exempt = []netip.AddrPort{netip.MustParseAddrPort(srv.Listener.Addr().String())}
		c.LookupHost = func(_ context.Context, host string) ([]netip.Addr, error) {
			if host == "intranet.example" {
				return []netip.Addr{netip.MustParseAddr("fec0::1")}, nil
			}
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
	})
	const refusal = "refusing to fetch private address fec0::1 (site-local;"

	rs := f.PollOnce(context.Background(), sourcesFile(
		feedSource("source", "http://intranet.example/feed.xml"),
		feedSource("redirect", public+"/moved.xml"),
		feedSource("article", public+"/feed.xml"),
	))
	for _, name := range []string{"source", "redirect"} {
		if r := resultFor(t, rs, name); r.Err == nil || !strings.Contains(r.Err.Error(), refusal) {
			t.Errorf("%s: want %q, got %v", name, refusal, r.Err)
		}
	}
	items := listItems(t, st, "article")
	if len(items) != 1 || !strings.Contains(items[0].FetchError, refusal) {
		t.Errorf("article link: want one item whose fetch was refused, got %+v", items)
	}

	d, err := f.Discover(context.Background(), public+"/page.html")
	if err != nil {
		t.Fatalf("discover: %v", err)
	}
	if len(d.Feeds) == 0 || d.Feeds[0].Error == "" || !strings.Contains(d.Feeds[0].Error, refusal) {
		t.Errorf("discover: declared feed on site-local should be refused, got %+v", d.Feeds)
	}
	if _, err := f.Discover(context.Background(), "http://intranet.example/"); err == nil || !strings.Contains(err.Error(), refusal) {
		t.Errorf("discover of a site-local page: want %q, got %v", refusal, err)
	}

	prev, err := f.Preview(context.Background(), feedSource("preview", public+"/feed.xml"), 5)
	if err != nil || len(prev) != 1 || !strings.Contains(prev[0].FetchError, refusal) {
		t.Errorf("preview: want the story's fetch refused, got %v %+v", err, prev)
	}
	if _, err := f.Preview(context.Background(), feedSource("preview", "http://intranet.example/feed.xml"), 5); err == nil || !strings.Contains(err.Error(), refusal) {
		t.Errorf("preview of a site-local feed: want %q, got %v", refusal, err)
	}
	if hits.Load() == 0 {
		t.Error("the exempt publisher was never reached; the test proves nothing")
	}
}
