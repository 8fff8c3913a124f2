package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// ruleWeek stores the items the rule tests run over: two fire stories of
// this week (one approved), one other story, and a fire story older than
// the week, which the dry run must not count.
func ruleWeek(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()
	h.add("https://example.com/mill", "Fire at the old mill", "Crews fought the blaze.", "Top stories")
	approved := h.add("https://example.com/hills", "Hill fire contained", "Rain helped.", "Top stories")
	h.add("https://example.com/budget", "Council passes budget", "Libraries win.", "Top stories")
	if _, err := h.server.desk.Decide(ctx, approved.ID, model.StatusApproved, "cur"); err != nil {
		t.Fatal(err)
	}
	old := time.Now().UTC().Add(-10 * 24 * time.Hour)
	it := model.NewItem(model.Extraction{URL: "https://example.com/old-fire", Title: "Old fire report", Published: old}, "Example", "Top stories", old)
	if _, err := h.store.AddItem(ctx, it); err != nil {
		t.Fatal(err)
	}
}

// TestRulesAPI: admin only; the dry run counts the last week's matches by
// status; bad rules are 422 with the field; create, read, versioned
// replace and delete, each in the audit log.
func TestRulesAPI(t *testing.T) {
	h := newHarness(t)
	ruleWeek(t, h)
	e := &sourcesEnv{harness: h}
	admin := &apiClient{e: e, token: h.token(model.RoleAdmin)}
	curator := &apiClient{e: e, token: h.token(model.RoleCurator)}
	fire := `{"name":"Fire","include":"fire, blaze","actions":{"status":"reject","tags":["fire"]}}`

	for _, tc := range []struct {
		c            *apiClient
		method, path string
		body         string
		want         int
	}{
		{&apiClient{e: e}, "GET", "/api/v1/rules", "", http.StatusUnauthorized},
		{curator, "GET", "/api/v1/rules", "", http.StatusForbidden},
		{curator, "POST", "/api/v1/rules", fire, http.StatusForbidden},
		{curator, "POST", "/api/v1/rule-test", fire, http.StatusForbidden},
		{curator, "DELETE", "/api/v1/rules/1", "", http.StatusForbidden},
	} {
		if code, _, body := tc.c.do(tc.method, tc.path, tc.body); code != tc.want {
			t.Errorf("%s %s: %d %v, want %d", tc.method, tc.path, code, body, tc.want)
		}
	}
	if rs, _ := h.store.ListRules(context.Background()); len(rs) != 0 {
		t.Fatalf("a curator stored a rule: %v", rs)
	}

	code, _, body := admin.do("GET", "/api/v1/rules", "")
	if list, ok := body["rules"].([]any); code != http.StatusOK || !ok || len(list) != 0 {
		t.Errorf("empty list: %d %v", code, body)
	}

	code, _, body = admin.do("POST", "/api/v1/rule-test", fire)
	want := map[string]float64{"checked": 3, "matched": 2, "approved": 1, "queued": 1, "rejected": 0, "would_reject": 2, "would_approve": 0}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("test %s = %v, want %v (%d %v)", k, body[k], v, code, body)
		}
	}
	if ex, _ := body["examples"].([]any); len(ex) != 2 {
		t.Errorf("examples: %v", body["examples"])
	}
	if rs, _ := h.store.ListRules(context.Background()); len(rs) != 0 {
		t.Fatalf("the dry run stored a rule: %v", rs)
	}

	for _, tc := range []struct{ body, field, msg string }{
		{`{}`, "name", "needs a name"},
		{`{"name":"x","kind":"regexp","include":"fire(","actions":{"tags":["a"]}}`, "include", "bad regexp"},
		{`{"name":"x","include":"fire","fields":["body"],"actions":{"tags":["a"]}}`, "fields", `unknown field "body"`},
		{`{"name":"x","include":"fire","actions":{"status":"approve"}}`, "status", "trusted source"},
		{`{"name":"x","include":"fire","actions":{"priority":500}}`, "priority", "outside"},
		{`{"name":"x","include":"fire"}`, "actions", "does nothing"},
		{`{"name":"x","scope":"feed:AP","include":"fire","actions":{"tags":["a"]}}`, "scope", "source:NAME"},
	} {
		for _, path := range []string{"/api/v1/rules", "/api/v1/rule-test"} {
			code, _, body := admin.do("POST", path, tc.body)
			e, _ := body["error"].(map[string]any)
			fields, _ := e["fields"].([]any)
			found := false
			for _, f := range fields {
				f := f.(map[string]any)
				found = found || (f["field"] == tc.field && strings.Contains(f["message"].(string), tc.msg))
			}
			if code != http.StatusUnprocessableEntity || errCode(body) != "invalid" || !found {
				t.Errorf("POST %s %s: %d %v, want 422 on %s: ...%s...", path, tc.body, code, body, tc.field, tc.msg)
			}
		}
	}
	if code, _, body := admin.do("POST", "/api/v1/rules", `{"name":"x","colour":"red"}`); code != http.StatusBadRequest {
		t.Errorf("unknown JSON field: %d %v", code, body)
	}

	code, hdr, body := admin.do("POST", "/api/v1/rules", fire)
	if code != http.StatusCreated || hdr.Get("ETag") != `"1"` || body["scope"] != "global" || body["kind"] != "keyword" || body["enabled"] != true {
		t.Fatalf("create: %d %v %v", code, hdr, body)
	}
	id := body["id"].(string)
	if loc := hdr.Get("Location"); loc != "/api/v1/rules/"+id {
		t.Errorf("Location %q", loc)
	}
	changed := `{"name":"Fire","include":"fire","exclude":"fire sale","kind":"phrase","actions":{"tags":["fire"]},"enabled":false}`
	code, hdr, body = admin.do("PUT", "/api/v1/rules/"+id, changed, "If-Match", `"1"`)
	if code != http.StatusOK || hdr.Get("ETag") != `"2"` || body["exclude"] != "fire sale" || body["enabled"] != false {
		t.Fatalf("replace: %d %v %v", code, hdr, body)
	}
	if code, hdr, body := admin.do("PUT", "/api/v1/rules/"+id, changed, "If-Match", `"1"`); code != http.StatusPreconditionFailed || errCode(body) != "stale" || hdr.Get("ETag") != `"2"` {
		t.Errorf("stale replace: %d %v %v", code, hdr, body)
	}
	if code, _, body := admin.do("PUT", "/api/v1/rules/"+id, changed, "If-Match", "two"); code != http.StatusBadRequest {
		t.Errorf("bad If-Match: %d %v", code, body)
	}
	if code, _, body := admin.do("PUT", "/api/v1/rules/99", changed); code != http.StatusNotFound {
		t.Errorf("replace missing: %d %v", code, body)
	}
	if code, _, body := admin.do("DELETE", "/api/v1/rules/"+id, "", "If-Match", `"1"`); code != http.StatusPreconditionFailed || errCode(body) != "stale" {
		t.Errorf("stale delete: %d %v", code, body)
	}
	if code, _, body := admin.do("DELETE", "/api/v1/rules/"+id, "", "If-Match", `"2"`); code != http.StatusNoContent {
		t.Errorf("delete: %d %v", code, body)
	}
	if code, _, body := admin.do("GET", "/api/v1/rules/"+id, ""); code != http.StatusNotFound {
		t.Errorf("deleted rule: %d %v", code, body)
	}
	events, err := h.store.ListAudit(context.Background(), store.AuditFilter{Action: "rule."})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range events {
		actions = append(actions, ev.Action+" "+ev.Target)
	}
	if got := strings.Join(actions, ","); got != "rule.remove "+id+",rule.change "+id+",rule.add "+id {
		t.Errorf("audit: %s", got)
	}
}

// TestRulesPages: the admin page lists rules; the form's Test button shows
// the last week's counts and saves nothing; problems are shown by field
// with 422; saving needs the CSRF token; removing asks first; the queue
// card says why an item is where it is.
func TestRulesPages(t *testing.T) {
	h := newHarness(t)
	ruleWeek(t, h)
	admin := h.as(model.RoleAdmin)
	ctx := context.Background()

	if code, _, _ := h.getWith(h.as(model.RoleCurator), "/admin/rules"); code != http.StatusForbidden {
		t.Errorf("curator on /admin/rules: %d", code)
	}
	code, body, _ := h.getWith(admin, "/admin/rules")
	if code != http.StatusOK || !strings.Contains(body, "No rules yet") || !strings.Contains(body, `<a href="/admin/rules" aria-current="page">Rules</a>`) {
		t.Errorf("empty rules page: %d\n%s", code, body)
	}
	token := h.csrfOf(admin, "/admin/rules/new")
	form := url.Values{"csrf_token": {token}, "name": {"Fire <desk>"}, "scope": {"global"}, "fields": {"headline", "lead"},
		"kind": {"keyword"}, "include": {"fire"}, "tags": {"fire, local"}, "section": {"Cyber"}, "priority": {"3"},
		"enabled": {"on"}, "action": {"test"}}

	code, body = h.postWith(admin, "/admin/rules/new", form, nil)
	if code != http.StatusOK || !strings.Contains(body, "would have matched 2 of 3 items") || !strings.Contains(body, "1 approved, 0 rejected and 1 queued") ||
		!strings.Contains(body, `value="Fire &lt;desk&gt;"`) {
		t.Errorf("test: %d\n%s", code, body)
	}
	if rs, _ := h.store.ListRules(ctx); len(rs) != 0 {
		t.Fatalf("Test saved the rule: %v", rs)
	}

	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("kind", "regexp")
	bad.Set("include", "fire(")
	bad.Set("priority", "high")
	bad.Set("action", "save")
	code, body = h.postWith(admin, "/admin/rules/new", bad, nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-include"`) || !strings.Contains(body, "bad regexp") ||
		!strings.Contains(body, `id="err-priority"`) || !strings.Contains(body, "fire(") {
		t.Errorf("bad rule: %d\n%s", code, body)
	}
	noCSRF := url.Values{}
	for k, v := range form {
		noCSRF[k] = v
	}
	noCSRF.Del("csrf_token")
	noCSRF.Set("action", "save")
	if code, _ := h.postWith(admin, "/admin/rules/new", noCSRF, nil); code != http.StatusForbidden {
		t.Errorf("save without CSRF: %d", code)
	}
	if rs, _ := h.store.ListRules(ctx); len(rs) != 0 {
		t.Fatalf("a refused form saved a rule: %v", rs)
	}

	form.Set("action", "save")
	code, _ = h.postWith(admin, "/admin/rules/new", form, nil)
	rs, _ := h.store.ListRules(ctx)
	if code != http.StatusSeeOther || len(rs) != 1 {
		t.Fatalf("save: %d, rules %v", code, rs)
	}
	r := rs[0]
	if r.Name != "Fire <desk>" || r.Actions.Section != "Cyber" || r.Actions.Priority == nil || *r.Actions.Priority != 3 ||
		strings.Join(r.Actions.Tags, ",") != "fire,local" || !r.Enabled || strings.Join(r.Fields, ",") != "headline,lead" {
		t.Errorf("saved rule: %+v", r)
	}
	code, body, _ = h.getWith(admin, "/admin/rules/"+r.ID)
	if code != http.StatusOK || !strings.Contains(body, `value="fire, local"`) || !strings.Contains(body, `<option selected>Cyber</option>`) {
		t.Errorf("edit form: %d\n%s", code, body)
	}
	// An edit based on an older version is refused once, with the form
	// kept; saving again replaces the other change.
	edit := url.Values{}
	for k, v := range form {
		edit[k] = v
	}
	edit.Set("version", "1")
	edit.Set("include", "fire, blaze")
	if _, err := h.store.PutRule(ctx, r, 1); err != nil { // someone else's change: version 2
		t.Fatal(err)
	}
	code, body = h.postWith(admin, "/admin/rules/"+r.ID, edit, nil)
	if got, _ := h.store.GetRule(ctx, r.ID); code != http.StatusConflict || !strings.Contains(body, `id="rule-conflict"`) ||
		strings.Contains(body, `id="rule-problems"`) || !strings.Contains(body, `name="version" value="2"`) || got.Include != "fire" {
		t.Errorf("stale edit: %d, stored include %q\n%s", code, got.Include, body)
	}
	edit.Set("version", "2")
	code, _ = h.postWith(admin, "/admin/rules/"+r.ID, edit, nil)
	if got, _ := h.store.GetRule(ctx, r.ID); code != http.StatusSeeOther || got.Include != "fire, blaze" || got.Version != 3 {
		t.Errorf("edit: %d, stored %+v", code, got)
	}
	code, body, _ = h.getWith(admin, "/admin/rules?done=saved")
	if code != http.StatusOK || !strings.Contains(body, html.EscapeString("Fire <desk>")) || !strings.Contains(body, "Rule saved") ||
		!strings.Contains(body, "section Cyber; tag fire, local; priority 3") {
		t.Errorf("list: %d\n%s", code, body)
	}

	del := url.Values{"csrf_token": {token}}
	code, body = h.postWith(admin, "/admin/rules/"+r.ID+"/delete", del, nil)
	if rs, _ := h.store.ListRules(ctx); code != http.StatusOK || !strings.Contains(body, `id="confirm"`) || len(rs) != 1 {
		t.Errorf("delete without confirmation: %d, rules %d", code, len(rs))
	}
	del.Set("confirm", "yes")
	code, _ = h.postWith(admin, "/admin/rules/"+r.ID+"/delete", del, nil)
	if rs, _ := h.store.ListRules(ctx); code != http.StatusSeeOther || len(rs) != 0 {
		t.Errorf("confirmed delete: %d, rules %d", code, len(rs))
	}

	// The queue card says why.
	it := model.NewItem(model.Extraction{URL: "https://example.com/why", Title: "Blaze downtown"}, "Example", "Cyber", time.Now().UTC())
	it.Why = []string{"rule Fire <desk>: section Cyber, tagged fire"}
	if _, err := h.store.AddItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	_, body, _ = h.get("/queue")
	if !strings.Contains(body, "<summary>Why is this here?</summary>") || !strings.Contains(body, "rule Fire &lt;desk&gt;: section Cyber, tagged fire") {
		t.Errorf("queue without the why:\n%s", body)
	}
}
