package fetch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clipsheet/clipsheet/internal/testcorpus"
)

func TestDiscover(t *testing.T) {
	var hits hitCounter
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", http.NotFound)
	rss := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, rssFeed("Declared feed", "http://"+r.Host, []testEntry{{Path: "/a", Title: "A"}, {Path: "/b", Title: "B"}}))
	}
	mux.HandleFunc("/declared.xml", rss)
	mux.HandleFunc("/with-link", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><head><title>With link</title>
<link rel="alternate" type="application/rss+xml" title="RSS" href="/declared.xml">
<link rel="alternate" type="application/atom+xml" href="/broken.atom">
<link rel="alternate" type="application/json" href="/wp-json/oembed">
</head><body></body></html>`)
	})
	mux.HandleFunc("/broken.atom", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html><body>Not here</body></html>")
	})
	probe := http.NewServeMux()
	probe.HandleFunc("/robots.txt", http.NotFound)
	probe.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.URL.Path)
		switch r.URL.Path {
		case "/index.xml":
			rss(w, r)
		case "/section/":
			fmt.Fprint(w, `<html><head><title>Section</title></head><body><nav><a href="/about">About the paper</a></nav>`)
		default:
			http.NotFound(w, r)
		}
	})
	front := http.NewServeMux()
	front.HandleFunc("/robots.txt", http.NotFound)
	front.HandleFunc("/news/", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString(`<html><head><title>News front</title></head><body><ul class="menu"><li><a href="/news/">News home</a></li><li><a href="/sport/">Sport pages</a></li></ul><main>`)
		for i := 0; i < 6; i++ {
			fmt.Fprintf(&b, `<div class="teaser"><h2 class="headline"><a href="/news/2026/03/story-number-%d">Story number %d is a headline</a></h2><a href="/news/2026/03/story-number-%d"><img src="x.jpg"></a></div>`, i, i, i)
		}
		b.WriteString(`</main><footer><a href="/privacy">Privacy policy notice</a></footer></body></html>`)
		fmt.Fprint(w, b.String())
	})
	srvLink, srvProbe, srvFront := httptest.NewServer(mux), httptest.NewServer(probe), httptest.NewServer(front)
	defer srvLink.Close()
	defer srvProbe.Close()
	defer srvFront.Close()
	f, _ := newTestFetcher(t, testConfig())
	ctx := context.Background()

	d, err := f.Discover(ctx, srvLink.URL+"/with-link")
	if err != nil {
		t.Fatal(err)
	}
	if d.Title != "With link" || len(d.Feeds) != 2 || d.Page != nil {
		t.Fatalf("%+v", d)
	}
	if ff := d.Feeds[0]; ff.URL != srvLink.URL+"/declared.xml" || ff.Via != "link" || ff.Entries != 2 || ff.Title != "Declared feed" || ff.Format != "rss 2.0" || ff.Error != "" {
		t.Errorf("declared feed %+v", ff)
	}
	if ff := d.Feeds[1]; ff.URL != srvLink.URL+"/broken.atom" || !strings.Contains(ff.Error, "not a feed: got an HTML page") {
		t.Errorf("broken declared feed %+v", ff)
	}

	d, err = f.Discover(ctx, srvProbe.URL+"/section/")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Feeds) != 1 || d.Feeds[0].URL != srvProbe.URL+"/index.xml" || d.Feeds[0].Via != "probe" {
		t.Errorf("probe: %+v", d.Feeds)
	}
	for _, p := range probePaths() {
		if hits.get(p) != 1 {
			t.Errorf("probe %s requested %d times", p, hits.get(p))
		}
	}

	d, err = f.Discover(ctx, srvFront.URL+"/news/")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Feeds) != 0 || d.Page == nil || d.Page.Links != "h2 a" || d.Page.Matches != 6 || len(d.Page.Samples) != 5 {
		t.Fatalf("page suggestion: %+v %+v", d.Feeds, d.Page)
	}
	if d.Page.Samples[0] != srvFront.URL+"/news/2026/03/story-number-0" {
		t.Errorf("samples %v", d.Page.Samples)
	}
	// The suggestion works as a page source.
	l, err := pageLinks([]byte(`<h2 class="headline"><a href="/x/y-z-w">Some headline here</a></h2>`), "", srvFront.URL+"/news/", d.Page.Source("n", srvFront.URL+"/news/"))
	if err != nil || len(l.entries) != 1 {
		t.Errorf("suggested selector as source: %+v %v", l, err)
	}

	// A feed URL given directly is reported as itself.
	d, err = f.Discover(ctx, srvLink.URL+"/declared.xml")
	if err != nil || len(d.Feeds) != 1 || d.Feeds[0].Via != "self" {
		t.Errorf("self: %+v %v", d, err)
	}
}

// TestFrontPageCorpus checks feed autodiscovery links and the link-selector
// suggestion on real home pages (offline: nothing is fetched).
func TestFrontPageCorpus(t *testing.T) {
	cases := []struct {
		name, url, feed, links string
		min                    int
	}{
		{"cnn", "https://edition.cnn.com/", "http://rss.cnn.com/rss/edition.rss", "ul.cnn_bulletbin a", 100},
		{"wired", "https://www.wired.com/", "https://www.wired.com/feed/rss", `a[class*="SummaryItemHedLink-"]`, 20},
		{"yahoo", "https://uk.yahoo.com/", "", "h3.fw-b a", 10},
		{"daringfireball", "https://daringfireball.net/", "https://daringfireball.net/feeds/main", "h1 a", 3},
		{"inessential", "https://inessential.com/", "http://inessential.com/xml/rss.xml", "h3 a", 3},
		{"furbo", "https://furbo.org/", "http://furbo.org/feed/", "h2 a", 3},
		{"sixcolors", "https://sixcolors.com/", "http://feedpress.me/sixcolors", "", 3},
	}
	dir := testcorpus.Dir(t, "frontpages")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(dir, c.name+"-homepage.html"))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := parseHTML(body, "")
			if err != nil {
				t.Fatal(err)
			}
			base := baseURL(doc, c.url)
			feeds := declaredFeeds(doc, base)
			if c.feed == "" && len(feeds) != 0 || c.feed != "" && (len(feeds) == 0 || feeds[0] != c.feed) {
				t.Errorf("declared feeds %v, want %q first", feeds, c.feed)
			}
			p := suggestLinks(doc, base, c.url)
			if p == nil {
				t.Fatal("no suggestion")
			}
			if c.links != "" && p.Links != c.links {
				t.Errorf("selector %q, want %q", p.Links, c.links)
			}
			if p.Matches < c.min {
				t.Errorf("%d matches, want at least %d", p.Matches, c.min)
			}
			for _, s := range p.Samples {
				if !sameSite(s, c.url) {
					t.Errorf("sample %s is off-site", s)
				}
			}
		})
	}
}
