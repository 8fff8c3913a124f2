package fetch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/clipsheet/clipsheet/internal/model"
)

// TestHostileBylinesAndTitlesAreClamped: a feed or page may carry a byline
// (or headline) of any size; the fetcher stores it cut at a word boundary
// to the desk's limits instead of refusing the story.
func TestHostileBylinesAndTitlesAreClamped(t *testing.T) {
	var names []string
	for i := range 50_000 {
		names = append(names, "Jane "+string(rune('A'+i%26))+strings.Repeat("e", i%7)+string(rune('a'+i/26%26))+string(rune('a'+i/676%26)))
	}
	hugeByline := strings.Join(names, ", ")
	hugeTitle := strings.Repeat("Breaking news ", 10_000)
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", http.NotFound)
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, rssFeed("Hostile", srv.URL, []testEntry{
			{Path: "/news/feed-byline", Title: hugeTitle, Author: hugeByline},
			{Path: "/news/page-byline", Title: "Short"},
		}))
	})
	mux.HandleFunc("/news/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if strings.HasSuffix(r.URL.Path, "page-byline") {
			fmt.Fprint(w, articleHTML("Page story", hugeByline))
			return
		}
		fmt.Fprint(w, `<!doctype html><html><body><p>No headline, no byline here, only a paragraph that is long enough to be read as the story's text by the extractor.</p></body></html>`)
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()

	f, st := newTestFetcher(t, testConfig())
	if r := f.PollOnce(context.Background(), sourcesFile(feedSource("hostile", srv.URL+"/feed.xml")))[0]; r.Err != nil || r.NewItems != 2 {
		t.Fatalf("poll: %+v", r)
	}
	items := listItems(t, st, "hostile")
	if len(items) != 2 {
		t.Fatalf("want 2 items, got %d", len(items))
	}
	for _, it := range items {
		for field, v := range map[string]string{"byline": it.Byline, "original byline": it.Original.Byline} {
			if n := utf8.RuneCountInString(v); n > model.MaxBylineChars || n < model.MaxBylineChars-20 || !strings.HasSuffix(v, "…") || strings.HasSuffix(v, ",…") {
				t.Errorf("%s: %s of %d characters: %.80q…", it.URL, field, n, v)
			}
		}
		if n := utf8.RuneCountInString(it.Title); n > model.MaxTitleChars {
			t.Errorf("%s: title of %d characters", it.URL, n)
		}
	}
}
