// Package e2e runs the whole pipeline once, end to end, on real parts: the
// sample publisher site over loopback HTTP, gofeed and the extractor, a
// bbolt file in a temporary directory, and the web interface.
package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/demo"
	"github.com/clipsheet/clipsheet/internal/fetch"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
	"github.com/clipsheet/clipsheet/internal/web"
)

// recorder counts responses per path and status, so the test can tell a
// conditional re-poll (304) from a full download.
type recorder struct {
	mu       sync.Mutex
	statuses map[string][]int
	next     http.Handler
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: 200}
	r.next.ServeHTTP(sw, req)
	r.mu.Lock()
	r.statuses[req.URL.Path] = append(r.statuses[req.URL.Path], sw.status)
	r.mu.Unlock()
}

func (r *recorder) get(path string) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.statuses[path]...)
}

func TestPipelineEndToEnd(t *testing.T) {
	rec := &recorder{statuses: map[string][]int{}, next: demo.NewSite(os.DirFS("../../testdata/demo/site"))}
	site := httptest.NewServer(rec)
	defer site.Close()

	sources, err := config.ParseSources([]byte(demo.SourcesYAML(site.URL)))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "data", "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	settings := config.DefaultSettings()
	settings.Fetch.AllowPrivate = true
	settings.Fetch.Timeout = 5 * time.Second
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := fetch.New(st, settings.Fetch, settings.Excerpt.MaxChars, logger)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// First poll: everything is new.
	for _, r := range f.PollOnce(ctx, sources) {
		if r.Err != nil {
			t.Fatalf("first poll of %s: %v", r.Source, r.Err)
		}
	}
	items, err := st.ListItems(ctx, store.ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 5 {
		t.Fatalf("want 5 items after first poll, got %d", len(items))
	}
	byTitle := map[string]*model.Item{}
	for _, it := range items {
		byTitle[it.Title] = it
		if it.Status != model.StatusQueued || it.FetchedAt.IsZero() || it.ID != model.ItemID(it.LinkURL()) {
			t.Errorf("%q: status %s fetched %v id %s", it.Title, it.Status, it.FetchedAt, it.ID)
		}
	}

	cooling := byTitle["County opens cooling centres as heat wave builds"]
	if cooling == nil {
		t.Fatalf("cooling-centres story missing; titles: %v", keys(byTitle))
	}
	wantPub := time.Date(2026, 11, 24, 14, 5, 0, 0, time.UTC)
	checks := []struct{ name, got, want string }{
		{"byline", cooling.Byline, "Maria Alvarez and Tom Reyes"},
		{"site", cooling.SiteName, "Riverside Daily Ledger"},
		{"section", cooling.Section, "Disasters & weather"},
		{"source", cooling.Source, "Riverside County Emergency News"},
		{"canonical", cooling.CanonicalURL, site.URL + "/news/2026/11/24/cooling-centres.html"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("cooling %s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !cooling.Published.Equal(wantPub) {
		t.Errorf("cooling published %v, want %v", cooling.Published, wantPub)
	}
	if !strings.HasPrefix(cooling.Lead, "RIVERSIDE — The county will open twelve cooling centres") {
		t.Errorf("cooling lead %q", cooling.Lead)
	}
	for _, bad := range []string{"Sign up", "volunteer sets up fans", "cookies", "Share"} {
		if strings.Contains(cooling.Lead, bad) {
			t.Errorf("cooling lead carries boilerplate %q: %q", bad, cooling.Lead)
		}
	}

	boil := byTitle["Boil-water notice lifted for Eastside"]
	if boil == nil || boil.Byline != "Sam Whitfield" || boil.SiteName != "Valley Public Radio" ||
		!strings.HasPrefix(boil.Lead, "The city lifted a boil-water notice") || strings.Contains(boil.Lead, "Correction") {
		t.Errorf("boil-water story wrong: %+v", boil)
	}
	station := byTitle["Suspicious package at Central Station cleared after evacuation"]
	if station == nil || station.Byline != "Priya Natarajan" || !strings.HasPrefix(station.Lead, "Central Station was evacuated") {
		t.Errorf("central-station story (no metadata on page, byline from page or feed) wrong: %+v", station)
	}
	// That page is dated only by its URL: the feed's timestamp is the
	// better fact. Its publisher is named only in the <title> suffix
	// ("… — Metro Courier"), which the extractor reads before falling
	// back to the host (issue 14), so the feed's title is not needed.
	if station != nil && (!station.Published.Equal(time.Date(2026, 11, 25, 0, 12, 0, 0, time.UTC)) || station.SiteName != "Metro Courier") {
		t.Errorf("central-station published %v site %q, want the feed's", station.Published, station.SiteName)
	}
	// The third RSS entry's page is missing: the item comes from the feed.
	feedOnly := byTitle["Feed-only advisory: road closures for wildfire crews"]
	if feedOnly == nil || feedOnly.Byline != "Dan Okafor" || !strings.HasPrefix(feedOnly.Lead, "Highway 9 is closed") || feedOnly.FetchError == "" {
		t.Errorf("feed-only item wrong: %+v", feedOnly)
	}

	// Second poll: conditional requests, nothing new, no duplicates.
	for _, r := range f.PollOnce(ctx, sources) {
		if r.Err != nil || r.NewItems != 0 {
			t.Errorf("second poll of %s: new %d err %v", r.Source, r.NewItems, r.Err)
		}
	}
	for _, p := range []string{"/rss.xml", "/atom.xml"} {
		got := rec.get(p)
		if len(got) != 2 || got[0] != 200 || got[1] != http.StatusNotModified {
			t.Errorf("%s statuses %v, want [200 304]", p, got)
		}
	}
	if n := len(rec.get("/news/2026/11/24/cooling-centres.html")); n != 1 {
		t.Errorf("article page fetched %d times, want once", n)
	}
	again, _ := st.ListItems(ctx, store.ItemFilter{})
	if len(again) != len(items) {
		t.Fatalf("duplicates after re-poll: %d items, want %d", len(again), len(items))
	}

	// Approve one item over HTTP; only it appears on the briefing.
	srv, err := web.NewServer(st, web.Config{Settings: settings, Sources: func() *config.SourcesFile { return sources },
		Logger: logger, Auth: auth.Config{Params: auth.TestParams}})
	if err != nil {
		t.Fatal(err)
	}
	const password = "correct horse battery staple"
	if _, err := srv.Auth().AddUser(ctx, auth.Actor{Name: "test"}, "desk", model.RoleCurator, password); err != nil {
		t.Fatal(err)
	}
	app := httptest.NewServer(srv)
	defer app.Close()
	client := newClient(t)
	res, err := client.PostForm(app.URL+"/login", url.Values{"csrf_token": {csrfToken(t, client, app.URL+"/login")}, "name": {"desk"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", res.StatusCode)
	}
	queue := getBody(t, client, app.URL+"/queue")
	checkQueue(t, queue, items)
	token := csrfToken(t, client, app.URL+"/queue")
	res, err = client.PostForm(app.URL+"/items/"+cooling.ID+"/approve", url.Values{"csrf_token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", res.StatusCode)
	}
	body := getBody(t, client, app.URL+"/")
	if !strings.Contains(body, cooling.Title) || !strings.Contains(body, `href="`+cooling.CanonicalURL+`" rel="noopener noreferrer">Full story`) {
		t.Errorf("approved story not on briefing with a Full story link")
	}
	for title := range byTitle {
		if title != cooling.Title && strings.Contains(body, title) {
			t.Errorf("unapproved %q on the briefing", title)
		}
	}
	for _, want := range []string{"<h2>Disasters &amp; weather</h2>", `href="` + cooling.CanonicalURL + `" rel="noopener noreferrer">` + cooling.Title + `</a>`,
		`<span class="publisher">Riverside Daily Ledger</span>`, `<span class="byline">Maria Alvarez and Tom Reyes</span>`,
		`<time datetime="2026-11-24T14:05:00Z">`, `<p class="lead">RIVERSIDE — The county will open twelve cooling centres`} {
		if !strings.Contains(body, want) {
			t.Errorf("briefing lacks %s", want)
		}
	}
	if strings.Contains(getBody(t, client, app.URL+"/queue"), cooling.Title) {
		t.Error("approved item still in the queue")
	}

	// Edit (headline, excerpt, section) and approve in one form; reject
	// another. The briefing carries the edit under the new section, the
	// rejected story stays off it, and the extraction is kept as it was.
	res, err = client.PostForm(app.URL+"/items/"+boil.ID+"/edit", url.Values{"csrf_token": {token},
		"title": {"Eastside water safe to drink again"}, "lead": {"The boil-water notice for Eastside is over.\r\n\r\nResidents may drink tap water again.\r\n"},
		"section": {"Public health"}, "then": {"approved"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	res, err = client.PostForm(app.URL+"/items/"+station.ID+"/reject", url.Values{"csrf_token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	body = getBody(t, client, app.URL+"/")
	publicHealth := strings.Index(body, "<h2>Public health</h2>")
	if publicHealth < 0 || !strings.Contains(body[publicHealth:], "Eastside water safe to drink again") ||
		!strings.Contains(body, `<p class="lead">The boil-water notice for Eastside is over.</p>`) ||
		!strings.Contains(body, `<p class="lead">Residents may drink tap water again.</p>`) || strings.Contains(body, boil.Title) {
		t.Errorf("edited item not on the briefing under Public health as edited (two excerpt paragraphs from a CRLF textarea)")
	}
	if strings.Contains(body, station.Title) {
		t.Error("rejected item on the briefing")
	}
	edited, err := st.GetItem(ctx, boil.ID)
	if err != nil || edited.Status != model.StatusApproved || edited.Original.Title != boil.Title || edited.Section != "Public health" {
		t.Errorf("stored edit: %+v %v", edited, err)
	}
	rejected, err := st.GetItem(ctx, station.ID)
	if err != nil || rejected.Status != model.StatusRejected {
		t.Errorf("stored rejection: %+v %v", rejected, err)
	}
}

var (
	queueItemRe = regexp.MustCompile(`(?s)<li class="item" id="item-([0-9a-f]+)".*?</li>`)
	datetimeRe  = regexp.MustCompile(`<time datetime="([^"]+)"`)
)

// checkQueue asserts /queue lists every queued item newest first, each
// with headline link, publisher, byline, time, lead, approve and reject
// buttons and an edit form for headline, excerpt and section.
func checkQueue(t *testing.T, page string, items []*model.Item) {
	t.Helper()
	byID := map[string]*model.Item{}
	for _, it := range items {
		byID[it.ID] = it
	}
	entries := queueItemRe.FindAllStringSubmatch(page, -1)
	if len(entries) != len(items) {
		t.Fatalf("queue lists %d items, want %d", len(entries), len(items))
	}
	var last time.Time
	for i, e := range entries {
		id, html := e[1], e[0]
		it := byID[id]
		if it == nil {
			t.Errorf("queue entry %d: unknown item %s", i, id)
			continue
		}
		m := datetimeRe.FindStringSubmatch(html)
		if m == nil {
			t.Errorf("%q: no time in the queue", it.Title)
			continue
		}
		when, err := time.Parse(time.RFC3339, m[1])
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && when.After(last) {
			t.Errorf("queue not newest first: %q (%s) after an item of %s", it.Title, when, last)
		}
		last = when
		firstPara, _, _ := strings.Cut(it.Lead, "\n\n")
		for _, want := range []string{
			`href="` + it.LinkURL() + `"`, ">" + htmlEscape(it.Title) + "</a>",
			`<span class="publisher">` + htmlEscape(it.SiteName) + `</span>`,
			`<span class="byline">` + htmlEscape(it.Byline) + `</span>`,
			`<p class="lead">` + htmlEscape(firstPara),
			`action="/items/` + id + `/approve"`, `action="/items/` + id + `/reject"`, `action="/items/` + id + `/edit"`,
			`name="title"`, `name="lead"`, `name="section"`,
		} {
			if !strings.Contains(html, want) {
				t.Errorf("queue entry for %q lacks %s", it.Title, want)
			}
		}
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func keys(m map[string]*model.Item) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func newClient(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func getBody(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfToken(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(getBody(t, c, u))
	if m == nil {
		t.Fatalf("no CSRF token on %s", u)
	}
	return m[1]
}
