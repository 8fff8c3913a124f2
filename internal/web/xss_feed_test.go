package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/fetch"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// Hostile strings as a feed or page would carry them (entity-encoded in
// XML and HTML, so they arrive in the store as text with markup in it).
const (
	xssTitle = `Storm <script>alert("title")</script> hits coast`
	// Bylines with tags are dropped by the extractor as not a name (the
	// store-level TestHostileContentIsInert covers those); quotes that
	// would break out of an attribute are kept, so they are the payload.
	xssByline = `Ann "Lee" O'Neil`
	xssLead   = `Winds reached 120 km/h <img src=x onerror=alert('lead')> along the coast, officials said on Monday evening.`
)

// hostilePublisher serves an RSS feed whose titles, authors, summaries and
// article pages carry script, and one entry linking to javascript:.
func hostilePublisher(t *testing.T) *httptest.Server {
	t.Helper()
	esc := template.HTMLEscapeString
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Hostile &lt;b&gt;News&lt;/b&gt;</title><link>%[1]s/</link>
<item><title>%[2]s</title><link>%[1]s/story</link><dc:creator>%[3]s</dc:creator><description>%[4]s</description><pubDate>Mon, 02 Mar 2026 08:00:00 GMT</pubDate></item>
<item><title>Click me</title><link>javascript:alert('link')</link><description>%[4]s</description></item>
</channel></rss>`, srv.URL, esc(xssTitle), esc(xssByline), esc(`<p>`+xssLead+`</p><a href="javascript:alert('a')">more</a>`))
	})
	mux.HandleFunc("/story", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>%[1]s</title><meta name="author" content="%[2]s"></head>
<body><article><h1>%[1]s</h1><p class="byline">By %[2]s</p><p>%[3]s</p><p>%[3]s Second paragraph with more words so the body is long enough to be taken as the story.</p></article></body></html>`,
			esc(xssTitle), esc(xssByline), esc(xssLead))
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestXSSFromFeedsRenderedInert fetches a hostile publisher with the real
// fetcher into the real store, approves what it stored, and reads every
// page and feed that shows it: the payloads must appear as escaped text,
// never as markup, and the javascript: link must be gone.
func TestXSSFromFeedsRenderedInert(t *testing.T) {
	pub := hostilePublisher(t)
	h := newHarness(t)
	fc := config.DefaultSettings().Fetch
	fc.AllowPrivate = true
	fc.Timeout = 5 * time.Second
	f := fetch.New(h.store, fc, 600, slog.New(slog.DiscardHandler))
	t.Cleanup(f.Close)
	ctx := context.Background()
	res := f.PollOnce(ctx, &config.SourcesFile{Sections: []string{"Top stories"}, Sources: []config.Source{{Name: "Hostile", URL: pub.URL + "/feed.xml", Section: "Top stories"}}})
	if len(res) != 1 || res[0].Err != nil {
		t.Fatalf("poll: %+v", res)
	}
	items, err := h.store.ListItems(ctx, store.ItemFilter{})
	if err != nil || len(items) == 0 {
		t.Fatalf("nothing stored: %v", err)
	}
	var story *model.Item
	for _, it := range items {
		if _, err := h.store.UpdateItem(ctx, it.ID, func(i *model.Item) error { i.Status = model.StatusApproved; return nil }); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(it.Title, "<script>") {
			story = it
		}
	}
	// The test is only worth something if the payloads reached the store.
	if story == nil || !strings.Contains(story.Byline, `"Lee"`) || !strings.Contains(story.Lead, "<img") {
		for _, it := range items {
			t.Logf("stored: %q / %q / %q / %q", it.Title, it.Byline, it.Lead, it.URL)
		}
		t.Fatal("payloads did not survive into the store, nothing to test")
	}
	for _, path := range []string{"/", "/queue?status=approved"} {
		_, body, _ := h.get(path)
		for _, bad := range []string{"<script>alert", "<img src=x", `href="javascript:`, "<b>News</b>", `"Lee"`} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains live %q", path, bad)
			}
		}
		// Title and byline are shown as escaped text.
		for _, want := range []string{template.HTMLEscapeString(story.Title), template.HTMLEscapeString(story.Byline)} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks the escaped text %q", path, want)
			}
		}
	}
	// The curator's edit form shows the excerpt as escaped text; the
	// briefing's sanitiser drops the img element altogether.
	if _, body, _ := h.get("/queue?status=approved"); !strings.Contains(body, `&lt;img src=x onerror=alert(&#39;lead&#39;)&gt;`) {
		t.Error("queue edit form lacks the escaped excerpt")
	}
	if _, body, _ := h.get("/"); !strings.Contains(body, "Winds reached 120 km/h") || strings.Contains(body, "onerror") {
		t.Error("briefing: excerpt text missing or the img handler kept")
	}
	_, body, _ := h.get("/feed.json")
	var jf jsonFeed
	if err := json.Unmarshal([]byte(body), &jf); err != nil {
		t.Fatal(err)
	}
	for _, ji := range jf.Items {
		for _, bad := range []string{"<script", "<img", "onerror", "javascript:", `"Lee"`} {
			if strings.Contains(ji.ContentHTML, bad) || strings.Contains(ji.URL, bad) {
				t.Errorf("feed item %q keeps %q: %s", ji.Title, bad, ji.ContentHTML)
			}
		}
	}
	_, body, _ = h.get("/feed.atom")
	for _, bad := range []string{"<script", "<img", "javascript:"} {
		if strings.Contains(body, bad) {
			t.Errorf("atom feed keeps %q", bad)
		}
	}
	if u, _ := url.Parse(pub.URL); !strings.Contains(body, u.Host) {
		t.Error("atom feed lacks the story link")
	}
}

// TestOutboundLinksNoopenerNoreferrer parses the pages and feed HTML that
// show stories and checks every link leaving the site carries
// rel="noopener noreferrer": our own "Full story" links and the links kept
// from a feed's HTML alike.
func TestOutboundLinksNoopenerNoreferrer(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, lead := range []string{
		"Plain text lead of the first story.",
		`<p>HTML lead with <a href="https://elsewhere.example/more">a link</a> and <a href="http://other.example/x" rel="opener">another</a>.</p>`,
	} {
		it := h.add("https://news.example/"+fmt.Sprint(len(lead)), "Story", lead, "Top stories")
		if _, err := h.store.UpdateItem(ctx, it.ID, func(i *model.Item) error { i.Status = model.StatusApproved; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	_, body, _ := h.get("/feed.json")
	var jf jsonFeed
	if err := json.Unmarshal([]byte(body), &jf); err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	for _, path := range []string{"/", "/queue?status=approved"} {
		_, docs[path], _ = h.get(path)
	}
	for i, ji := range jf.Items {
		docs[fmt.Sprintf("feed.json item %d", i)] = ji.ContentHTML
	}
	for name, doc := range docs {
		d, err := goquery.NewDocumentFromReader(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		d.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			if !strings.HasPrefix(href, "http") {
				return // our own pages
			}
			n++
			rel := strings.Fields(a.AttrOr("rel", ""))
			if !slices.Contains(rel, "noopener") || !slices.Contains(rel, "noreferrer") || slices.Contains(rel, "opener") {
				t.Errorf("%s: link to %s has rel=%q", name, href, a.AttrOr("rel", ""))
			}
		})
		if n == 0 {
			t.Errorf("%s: no outbound links found; the check checked nothing", name)
		}
	}
}

// TestPagesObeyTheCSP renders every page route (as admin, with stories in
// the queue and on the briefing) and checks the HTML needs nothing the
// Content-Security-Policy forbids: no inline script, no event-handler
// attributes, no inline style, no javascript: URLs, scripts only from
// /static/.
func TestPagesObeyTheCSP(t *testing.T) {
	h := newAccessHarness(t)
	ctx := context.Background()
	for i, status := range []model.Status{model.StatusQueued, model.StatusApproved} {
		it := h.add(fmt.Sprintf("https://news.example/%d", i), "Story", "Lead text of the story.", "Top stories")
		if _, err := h.store.UpdateItem(ctx, it.ID, func(i *model.Item) error { i.Status = status; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	admin := h.as(model.RoleAdmin)
	pages := 0
	for _, key := range sortedRoutes() {
		method, route, _ := strings.Cut(key, " ")
		rule := routeAccess[key]
		if method != http.MethodGet || rule.want != http.StatusOK || isMachinePath(route) || strings.HasPrefix(route, "/static/") || route == "/healthz" {
			continue
		}
		path := rule.path
		if path == "" {
			path = concretePath(route)
		}
		for _, p := range []string{path, path + "?status=approved"} {
			code, body, hdr := h.getWith(admin, p)
			if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
				continue
			}
			pages++
			d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if d.Find("style").Length() > 0 {
				t.Errorf("%s: <style> element", p)
			}
			d.Find("script").Each(func(_ int, s *goquery.Selection) {
				if src, ok := s.Attr("src"); !ok || !strings.HasPrefix(src, "/static/") || strings.TrimSpace(s.Text()) != "" {
					t.Errorf("%s: inline or foreign script %q", p, src)
				}
			})
			d.Find("*").Each(func(_ int, s *goquery.Selection) {
				for _, a := range s.Nodes[0].Attr {
					k, v := strings.ToLower(a.Key), strings.ToLower(strings.TrimSpace(a.Val))
					switch {
					case strings.HasPrefix(k, "on"):
						t.Errorf("%s: event handler %s=%q", p, a.Key, a.Val)
					case k == "style":
						t.Errorf("%s: inline style on <%s>", p, goquery.NodeName(s))
					case (k == "href" || k == "src" || k == "action" || k == "formaction") && strings.HasPrefix(v, "javascript:"):
						t.Errorf("%s: javascript: URL in %s", p, a.Key)
					}
				}
			})
		}
	}
	if pages < 10 {
		t.Fatalf("only %d pages checked", pages)
	}
	t.Logf("checked %d pages", pages)
}
