package fetch

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// testConfig has short limits so fault tests end quickly.
func testConfig() config.Fetch {
	return config.Fetch{
		AllowPrivate:   true,
		Timeout:        2 * time.Second,
		ConnectTimeout: time.Second,
		MaxBodyBytes:   1 << 20,
		Workers:        8,
		PerHost:        2,
		UserAgent:      "Clipsheet/test",
		MaxArticles:    50,
	}
}

func openStore(t testing.TB) *store.Bolt {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newTestFetcher(t testing.TB, cfg config.Fetch) (*Fetcher, *store.Bolt) {
	t.Helper()
	st := openStore(t)
	f := New(st, cfg, 300, slog.New(slog.DiscardHandler))
	t.Cleanup(f.Close)
	return f, st
}

func sourcesFile(srcs ...config.Source) *config.SourcesFile {
	return &config.SourcesFile{Sections: []string{"Top"}, Sources: srcs}
}

func feedSource(name, url string) config.Source {
	return config.Source{Name: name, URL: url, Section: "Top"}
}

type testEntry struct {
	Path, Title, Author, Desc string
	Pub                       time.Time
}

// rssFeed renders an RSS 2.0 feed whose links point at base+entry.Path.
func rssFeed(title, base string, entries []testEntry) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>%s</title><link>%s/</link>`, title, base)
	for _, e := range entries {
		fmt.Fprintf(&b, "<item><title>%s</title><link>%s%s</link>", e.Title, base, e.Path)
		if e.Author != "" {
			fmt.Fprintf(&b, "<dc:creator>%s</dc:creator>", e.Author)
		}
		if e.Desc != "" {
			fmt.Fprintf(&b, "<description><![CDATA[%s]]></description>", e.Desc)
		}
		if !e.Pub.IsZero() {
			fmt.Fprintf(&b, "<pubDate>%s</pubDate>", e.Pub.UTC().Format(time.RFC1123Z))
		}
		b.WriteString("</item>")
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

// articleHTML is a plain news article page the extractor can read.
func articleHTML(title, byline string) string {
	var paras strings.Builder
	for i := 0; i < 6; i++ {
		fmt.Fprintf(&paras, "<p>Paragraph %d of the story about %s. The council met on Tuesday evening and voted on the proposal after a long debate, officials said, adding that work would start next spring.</p>\n", i+1, title)
	}
	by := ""
	if byline != "" {
		by = fmt.Sprintf(`<meta name="author" content="%s">`, byline)
	}
	return fmt.Sprintf(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>%s</title>%s
<meta property="og:site_name" content="Test Gazette"></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>%s</h1>%s</article><footer>Copyright Test Gazette</footer></body></html>`, title, by, title, paras.String())
}

// hitCounter counts requests per path.
type hitCounter struct {
	mu   sync.Mutex
	hits map[string]int
}

func (h *hitCounter) add(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hits == nil {
		h.hits = map[string]int{}
	}
	h.hits[path]++
}

func (h *hitCounter) get(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[path]
}

func (h *hitCounter) total(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for p, c := range h.hits {
		if strings.HasPrefix(p, prefix) {
			n += c
		}
	}
	return n
}

// listItems returns the source's items whole: lists leave bodies out, and
// the tests check what was extracted.
func listItems(t testing.TB, st *store.Bolt, source string) []*model.Item {
	t.Helper()
	items, err := st.ListItems(context.Background(), store.ItemFilter{Source: source})
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if items[i], err = st.GetItem(context.Background(), it.ID); err != nil {
			t.Fatal(err)
		}
	}
	return items
}

func sourceState(t testing.TB, st *store.Bolt, name string) *model.SourceState {
	t.Helper()
	s, err := st.SourceState(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func resultFor(t testing.TB, rs []Result, name string) Result {
	t.Helper()
	for _, r := range rs {
		if r.Source == name {
			return r
		}
	}
	t.Fatalf("no result for %s", name)
	return Result{}
}

var _ = http.StatusOK
