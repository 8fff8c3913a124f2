package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/fetch/httpx"
	"github.com/clipsheet/clipsheet/internal/model"
)

// newsSite serves a feed at /feed.xml, article pages under /news/, and
// counts every request.
type newsSite struct {
	*httptest.Server
	hits     hitCounter
	entries  atomic.Pointer[[]testEntry]
	lastIfNM atomic.Value // If-None-Match of the latest feed request
	lastIMS  atomic.Value
	robots   string
}

func newNewsSite(t *testing.T, entries []testEntry) *newsSite {
	s := &newsSite{}
	s.entries.Store(&entries)
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		s.hits.add(r.URL.Path)
		if s.robots == "" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, s.robots)
	})
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		s.hits.add(r.URL.Path)
		if ua := r.Header.Get("User-Agent"); ua != "Clipsheet/test" {
			t.Errorf("User-Agent %q", ua)
		}
		s.lastIfNM.Store(r.Header.Get("If-None-Match"))
		s.lastIMS.Store(r.Header.Get("If-Modified-Since"))
		body := rssFeed("Test Gazette Feed", s.URL, *s.entries.Load())
		etag := fmt.Sprintf(`"%x"`, len(body))
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Tue, 10 Mar 2026 10:00:00 GMT")
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprint(w, body)
	})
	mux.HandleFunc("/news/", func(w http.ResponseWriter, r *http.Request) {
		s.hits.add(r.URL.Path)
		if strings.Contains(r.URL.Path, "missing") {
			http.NotFound(w, r)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, "/news/")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, articleHTML("Page headline "+name, ""))
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestPollFeedStoresItemsWithFallbacks(t *testing.T) {
	pub := time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)
	site := newNewsSite(t, []testEntry{
		{Path: "/news/one", Title: "Feed title one", Author: "Ana Reporter", Desc: "<p>Summary <b>one</b>. Second sentence here.</p>", Pub: pub},
		{Path: "/news/two?utm_source=rss", Title: "Feed title two", Desc: "Two summary."},
		{Path: "/news/missing", Title: "Feed title missing", Author: "Bo Writer", Desc: "<p>The page is gone, but the feed says this much.</p>", Pub: pub},
		{Path: "/news/one", Title: "Duplicate of one"},
	})
	f, st := newTestFetcher(t, testConfig())
	src := feedSource("gazette", site.URL+"/feed.xml")
	rs := f.PollOnce(context.Background(), sourcesFile(src))
	r := resultFor(t, rs, "gazette")
	if r.Err != nil || r.Status != 200 || r.Entries != 4 || r.NewItems != 3 {
		t.Fatalf("result %+v", r)
	}
	items := listItems(t, st, "gazette")
	if len(items) != 3 {
		t.Fatalf("%d items", len(items))
	}
	byURL := map[string]*model.Item{}
	for _, it := range items {
		byURL[it.URL] = it
		if it.Section != "Top" || it.Status != model.StatusQueued {
			t.Errorf("%s: section %q status %q", it.URL, it.Section, it.Status)
		}
	}
	one := byURL[site.URL+"/news/one"]
	if one == nil {
		t.Fatalf("item one missing: %v", byURL)
	}
	// Page fields win; the feed fills what the page lacks (byline, date).
	if one.Title != "Page headline one" || one.Byline != "Ana Reporter" || !one.Published.Equal(pub) || one.Lead == "" || one.Body == "" || one.FetchError != "" {
		t.Errorf("one: %+v", one)
	}
	missing := byURL[site.URL+"/news/missing"]
	if missing == nil {
		t.Fatal("item from a failed page must still be stored")
	}
	if missing.Title != "Feed title missing" || missing.Byline != "Bo Writer" || missing.SiteName != "Test Gazette Feed" ||
		!strings.Contains(missing.Lead, "The page is gone") || !strings.Contains(missing.FetchError, "404") {
		t.Errorf("missing: %+v", missing)
	}
	state := sourceState(t, st, "gazette")
	if state.LastError != "" || state.HTTPStatus != 200 || state.ItemsFound != 4 || state.LastNewItems != 3 ||
		state.ETag == "" || state.LastModified == "" || state.FeedTitle != "Test Gazette Feed" || state.LastSuccess.IsZero() || state.NextPoll.IsZero() {
		t.Errorf("state %+v", state)
	}
}

func TestConditionalGetAndNoRefetch(t *testing.T) {
	site := newNewsSite(t, []testEntry{{Path: "/news/a", Title: "A"}, {Path: "/news/b", Title: "B"}})
	f, st := newTestFetcher(t, testConfig())
	file := sourcesFile(feedSource("gazette", site.URL+"/feed.xml"))
	if r := f.PollOnce(context.Background(), file)[0]; r.Err != nil || r.NewItems != 2 {
		t.Fatalf("first poll %+v", r)
	}
	r := f.PollOnce(context.Background(), file)[0]
	if r.Err != nil || !r.NotModified || r.Status != 304 || r.NewItems != 0 {
		t.Fatalf("second poll %+v", r)
	}
	if site.lastIfNM.Load().(string) == "" || site.lastIMS.Load().(string) == "" {
		t.Error("second poll did not send If-None-Match and If-Modified-Since")
	}
	// The feed changes: only the new entry's page is fetched.
	entries := []testEntry{{Path: "/news/c", Title: "C"}, {Path: "/news/a", Title: "A"}, {Path: "/news/b", Title: "B"}}
	site.entries.Store(&entries)
	r = f.PollOnce(context.Background(), file)[0]
	if r.Err != nil || r.NotModified || r.NewItems != 1 {
		t.Fatalf("third poll %+v", r)
	}
	for _, p := range []string{"/news/a", "/news/b", "/news/c"} {
		if n := site.hits.get(p); n != 1 {
			t.Errorf("%s fetched %d times", p, n)
		}
	}
	if n := len(listItems(t, st, "gazette")); n != 3 {
		t.Errorf("%d items, want 3 (no duplicates)", n)
	}
	state := sourceState(t, st, "gazette")
	if state.Unchanged != 0 || state.LastNewItems != 1 {
		t.Errorf("state %+v", state)
	}
}

func TestArticleCapLeavesRestForNextPoll(t *testing.T) {
	var entries []testEntry
	for i := 0; i < 5; i++ {
		entries = append(entries, testEntry{Path: fmt.Sprintf("/news/%d", i), Title: fmt.Sprint("T", i)})
	}
	site := newNewsSite(t, entries)
	cfg := testConfig()
	cfg.MaxArticles = 3
	f, st := newTestFetcher(t, cfg)
	file := sourcesFile(feedSource("gazette", site.URL+"/feed.xml"))
	if r := f.PollOnce(context.Background(), file)[0]; r.NewItems != 3 {
		t.Fatalf("first poll %+v", r)
	}
	if s := sourceState(t, st, "gazette"); s.ETag != "" {
		t.Error("validators kept although entries were left over; the next poll would get a 304")
	}
	if r := f.PollOnce(context.Background(), file)[0]; r.NewItems != 2 || r.NotModified {
		t.Fatalf("second poll %+v", r)
	}
	if r := f.PollOnce(context.Background(), file)[0]; !r.NotModified {
		t.Fatalf("third poll should be a 304: %+v", r)
	}
}

// TestMovedPermanently: a 301/308 chain records the new address, later
// polls go straight there (with its validators) and keep reporting the move,
// and a new address that disappears sends the source back to its
// configured URL.
func TestMovedPermanently(t *testing.T) {
	site := newNewsSite(t, []testEntry{{Path: "/news/a", Title: "A"}})
	var oldHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/old-feed", func(w http.ResponseWriter, r *http.Request) {
		oldHits.Add(1)
		http.Redirect(w, r, "/newer-feed", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/newer-feed", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, site.URL+"/feed.xml", http.StatusPermanentRedirect)
	})
	mux.HandleFunc("/robots.txt", http.NotFound)
	old := httptest.NewServer(mux)
	defer old.Close()
	f, st := newTestFetcher(t, testConfig())
	file := sourcesFile(feedSource("moved", old.URL+"/old-feed"))
	r := f.PollOnce(context.Background(), file)[0]
	if r.Err != nil || r.MovedTo != site.URL+"/feed.xml" || r.NewItems != 1 {
		t.Fatalf("%+v", r)
	}
	s := sourceState(t, st, "moved")
	if s.MovedTo != site.URL+"/feed.xml" || s.FinalURL != site.URL+"/feed.xml" || s.URL != old.URL+"/old-feed" {
		t.Errorf("state URL %q MovedTo %q FinalURL %q", s.URL, s.MovedTo, s.FinalURL)
	}
	// Second poll: straight to the new address, conditionally, still reported.
	r = f.PollOnce(context.Background(), file)[0]
	if r.Err != nil || !r.NotModified || r.MovedTo != site.URL+"/feed.xml" {
		t.Fatalf("second poll %+v", r)
	}
	if n := oldHits.Load(); n != 1 {
		t.Errorf("old URL requested %d times, want 1 (the stored new URL is polled)", n)
	}
	if site.lastIfNM.Load().(string) == "" {
		t.Error("validators of the new address not sent")
	}
	// The new address goes away: the next poll fails with the 404 and the
	// one after uses the configured URL again.
	site.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	defer gone.Close()
	f.configureHTTP(nil)
	st.PutSourceState(context.Background(), func() *model.SourceState {
		s := sourceState(t, st, "moved")
		s.MovedTo = gone.URL + "/feed.xml"
		return s
	}())
	r = f.PollOnce(context.Background(), file)[0]
	if r.Err == nil || !strings.Contains(r.Err.Error(), "HTTP 404") || r.MovedTo != "" {
		t.Fatalf("gone: %+v", r)
	}
	if s := sourceState(t, st, "moved"); s.MovedTo != "" || s.ETag != "" {
		t.Errorf("after 404 at the new address: MovedTo %q ETag %q", s.MovedTo, s.ETag)
	}
	before := oldHits.Load()
	f.PollOnce(context.Background(), file)
	if oldHits.Load() != before+1 {
		t.Error("configured URL not polled again after the new address vanished")
	}
}

func TestRobots(t *testing.T) {
	site := newNewsSite(t, []testEntry{{Path: "/news/a", Title: "A"}, {Path: "/news/private-b", Title: "B", Desc: "Feed summary of B."}})
	site.robots = "User-agent: *\nDisallow: /news/private\n\nUser-agent: Clipsheet\nDisallow: /news/private\nDisallow: /feed-blocked\n"
	f, st := newTestFetcher(t, testConfig())
	file := sourcesFile(feedSource("ok", site.URL+"/feed.xml"), feedSource("blocked", site.URL+"/feed-blocked"))
	rs := f.PollOnce(context.Background(), file)
	if r := resultFor(t, rs, "blocked"); r.Err == nil || !strings.Contains(r.Err.Error(), "robots.txt disallows /feed-blocked") {
		t.Errorf("blocked: %+v", r)
	}
	var re *RobotsError
	if r := resultFor(t, rs, "blocked"); !errors.As(r.Err, &re) {
		t.Errorf("want RobotsError, got %v", r.Err)
	}
	if r := resultFor(t, rs, "ok"); r.Err != nil || r.NewItems != 2 {
		t.Errorf("ok: %+v", r)
	}
	if site.hits.get("/news/private-b") != 0 {
		t.Error("fetched a page robots.txt disallows")
	}
	for _, it := range listItems(t, st, "ok") {
		if strings.Contains(it.URL, "private") && (!strings.Contains(it.FetchError, "robots.txt") || it.Lead != "Feed summary of B.") {
			t.Errorf("disallowed page: item should come from the feed with the robots error: %+v", it)
		}
	}
	if n := site.hits.get("/robots.txt"); n != 1 {
		t.Errorf("robots.txt fetched %d times, want 1 (cached per host)", n)
	}
	// ignore_robots fetches anyway.
	cfg := testConfig()
	cfg.IgnoreRobots = true
	f2, _ := newTestFetcher(t, cfg)
	if r := f2.PollOnce(context.Background(), sourcesFile(feedSource("blocked", site.URL+"/feed-blocked")))[0]; r.Err == nil || strings.Contains(r.Err.Error(), "robots") {
		t.Errorf("ignore_robots: want the 404 of the path itself, got %v", r.Err)
	}
}

func TestRobotsCrawlDelaySpacesRequests(t *testing.T) {
	site := newNewsSite(t, []testEntry{{Path: "/news/a", Title: "A"}, {Path: "/news/b", Title: "B"}, {Path: "/news/c", Title: "C"}})
	site.robots = "User-agent: *\nCrawl-delay: 0.3\n"
	f, st := newTestFetcher(t, testConfig())
	start := time.Now()
	r := f.PollOnce(context.Background(), sourcesFile(feedSource("slow", site.URL+"/feed.xml")))[0]
	took := time.Since(start)
	if r.Err != nil || len(listItems(t, st, "slow")) != 3 {
		t.Fatalf("poll: %+v", r)
	}
	// The feed and three pages: four request starts, each 0.3 s after the last.
	if took < 900*time.Millisecond {
		t.Errorf("four requests took %v; Crawl-delay 0.3 s asks for at least 0.9 s", took)
	}
}

func TestPageSource(t *testing.T) {
	var front atomic.Value
	front.Store(`<!doctype html><html><head><title>World | Test Gazette</title><base href="/world/"></head><body>
<nav><h2><a href="/about">About us</a></h2></nav>
<main>
 <h2><a href="story-one">Story one headline</a></h2>
 <h2><a href="/world/story-two#comments">Story two headline</a></h2>
 <h2><a href="https://elsewhere.example/story">External story</a></h2>
 <h2><a href="story-one?x=1">Story one again, other URL</a></h2>
 <h2><a href="story-one">Story one duplicate</a></h2>
 <h2><a href="/world/video/clip">A video</a></h2>
 <h2><a href="mailto:desk@example.com">Mail the desk</a></h2>
 <h3><a href="story-three">Not selected (h3)</a></h3>
</main></body></html>`)
	var hits hitCounter
	mux := http.NewServeMux()
	mux.HandleFunc("/world/", func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.URL.Path)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/world/" {
			fmt.Fprint(w, front.Load().(string))
			return
		}
		fmt.Fprint(w, articleHTML("Headline of "+r.URL.Path, "Cy Columnist"))
	})
	mux.HandleFunc("/robots.txt", http.NotFound)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f, st := newTestFetcher(t, testConfig())
	src := config.Source{Name: "world", URL: srv.URL + "/world/", Type: config.TypePage, Section: "Top",
		Links: "main h2 a", Include: []string{`/world/`}, Exclude: []string{`/video/`}}
	r := f.PollOnce(context.Background(), sourcesFile(src))[0]
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	// story-one, story-two (fragment dropped), story-one?x=1; not the
	// external link (include), the video (exclude), the mailto, the duplicate
	// or the h3.
	if r.Entries != 3 || r.Excluded != 2 || r.NewItems != 3 {
		t.Fatalf("%+v", r)
	}
	urls := map[string]*model.Item{}
	for _, it := range listItems(t, st, "world") {
		urls[it.URL] = it
	}
	for _, u := range []string{"/world/story-one", "/world/story-two", "/world/story-one?x=1"} {
		it := urls[srv.URL+u]
		if it == nil {
			t.Errorf("missing %s in %v", u, urls)
			continue
		}
		if it.Title != "Headline of "+strings.Split(u, "?")[0] || it.Body == "" || it.FetchError != "" {
			t.Errorf("%s: title %q fetch error %q", u, it.Title, it.FetchError)
		}
	}
	if s := sourceState(t, st, "world"); s.FeedTitle != "World | Test Gazette" {
		t.Errorf("page title %q", s.FeedTitle)
	}
	// A new link appears; the known ones are not fetched again.
	front.Store(strings.Replace(front.Load().(string), "<main>", `<main><h2><a href="story-four">Story four</a></h2>`, 1))
	r = f.PollOnce(context.Background(), sourcesFile(src))[0]
	if r.Err != nil || r.NewItems != 1 || r.Entries != 4 {
		t.Fatalf("second poll %+v", r)
	}
	if n := hits.get("/world/story-one"); n != 2 { // story-one and story-one?x=1
		t.Errorf("story-one fetched %d times, want 2", n)
	}
	if n := hits.get("/world/story-four"); n != 1 {
		t.Errorf("story-four fetched %d times", n)
	}
}

// TestFeedSourceIncludeExclude: a feed source's include/exclude patterns
// judge each entry's story link before anything is fetched, as for a page
// source: a dropped entry's article page is never requested and no item is
// stored for it, and it is counted apart from the entries kept.
func TestFeedSourceIncludeExclude(t *testing.T) {
	site := newNewsSite(t, []testEntry{
		{Path: "/news/world/a", Title: "World A"},
		{Path: "/news/sport/b", Title: "Sport B"},
		{Path: "/news/world/video/c", Title: "World video C"},
		{Path: "/news/world/d?ref=rss", Title: "World D"},
		{Path: "/news/business/e", Title: "Business E"},
	})
	f, st := newTestFetcher(t, testConfig())
	src := feedSource("gazette", site.URL+"/feed.xml")
	src.Include = []string{`/news/world/`}
	src.Exclude = []string{`/video/`}

	items, err := f.Preview(context.Background(), src, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 {
		t.Errorf("preview shows %d items, want the 2 the patterns keep", len(items))
	}

	r := f.PollOnce(context.Background(), sourcesFile(src))[0]
	if r.Err != nil || r.Entries != 2 || r.Excluded != 3 || r.NewItems != 2 {
		t.Fatalf("result %+v", r)
	}
	got := map[string]bool{}
	for _, it := range listItems(t, st, "gazette") {
		got[it.URL] = true
	}
	for _, p := range []string{"/news/world/a", "/news/world/d?ref=rss"} {
		if !got[site.URL+p] {
			t.Errorf("included entry %s not stored (have %v)", p, got)
		}
	}
	if len(got) != 2 {
		t.Errorf("stored %d items, want 2: %v", len(got), got)
	}
	for _, p := range []string{"/news/sport/b", "/news/world/video/c", "/news/business/e"} {
		if n := site.hits.get(p); n != 0 {
			t.Errorf("excluded entry %s: article page requested %d times", p, n)
		}
	}
	if s := sourceState(t, st, "gazette"); s.ItemsFound != 5 || s.LastNewItems != 2 {
		t.Errorf("state: items found %d (want all 5 the feed had), new %d", s.ItemsFound, s.LastNewItems)
	}

	// Dropped entries were not recorded as handled: once the patterns let
	// one through, the next poll fetches and stores it.
	entries := append(*site.entries.Load(), testEntry{Path: "/news/world/f", Title: "World F"})
	site.entries.Store(&entries)
	src.Exclude = nil
	r = f.PollOnce(context.Background(), sourcesFile(src))[0]
	if r.Err != nil || r.Entries != 4 || r.Excluded != 2 || r.NewItems != 2 {
		t.Fatalf("second poll %+v", r)
	}
	if n := site.hits.get("/news/world/video/c"); n != 1 {
		t.Errorf("video entry fetched %d times after the exclude was removed, want 1", n)
	}
	if n := site.hits.get("/news/sport/b") + site.hits.get("/news/business/e"); n != 0 {
		t.Errorf("entries outside include fetched %d times", n)
	}
}

func TestPreviewStoresNothing(t *testing.T) {
	site := newNewsSite(t, []testEntry{{Path: "/news/a", Title: "A"}, {Path: "/news/b", Title: "B"}, {Path: "/news/c", Title: "C"}})
	f, st := newTestFetcher(t, testConfig())
	items, err := f.Preview(context.Background(), feedSource("gazette", site.URL+"/feed.xml"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Title != "Page headline a" || items[1].Title != "Page headline b" || items[0].Source != "gazette" {
		t.Fatalf("%+v", items)
	}
	if n := len(listItems(t, st, "")); n != 0 {
		t.Errorf("preview stored %d items", n)
	}
	if states, _ := st.ListSourceStates(context.Background()); len(states) != 0 {
		t.Errorf("preview stored state %+v", states)
	}
	if _, err := f.Preview(context.Background(), feedSource("bad", site.URL+"/nope"), 2); err == nil {
		t.Error("preview of a 404 must fail")
	}
}

func TestSourceURLChangeResetsValidators(t *testing.T) {
	site := newNewsSite(t, []testEntry{{Path: "/news/a", Title: "A"}})
	f, st := newTestFetcher(t, testConfig())
	f.PollOnce(context.Background(), sourcesFile(feedSource("g", site.URL+"/feed.xml")))
	f.PollOnce(context.Background(), sourcesFile(feedSource("g", site.URL+"/feed.xml?v=2")))
	if ifnm := site.lastIfNM.Load().(string); ifnm != "" {
		t.Errorf("validators of the old URL sent to the new one: %q", ifnm)
	}
	if s := sourceState(t, st, "g"); s.URL != site.URL+"/feed.xml?v=2" {
		t.Errorf("state URL %q", s.URL)
	}
}

// TestPageSourceConditionalGetAndCharset: a section front is polled with
// If-None-Match/If-Modified-Since like a feed (a 304 fetches nothing else),
// and a front in a legacy charset (declared only in <meta>) is decoded.
func TestPageSourceConditionalGetAndCharset(t *testing.T) {
	front, err := charmap.Windows1251.NewEncoder().String(`<html><head><meta charset="windows-1251"><title>Новости</title></head><body>
<ul class="news"><li><a href="/n/1">Пожар на складе</a></li><li><a href="/n/2">Наводнение в городе</a></li></ul></body></html>`)
	if err != nil {
		t.Fatal(err)
	}
	var hits hitCounter
	var ifNoneMatch, ifModSince atomic.Value
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", http.NotFound)
	mux.HandleFunc("/front", func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.URL.Path)
		ifNoneMatch.Store(r.Header.Get("If-None-Match"))
		ifModSince.Store(r.Header.Get("If-Modified-Since"))
		if r.Header.Get("If-None-Match") == `"front-v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"front-v1"`)
		w.Header().Set("Last-Modified", "Tue, 10 Mar 2026 10:00:00 GMT")
		w.Header().Set("Content-Type", "text/html") // no charset: the <meta> says it
		io.WriteString(w, front)
	})
	mux.HandleFunc("/n/", func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.URL.Path)
		http.NotFound(w, r) // items then carry the link text as headline
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f, st := newTestFetcher(t, testConfig())
	file := sourcesFile(config.Source{Name: "front", URL: srv.URL + "/front", Type: config.TypePage, Section: "Top", Links: "ul.news a"})
	r := f.PollOnce(context.Background(), file)[0]
	if r.Err != nil || r.NewItems != 2 {
		t.Fatalf("first poll %+v", r)
	}
	titles := map[string]bool{}
	for _, it := range listItems(t, st, "front") {
		titles[it.Title] = true
	}
	if !titles["Пожар на складе"] || !titles["Наводнение в городе"] {
		t.Errorf("link texts not decoded from windows-1251: %v", titles)
	}
	if s := sourceState(t, st, "front"); s.FeedTitle != "Новости" || s.ETag != `"front-v1"` || s.LastModified == "" {
		t.Errorf("state %+v", s)
	}
	r = f.PollOnce(context.Background(), file)[0]
	if r.Err != nil || !r.NotModified || r.Status != 304 {
		t.Fatalf("second poll %+v", r)
	}
	if ifNoneMatch.Load() != `"front-v1"` || ifModSince.Load() != "Tue, 10 Mar 2026 10:00:00 GMT" {
		t.Errorf("validators sent: %q / %q", ifNoneMatch.Load(), ifModSince.Load())
	}
	if hits.total("/n/") != 2 {
		t.Errorf("%d article requests, want 2 (none after the 304)", hits.total("/n/"))
	}
}

// TestRobotsOverLimitIsTruncated: a robots.txt longer than the parsing
// limit is read up to it (RFC 9309 §2.5), not treated as an error that
// would fail every source on the host.
func TestRobotsOverLimitIsTruncated(t *testing.T) {
	site := newNewsSite(t, []testEntry{{Path: "/news/a", Title: "A"}, {Path: "/news/private-b", Title: "B"}})
	site.robots = "User-agent: *\nDisallow: /news/private\n" + strings.Repeat("# a very long comment line in a generated robots file\n", 12000)
	f, st := newTestFetcher(t, testConfig())
	r := f.PollOnce(context.Background(), sourcesFile(feedSource("ok", site.URL+"/feed.xml")))[0]
	if r.Err != nil || r.NewItems != 2 {
		t.Fatalf("%+v", r)
	}
	if site.hits.get("/news/private-b") != 0 {
		t.Error("the rule before the limit was not honoured")
	}
	for _, it := range listItems(t, st, "ok") {
		if strings.Contains(it.URL, "private") && !strings.Contains(it.FetchError, "robots.txt disallows") {
			t.Errorf("private item fetch error %q", it.FetchError)
		}
	}
}

// TestDeletedItemNotStoredAgain: a story a curator deleted stays deleted
// when its feed is polled again with the link still in it.
func TestDeletedItemNotStoredAgain(t *testing.T) {
	site := newNewsSite(t, []testEntry{{Path: "/news/a", Title: "A"}, {Path: "/news/b", Title: "B"}})
	f, st := newTestFetcher(t, testConfig())
	file := sourcesFile(feedSource("g", site.URL+"/feed.xml"))
	if r := f.PollOnce(context.Background(), file)[0]; r.NewItems != 2 {
		t.Fatalf("%+v", r)
	}
	victim := model.ItemID(site.URL + "/news/a")
	if err := st.DeleteItem(context.Background(), victim); err != nil {
		t.Fatal(err)
	}
	entries := []testEntry{{Path: "/news/c", Title: "C"}, {Path: "/news/a", Title: "A"}, {Path: "/news/b", Title: "B"}}
	site.entries.Store(&entries)
	if r := f.PollOnce(context.Background(), file)[0]; r.Err != nil || r.NewItems != 1 {
		t.Fatalf("second poll %+v", r)
	}
	if has, _ := st.HasItem(context.Background(), victim); has || site.hits.get("/news/a") != 1 {
		t.Errorf("deleted story stored again (present %v, fetched %d times)", has, site.hits.get("/news/a"))
	}
}

// TestRobotsOnRedirectTarget: robots.txt is honoured on the host a
// redirect leads to, not only on the host first asked.
func TestRobotsOnRedirectTarget(t *testing.T) {
	site := newNewsSite(t, []testEntry{{Path: "/news/a", Title: "A"}})
	site.robots = "User-agent: *\nDisallow: /news/\n"
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", http.NotFound)
	mux.HandleFunc("/go/feed", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, site.URL+"/feed.xml", http.StatusFound)
	})
	mux.HandleFunc("/go/story", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, site.URL+"/news/a", http.StatusFound)
	})
	short := httptest.NewServer(mux)
	defer short.Close()
	f, _ := newTestFetcher(t, testConfig())
	// The feed is allowed on the target; a story behind a redirect is not.
	if r := f.PollOnce(context.Background(), sourcesFile(feedSource("via", short.URL+"/go/feed")))[0]; r.Err != nil {
		t.Fatalf("allowed redirect target: %+v", r)
	}
	_, err := f.get(context.Background(), httpx.Request{URL: short.URL + "/go/story", Accept: httpx.AcceptHTML})
	var re *RobotsError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "redirect to "+site.URL+"/news/a") || !strings.Contains(err.Error(), "robots.txt disallows /news/a") {
		t.Errorf("want a robots refusal of the redirect target, got %v", err)
	}
	if n := site.hits.get("/news/a"); n != 0 {
		t.Errorf("disallowed redirect target fetched %d times", n)
	}
	if n := site.hits.get("/robots.txt"); n != 1 {
		t.Errorf("target robots.txt fetched %d times, want 1 (cached)", n)
	}
}

// TestRobotsServerError: a robots.txt answering 5xx makes the whole site
// off limits for a while (RFC 9309 §2.3.1.4), with a stored error saying so,
// and is not asked again for every source on the host.
func TestRobotsServerError(t *testing.T) {
	var hits hitCounter
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.URL.Path)
		if r.URL.Path == "/robots.txt" {
			http.Error(w, "backend down", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, rssFeed("F", "http://"+r.Host, nil))
	}))
	defer srv.Close()
	f, st := newTestFetcher(t, testConfig())
	rs := f.PollOnce(context.Background(), sourcesFile(feedSource("a", srv.URL+"/a"), feedSource("b", srv.URL+"/b")))
	for _, r := range rs {
		if r.Err == nil || !strings.Contains(r.Err.Error(), "robots.txt unavailable (HTTP 500); treating the site as disallowed for now") {
			t.Errorf("%s: %v", r.Source, r.Err)
		}
		if s := sourceState(t, st, r.Source); !strings.Contains(s.LastError, "robots.txt unavailable") || s.ConsecutiveFailures != 1 {
			t.Errorf("%s: state %+v", r.Source, s)
		}
	}
	if hits.get("/robots.txt") != 1 || hits.get("/a")+hits.get("/b") != 0 {
		t.Errorf("requests %v", hits.hits)
	}
}
