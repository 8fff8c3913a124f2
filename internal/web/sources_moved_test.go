package web

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/sourcesfile"
	"github.com/clipsheet/clipsheet/internal/store"
)

// movedSources is a hand-kept sources.yaml whose first source lives at
// OLD; comments sit above, beside and below the URL the move rewrites.
const movedSources = `# Harbour desk sources: kept by hand and by the admin UI.
sections: [Local]

sources:
  # --- Local news ---
  - name: Harbor Gazette
    # The publisher announced a new feed address in March.
    url: OLD # first address
    section: Local
    interval: 1h
  # A second source on another host, untouched by the move.
  - name: Quay Radio
    url: http://127.0.0.1:9/radio.xml
    section: Local
    enabled: false
`

// sourceRowHTML is the sources page's row for the named source.
func sourceRowHTML(t *testing.T, body, name string) string {
	t.Helper()
	i := strings.Index(body, `data-source="`+html.EscapeString(name)+`"`)
	if i < 0 {
		t.Fatalf("no row for %s", name)
	}
	end := strings.Index(body[i:], "</tr>")
	return body[i : i+end]
}

// healthMovedTo is moved_to of the named source in GET /api/v1/sources.
func healthMovedTo(t *testing.T, e *sourcesEnv, name string) (string, bool) {
	t.Helper()
	code, _, doc := e.apiAs(model.RoleAdmin).do("GET", "/api/v1/sources", "")
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/sources: %d", code)
	}
	hs, _ := doc["health"].([]any)
	for _, h := range hs {
		m, _ := h.(map[string]any)
		if m["name"] == name {
			v, present := m["moved_to"]
			s, _ := v.(string)
			return s, present
		}
	}
	t.Fatalf("no health entry for %s", name)
	return "", false
}

// TestMovedSourceNoticeAndUpdate: a source whose old address answers with
// a permanent redirect is polled by the real fetcher; the sources page and
// the API then show where it moved, a curator cannot act on it, stale
// clicks change nothing, and the admin's one click rewrites the URL in
// sources.yaml (nothing else, comments kept), is audited, and makes the
// notice go away, with the next poll going straight to the new address.
func TestMovedSourceNoticeAndUpdate(t *testing.T) {
	site := newTestSite(t, true)
	var oldHits atomic.Int64
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		oldHits.Add(1)
		http.Redirect(w, r, site.URL("/feed.xml"), http.StatusMovedPermanently)
	}))
	t.Cleanup(old.Close)
	oldURL, newURL := old.URL+"/rss", site.URL("/feed.xml")
	before := strings.Replace(movedSources, "OLD", oldURL, 1)
	e := newSourcesEnvWith(t, []byte(before))
	ctx := context.Background()

	// Before any poll there is nothing to show.
	body, _, _ := e.page("/admin/sources")
	if strings.Contains(body, "Moved permanently") || strings.Contains(body, "/admin/sources/moved") {
		t.Fatal("move notice before any poll")
	}

	res := e.fetcher.PollOnce(ctx, e.live.Current())
	if len(res) != 1 || res[0].Err != nil || res[0].MovedTo != newURL {
		t.Fatalf("poll: %+v", res)
	}
	hitsAfterFirstPoll := oldHits.Load()

	body, csrf, version := e.page("/admin/sources")
	row := sourceRowHTML(t, body, "Harbor Gazette")
	for _, want := range []string{
		`<strong class="warn">Moved permanently</strong> to <a href="` + newURL + `" rel="noreferrer">` + newURL + `</a>`,
		"sources.yaml still has " + oldURL,
		`action="/admin/sources/moved"`,
		`name="moved_to" value="` + newURL + `"`,
		`name="version" value="` + sourcesfile.Hash([]byte(before)) + `"`,
		">Update the URL</button>",
	} {
		if !strings.Contains(row, want) {
			t.Errorf("row lacks %q:\n%s", want, row)
		}
	}
	if !strings.Contains(body, "1 source(s) moved permanently") {
		t.Error("no summary of moved sources above the list")
	}
	if r := sourceRowHTML(t, body, "Quay Radio"); strings.Contains(r, "Moved permanently") {
		t.Error("notice on a source that did not move")
	}
	if got, _ := healthMovedTo(t, e, "Harbor Gazette"); got != newURL {
		t.Errorf("API health moved_to = %q, want %q", got, newURL)
	}
	if _, present := healthMovedTo(t, e, "Quay Radio"); present {
		t.Error("API health has moved_to for a source that did not move")
	}

	form := url.Values{"csrf_token": {csrf}, "version": {version}, "name": {"Harbor Gazette"}, "moved_to": {newURL}}

	// A curator with a valid CSRF token of their own is refused by role.
	curator := e.as(model.RoleCurator)
	cform := url.Values{"csrf_token": {e.csrfOf(curator, "/queue")}, "version": {version}, "name": {"Harbor Gazette"}, "moved_to": {newURL}}
	if code, _ := e.postWith(curator, "/admin/sources/moved", cform, nil); code != http.StatusForbidden {
		t.Errorf("curator update: %d, want 403", code)
	}
	// Without a CSRF token nothing happens either.
	if code, _, _ := e.postAdmin("/admin/sources/moved", url.Values{"name": {"Harbor Gazette"}, "moved_to": {newURL}}); code != http.StatusForbidden {
		t.Errorf("update without CSRF token: %d, want 403", code)
	}
	// Stale or crafted clicks change nothing.
	stale := []struct {
		name string
		kv   []string
		code int
		want string
	}{
		{"another address than the page showed", []string{"moved_to", "https://attacker.example/feed"}, http.StatusConflict, "not the one the page showed"},
		{"no address", []string{"moved_to", ""}, http.StatusConflict, "not the one the page showed"},
		{"a file changed since the page was loaded", []string{"version", sourcesfile.Hash([]byte("older"))}, http.StatusConflict, "changed since the page was loaded"},
		{"an unknown source", []string{"name", "Nope"}, http.StatusNotFound, "no source named"},
		{"a source that did not move", []string{"name", "Quay Radio"}, http.StatusConflict, "No permanent move is recorded"},
	}
	for _, s := range stale {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set(s.kv[0], s.kv[1])
		code, body, _ := e.postAdmin("/admin/sources/moved", f)
		if code != s.code || !strings.Contains(body, s.want) {
			t.Errorf("%s: %d, want %d with %q", s.name, code, s.code, s.want)
		}
	}
	if e.fileText() != before {
		t.Fatalf("refused updates changed the file:\n%s", e.fileText())
	}
	if got := e.auditActions(); len(got) != 0 {
		t.Fatalf("refused updates audited: %v", got)
	}

	code, _, hdr := e.postAdmin("/admin/sources/moved", form)
	if code != http.StatusSeeOther || hdr.Get("Location") != "/admin/sources?done=moved&name=Harbor+Gazette" {
		t.Fatalf("update: %d %s", code, hdr.Get("Location"))
	}
	// Only the URL changed: every comment, key and blank line stays.
	if got, want := e.fileText(), strings.Replace(movedSources, "OLD", newURL, 1); got != want {
		t.Errorf("file after update:\n%s\nwant:\n%s", got, want)
	}
	if src, _ := e.live.Current().Find("Harbor Gazette"); src == nil || src.URL != newURL {
		t.Errorf("list in force: %+v", src)
	}
	evs, err := e.store.ListAudit(ctx, store.AuditFilter{Action: "source."})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Action != model.AuditSourceChange || evs[0].Target != "Harbor Gazette" || evs[0].Actor != "root" ||
		!strings.Contains(evs[0].Detail, oldURL) || !strings.Contains(evs[0].Detail, newURL) || !strings.Contains(evs[0].Detail, "moved permanently") {
		t.Errorf("audit = %+v", evs)
	}

	body, csrf, version = e.page("/admin/sources?done=moved&name=Harbor+Gazette")
	if !strings.Contains(body, "Updated the URL of &#34;Harbor Gazette&#34; to its new address.") {
		t.Error("no confirmation on the list")
	}
	if strings.Contains(body, "Moved permanently") || strings.Contains(body, "moved permanently:") {
		t.Error("notice still shown once the configured URL is the new one")
	}
	if _, present := healthMovedTo(t, e, "Harbor Gazette"); present {
		t.Error("API still reports the move once the configured URL is the new one")
	}
	// A second click (another tab) finds nothing to do and writes nothing.
	after := e.fileText()
	form.Set("csrf_token", csrf)
	form.Set("version", version)
	if code, _, _ := e.postAdmin("/admin/sources/moved", form); code != http.StatusConflict || e.fileText() != after {
		t.Errorf("second update: %d", code)
	}

	// The next poll goes to the new address itself and the move is over.
	res = e.fetcher.PollOnce(ctx, e.live.Current())
	if len(res) != 1 || res[0].Err != nil || res[0].MovedTo != "" {
		t.Fatalf("poll after update: %+v", res)
	}
	if n := oldHits.Load(); n != hitsAfterFirstPoll {
		t.Errorf("old address asked %d more time(s) after the update", n-hitsAfterFirstPoll)
	}
	if st, _ := e.store.SourceState(ctx, "Harbor Gazette"); st.URL != newURL || st.MovedTo != "" {
		t.Errorf("state after update: URL %q MovedTo %q", st.URL, st.MovedTo)
	}
	if body, _, _ := e.page("/admin/sources"); strings.Contains(body, "Moved permanently") {
		t.Error("notice back after the next poll")
	}
}

// TestMovedSourceStoredState: the notice follows the stored fetch state
// (as the fetcher leaves it, without polling here), and a move onto an
// address another source already polls is refused with the validator's
// reason and nothing written.
func TestMovedSourceStoredState(t *testing.T) {
	const oldURL = "http://news.example/rss"
	e := newSourcesEnvWith(t, []byte(strings.Replace(movedSources, "OLD", oldURL, 1)))
	ctx := context.Background()
	put := func(st *model.SourceState) {
		t.Helper()
		if err := e.store.PutSourceState(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name    string
		state   *model.SourceState
		movedTo string
	}{
		{"http to https", &model.SourceState{Name: "Harbor Gazette", URL: oldURL, MovedTo: "https://news.example/rss"}, "https://news.example/rss"},
		{"state of another URL", &model.SourceState{Name: "Harbor Gazette", URL: "http://news.example/older", MovedTo: "https://elsewhere.example/rss"}, ""},
		{"moved to the configured URL", &model.SourceState{Name: "Harbor Gazette", URL: "http://news.example/older", MovedTo: oldURL}, ""},
		{"no move", &model.SourceState{Name: "Harbor Gazette", URL: oldURL}, ""},
		{"moved onto another source's address", &model.SourceState{Name: "Harbor Gazette", URL: oldURL, MovedTo: "https://127.0.0.1:9/radio.xml"}, "https://127.0.0.1:9/radio.xml"},
	} {
		put(c.state)
		body, _, _ := e.page("/admin/sources")
		row := sourceRowHTML(t, body, "Harbor Gazette")
		shown := strings.Contains(row, "Moved permanently")
		if shown != (c.movedTo != "") || (shown && !strings.Contains(row, `name="moved_to" value="`+c.movedTo+`"`)) {
			t.Errorf("%s: notice shown %v, want move to %q:\n%s", c.name, shown, c.movedTo, row)
		}
		if got, _ := healthMovedTo(t, e, "Harbor Gazette"); got != c.movedTo {
			t.Errorf("%s: API moved_to %q, want %q", c.name, got, c.movedTo)
		}
	}

	// The last state moves the source onto Quay Radio's feed (http and
	// https are one source): saving that would poll it twice.
	_, csrf, version := e.page("/admin/sources")
	before := e.fileText()
	code, body, _ := e.postAdmin("/admin/sources/moved", url.Values{"csrf_token": {csrf}, "version": {version},
		"name": {"Harbor Gazette"}, "moved_to": {"https://127.0.0.1:9/radio.xml"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "this URL is already polled as &#34;Quay Radio&#34;") {
		t.Errorf("move onto another source: %d\n%s", code, body)
	}
	if e.fileText() != before || len(e.auditActions()) != 0 {
		t.Error("refused move changed the file or was audited")
	}
	if src, _ := e.live.Current().Find("Harbor Gazette"); src.URL != oldURL {
		t.Errorf("list in force changed: %s", src.URL)
	}
}
