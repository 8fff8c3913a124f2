package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// addApproved stores an approved story.
func (h *harness) addApproved(slug, title, lead, section string) *model.Item {
	h.t.Helper()
	it := model.NewItem(model.Extraction{URL: "https://news.example/" + slug, Title: title, Lead: lead, SiteName: "Example News",
		Byline: "Ann Lee", Published: time.Now().Add(-time.Hour).UTC().Truncate(time.Second)}, "Example", section, time.Now().UTC())
	if _, err := h.store.AddItem(context.Background(), it); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.server.desk.Approve(context.Background(), it.ID, "cur"); err != nil {
		h.t.Fatal(err)
	}
	return it
}

// nextOrder lists the story IDs of the next-edition preview in page order.
var nextRowRe = regexp.MustCompile(`<li class="next-item[^"]*" id="n-([0-9a-f]+)"`)

func (h *harness) nextOrder(c *http.Client) []string {
	h.t.Helper()
	code, body, _ := h.getWith(c, "/editions/next")
	if code != 200 {
		h.t.Fatalf("/editions/next: %d", code)
	}
	var ids []string
	for _, m := range nextRowRe.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// TestEditionLifecycleOverHTTP: the preview, its arrangement forms, publish
// now, the edition as "/" and at its own address, items approved later
// waiting for the next edition, and a correction shown as "Updated".
func TestEditionLifecycleOverHTTP(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Settings.Timezone = "UTC"; c.Settings.BaseURL = "https://desk.example" })
	a := h.addApproved("a", "Flood warning for river towns", "The river will crest tonight.\n\nResidents should move cars.", "Top stories")
	b := h.addApproved("b", "Bridge closed after flood damage", "Engineers found cracks.", "Top stories")
	c := h.addApproved("c", "Ransomware hits county payroll", "Staff were paid late.", "Cyber")
	anon := h.newClient()

	// Before the first edition: the approved stories, with a note.
	_, body, _ := h.getWith(anon, "/")
	if !strings.Contains(body, "No edition has been published yet") || !strings.Contains(body, a.Title) {
		t.Fatalf("front page before any edition:\n%s", body)
	}
	// The preview is the curators'.
	if code, _, _ := h.getWith(anon, "/editions/next"); code != http.StatusFound {
		t.Errorf("anonymous preview: %d", code)
	}
	if code, _, _ := h.getWith(h.as(model.RoleReader), "/editions/next"); code != http.StatusForbidden {
		t.Errorf("reader preview: %d", code)
	}
	if got := h.nextOrder(h.client); strings.Join(got, ",") != strings.Join([]string{b.ID, a.ID, c.ID}, ",") &&
		strings.Join(got, ",") != strings.Join([]string{a.ID, b.ID, c.ID}, ",") {
		t.Fatalf("preview order %v", got)
	}
	first := h.nextOrder(h.client)[0]
	second := h.nextOrder(h.client)[1]
	token := h.csrf()
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		form.Set("csrf_token", token)
		return h.post(path, form, nil)
	}
	if code, _ := h.post("/editions/next/move", url.Values{"item": {first}, "dir": {"down"}}, nil); code != http.StatusForbidden {
		t.Errorf("move without a CSRF token: %d", code)
	}
	code, _ := post("/editions/next/move", url.Values{"item": {first}, "dir": {"down"}})
	if got := h.nextOrder(h.client); code != http.StatusSeeOther || got[0] != second || got[1] != first {
		t.Fatalf("move down: %d, order %v", code, got)
	}
	if code, _ := post("/editions/next/section", url.Values{"item": {c.ID}, "section": {"Top stories"}}); code != http.StatusSeeOther {
		t.Errorf("move to section: %d", code)
	}
	if code, body := post("/editions/next/section", url.Values{"item": {c.ID}, "section": {"Sports"}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, "unknown section") {
		t.Errorf("move to an unknown section: %d", code)
	}
	if code, _ := post("/editions/next/pin", url.Values{"item": {c.ID}}); code != http.StatusSeeOther {
		t.Errorf("pin: %d", code)
	}
	if got := h.nextOrder(h.client); got[0] != c.ID || len(got) != 3 {
		t.Fatalf("pinned lead not first: %v", got)
	}
	if code, _ := post("/editions/next/move", url.Values{"item": {"no-such"}, "dir": {"up"}}); code != http.StatusNotFound {
		t.Errorf("move a story not in the edition: %d", code)
	}

	// Publish now.
	reader := h.as(model.RoleReader)
	if code, _ := h.postWith(reader, "/editions/next/publish", url.Values{"csrf_token": {h.csrfOf(reader, "/account")}}, nil); code != http.StatusForbidden {
		t.Errorf("reader publishes: %d", code)
	}
	res, err := h.client.Do(func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/editions/next/publish", strings.NewReader(url.Values{"csrf_token": {token}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	id := strings.TrimPrefix(loc, "/editions/")
	if res.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^\d{4}-\d\d-\d\d-(morning|afternoon|evening|night)$`).MatchString(id) {
		t.Fatalf("publish: %d to %q", res.StatusCode, loc)
	}
	if code, body := post("/editions/next/publish", url.Values{}); code != http.StatusConflict || !strings.Contains(body, "nothing new to publish") {
		t.Errorf("publish again with nothing new: %d", code)
	}

	// "/" is the edition now, for everyone, kept as bytes.
	rc := rawClient(anon)
	rendersBefore := h.server.renders.renders.Load()
	code, hdr, page := h.fetchRaw(rc, http.MethodGet, "/", nil)
	if code != 200 || hdr.Get("Cache-Control") != publishedCacheControl || hdr.Get("ETag") == "" || hdr.Get("Last-Modified") == "" || hdr.Get("Set-Cookie") != "" {
		t.Fatalf("front page: %d %v", code, hdr)
	}
	body = string(page)
	for _, want := range []string{"Latest edition", `href="/editions/` + id + `"`, c.Title, `href="/items/` + a.ID + `"`,
		`href="https://news.example/a" rel="noopener noreferrer">Full story`, "Example News", "Ann Lee", "Residents should move cars.",
		`<link rel="alternate" type="application/rss+xml"`, `href="/feed.rss?edition=` + id + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("front page lacks %q", want)
		}
	}
	if strings.Index(body, c.Title) > strings.Index(body, a.Title) {
		t.Error("the pinned lead is not first")
	}
	if strings.Contains(body, "No edition has been published yet") || strings.Contains(body, "Correct") {
		t.Error("front page shows the fallback note or curators' links to a visitor")
	}
	for range 5 {
		h.fetchRaw(rc, http.MethodGet, "/", nil)
	}
	if code, _, b := h.fetchRaw(rc, http.MethodGet, "/", map[string]string{"If-None-Match": hdr.Get("ETag")}); code != 304 || len(b) != 0 {
		t.Errorf("revalidation: %d with %d bytes", code, len(b))
	}
	if code, _, _ := h.fetchRaw(rc, http.MethodGet, "/", map[string]string{"If-Modified-Since": hdr.Get("Last-Modified")}); code != 304 {
		t.Errorf("If-Modified-Since: %d", code)
	}
	if code, hh, b := h.fetchRaw(rc, http.MethodHead, "/", nil); code != 200 || len(b) != 0 || hh.Get("Content-Length") != fmt.Sprint(len(page)) || hh.Get("ETag") != hdr.Get("ETag") {
		t.Errorf("HEAD /: %d, %d bytes, Content-Length %s (GET sent %d), ETag %s", code, len(b), hh.Get("Content-Length"), len(page), hh.Get("ETag"))
	}
	_, br, brBody := h.fetchRaw(rc, http.MethodGet, "/", map[string]string{"Accept-Encoding": "br"})
	if br.Get("Content-Encoding") != "br" || string(decodeBody(t, "br", brBody)) != body {
		t.Errorf("brotli copy: %q, same bytes %v", br.Get("Content-Encoding"), string(decodeBody(t, "br", brBody)) == body)
	}
	if n := h.server.renders.renders.Load() - rendersBefore; n != 1 {
		t.Errorf("the front page was rendered %d times for 9 requests, want once", n)
	}
	// Curators get the same content in their own layout, with correction links.
	_, cur, curHdr := h.get("/")
	if !strings.Contains(cur, "/editions/"+id+"/correct?item="+a.ID) || !strings.Contains(cur, `action="/logout"`) || curHdr.Get("Cache-Control") != "private, no-cache" {
		t.Errorf("curator's front page: no correction links or sign-out, Cache-Control %q", curHdr.Get("Cache-Control"))
	}
	if code, ed, _ := h.getWith(anon, "/editions/"+id); code != 200 || !strings.Contains(ed, a.Title) {
		t.Errorf("edition page: %d", code)
	}
	if code, _, _ := h.getWith(anon, "/editions/1999-01-01-morning"); code != 404 {
		t.Errorf("missing edition: %d", code)
	}

	// Approved after publishing: not in this edition, waiting for the next.
	d := h.addApproved("d", "Heat advisory issued for the weekend", "Temperatures near 40 degrees.", "Top stories")
	if code, _, _ := h.fetchRaw(rc, http.MethodGet, "/", map[string]string{"If-None-Match": hdr.Get("ETag")}); code != 304 {
		t.Errorf("the edition changed when a story was approved: %d", code)
	}
	if got := h.nextOrder(h.client); len(got) != 1 || got[0] != d.ID {
		t.Errorf("next edition after publishing: %v, want only %s", got, d.ID)
	}
	if code, _, _ := h.getWith(anon, "/items/"+d.ID); code != 404 {
		t.Errorf("page of an unpublished story: %d", code)
	}

	// A correction: recorded, visible, and the kept pages are made again.
	if code, _, _ := h.getWith(h.as(model.RoleReader), "/editions/"+id+"/correct?item="+a.ID); code != http.StatusForbidden {
		t.Errorf("reader's correction form: %d", code)
	}
	if code, form, _ := h.get("/editions/" + id + "/correct?item=" + a.ID); code != 200 || !strings.Contains(form, a.Title) {
		t.Fatalf("correction form: %d", code)
	}
	if code, _ := post("/editions/"+id+"/correct", url.Values{"item": {a.ID}, "title": {"  "}}); code != http.StatusUnprocessableEntity {
		t.Errorf("empty headline correction: %d", code)
	}
	h.clock.Add(2 * time.Second)
	if code, _ := post("/editions/"+id+"/correct", url.Values{"item": {a.ID}, "title": {"Flood warning for river towns lifted"}, "lead": {a.Lead}, "note": {"the warning was lifted"}}); code != http.StatusSeeOther {
		t.Fatalf("correction: %d", code)
	}
	code, hdr2, page := h.fetchRaw(rc, http.MethodGet, "/", map[string]string{"If-None-Match": hdr.Get("ETag")})
	fixedAt := h.clock.Now().UTC().Format("15:04")
	if code != 200 || !strings.Contains(string(page), "Updated <time") || !strings.Contains(string(page), fixedAt+"</time>: Headline corrected: the warning was lifted") ||
		!strings.Contains(string(page), "Flood warning for river towns lifted") || hdr2.Get("ETag") == hdr.Get("ETag") {
		t.Errorf("front page after the correction: %d\n%s", code, page)
	}
	if events, _ := h.store.ListAudit(context.Background(), store.AuditFilter{Action: "edition."}); len(events) != 2 {
		t.Errorf("audit: %d edition events, want publish and correct", len(events))
	}

	// The archive lists the edition by date and finds published stories.
	_, arch, _ := h.getWith(anon, "/editions")
	if !strings.Contains(arch, `href="/editions/`+id+`"`) || !strings.Contains(arch, "1 correction") {
		t.Errorf("archive:\n%s", arch)
	}
	_, hits, _ := h.getWith(anon, "/editions?q=ransomware")
	if !strings.Contains(hits, `href="/items/`+c.ID+`"`) {
		t.Errorf("search does not find the published story:\n%s", hits)
	}
	if _, none, _ := h.getWith(anon, "/editions?q=heat+advisory"); strings.Contains(none, d.ID) {
		t.Error("search shows a story that is not published yet")
	}
}

// TestItemPage: a published story's page carries the post's parts, its
// correction, related stories and the tags link previews use.
func TestItemPage(t *testing.T) {
	for _, canonical := range []string{"self", "original"} {
		t.Run(canonical, func(t *testing.T) {
			h := newHarness(t, func(c *Config) {
				c.Settings.BaseURL = "https://desk.example"
				c.Settings.Briefing.Canonical = canonical
			})
			a := h.addApproved("flood-1", "River flood forces evacuations in Riverton", strings.Repeat("Water rose overnight in Riverton. ", 12), "Top stories")
			var related []*model.Item
			for i, title := range []string{"Riverton flood: shelters open", "Flood defences tested in Riverton", "Dam inspection after river flood", "Storm season outlook"} {
				related = append(related, h.addApproved(fmt.Sprint("r", i), title, "More.", "Top stories"))
			}
			other := h.addApproved("cyber", "Phishing wave targets payroll", "Fake payslips.", "Cyber")
			if _, err := h.server.press.Publish(context.Background(), "cur"); err != nil {
				t.Fatal(err)
			}
			code, body, hdr := h.getWith(h.newClient(), "/items/"+a.ID)
			if code != 200 || hdr.Get("Cache-Control") != publishedCacheControl {
				t.Fatalf("item page: %d %q", code, hdr.Get("Cache-Control"))
			}
			wantCanonical := "https://desk.example/items/" + a.ID
			if canonical == "original" {
				wantCanonical = "https://news.example/flood-1"
			}
			for _, want := range []string{
				`<link rel="canonical" href="` + wantCanonical + `">`,
				`<meta property="og:type" content="article">`,
				`<meta property="og:title" content="River flood forces evacuations in Riverton">`,
				`<meta property="og:url" content="https://desk.example/items/` + a.ID + `">`,
				`<meta name="twitter:card" content="summary">`,
				`<meta property="og:description" content="Water rose overnight in Riverton.`,
				`<p class="publisher">Example News</p>`, "<h1>River flood forces evacuations in Riverton</h1>", "Ann Lee",
				`href="https://news.example/flood-1" rel="noopener noreferrer">Full story`,
				`<h2 id="related-heading">Related</h2>`,
				`<link rel="alternate" type="application/rss+xml" title="Clipsheet briefing: Top stories (RSS)" href="/feed.rss?section=top-stories">`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("item page lacks %s", want)
				}
			}
			if m := regexp.MustCompile(`og:description" content="([^"]*)"`).FindStringSubmatch(body); m == nil || len([]rune(m[1])) > 201 {
				t.Errorf("og:description too long or missing: %v", m)
			}
			rel := body[strings.Index(body, "related-heading"):]
			n := strings.Count(rel, `<li><a href="/items/`)
			if n < 3 || n > 5 || !strings.Contains(rel, related[0].ID) || !strings.Contains(rel, related[1].ID) {
				t.Errorf("%d related stories, want 3-5 with the two Riverton ones:\n%s", n, rel)
			}
			if i := strings.Index(rel, related[3].ID); i >= 0 && i < strings.Index(rel, related[0].ID) {
				t.Error("a story sharing only the section ranks above one sharing words")
			}
			if strings.Contains(rel, other.ID) {
				t.Error("an unrelated story of another section is listed as related")
			}
			if code, _, _ := h.getWith(h.newClient(), "/items/"+strings.Repeat("0", 32)); code != 404 {
				t.Errorf("unknown item: %d", code)
			}
		})
	}
}

// TestFeedsParseBack: RSS 2.0, Atom and JSON Feed of the whole briefing,
// a section and an edition parse with gofeed, carry the formats' required
// elements, and link each story to the original and to its page.
func TestFeedsParseBack(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Settings.BaseURL = "https://desk.example" })
	a := h.addApproved("a", "Flood warning for river towns", "The river will crest tonight.", "Top stories")
	c := h.addApproved("c", "Ransomware hits county payroll", "Staff were paid late.", "Cyber")
	anon := rawClient(h.newClient())
	parse := func(path string) (*gofeed.Feed, string) {
		t.Helper()
		code, hdr, body := h.fetchRaw(anon, http.MethodGet, path, nil)
		if code != 200 {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		f, err := gofeed.NewParser().ParseString(string(body))
		if err != nil {
			t.Fatalf("%s does not parse: %v\n%s", path, err, body)
		}
		return f, hdr.Get("Cache-Control")
	}
	// Before any edition: the approved stories, linked to the originals.
	f, _ := parse("/feed.rss")
	if f.FeedType != "rss" || f.FeedVersion != "2.0" || len(f.Items) != 2 || f.Items[0].Link == "" {
		t.Fatalf("RSS before editions: %s %s, %d items", f.FeedType, f.FeedVersion, len(f.Items))
	}
	if _, err := h.server.press.Publish(context.Background(), "cur"); err != nil {
		t.Fatal(err)
	}
	e, err := h.store.LatestEdition(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	later := h.addApproved("later", "Approved after the edition", "Waits.", "Cyber")
	for _, q := range []struct {
		query string
		want  []*model.Item
	}{{"", []*model.Item{a, c}}, {"?section=cyber", []*model.Item{c}}, {"?edition=" + e.ID, []*model.Item{a, c}}, {"?section=Top+stories&edition=" + e.ID, []*model.Item{a}}} {
		for _, path := range []string{"/feed.rss", "/feed.atom", "/feed.json"} {
			what := path + q.query
			f, cc := parse(what)
			if cc != publishedCacheControl {
				t.Errorf("%s: Cache-Control %q", what, cc)
			}
			if f.Title == "" || f.Link == "" || len(f.Items) != len(q.want) {
				t.Errorf("%s: title %q link %q, %d items, want %d", what, f.Title, f.Link, len(f.Items), len(q.want))
				continue
			}
			switch path {
			case "/feed.rss":
				// RSS 2.0: channel title, link and description; each item a
				// title or description; guid a permalink to the item page.
				if f.FeedVersion != "2.0" || f.Description == "" {
					t.Errorf("%s: version %q, description %q", what, f.FeedVersion, f.Description)
				}
			case "/feed.atom":
				// Atom: feed id, title, updated; entry id, title, updated.
				if f.FeedType != "atom" || f.UpdatedParsed == nil {
					t.Errorf("%s: %s, updated %v", what, f.FeedType, f.UpdatedParsed)
				}
			case "/feed.json":
				if f.FeedType != "json" || !strings.HasSuffix(f.FeedVersion, "1.1") {
					t.Errorf("%s: %s %s", what, f.FeedType, f.FeedVersion)
				}
			}
			for i, it := range f.Items {
				want := q.want[i]
				page := "https://desk.example/items/" + want.ID
				if it.Title != want.Title || it.Description == "" && it.Content == "" {
					t.Errorf("%s item %d: title %q", what, i, it.Title)
				}
				if it.GUID == "" {
					t.Errorf("%s item %d: no id/guid", what, i)
				}
				links := strings.Join(append([]string{it.Link}, it.Links...), " ") + " " + it.Content + " " + it.Description
				if !strings.Contains(links, "https://news.example/") || !strings.Contains(links, page) {
					t.Errorf("%s item %d does not link both the original and %s: %s", what, i, page, links)
				}
				if path == "/feed.rss" && it.GUID != page {
					t.Errorf("%s item %d: guid %q, want the item page", what, i, it.GUID)
				}
				if strings.Contains(links, later.ID) {
					t.Errorf("%s carries a story not yet published", what)
				}
			}
		}
	}
	// Kept as bytes: asking again renders nothing.
	before := h.server.renders.renders.Load()
	for range 3 {
		parse("/feed.rss?section=cyber")
	}
	if n := h.server.renders.renders.Load() - before; n != 0 {
		t.Errorf("a kept feed was rendered %d more times", n)
	}
	for _, bad := range []string{"/feed.rss?section=sports", "/feed.atom?edition=1999-01-01-morning"} {
		if code, _, _ := h.fetchRaw(anon, http.MethodGet, bad, nil); code != 404 {
			t.Errorf("%s: %d, want 404", bad, code)
		}
	}
	// Every page made from editions names its feeds.
	for _, p := range []string{"/", "/editions", "/editions/" + e.ID, "/items/" + a.ID} {
		_, _, body := h.fetchRaw(anon, http.MethodGet, p, nil)
		for _, typ := range []string{"application/rss+xml", "application/atom+xml", "application/feed+json"} {
			if !strings.Contains(string(body), `<link rel="alternate" type="`+typ+`"`) {
				t.Errorf("%s has no alternate link of type %s", p, typ)
			}
		}
	}
}

// TestPrivateFeedsCarryTheirToken: on a private briefing the RSS feed
// needs a feed token and its self link carries it; it is not kept for
// others.
func TestPrivateFeedsCarryTheirToken(t *testing.T) {
	h := newHarness(t, privateBriefing)
	h.addApproved("a", "Flood warning", "Crest tonight.", "Top stories")
	h.server.press.Publish(context.Background(), "cur")
	if code, _, _ := h.fetchRaw(rawClient(nil), http.MethodGet, "/feed.rss", nil); code != http.StatusUnauthorized {
		t.Errorf("private RSS without a token: %d", code)
	}
	rdr, _ := h.store.GetUser(context.Background(), testUsers[model.RoleReader])
	tok, _ := h.server.Auth().FeedToken(context.Background(), rdr)
	code, hdr, body := h.fetchRaw(rawClient(nil), http.MethodGet, "/feed.rss?token="+url.QueryEscape(tok), nil)
	if code != 200 || hdr.Get("Cache-Control") != "private, no-cache" || !strings.Contains(string(body), `rel="self"`) || !strings.Contains(string(body), url.QueryEscape(tok)) {
		t.Errorf("private RSS: %d %q\n%s", code, hdr.Get("Cache-Control"), body)
	}
}

// TestEditionsAPI: list, publish and get over the API, with roles; the
// harness checks every answer against docs/openapi.yaml.
func TestEditionsAPI(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Settings.BaseURL = "https://desk.example" })
	cur, rdr := h.token(model.RoleCurator), h.token(model.RoleReader)
	if code, body := h.apiCall("", http.MethodGet, "/api/v1/editions", ""); code != 200 || len(body["editions"].([]any)) != 0 {
		t.Fatalf("no editions: %d %v", code, body)
	}
	if code, body := h.apiCall(cur, http.MethodPost, "/api/v1/editions", ""); code != http.StatusConflict || apiErrCode(body) != "nothing_to_publish" {
		t.Errorf("publish nothing: %d %v", code, body)
	}
	a := h.addApproved("a", "Flood warning", "Crest tonight.", "Top stories")
	if code, body := h.apiCall(rdr, http.MethodPost, "/api/v1/editions", ""); code != http.StatusForbidden {
		t.Errorf("reader publishes: %d %v", code, body)
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/api/v1/editions", nil)
	req.Header.Set("Authorization", "Bearer "+cur)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusCreated || !strings.HasPrefix(loc, "/api/v1/editions/") {
		t.Fatalf("publish: %d Location %q", res.StatusCode, loc)
	}
	id := strings.TrimPrefix(loc, "/api/v1/editions/")
	code, body := h.apiCall(rdr, http.MethodGet, loc, "")
	if code != 200 || body["id"] != id || body["url"] != "https://desk.example/editions/"+id {
		t.Fatalf("get edition: %d %v", code, body)
	}
	items := body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["page"] != "https://desk.example/items/"+a.ID || items[0].(map[string]any)["url"] != "https://news.example/a" {
		t.Errorf("edition items: %v", items)
	}
	if code, body := h.apiCall("", http.MethodGet, "/api/v1/editions?limit=1", ""); code != 200 || len(body["editions"].([]any)) != 1 {
		t.Errorf("list: %d %v", code, body)
	}
	if code, _ := h.apiCall("", http.MethodGet, "/api/v1/editions?limit=500", ""); code != 400 {
		t.Errorf("limit 500: %d", code)
	}
	if code, _ := h.apiCall("", http.MethodGet, "/api/v1/editions/1999-01-01-morning", ""); code != 404 {
		t.Errorf("missing edition: %d", code)
	}
}

// TestServePublishesOnSchedule: the running server publishes the edition
// the schedule owes, as "schedule", and records it in the audit log.
func TestServePublishesOnSchedule(t *testing.T) {
	var slot string
	h := newHarness(t, func(c *Config) {
		slot = c.Now().UTC().Format("15:04")
		c.Settings.Timezone = "UTC"
		c.Settings.Editions.Schedule = []string{slot}
	})
	h.addApproved("a", "Flood warning", "Crest tonight.", "Top stories")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- h.server.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	var e *model.Edition
	for e == nil && time.Now().Before(deadline) {
		e, _ = h.store.LatestEdition(context.Background())
		time.Sleep(20 * time.Millisecond)
	}
	if e == nil {
		t.Fatalf("no edition published for the %s slot", slot)
	}
	if e.PublishedBy != "schedule" || len(e.Items) != 1 {
		t.Errorf("scheduled edition: by %q, %d stories", e.PublishedBy, len(e.Items))
	}
	deadline = time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if events, _ := h.store.ListAudit(context.Background(), store.AuditFilter{Action: model.AuditEditionPublish}); len(events) == 1 && events[0].Actor == "schedule" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Error("the scheduled edition is not in the audit log")
}

// TestEditionAsText: /editions/{id}/text is the edition in plain text to
// paste elsewhere (headline, outlet, one-line lead, link per story), kept
// like the pages; the pages offer it and a copy button per story.
func TestEditionAsText(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Settings.BaseURL = "https://desk.example"; c.Settings.Timezone = "UTC" })
	a := h.addApproved("a", "Flood warning for river towns", "The river will crest tonight at <b>six</b>.\n\nSecond paragraph stays out.", "Top stories")
	c := h.addApproved("c", "Ransomware hits county payroll", strings.Repeat("Staff were paid late again. ", 20), "Cyber")
	h.server.press.Pin(context.Background(), c.ID)
	e, err := h.server.press.Publish(context.Background(), "cur")
	if err != nil {
		t.Fatal(err)
	}
	code, hdr, body := h.fetchRaw(rawClient(nil), http.MethodGet, "/editions/"+e.ID+"/text", nil)
	if code != 200 || hdr.Get("Content-Type") != "text/plain; charset=utf-8" || hdr.Get("Cache-Control") != publishedCacheControl || hdr.Get("ETag") == "" {
		t.Fatalf("text: %d %v", code, hdr)
	}
	text := string(body)
	want := "LEAD STORY\n\nRansomware hits county payroll\nExample News · Ann Lee\n"
	if !strings.Contains(text, want) {
		t.Errorf("text lacks the lead story block %q:\n%s", want, text)
	}
	want = "\nTOP STORIES\n\nFlood warning for river towns\nExample News · Ann Lee\nThe river will crest tonight at six.\nhttps://news.example/a\n"
	if !strings.Contains(text, want) {
		t.Errorf("text lacks %q:\n%s", want, text)
	}
	if strings.Contains(text, "Second paragraph") || strings.Contains(text, "<b>") {
		t.Errorf("the lead is not one plain line:\n%s", text)
	}
	for _, line := range strings.Split(text, "\n") {
		if len([]rune(line)) > 210 && !strings.HasPrefix(line, "http") {
			t.Errorf("line of %d characters: %q", len([]rune(line)), line)
		}
	}
	if !strings.HasPrefix(text, "Clipsheet briefing — "+h.server.editionTitle(e)+"\n") || !strings.Contains(text, "https://desk.example/editions/"+e.ID) {
		t.Errorf("text heading:\n%s", text[:200])
	}
	if code, _, _ := h.fetchRaw(rawClient(nil), http.MethodGet, "/editions/1999-01-01-morning/text", nil); code != 404 {
		t.Errorf("missing edition as text: %d", code)
	}
	_, page, _ := h.getWith(h.newClient(), "/editions/"+e.ID)
	for _, want := range []string{`<a href="/editions/` + e.ID + `/text">Edition as text</a>`, `data-copy-from="/editions/` + e.ID + `/text" hidden`,
		`data-copy="https://desk.example/items/` + a.ID + `" hidden>Copy link`} {
		if !strings.Contains(page, want) {
			t.Errorf("edition page lacks %s", want)
		}
	}
}
