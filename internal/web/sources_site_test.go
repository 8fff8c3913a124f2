package web

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testSite is a small news site on loopback for preview, discovery and
// polling: a home page declaring its feed, an RSS feed, article pages
// and a listing page with no feed link. Feed and article hits are counted
// so tests can tell when the fetcher polled.
type testSite struct {
	srv       *httptest.Server
	feedHits  atomic.Int64
	storyHits atomic.Int64
}

type testStory struct {
	Slug, Title, Byline, Lead string
	Published                 time.Time
}

func siteStories() []testStory {
	base := time.Date(2026, 3, 9, 6, 0, 0, 0, time.UTC)
	return []testStory{
		{"harbour-pilots-strike-ends", "Harbour pilots end strike after overnight talks", "Jane Roe",
			"Harbour pilots returned to work on Monday after negotiators agreed a new rota overnight, ending a four-day stoppage that left tankers anchored off the coast.", base},
		{"flood-barrier-test", "Flood barrier closes in first full test since repairs", "Omar Haddad",
			"The river flood barrier closed fully on Sunday for the first time since its gates were repaired, the port authority said, ahead of spring tides this week.", base.Add(-2 * time.Hour)},
		{"ferry-timetable", "Island ferry timetable cut for engine refit", "Mia Chen",
			"The island ferry will run four crossings a day instead of seven from next week while its second engine is refitted, the operator told passengers.", base.Add(-4 * time.Hour)},
		{"bridge-inspection", "Swing bridge shut overnight for inspection", "Jane Roe",
			"The swing bridge on the ring road will close from 10pm on Tuesday for a structural inspection, with diversions signed through the docks.", base.Add(-6 * time.Hour)},
		{"lighthouse-sale", "Council agrees sale of disused lighthouse", "Tom Ellis",
			"Councillors voted to sell the disused lighthouse at the harbour mouth to a heritage trust, which plans to open it to visitors next summer.", base.Add(-8 * time.Hour)},
		{"container-crane", "New container crane arrives by sea", "Omar Haddad",
			"A ship-to-shore crane taller than the cathedral spire arrived at the container terminal on Saturday, the first of three ordered last year.", base.Add(-10 * time.Hour)},
	}
}

// newTestSite starts the site; without a feed, / has no feed link and
// /feed.xml is missing, so discovery has to propose a page source.
func newTestSite(t *testing.T, withFeed bool) *testSite {
	t.Helper()
	s := &testSite{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed.xml", func(w http.ResponseWriter, r *http.Request) {
		if !withFeed {
			http.NotFound(w, r)
			return
		}
		s.feedHits.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprint(w, s.feed())
	})
	if withFeed {
		mux.HandleFunc("GET /{$}", s.home)
	}
	mux.HandleFunc("GET /news/2026/03/{slug}", func(w http.ResponseWriter, r *http.Request) {
		for _, st := range siteStories() {
			if st.Slug == r.PathValue("slug") {
				s.storyHits.Add(1)
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprint(w, articlePage(st))
				return
			}
		}
		http.NotFound(w, r)
	})
	mux.HandleFunc("GET /latest", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var b strings.Builder
		b.WriteString(`<!doctype html><html><head><title>Latest — Harbor Gazette</title></head><body><nav><a href="/">Home</a> <a href="/about">About</a></nav><main class="river">`)
		for _, st := range siteStories() {
			fmt.Fprintf(&b, `<div class="teaser"><h2 class="headline"><a href="/news/2026/03/%s">%s</a></h2><p>%s</p></div>`, st.Slug, html.EscapeString(st.Title), html.EscapeString(st.Lead))
		}
		b.WriteString(`</main><footer><a href="/contact">Contact</a></footer></body></html>`)
		fmt.Fprint(w, b.String())
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *testSite) home(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<!doctype html><html><head><title>Harbor Gazette</title>
<link rel="alternate" type="application/rss+xml" title="Harbor Gazette — Latest" href="/feed.xml"></head>
<body><h1>Harbor Gazette</h1><p>News from the waterfront.</p></body></html>`)
}

func (s *testSite) URL(path string) string { return s.srv.URL + path }

func (s *testSite) feed() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Harbor Gazette — Latest</title><link>%s/</link><description>News from the waterfront</description>`, s.srv.URL)
	for _, st := range siteStories() {
		fmt.Fprintf(&b, "<item><title>%s</title><link>%s/news/2026/03/%s</link><dc:creator>%s</dc:creator><pubDate>%s</pubDate><description>%s</description></item>",
			html.EscapeString(st.Title), s.srv.URL, st.Slug, st.Byline, st.Published.Format(time.RFC1123Z), html.EscapeString(st.Lead))
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

// articlePage is a story page with the clutter real pages have: a promo
// block inside the article (which a selector override removes) and the
// byline in an element the heuristics may not pick.
func articlePage(st testStory) string {
	return fmt.Sprintf(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>%[1]s | Harbor Gazette</title>
<meta property="og:site_name" content="Harbor Gazette"><meta property="article:published_time" content="%[2]s"></head>
<body><header><a href="/">Harbor Gazette</a></header>
<article><h1 class="story-title">%[1]s</h1>
<div class="credit">Reporting by <span class="writer">%[3]s</span></div>
<aside class="promo"><p>Subscribe to the Harbor Gazette morning briefing for the tides, the shipping news and more.</p></aside>
<div class="story-body">
<p>%[4]s</p>
<p>Officials said further details would be published later in the week, and that no injuries had been reported in connection with the work described.</p>
<p>Residents were asked to follow updates on the council website and to allow extra time for journeys along the waterfront while the work continues.</p>
</div></article></body></html>`, html.EscapeString(st.Title), st.Published.Format(time.RFC3339), st.Byline, html.EscapeString(st.Lead))
}
