package web

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/sourcesfile"
	"github.com/clipsheet/clipsheet/internal/store"
)

// editForm is the edit form of Krebs on Security as loaded, with changes.
func editForm(csrf, version string, kv ...string) url.Values {
	f := url.Values{"csrf_token": {csrf}, "version": {version}, "action": {"save"}, "old_name": {"Krebs on Security"},
		"name": {"Krebs on Security"}, "url": {"https://krebsonsecurity.com/feed/"}, "type": {"feed"}, "section": {"Cyber"},
		"interval": {"2h"}, "enabled": {"true"}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// TestEditSourceFormRejectsBadInput: every rule of `clipsheet sources
// validate` refuses an edit with the message beside its field, keeps what
// was typed and leaves the file alone; a good edit of the same form then
// saves.
func TestEditSourceFormRejectsBadInput(t *testing.T) {
	e := newSourcesEnv(t)
	before := e.fileText()
	path := "/admin/sources/edit?name=" + url.QueryEscape("Krebs on Security")
	_, csrf, version := e.page(path)
	for _, c := range []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"empty name", editForm(csrf, version, "name", ""), "err-name", "name is required"},
		{"relative url", editForm(csrf, version, "url", "/feed/"), "err-url", "must be an absolute http or https URL"},
		{"url of another source", editForm(csrf, version, "url", "https://www.cisa.gov/news.xml"), "err-url", "already polled as &#34;CISA — News&#34;"},
		{"unknown type", editForm(csrf, version, "type", "scrape"), "err-type", "unknown type &#34;scrape&#34;"},
		{"links on a feed", editForm(csrf, version, "links", "h2 a"), "err-links", "links is only for type: page"},
		{"bad links selector", editForm(csrf, version, "type", "page", "links", "h2 >> a"), "err-links", "invalid CSS selector"},
		{"unknown section", editForm(csrf, version, "section", "Sport"), "err-section", "unknown section &#34;Sport&#34;"},
		{"unparsable interval", editForm(csrf, version, "interval", "every hour"), "err-interval", "invalid duration &#34;every hour&#34;"},
		{"interval below minimum", editForm(csrf, version, "interval", "30s"), "err-interval", "below the minimum of 1m"},
		{"bad exclude pattern", editForm(csrf, version, "exclude", "/video/\n[unclosed"), "err-exclude", "exclude pattern &#34;[unclosed&#34;"},
		{"bad remove selector", editForm(csrf, version, "extract_remove", ".ad\n<<"), "err-extract", "extract remove: invalid CSS selector"},
	} {
		code, body, _ := e.postAdmin(path, c.form)
		if code != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", c.name, code)
			continue
		}
		i := strings.Index(body, `id="`+c.field+`"`)
		if i < 0 || !strings.Contains(body[i:min(len(body), i+300)], c.want) {
			t.Errorf("%s: no %q beside the field (%s)", c.name, c.want, c.field)
		}
		if !strings.Contains(body, `name="url" value="`+c.form.Get("url")+`"`) || !strings.Contains(body, `name="interval" value="`+c.form.Get("interval")+`"`) {
			t.Errorf("%s: typed values not kept", c.name)
		}
	}
	if e.fileText() != before {
		t.Fatal("refused edits changed the file")
	}
	if got := e.auditActions(); len(got) != 0 {
		t.Errorf("refused edits audited: %v", got)
	}
	if code, _, _ := e.postAdmin(path, editForm(csrf, version, "interval", "3h", "exclude", "/video/")); code != http.StatusSeeOther {
		t.Fatalf("good edit: %d", code)
	}
	if !strings.Contains(e.fileText(), "    section: Cyber\n    interval: 3h\n    exclude: [/video/]\n") {
		t.Errorf("good edit not written:\n%s", e.fileText())
	}
	// An edit of a source deleted meanwhile is a 404, not a re-creation.
	_, csrf, version = e.page(path)
	if err := os.WriteFile(e.path, []byte(strings.Replace(e.fileText(), "name: Krebs on Security", "name: Krebs (renamed by hand)", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.live.Reload(); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := e.postAdmin(path, editForm(csrf, version)); code != http.StatusNotFound {
		t.Errorf("edit of a vanished source: %d, want 404", code)
	}
}

// TestSectionsFormsRejectBadInput: unknown actions, empty and clashing
// names and stale pages are refused with a message and change nothing.
func TestSectionsFormsRejectBadInput(t *testing.T) {
	e := newSourcesEnv(t)
	before := e.fileText()
	_, csrf, version := e.page("/admin/sources/sections")
	for _, c := range []struct {
		name string
		form url.Values
		code int
		want string
	}{
		{"unknown action", url.Values{"action": {"explode"}, "name": {"Cyber"}}, http.StatusBadRequest, "Unknown action"},
		{"rename to nothing", url.Values{"action": {"rename"}, "name": {"Cyber"}, "new_name": {" "}}, http.StatusUnprocessableEntity, "Enter a section name"},
		{"rename missing", url.Values{"action": {"rename"}, "name": {"Sport"}, "new_name": {"Sports"}}, http.StatusNotFound, "not found"},
		{"move missing", url.Values{"action": {"up"}, "name": {"Sport"}}, http.StatusNotFound, "not found"},
		{"stale page", url.Values{"action": {"add"}, "new_name": {"Elections"}, "version": {sourcesfile.Hash([]byte("old"))}}, http.StatusConflict, "changed since this page was loaded"},
	} {
		c.form.Set("csrf_token", csrf)
		if c.form.Get("version") == "" {
			c.form.Set("version", version)
		}
		code, body, _ := e.postAdmin("/admin/sources/sections", c.form)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d, want %d with %q", c.name, code, c.code, c.want)
		}
	}
	if e.fileText() != before {
		t.Fatal("refused section changes changed the file")
	}
	// Renaming to the same name writes and records nothing.
	if code, _, _ := e.postAdmin("/admin/sources/sections", url.Values{"csrf_token": {csrf}, "version": {version}, "action": {"rename"}, "name": {"Cyber"}, "new_name": {"Cyber"}}); code != http.StatusSeeOther {
		t.Errorf("same-name rename: %d", code)
	}
	if evs, _ := e.store.ListAudit(context.Background(), store.AuditFilter{Action: "section."}); len(evs) != 0 || e.fileText() != before {
		t.Errorf("same-name rename wrote or audited: %v", evs)
	}
}

// TestImportFormsRejectBadInput: no file, and a confirmation with nothing
// ticked, are refused without writing.
func TestImportFormsRejectBadInput(t *testing.T) {
	e := newSourcesEnv(t)
	before := e.fileText()
	_, csrf, _ := e.page("/admin/sources/import")
	version := sourcesfile.Hash([]byte(before))
	if code, body, _ := e.postAdmin("/admin/sources/import", url.Values{"csrf_token": {csrf}}); code != http.StatusBadRequest || !strings.Contains(body, "Choose an OPML file") {
		t.Errorf("no file: %d", code)
	}
	form := url.Values{"csrf_token": {csrf}, "version": {version}, "url": {"https://x.example/feed"}, "name": {"X"}, "section": {""}}
	if code, body, _ := e.postAdmin("/admin/sources/import/confirm", form); code != http.StatusUnprocessableEntity || !strings.Contains(body, "No feed was ticked") {
		t.Errorf("nothing ticked: %d", code)
	}
	// A ticked row that is already a source adds nothing.
	form.Set("url", "https://krebsonsecurity.com/feed")
	form.Set("pick", "0")
	if code, body, _ := e.postAdmin("/admin/sources/import/confirm", form); code != http.StatusUnprocessableEntity || !strings.Contains(body, "Nothing new to import") {
		t.Errorf("only duplicates: %d", code)
	}
	if e.fileText() != before {
		t.Fatal("refused imports changed the file")
	}
}

// TestConcurrentUIEditsAndHandEdit: several admins open the add form, the
// file is edited by hand, and all of them save at once. Every save is
// refused (the hand edit stays); saving again from the page each got back
// lets exactly one through, the others are refused again, and the file
// holds the hand edit and the one accepted source. Nothing a caller was
// told is saved is missing.
func TestConcurrentUIEditsAndHandEdit(t *testing.T) {
	e := newSourcesEnv(t)
	_, csrf, version := e.page("/admin/sources/new")
	hand := strings.Replace(e.fileText(), "name: WHO — News", "name: WHO — Newsroom", 1)
	if err := os.WriteFile(e.path, []byte(hand), 0o644); err != nil {
		t.Fatal(err)
	}
	const n = 8
	saveAll := func(version string) (codes []int, versions []string) {
		codes, versions = make([]int, n), make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("Wire %d", i)
				code, body, _ := e.postAdmin("/admin/sources/new", newSourceForm(csrf, version, "name", name, "url", "https://wire.example/"+fmt.Sprint(i)+".xml"))
				codes[i] = code
				if m := versionRe.FindStringSubmatch(body); m != nil {
					versions[i] = m[1]
				}
			}()
		}
		wg.Wait()
		return codes, versions
	}
	codes, versions := saveAll(version)
	for i, c := range codes {
		if c != http.StatusConflict {
			t.Fatalf("save %d after the hand edit: %d, want 409", i, c)
		}
		if versions[i] != sourcesfile.Hash([]byte(hand)) {
			t.Fatalf("conflict page %d does not carry the current version", i)
		}
	}
	if e.fileText() != hand {
		t.Fatal("hand edit overwritten")
	}
	codes, _ = saveAll(versions[0])
	var won []string
	for i, c := range codes {
		switch c {
		case http.StatusSeeOther:
			won = append(won, fmt.Sprintf("Wire %d", i))
		case http.StatusConflict:
		default:
			t.Errorf("second save %d: %d", i, c)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d saves on the same version went through, want exactly 1", len(won))
	}
	final := e.fileText()
	if !strings.Contains(final, "name: WHO — Newsroom") || !strings.Contains(final, "name: "+won[0]+"\n") || strings.Count(final, "name: Wire ") != 1 {
		t.Errorf("file after the race:\n%s", final)
	}
	if got := e.auditActions(); len(got) != 1 || got[0] != "source.add "+won[0]+" by root" {
		t.Errorf("audit = %v", got)
	}
}

// TestAddByBareHostTriesPlainHTTP: "host:port" without a scheme is tried
// over HTTPS first and, when that fails, over plain HTTP.
func TestAddByBareHostTriesPlainHTTP(t *testing.T) {
	e := newSourcesEnv(t)
	site := newTestSite(t, true)
	_, csrf, _ := e.page("/admin/sources/new")
	bare := strings.TrimPrefix(site.URL("/"), "http://")
	code, body, _ := e.postAdmin("/admin/sources/new", url.Values{"csrf_token": {csrf}, "action": {"discover"}, "discover": {bare}})
	if code != http.StatusOK || !strings.Contains(body, `name="url" value="`+site.URL("/feed.xml")+`"`) || !strings.Contains(body, `name="discover" value="`+site.URL("/")+`"`) {
		t.Errorf("bare host: %d\n%s", code, body)
	}
}

// TestSourcesAPIHealth: the API list carries each source's health as the
// sources page shows it.
func TestSourcesAPIHealth(t *testing.T) {
	e := newSourcesEnv(t)
	ctx := context.Background()
	now := e.clock.Now()
	for i := range 5 {
		at := now.Add(-time.Hour - time.Duration(i)*2*time.Hour)
		it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://krebsonsecurity.com/%d/", i), Title: "t"}, "Krebs on Security", "Cyber", at)
		if _, err := e.store.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.store.PutSourceState(ctx, &model.SourceState{Name: "Krebs on Security", LastAttempt: now.Add(-time.Hour), LastSuccess: now.Add(-time.Hour), ItemsFound: 20}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.PutSourceState(ctx, &model.SourceState{Name: "WHO — News", LastAttempt: now, LastError: "HTTP 503", ConsecutiveFailures: 2}); err != nil {
		t.Fatal(err)
	}
	code, _, body := e.apiAs(model.RoleAdmin).do("GET", "/api/v1/sources", "")
	if code != http.StatusOK {
		t.Fatalf("list: %d", code)
	}
	health := body["health"].([]any)
	if len(health) != len(body["sources"].([]any)) {
		t.Fatalf("%d health entries for %d sources", len(health), len(body["sources"].([]any)))
	}
	by := map[string]map[string]any{}
	for _, h := range health {
		m := h.(map[string]any)
		by[m["name"].(string)] = m
	}
	k := by["Krebs on Security"]
	if k["health"] != "ok" || k["items_24h"] != float64(5) || k["items_7d"] != float64(5) || k["usual_gap"] != "2h" || k["interval"] != "2h" || k["last_success"] == "" || k["enabled"] != true {
		t.Errorf("Krebs health = %v", k)
	}
	if w := by["WHO — News"]; w["health"] != "failing" || w["last_error"] != "HTTP 503" || w["consecutive_failures"] != float64(2) {
		t.Errorf("WHO health = %v", w)
	}
	if p := by["Washington Post — World"]; p["health"] != "pending" || p["last_attempt"] != nil {
		t.Errorf("never polled = %v", p)
	}
}

// TestSectionsAPI: add, move, rename (sources and stored items follow),
// delete, with versions and the errors of the sections page.
func TestSectionsAPI(t *testing.T) {
	e := newSourcesEnv(t)
	ctx := context.Background()
	api := e.apiAs(model.RoleAdmin)
	it := model.NewItem(model.Extraction{URL: "https://krebsonsecurity.com/x/", Title: "X"}, "Krebs on Security", "Cyber", e.clock.Now())
	if _, err := e.store.AddItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := e.apiAs(model.RoleCurator).do("GET", "/api/v1/sections", ""); code != http.StatusForbidden {
		t.Errorf("curator: %d", code)
	}
	code, hdr, body := api.do("GET", "/api/v1/sections", "")
	if code != http.StatusOK || len(body["sections"].([]any)) != 5 {
		t.Fatalf("list: %d %v", code, body)
	}
	if cy := body["sections"].([]any)[3].(map[string]any); cy["name"] != "Cyber" || cy["sources"] != float64(3) {
		t.Errorf("Cyber = %v", cy)
	}
	version := strings.Trim(hdr.Get("ETag"), `"`)

	code, hdr, _ = api.do("POST", "/api/v1/sections", `{"name":"Elections","position":2}`, "If-Match", `"`+version+`"`)
	if code != http.StatusCreated || hdr.Get("Location") != "/api/v1/sections/Elections" {
		t.Fatalf("create: %d", code)
	}
	if code, _, body := api.do("POST", "/api/v1/sections", `{"name":"x"}`, "If-Match", `"`+version+`"`); code != http.StatusPreconditionFailed || errCode(body) != "stale" {
		t.Errorf("stale create: %d %v", code, body)
	}
	if code, _, body := api.do("POST", "/api/v1/sections", `{"name":"elections"}`); code != http.StatusConflict || errCode(body) != "exists" {
		t.Errorf("duplicate create: %d %v", code, body)
	}
	if code, _, _ := api.do("POST", "/api/v1/sections", `{"name":"  "}`); code != http.StatusUnprocessableEntity {
		t.Errorf("empty name: %d", code)
	}

	code, _, body = api.do("PUT", "/api/v1/sections/Cyber", `{"name":"Cyber & infrastructure","position":1}`)
	if code != http.StatusOK || body["moved_items"] != float64(1) || body["sources"] != float64(3) {
		t.Fatalf("rename: %d %v", code, body)
	}
	cur := e.live.Current()
	if got := strings.Join(cur.Sections, "|"); got != "Cyber & infrastructure|Top stories|Elections|Terrorism & security|Disasters & weather|Public health" {
		t.Errorf("sections = %s", got)
	}
	if src, _ := cur.Find("Krebs on Security"); src.Section != "Cyber & infrastructure" {
		t.Error("sources not moved")
	}
	if got, _ := e.store.GetItem(ctx, it.ID); got.Section != "Cyber & infrastructure" {
		t.Errorf("stored item still in %q", got.Section)
	}
	for _, c := range []struct {
		method, path, body string
		code               int
		errCode            string
	}{
		{"PUT", "/api/v1/sections/Nope", `{"name":"X"}`, http.StatusNotFound, "not_found"},
		{"PUT", "/api/v1/sections/Elections", `{"name":"top stories"}`, http.StatusConflict, "exists"},
		{"PUT", "/api/v1/sections/Elections", `{}`, http.StatusUnprocessableEntity, "invalid"},
		{"PUT", "/api/v1/sections/Elections", `{"position":-1}`, http.StatusUnprocessableEntity, "invalid"},
		{"DELETE", "/api/v1/sections/Top%20stories", "", http.StatusConflict, "in_use"},
		{"DELETE", "/api/v1/sections/Nope", "", http.StatusNotFound, "not_found"},
	} {
		if code, _, body := api.do(c.method, c.path, c.body); code != c.code || errCode(body) != c.errCode {
			t.Errorf("%s %s %s: %d %v, want %d %s", c.method, c.path, c.body, code, body, c.code, c.errCode)
		}
	}
	if code, _, _ := api.do("DELETE", "/api/v1/sections/Elections", ""); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
	if strings.Contains(e.fileText(), "Elections") {
		t.Error("deleted section still in the file")
	}
	evs, err := e.store.ListAudit(ctx, store.AuditFilter{Action: "section."})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Action+" "+ev.Target)
	}
	want := "section.remove Elections|section.move Cyber & infrastructure|section.rename Cyber|section.add Elections"
	if strings.Join(got, "|") != want {
		t.Errorf("audit = %s", strings.Join(got, "|"))
	}
}

// TestRunningFetcherKeepsOldListAfterInvalidHandEdit: with the watcher and
// the fetcher running as serve runs them, a hand edit that moves a source
// to another feed but breaks the file never reaches the fetcher (the new
// feed is not polled, the old list stays in force); the fixed edit does,
// and the new feed is polled.
func TestRunningFetcherKeepsOldListAfterInvalidHandEdit(t *testing.T) {
	oldSite, newSite := newTestSite(t, true), newTestSite(t, true)
	good := "sections: [Local news]\nsources:\n  - name: Harbor\n    url: " + oldSite.URL("/feed.xml") + "\n    section: Local news\n    interval: 1m\n"
	e := newSourcesEnvWith(t, []byte(good))
	ctx, cancel := context.WithCancel(context.Background())
	watching, err := e.file.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- e.fetcher.Run(ctx, e.live.Current) }()
	defer func() { cancel(); <-watching; <-ran }()
	waitUntil := func(what string, d time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitUntil("first poll", 20*time.Second, func() bool { return oldSite.feedHits.Load() > 0 })

	moved := strings.Replace(good, oldSite.URL("/feed.xml"), newSite.URL("/feed.xml"), 1)
	broken := strings.Replace(moved, "interval: 1m", "interval: 1 minute", 1)
	if err := os.WriteFile(e.path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	waitUntil("invalid edit refused", 5*time.Second, func() bool { return e.file.LastError() != nil })
	// The fetcher re-reads the list within its idle wait (5 s) and polls a
	// source whose URL changed at once; give it longer than that.
	time.Sleep(7 * time.Second)
	if n := newSite.feedHits.Load(); n != 0 {
		t.Fatalf("the refused edit reached the fetcher: new feed polled %d times", n)
	}
	if src, _ := e.live.Current().Find("Harbor"); src.URL != oldSite.URL("/feed.xml") {
		t.Fatalf("list in force has %s", src.URL)
	}
	if err := os.WriteFile(e.path, []byte(moved), 0o644); err != nil {
		t.Fatal(err)
	}
	waitUntil("fixed edit polled", 15*time.Second, func() bool { return newSite.feedHits.Load() > 0 })
}

// TestSourcesPageSortOrders: by section (file order of sections), by last
// success (oldest, never first) and by items in 7 days (most first).
func TestSourcesPageSortOrders(t *testing.T) {
	e := newSourcesEnv(t)
	ctx := context.Background()
	now := e.clock.Now()
	for i, name := range []string{"WHO — News", "Krebs on Security", "Krebs on Security"} {
		it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://example.com/%d", i), Title: "t"}, name, "", now.Add(-time.Hour))
		if _, err := e.store.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	for name, ago := range map[string]time.Duration{"WHO — News": time.Hour, "Krebs on Security": 3 * time.Hour} {
		if err := e.store.PutSourceState(ctx, &model.SourceState{Name: name, LastAttempt: now.Add(-ago), LastSuccess: now.Add(-ago), ItemsFound: 20}); err != nil {
			t.Fatal(err)
		}
	}
	order := func(sort string) []string {
		t.Helper()
		body, _, _ := e.page("/admin/sources?sort=" + sort)
		var names []string
		for _, m := range regexp.MustCompile(`data-source="([^"]+)"`).FindAllStringSubmatch(body, -1) {
			names = append(names, html.UnescapeString(m[1]))
		}
		return names
	}
	bySection := order("section")
	sections := e.live.Current().Sections
	last := -1
	for _, name := range bySection {
		src, _ := e.live.Current().Find(name)
		at := slices.Index(sections, src.Section)
		if at < last {
			t.Fatalf("sort=section: %s (%s) after a later section: %v", name, src.Section, bySection)
		}
		last = at
	}
	bySuccess := order("success")
	if i, j := slices.Index(bySuccess, "Krebs on Security"), slices.Index(bySuccess, "WHO — News"); i != len(bySuccess)-2 || j != len(bySuccess)-1 {
		t.Errorf("sort=success: never-polled first, then oldest success: %v", bySuccess)
	}
	if byItems := order("items"); byItems[0] != "Krebs on Security" || byItems[1] != "WHO — News" {
		t.Errorf("sort=items: %v", byItems)
	}
}

// TestPreviewOnEditFormUsesUnsavedOverrides: previewing an existing source
// uses the selectors as typed in the form, not those saved, and saves
// nothing.
func TestPreviewOnEditFormUsesUnsavedOverrides(t *testing.T) {
	site := newTestSite(t, true)
	e := newSourcesEnvWith(t, []byte("sections: [Local]\nsources:\n  - name: Gazette\n    url: "+site.URL("/feed.xml")+"\n    section: Local\n    extract:\n      title: header a\n"))
	before := e.fileText()
	path := "/admin/sources/edit?name=Gazette"
	_, csrf, version := e.page(path)
	form := url.Values{"csrf_token": {csrf}, "version": {version}, "action": {"preview"}, "old_name": {"Gazette"}, "name": {"Gazette"},
		"url": {site.URL("/feed.xml")}, "type": {"feed"}, "section": {"Local"}, "enabled": {"true"}, "extract_title": {"header a"}}
	_, body, _ := e.postAdmin(path, form)
	if strings.Count(body, `rel="noopener noreferrer">Harbor Gazette</a></h3>`) != 5 {
		t.Fatalf("saved override not used:\n%s", body[strings.Index(body, "id=\"preview\""):])
	}
	form.Set("extract_title", "h1.story-title")
	code, body, _ := e.postAdmin(path, form)
	if code != http.StatusOK || !strings.Contains(body, `rel="noopener noreferrer">Harbour pilots end strike after overnight talks</a></h3>`) || strings.Contains(body, `>Harbor Gazette</a></h3>`) {
		t.Errorf("typed override not used: %d", code)
	}
	if e.fileText() != before {
		t.Error("preview wrote the file")
	}
}

// TestOPMLUploadTooLarge: a file over the request limit is refused with a
// message that says so (not as a bad CSRF token), and nothing is written.
func TestOPMLUploadTooLarge(t *testing.T) {
	e := newSourcesEnv(t)
	before := e.fileText()
	_, csrf, _ := e.page("/admin/sources/import")
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><opml version="1.0"><head><title>big</title></head><body><outline text="Big">`)
	for i := 0; b.Len() <= maxBody; i++ {
		fmt.Fprintf(&b, `<outline type="rss" text="Feed %d" title="Feed %d" xmlUrl="https://feeds%d.example.com/rss.xml" htmlUrl="https://feeds%d.example.com/"/>`+"\n", i, i, i, i)
	}
	b.WriteString("</outline></body></opml>")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf_token", csrf)
	fw, _ := mw.CreateFormFile("opml", "big.opml")
	fw.Write([]byte(b.String()))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/admin/sources/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := e.admin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "larger than the 1 MB") {
		t.Errorf("big upload: %d\n%s", res.StatusCode, body)
	}
	if e.fileText() != before {
		t.Error("file changed")
	}
}

// TestAddByURLMarksFeedsAlreadyPolled: of a site's feeds, those already
// in the list are marked with the source that polls them, and the form is
// filled with the first one that is not.
func TestAddByURLMarksFeedsAlreadyPolled(t *testing.T) {
	rss := func(title string) string {
		return `<?xml version="1.0"?><rss version="2.0"><channel><title>` + title + `</title><link>https://x.example/</link>` +
			`<item><title>One</title><link>https://x.example/news/2026/03/one</link></item></channel></rss>`
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><head><title>Two Feeds Daily</title>
<link rel="alternate" type="application/rss+xml" title="Top" href="/top.xml">
<link rel="alternate" type="application/rss+xml" title="Local" href="/local.xml"></head><body>hi</body></html>`)
	})
	mux.HandleFunc("GET /top.xml", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, rss("Two Feeds — Top")) })
	mux.HandleFunc("GET /local.xml", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, rss("Two Feeds — Local")) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	e := newSourcesEnvWith(t, []byte("sections: [News]\nsources:\n  - name: Two Feeds top\n    url: "+srv.URL+"/top.xml\n    section: News\n"))
	_, csrf, _ := e.page("/admin/sources/new")
	code, body, _ := e.postAdmin("/admin/sources/new", url.Values{"csrf_token": {csrf}, "action": {"discover"}, "discover": {srv.URL + "/"}})
	if code != http.StatusOK {
		t.Fatalf("discover: %d", code)
	}
	if !strings.Contains(body, `name="url" value="`+srv.URL+`/local.xml"`) || !strings.Contains(body, `name="name" value="Two Feeds — Local"`) {
		t.Errorf("form not filled with the feed not yet polled:\n%s", body)
	}
	if strings.Count(body, `class="polled"`) != 1 || !strings.Contains(body, `already polled as <a href="/admin/sources/edit?name=Two%20Feeds%20top">Two Feeds top</a>`) {
		t.Error("polled feed not marked")
	}
}

// TestRenameSourceKeepsItsHistory: renaming a source in the edit form
// carries its stored items and fetch state to the new name, so its row
// keeps its counts and health.
func TestRenameSourceKeepsItsHistory(t *testing.T) {
	e := newSourcesEnv(t)
	ctx := context.Background()
	now := e.clock.Now()
	var ids []string
	for i := range 2 {
		it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://krebsonsecurity.com/%d/", i), Title: "t"}, "Krebs on Security", "Cyber", now.Add(-time.Hour))
		if _, err := e.store.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, it.ID)
	}
	if err := e.store.PutSourceState(ctx, &model.SourceState{Name: "Krebs on Security", LastAttempt: now, LastSuccess: now, ItemsFound: 20}); err != nil {
		t.Fatal(err)
	}
	path := "/admin/sources/edit?name=" + url.QueryEscape("Krebs on Security")
	_, csrf, version := e.page(path)
	if code, _, _ := e.postAdmin(path, editForm(csrf, version, "name", "KrebsOnSecurity")); code != http.StatusSeeOther {
		t.Fatalf("rename: %d", code)
	}
	for _, id := range ids {
		if it, _ := e.store.GetItem(ctx, id); it.Source != "KrebsOnSecurity" {
			t.Errorf("item still filed under %q", it.Source)
		}
	}
	body, _, _ := e.page("/admin/sources?q=krebs")
	i := strings.Index(body, `data-source="KrebsOnSecurity"`)
	if i < 0 {
		t.Fatal("no row for the new name")
	}
	row := body[i : i+strings.Index(body[i:], "</tr>")]
	if !strings.Contains(row, "<td>2</td>\n  <td>2</td>") || strings.Contains(row, "pending") {
		t.Errorf("row lost the history:\n%s", row)
	}
	evs, _ := e.store.ListAudit(ctx, store.AuditFilter{Action: model.AuditSourceChange})
	if len(evs) != 1 || !strings.Contains(evs[0].Detail, "renamed from “Krebs on Security” (2 stored item(s) moved)") {
		t.Errorf("audit = %+v", evs)
	}
}
