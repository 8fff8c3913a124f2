package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/model"
)

// apiCall sends a bearer-authenticated request (no cookies) and decodes
// the JSON answer.
func (h *harness) apiCall(token, method, path, body string) (int, map[string]any) {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("%s %s: not JSON (%d): %s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, out
}

func (h *harness) token(role model.Role) string {
	h.t.Helper()
	clear, _, err := h.server.Auth().AddAPIToken(context.Background(), auth.Actor{Name: "test"}, testUsers[role], "test")
	if err != nil {
		h.t.Fatal(err)
	}
	return clear
}

func apiErrCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestAPITokenScopes(t *testing.T) {
	h := newHarness(t, privateBriefing)
	a := h.add("https://example.com/a", "A", "Lead A.", "Top stories")
	reader, curator, admin := h.token(model.RoleReader), h.token(model.RoleCurator), h.token(model.RoleAdmin)

	for _, tc := range []struct {
		token, method, path string
		want                int
	}{
		{"", "GET", "/api/v1/items", 401},
		{"cst_forged", "GET", "/api/v1/items", 401},
		{reader, "GET", "/api/v1/briefing", 200},
		{reader, "GET", "/api/v1/me", 200},
		{reader, "GET", "/api/v1/items", 403},
		{reader, "POST", "/api/v1/items/" + a.ID + "/approve", 403},
		{curator, "GET", "/api/v1/users", 403},
		{curator, "GET", "/api/v1/audit", 403},
		{curator, "GET", "/api/v1/sources", 403},
		{admin, "GET", "/api/v1/users", 200},
		{admin, "GET", "/api/v1/audit", 200},
	} {
		code, body := h.apiCall(tc.token, tc.method, tc.path, "")
		if code != tc.want {
			t.Errorf("%s %s with %.8s…: %d, want %d (%v)", tc.method, tc.path, tc.token, code, tc.want, body)
		}
		if code >= 400 && apiErrCode(body) == "" {
			t.Errorf("%s %s: error without code: %v", tc.method, tc.path, body)
		}
	}
	it, _ := h.store.GetItem(context.Background(), a.ID)
	if it.Status != model.StatusQueued {
		t.Fatal("reader token changed an item")
	}
	// A curator token approves without any CSRF token: bearer auth is not
	// ambient, so there is nothing to forge.
	code, body := h.apiCall(curator, "POST", "/api/v1/items/"+a.ID+"/approve", "")
	if code != 200 || body["status"] != "approved" || body["decided_by"] != "cur" {
		t.Fatalf("curator approve: %d %v", code, body)
	}
	// Revoked token: 401.
	toks, _ := h.server.Auth().APITokens(context.Background(), "cur")
	if err := h.server.Auth().RevokeAPIToken(context.Background(), auth.Actor{Name: "test"}, "cur", toks[0].ID); err != nil {
		t.Fatal(err)
	}
	if code, body := h.apiCall(curator, "GET", "/api/v1/items", ""); code != 401 || apiErrCode(body) != "invalid_token" {
		t.Errorf("revoked token: %d %v", code, body)
	}
	// A disabled user's token stops working.
	if err := h.server.Auth().SetDisabled(context.Background(), auth.Actor{Name: "test"}, "rdr", true); err != nil {
		t.Fatal(err)
	}
	if code, _ := h.apiCall(reader, "GET", "/api/v1/me", ""); code != 401 {
		t.Errorf("disabled user's token: %d", code)
	}
}

func TestAPIItems(t *testing.T) {
	h := newHarness(t)
	tok := h.token(model.RoleCurator)
	a := h.add("https://example.com/a", "Flood warning", "River crest.", "Top stories")
	h.add("https://example.com/b", "Patch Tuesday", "Sixty flaws.", "Cyber")

	code, body := h.apiCall(tok, "GET", "/api/v1/items?section=Cyber", "")
	items, _ := body["items"].([]any)
	if code != 200 || len(items) != 1 || items[0].(map[string]any)["title"] != "Patch Tuesday" {
		t.Fatalf("filter section: %d %v", code, body)
	}
	code, body = h.apiCall(tok, "GET", "/api/v1/items?q=flood&status=queued&since="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "")
	if items, _ := body["items"].([]any); code != 200 || len(items) != 1 {
		t.Errorf("q+status+since: %d %v", code, body)
	}
	for since, want := range map[string]int{
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339):                           0,
		time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano):                      2,
		time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly):                       2,
		time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly):                        0,
		time.Now().Add(-time.Hour).In(time.FixedZone("", 5*3600)).Format(time.RFC3339): 2,
	} {
		code, body := h.apiCall(tok, "GET", "/api/v1/items?since="+url.QueryEscape(since), "")
		if items, _ := body["items"].([]any); code != 200 || len(items) != want {
			t.Errorf("since=%s: %d, %d items, want %d", since, code, len(items), want)
		}
	}
	if code, body := h.apiCall(tok, "GET", "/api/v1/items?status=approved", ""); code != 200 || len(body["items"].([]any)) != 0 {
		t.Errorf("empty list must be []: %d %v", code, body)
	}
	for _, q := range []string{"status=bogus", "since=yesterday", "limit=-1", "limit=x"} {
		if code, body := h.apiCall(tok, "GET", "/api/v1/items?"+q, ""); code != 400 || apiErrCode(body) != "bad_request" {
			t.Errorf("%s: %d %v", q, code, body)
		}
	}

	code, body = h.apiCall(tok, "PATCH", "/api/v1/items/"+a.ID, `{"title":"Flood warning: river towns","tags":["Weather","weather"],"note":"check at 6"}`)
	if code != 200 || body["title"] != "Flood warning: river towns" || body["edited_by"] != "cur" || body["note"] != "check at 6" {
		t.Fatalf("patch: %d %v", code, body)
	}
	if orig, _ := body["original"].(map[string]any); orig["title"] != "Flood warning" {
		t.Errorf("original not kept: %v", body["original"])
	}
	if tags, _ := body["tags"].([]any); len(tags) != 1 || tags[0] != "weather" {
		t.Errorf("tags: %v", body["tags"])
	}
	code, body = h.apiCall(tok, "PATCH", "/api/v1/items/"+a.ID, `{"lead":"The river crests at 6 pm.","byline":"Ben Ode","section":"Cyber"}`)
	orig, _ := body["original"].(map[string]any)
	if code != 200 || body["lead"] != "The river crests at 6 pm." || body["byline"] != "Ben Ode" || body["section"] != "Cyber" ||
		body["title"] != "Flood warning: river towns" || body["note"] != "check at 6" {
		t.Fatalf("patch lead, byline, section: %d %v", code, body)
	}
	if orig["lead"] != "River crest." || orig["byline"] != "Ann Lee" || orig["title"] != "Flood warning" {
		t.Errorf("original extraction changed by edits: %v", orig)
	}
	if code, body := h.apiCall(tok, "GET", "/api/v1/items/"+a.ID, ""); code != 200 || body["original"].(map[string]any)["lead"] != "River crest." {
		t.Errorf("original not readable after the edits: %d %v", code, body["original"])
	}
	for _, tc := range []struct {
		body string
		want int
		code string
	}{
		{`{"title":""}`, 422, "invalid"},
		{`{"section":"Sports"}`, 422, "invalid"},
		{`{"titel":"typo"}`, 400, "bad_request"},
		{`{"title":"x"} {}`, 400, "bad_request"},
		{`not json`, 400, "bad_request"},
		{`{}`, 400, "bad_request"},
	} {
		if code, body := h.apiCall(tok, "PATCH", "/api/v1/items/"+a.ID, tc.body); code != tc.want || apiErrCode(body) != tc.code {
			t.Errorf("patch %s: %d %v", tc.body, code, body)
		}
	}
	if code, body := h.apiCall(tok, "PATCH", "/api/v1/items/nope", `{"title":"x"}`); code != 404 || apiErrCode(body) != "not_found" {
		t.Errorf("patch missing: %d %v", code, body)
	}
	if code, body := h.apiCall(tok, "GET", "/api/v1/items/nope", ""); code != 404 || apiErrCode(body) != "not_found" {
		t.Errorf("get missing: %d %v", code, body)
	}
	if code, body := h.apiCall(tok, "GET", "/api/v1/nothing", ""); code != 404 || apiErrCode(body) != "not_found" {
		t.Errorf("unknown endpoint: %d %v", code, body)
	}
	if code, body := h.apiCall(tok, "DELETE", "/api/v1/items/"+a.ID, ""); code != 405 || apiErrCode(body) != "method_not_allowed" {
		t.Errorf("wrong method: %d %v", code, body)
	}
	code, body = h.apiCall(tok, "POST", "/api/v1/items/"+a.ID+"/reject", "")
	if code != 200 || body["status"] != "rejected" {
		t.Errorf("reject: %d %v", code, body)
	}
	h.apiCall(tok, "POST", "/api/v1/items/"+a.ID+"/approve", "")
	code, body = h.apiCall(tok, "GET", "/api/v1/briefing", "")
	secs, _ := body["sections"].([]any)
	if code != 200 || body["total"] != float64(1) || len(secs) != 1 {
		t.Errorf("briefing: %d %v", code, body)
	}
	// Same keys as `clipsheet items --json`: model.Item's JSON.
	if code, body = h.apiCall(tok, "GET", "/api/v1/items/"+a.ID, ""); code != 200 {
		t.Fatalf("get item: %d", code)
	}
	want, _ := json.Marshal(mustItem(t, h, a.ID))
	var wantMap map[string]any
	json.Unmarshal(want, &wantMap)
	for k := range wantMap {
		if _, ok := body[k]; !ok {
			t.Errorf("item JSON lacks %q", k)
		}
	}
	code, body = h.apiCall(h.token(model.RoleAdmin), "GET", "/api/v1/audit?actor=cur&action=item.", "")
	evs, _ := body["events"].([]any)
	if code != 200 || len(evs) != 4 {
		t.Errorf("audit of API actions (two edits, reject, approve): %d %v", code, body)
	}
	code, body = h.apiCall(h.token(model.RoleAdmin), "GET", "/api/v1/users", "")
	if code != 200 || strings.Contains(jsonString(body), "argon2") {
		t.Errorf("users list leaks hashes: %v", body)
	}
}

func mustItem(t *testing.T, h *harness, id string) *model.Item {
	t.Helper()
	it, err := h.store.GetItem(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
