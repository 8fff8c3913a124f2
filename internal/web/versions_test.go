package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

// apiDo is apiCall with request headers, answering the response headers too.
func (h *harness) apiDo(token, method, path, body string, header map[string]string) (int, http.Header, map[string]any) {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("%s %s: not JSON (%d): %s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, res.Header, out
}

// TestAPIItemVersions: the API names an item's version in ETag, takes it
// back in If-Match (or a decision's body), refuses a write based on an
// older one with 412, what happened and the current item, and applies
// writes without a version as before.
func TestAPIItemVersions(t *testing.T) {
	h := newHarness(t)
	tok := h.token(model.RoleCurator)
	it := h.add("https://example.com/v", "Flood warning", "River crest.", "Top stories")
	path := "/api/v1/items/" + it.ID

	code, hdr, body := h.apiDo(tok, "GET", path, "", nil)
	if code != 200 || hdr.Get("ETag") != `"1"` || body["version"] != float64(1) {
		t.Fatalf("GET: %d, ETag %q, version %v", code, hdr.Get("ETag"), body["version"])
	}
	// Someone rejects the item on the version both saw...
	code, hdr, body = h.apiDo(tok, "POST", path+"/reject", "", map[string]string{"If-Match": `"1"`})
	if code != 200 || hdr.Get("ETag") != `"2"` || body["status"] != "rejected" || body["version"] != float64(2) {
		t.Fatalf("reject on the current version: %d, ETag %q, %v", code, hdr.Get("ETag"), body)
	}
	h.clock.Add(2 * time.Minute)
	// ...and every later write based on version 1 is refused.
	for _, tc := range []struct {
		name, method, path, body string
		header                   map[string]string
	}{
		{"approve with If-Match", "POST", path + "/approve", "", map[string]string{"If-Match": `"1"`}},
		{"approve with a body version", "POST", path + "/approve", `{"version": 1}`, nil},
		{"reject with If-Match", "POST", path + "/reject", "", map[string]string{"If-Match": `"1"`}},
		{"patch with If-Match", "PATCH", path, `{"title":"Mine"}`, map[string]string{"If-Match": `"1"`}},
	} {
		code, hdr, body := h.apiDo(tok, tc.method, tc.path, tc.body, tc.header)
		e, _ := body["error"].(map[string]any)
		cur, _ := body["current"].(map[string]any)
		if code != http.StatusPreconditionFailed || e["code"] != "stale" || e["message"] != "already rejected by cur 2 min ago" {
			t.Errorf("%s: %d %v", tc.name, code, body)
		}
		if cur["status"] != "rejected" || cur["version"] != float64(2) || cur["id"] != it.ID || hdr.Get("ETag") != `"2"` {
			t.Errorf("%s: current %v, ETag %q", tc.name, cur, hdr.Get("ETag"))
		}
	}
	if got := mustItem(t, h, it.ID); got.Status != model.StatusRejected || got.Title != "Flood warning" || got.Version != 2 {
		t.Fatalf("refused writes were applied: %+v", got)
	}

	for _, tc := range []struct {
		name, method, path, body string
		header                   map[string]string
	}{
		{"If-Match not an item version", "POST", path + "/approve", "", map[string]string{"If-Match": `"abc"`}},
		{"If-Match without quotes", "PATCH", path, `{"title":"x"}`, map[string]string{"If-Match": `2`}},
		{"If-Match and body disagree", "POST", path + "/approve", `{"version": 2}`, map[string]string{"If-Match": `"3"`}},
		{"version 0", "POST", path + "/approve", `{"version": 0}`, nil},
		{"unknown body field", "POST", path + "/approve", `{"versoin": 2}`, nil},
		{"PATCH body version (If-Match only)", "PATCH", path, `{"title":"x","version":2}`, nil},
	} {
		if code, _, body := h.apiDo(tok, tc.method, tc.path, tc.body, tc.header); code != 400 || apiErrCode(body) != "bad_request" {
			t.Errorf("%s: %d %v", tc.name, code, body)
		}
	}

	// An oversized body is 413, also sent chunked (no Content-Length to
	// refuse it by up front).
	huge := `{"version": 2` + strings.Repeat(" ", maxBody) + `}`
	if code, _, body := h.apiDo(tok, "POST", path+"/approve", huge, nil); code != http.StatusRequestEntityTooLarge || apiErrCode(body) != "too_large" {
		t.Errorf("oversized decision body: %d %v", code, body)
	}
	req, _ := http.NewRequest("POST", h.srv.URL+path+"/approve", io.MultiReader(strings.NewReader(huge)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	if res, err := http.DefaultClient.Do(req); err != nil {
		t.Error(err)
	} else {
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("oversized chunked decision body: %d", res.StatusCode)
		}
	}

	// On the current version, and with no version at all, writes apply.
	code, hdr, body = h.apiDo(tok, "PATCH", path, `{"title":"Flood warning for river towns"}`, map[string]string{"If-Match": `"2"`})
	if code != 200 || hdr.Get("ETag") != `"3"` || body["title"] != "Flood warning for river towns" {
		t.Errorf("patch on the current version: %d, ETag %q, %v", code, hdr.Get("ETag"), body)
	}
	code, hdr, body = h.apiDo(tok, "POST", path+"/approve", `{"version": 3}`, nil)
	if code != 200 || hdr.Get("ETag") != `"4"` || body["status"] != "approved" {
		t.Errorf("approve with the current body version: %d, ETag %q, %v", code, hdr.Get("ETag"), body)
	}
	code, hdr, body = h.apiDo(tok, "POST", path+"/reject", "", nil)
	if code != 200 || hdr.Get("ETag") != `"5"` || body["status"] != "rejected" {
		t.Errorf("reject without a version: %d, ETag %q, %v", code, hdr.Get("ETag"), body)
	}
	code, _, body = h.apiDo(tok, "POST", path+"/approve", "", map[string]string{"If-Match": "*"})
	if code != 200 || body["status"] != "approved" {
		t.Errorf("approve with If-Match *: %d %v", code, body)
	}
	code, _, body = h.apiDo(tok, "PATCH", path, `{"note":"seen"}`, nil)
	if code != 200 || body["note"] != "seen" || body["version"] != float64(7) {
		t.Errorf("patch without If-Match: %d %v", code, body)
	}
}

var (
	versionFieldRe = regexp.MustCompile(`action="/items/([0-9a-f]+)/(approve|reject|requeue|edit)"(?s:.*?)name="version" value="(\d+)"`)
	staleNoticeRe  = regexp.MustCompile(`(?s)<div class="stale-notice"[^>]*>.*?</div>`)
	hiddenFieldRe  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// TestStaleFormShowsWhatHappened: two curators have the queue open; the
// first rejects an item, the second's approve from the now stale page is
// not applied but answered with the queue, "Already rejected by cur 2 min
// ago — approve anyway?", and a button that approves on the current
// version. A stale edit keeps the curator's text for "save anyway".
func TestStaleFormShowsWhatHappened(t *testing.T) {
	h := newHarness(t)
	it := h.add("https://example.com/s", "Bridge inspection closes two lanes", "Crews inspect.", "Top stories")
	other := h.as(model.RoleAdmin)

	_, page, _ := h.get("/queue")
	for _, m := range versionFieldRe.FindAllStringSubmatch(page, -1) {
		if m[3] != "1" {
			t.Errorf("%s form of item %s carries version %s, want 1", m[2], m[1], m[3])
		}
	}
	if n := len(versionFieldRe.FindAllString(page, -1)); n != 3 {
		t.Errorf("queue page has %d item forms with a version, want 3 (approve, reject, edit)", n)
	}
	csrf := h.csrf()
	if code, _ := h.post("/items/"+it.ID+"/reject", url.Values{"csrf_token": {csrf}, "version": {"1"}, "return": {"/queue"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("first curator's reject: %d", code)
	}
	h.clock.Add(2 * time.Minute)
	otherCSRF := h.csrfOf(other, "/queue")
	code, body := h.postWith(other, "/items/"+it.ID+"/approve", url.Values{"csrf_token": {otherCSRF}, "version": {"1"}, "return": {"/queue?status=queued&q=bridge"}}, nil)
	if code != http.StatusConflict {
		t.Fatalf("stale approve: %d, want 409 with the queue", code)
	}
	notice := staleNoticeRe.FindString(body)
	if !strings.Contains(notice, "Already rejected by cur 2 min ago — approve anyway?") || !strings.Contains(notice, "Bridge inspection closes two lanes") {
		t.Fatalf("stale approve notice:\n%s", notice)
	}
	if !strings.Contains(body, `name="q" value="bridge"`) {
		t.Errorf("the re-rendered queue lost the filter the form came from")
	}
	if got := mustItem(t, h, it.ID); got.Status != model.StatusRejected || got.DecidedBy != "cur" {
		t.Fatalf("stale approve was applied: %+v", got)
	}
	// The notice's button approves on the current version.
	form := url.Values{}
	for _, m := range hiddenFieldRe.FindAllStringSubmatch(notice, -1) {
		form.Add(m[1], m[2])
	}
	if form.Get("version") != "2" || !strings.Contains(notice, `action="/items/`+it.ID+`/approve"`) || !strings.Contains(notice, ">Approve anyway</button>") {
		t.Fatalf("approve-anyway form: %v\n%s", form, notice)
	}
	if code, _ := h.postWith(other, "/items/"+it.ID+"/approve", form, nil); code != http.StatusSeeOther {
		t.Fatalf("approve anyway: %d", code)
	}
	if got := mustItem(t, h, it.ID); got.Status != model.StatusApproved || got.DecidedBy != "root" || got.Version != 3 {
		t.Fatalf("after approve anyway: %+v", got)
	}

	// Deciding what already stands needs no button.
	code, body = h.post("/items/"+it.ID+"/approve", url.Values{"csrf_token": {csrf}, "version": {"1"}}, nil)
	notice = staleNoticeRe.FindString(body)
	if code != http.StatusConflict || !strings.Contains(notice, "Already approved by root") || strings.Contains(notice, "<button") {
		t.Errorf("approve of an item approved since: %d\n%s", code, notice)
	}

	// A stale edit keeps what the curator typed for "save anyway".
	code, body = h.post("/items/"+it.ID+"/edit", url.Values{"csrf_token": {csrf}, "version": {"2"}, "title": {"My better headline"}, "then": {"approved"}}, nil)
	notice = staleNoticeRe.FindString(body)
	if code != http.StatusConflict || !regexp.MustCompile(`Already approved by root (just now|\d+ min ago) — save your edit anyway\?`).MatchString(notice) {
		t.Fatalf("stale edit: %d\n%s", code, notice)
	}
	form = url.Values{}
	for _, m := range hiddenFieldRe.FindAllStringSubmatch(notice, -1) {
		form.Add(m[1], m[2])
	}
	if form.Get("title") != "My better headline" || form.Get("then") != "approved" || form.Get("version") != "3" {
		t.Fatalf("save-anyway form: %v", form)
	}
	if code, _ := h.post("/items/"+it.ID+"/edit", form, nil); code != http.StatusSeeOther {
		t.Fatalf("save anyway: %d", code)
	}
	if got := mustItem(t, h, it.ID); got.Title != "My better headline" || got.EditedBy != "cur" {
		t.Errorf("after save anyway: %+v", got)
	}

	// Forms without a version (older pages, scripts) apply as before.
	if code, _ := h.post("/items/"+it.ID+"/reject", url.Values{"csrf_token": {csrf}}, nil); code != http.StatusSeeOther {
		t.Errorf("reject without a version: %d", code)
	}
	if code, _ := h.post("/items/"+it.ID+"/reject", url.Values{"csrf_token": {csrf}, "version": {"x"}}, nil); code != http.StatusUnprocessableEntity {
		t.Errorf("reject with a broken version: %d", code)
	}
	if it, _ := h.store.GetItem(context.Background(), it.ID); it.Status != model.StatusRejected {
		t.Errorf("status %s after reject without a version", it.Status)
	}
}

// TestStaleMessage: the refusal names the change that came first, who made
// it and how long ago.
func TestStaleMessage(t *testing.T) {
	now := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		it   model.Item
		want string
	}{
		{"rejected", model.Item{Status: model.StatusRejected, DecidedBy: "demo", DecidedAt: now.Add(-2 * time.Minute), UpdatedAt: now.Add(-2 * time.Minute)}, "already rejected by demo 2 min ago"},
		{"approved", model.Item{Status: model.StatusApproved, DecidedBy: "ann", DecidedAt: now.Add(-3 * time.Hour), UpdatedAt: now.Add(-3 * time.Hour)}, "already approved by ann 3 h ago"},
		{"requeued", model.Item{Status: model.StatusQueued, DecidedBy: "ann", DecidedAt: now.Add(-10 * time.Second), UpdatedAt: now.Add(-10 * time.Second)}, "moved back to the queue by ann just now"},
		{"edited after the decision", model.Item{Status: model.StatusApproved, DecidedBy: "ann", DecidedAt: now.Add(-time.Hour), EditedBy: "ben", UpdatedAt: now.Add(-5 * time.Minute)}, "edited by ben 5 min ago"},
		{"edited, never decided", model.Item{Status: model.StatusQueued, EditedBy: "ben", UpdatedAt: now.Add(-time.Minute)}, "edited by ben 1 min ago"},
		{"decided by a name unknown", model.Item{Status: model.StatusRejected, DecidedAt: now.Add(-2 * time.Minute), UpdatedAt: now.Add(-2 * time.Minute)}, "already rejected 2 min ago"},
		{"changed otherwise", model.Item{Status: model.StatusQueued}, "changed since you opened it"},
	} {
		if got := staleMessage(&tc.it, now); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
