package web

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/sourcesfile"
)

func TestPreviewUsesTheFormsSettings(t *testing.T) {
	e := newSourcesEnv(t)
	site := newTestSite(t, true)
	before := e.fileText()
	_, csrf, version := e.page("/admin/sources/new")
	form := newSourceForm(csrf, version, "action", "preview", "name", "Harbor Gazette", "url", site.URL("/feed.xml"), "section", "Disasters & weather", "interval", "")
	code, body, _ := e.postAdmin("/admin/sources/new", form)
	if code != http.StatusOK {
		t.Fatalf("preview: %d\n%s", code, body)
	}
	if strings.Count(body, `<li class="preview-item">`) != 5 {
		t.Errorf("want the first 5 items, got %d", strings.Count(body, `<li class="preview-item">`))
	}
	for _, w := range []string{"Harbour pilots end strike after overnight talks", "Jane Roe", `datetime="2026-03-09T06:00:00Z"`,
		"Harbour pilots returned to work on Monday", "Council agrees sale of disused lighthouse", `value="Harbor Gazette"`} {
		if !strings.Contains(body, w) {
			t.Errorf("preview lacks %q", w)
		}
	}
	if strings.Contains(body, "New container crane") {
		t.Error("preview shows more than 5 items")
	}
	if e.fileText() != before {
		t.Fatal("preview wrote the file")
	}
	if n, _ := e.store.CountItems(context.Background()); len(n) != 0 {
		t.Errorf("preview stored items: %v", n)
	}

	// Selector overrides being edited are used: a lead selector for the
	// last paragraph changes every lead.
	form.Set("extract_lead", ".story-body p:last-child")
	_, body, _ = e.postAdmin("/admin/sources/new", form)
	if strings.Count(body, `<p class="lead">Residents were asked to follow updates`) != 5 || strings.Contains(body, `<p class="lead">Harbour pilots returned`) {
		t.Errorf("preview ignored the lead selector override:\n%s", body)
	}

	// A page source with its links selector.
	form = newSourceForm(csrf, version, "action", "preview", "name", "Gazette latest", "url", site.URL("/latest"), "type", "page", "links", "h2.headline a", "section", "")
	_, body, _ = e.postAdmin("/admin/sources/new", form)
	if strings.Count(body, `<li class="preview-item">`) != 5 || !strings.Contains(body, "Flood barrier closes") {
		t.Errorf("page preview:\n%s", body)
	}

	// Errors: what the next poll would run into, shown in place.
	form = newSourceForm(csrf, version, "action", "preview", "url", site.URL("/missing.xml"))
	code, body, _ = e.postAdmin("/admin/sources/new", form)
	if code != http.StatusOK || !strings.Contains(body, `id="preview-error"`) || !strings.Contains(body, "404") {
		t.Errorf("preview of a missing feed: %d", code)
	}
	form = newSourceForm(csrf, version, "action", "preview", "url", "not a url", "type", "page")
	code, body, _ = e.postAdmin("/admin/sources/new", form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-url"`) || !strings.Contains(body, "type page needs a links selector") {
		t.Errorf("preview with bad fields: %d", code)
	}
}

func TestAddByURLDiscovers(t *testing.T) {
	e := newSourcesEnv(t)
	site := newTestSite(t, true)
	_, csrf, _ := e.page("/admin/sources/new")
	discover := func(addr string, wantCode int) string {
		t.Helper()
		code, body, _ := e.postAdmin("/admin/sources/new", url.Values{"csrf_token": {csrf}, "action": {"discover"}, "discover": {addr}})
		if code != wantCode {
			t.Fatalf("discover %s: %d, want %d\n%s", addr, code, wantCode, body)
		}
		return body
	}
	body := discover(site.URL("/"), http.StatusOK)
	for _, w := range []string{"Feeds found on", `name="url" value="` + site.URL("/feed.xml") + `"`, `name="name" value="Harbor Gazette — Latest"`,
		`<option value="feed" selected>`, "6 entries", "Use this feed"} {
		if !strings.Contains(body, html.EscapeString(w)) && !strings.Contains(body, w) {
			t.Errorf("discovery page lacks %q", w)
		}
	}

	bare := newTestSite(t, false)
	body = discover(bare.URL("/latest"), http.StatusOK)
	if !strings.Contains(body, "No working feed. Proposed page source") || !strings.Contains(body, `<option value="page" selected>`) ||
		!strings.Contains(body, `name="url" value="`+bare.URL("/latest")+`"`) {
		t.Errorf("no page source proposed:\n%s", body)
	}
	// The proposed selector finds the stories.
	m := regexp1(`name="links" value="([^"]+)"`, body)
	if m == "" {
		t.Fatal("no links selector proposed")
	}
	items, err := e.fetcher.Preview(context.Background(), config.Source{Name: "x", URL: bare.URL("/latest"), Type: "page", Links: html.UnescapeString(m)}, 10)
	if err != nil || len(items) != 6 {
		t.Errorf("proposed selector %q yields %d items, %v", m, len(items), err)
	}

	if body = discover("javascript:alert(1)", http.StatusUnprocessableEntity); !strings.Contains(body, "Enter a site address") {
		t.Error("bad address accepted")
	}
	// Bare host names are taken as https.
	if body = discover("127.0.0.1:1", http.StatusUnprocessableEntity); !strings.Contains(body, "Could not read https://127.0.0.1:1") {
		t.Error("bare host not completed to https")
	}
	// Without the CSRF token nothing is fetched.
	hits := site.feedHits.Load()
	if code, _, _ := e.postAdmin("/admin/sources/new", url.Values{"action": {"discover"}, "discover": {site.URL("/")}}); code != http.StatusForbidden || site.feedHits.Load() != hits {
		t.Errorf("discover without CSRF token: %d", code)
	}
}

// apiClient calls the API with a bearer token.
type apiClient struct {
	e     *sourcesEnv
	token string
}

func (a *apiClient) do(method, path, body string, hdr ...string) (int, http.Header, map[string]any) {
	a.e.t.Helper()
	req, _ := http.NewRequest(method, a.e.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			a.e.t.Fatalf("%s %s: not JSON: %s", method, path, raw)
		}
	}
	return res.StatusCode, res.Header, out
}

func (e *sourcesEnv) apiAs(role model.Role) *apiClient {
	e.t.Helper()
	tok, _, err := e.server.Auth().AddAPIToken(context.Background(), auth.Actor{Name: "test"}, testUsers[role], "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return &apiClient{e: e, token: tok}
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestSourcesAPI(t *testing.T) {
	e := newSourcesEnv(t)
	api := e.apiAs(model.RoleAdmin)

	if code, _, body := (&apiClient{e: e}).do("GET", "/api/v1/sources", ""); code != http.StatusUnauthorized || errCode(body) != "unauthenticated" {
		t.Errorf("anonymous: %d %v", code, body)
	}
	if code, _, body := e.apiAs(model.RoleCurator).do("GET", "/api/v1/sources", ""); code != http.StatusForbidden || errCode(body) != "forbidden" {
		t.Errorf("curator: %d %v", code, body)
	}

	code, hdr, body := api.do("GET", "/api/v1/sources", "")
	if code != http.StatusOK {
		t.Fatalf("list: %d", code)
	}
	version := body["version"].(string)
	if hdr.Get("ETag") != `"`+version+`"` || version != sourcesfile.Hash([]byte(e.fileText())) {
		t.Error("version is not the file's hash")
	}
	if len(body["sources"].([]any)) != 14 || len(body["sections"].([]any)) != 5 || body["defaults"].(map[string]any)["interval"] != "30m" {
		t.Errorf("list body keys: %v", body)
	}
	dhs := body["sources"].([]any)[5].(map[string]any)
	if dhs["links"] != ".views-row h3 a, .usa-collection__heading a" || dhs["type"] != "page" || dhs["interval"] != "1h" {
		t.Errorf("source keys differ from sources.yaml: %v", dhs)
	}

	code, _, body = api.do("GET", "/api/v1/sources/"+url.PathEscape("Krebs on Security"), "")
	if code != http.StatusOK || body["url"] != "https://krebsonsecurity.com/feed/" || body["section"] != "Cyber" {
		t.Errorf("get: %d %v", code, body)
	}
	if code, _, body := api.do("GET", "/api/v1/sources/Nope", ""); code != http.StatusNotFound || errCode(body) != "not_found" {
		t.Errorf("get missing: %d", code)
	}

	// Create: good, invalid (422 with problems by field), duplicate (409),
	// malformed (400), unknown key (400).
	good := `{"name":"The Record","url":"https://therecord.media/feed","type":"feed","section":"Cyber","interval":"1h","include":["/news/"]}`
	code, hdr, body = api.do("POST", "/api/v1/sources", good, "If-Match", `"`+version+`"`)
	if code != http.StatusCreated || hdr.Get("Location") != "/api/v1/sources/The%20Record" || body["interval"] != "1h" {
		t.Fatalf("create: %d %v %v", code, hdr, body)
	}
	newVersion := strings.Trim(hdr.Get("ETag"), `"`)
	if _, ok := e.live.Current().Find("The Record"); !ok || !strings.Contains(e.fileText(), "    include: [/news/]\n") {
		t.Error("created source not in force or not written")
	}
	code, _, body = api.do("POST", "/api/v1/sources", `{"name":"X","url":"ftp://x","type":"page","section":"Nope"}`)
	if code != http.StatusUnprocessableEntity || errCode(body) != "invalid" {
		t.Fatalf("invalid create: %d %v", code, body)
	}
	fields := map[string]bool{}
	for _, p := range body["error"].(map[string]any)["problems"].([]any) {
		fields[p.(map[string]any)["field"].(string)] = true
	}
	if !fields["url"] || !fields["links"] || !fields["section"] {
		t.Errorf("problems by field: %v", body)
	}
	if code, _, body := api.do("POST", "/api/v1/sources", strings.Replace(good, "The Record", "the record", 1)); code != http.StatusConflict || errCode(body) != "exists" {
		t.Errorf("duplicate create: %d %v", code, body)
	}
	if code, _, body := api.do("POST", "/api/v1/sources", `{"name":`); code != http.StatusBadRequest || errCode(body) != "bad_request" {
		t.Errorf("malformed: %d %v", code, body)
	}
	if code, _, _ := api.do("POST", "/api/v1/sources", `{"name":"Y","url":"https://y.example/feed","colour":"red"}`); code != http.StatusBadRequest {
		t.Errorf("unknown key: %d", code)
	}
	// A write based on an old version is refused: someone changed the
	// file since (here: the create above).
	code, hdr, body = api.do("POST", "/api/v1/sources", `{"name":"Z","url":"https://z.example/feed"}`, "If-Match", `"`+version+`"`)
	if code != http.StatusPreconditionFailed || errCode(body) != "stale" || strings.Trim(hdr.Get("ETag"), `"`) != newVersion {
		t.Errorf("stale If-Match: %d %v", code, body)
	}

	// Update, including a rename (which carries the fetch state over);
	// stale and missing.
	if err := e.store.PutSourceState(context.Background(), &model.SourceState{Name: "The Record", LastAttempt: e.clock.Now(), ETag: `"abc"`}); err != nil {
		t.Fatal(err)
	}
	upd := `{"name":"The Record (Recorded Future)","url":"https://therecord.media/feed","type":"feed","section":"Cyber","interval":"2h"}`
	code, hdr, body = api.do("PUT", "/api/v1/sources/"+url.PathEscape("The Record"), upd, "If-Match", `"`+newVersion+`"`)
	if code != http.StatusOK || body["name"] != "The Record (Recorded Future)" {
		t.Fatalf("update: %d %v", code, body)
	}
	if hdr.Get("ETag") != `"`+sourcesfile.Hash([]byte(e.fileText()))+`"` {
		t.Error("update answer does not carry the new version")
	}
	if st, _ := e.store.SourceState(context.Background(), "The Record (Recorded Future)"); st.ETag != `"abc"` {
		t.Error("fetch state not carried over to the new name")
	}
	if st, _ := e.store.SourceState(context.Background(), "The Record"); !st.LastAttempt.IsZero() {
		t.Error("fetch state left under the old name")
	}
	if src, ok := e.live.Current().Find("The Record (Recorded Future)"); !ok || len(src.Include) != 0 {
		t.Error("update not in force (or include kept although the body dropped it)")
	}
	if code, _, _ := api.do("PUT", "/api/v1/sources/"+url.PathEscape("The Record (Recorded Future)"), upd, "If-Match", `"`+newVersion+`"`); code != http.StatusPreconditionFailed {
		t.Errorf("stale update: %d", code)
	}
	if code, _, _ := api.do("PUT", "/api/v1/sources/Nope", upd); code != http.StatusNotFound {
		t.Errorf("update missing: %d", code)
	}
	if code, _, body := api.do("PUT", "/api/v1/sources/"+url.PathEscape("CISA — News"), `{"url":"https://www.cisa.gov/news.xml","interval":"5s"}`); code != http.StatusUnprocessableEntity || errCode(body) != "invalid" {
		t.Errorf("invalid update: %d %v", code, body)
	}
	// A name with a slash reaches the catch-all route whole.
	slashed := `{"name":"AP / Top news","url":"https://ap.example/top.rss","type":"feed"}`
	if code, _, _ := api.do("POST", "/api/v1/sources", slashed); code != http.StatusCreated {
		t.Fatalf("create slashed: %d", code)
	}
	if code, _, body := api.do("GET", "/api/v1/sources/"+url.PathEscape("AP / Top news"), ""); code != http.StatusOK || body["name"] != "AP / Top news" {
		t.Errorf("get slashed: %d %v", code, body)
	}

	// Delete.
	if code, _, _ := api.do("DELETE", "/api/v1/sources/"+url.PathEscape("AP / Top news"), ""); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
	if code, _, _ := api.do("DELETE", "/api/v1/sources/"+url.PathEscape("AP / Top news"), ""); code != http.StatusNotFound {
		t.Errorf("delete again: %d", code)
	}
	if _, ok := e.live.Current().Find("AP / Top news"); ok {
		t.Error("deleted source still in force")
	}
	// Session cookies work too, but need the CSRF header for writes.
	req, _ := http.NewRequest(http.MethodDelete, e.srv.URL+"/api/v1/sources/"+url.PathEscape("CISA — News"), nil)
	res, err := e.admin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cookie DELETE without CSRF header: %d", res.StatusCode)
	}

	got := e.auditActions()
	want := []string{"source.remove AP / Top news by root", "source.add AP / Top news by root",
		"source.change The Record (Recorded Future) by root", "source.add The Record by root"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func regexp1(pattern, s string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}
