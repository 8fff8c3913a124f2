package web

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/clipsheet/clipsheet/internal/apispec"
	"github.com/clipsheet/clipsheet/internal/curate"
	"github.com/clipsheet/clipsheet/internal/model"
)

// docs/openapi.yaml is the API's contract: the harness checks every
// /api/v1 answer of every test against it (apispec.Handler in
// newHarnessWith). These tests hold the document to the routes and the
// code's limits.

// TestOpenAPIDescribesEveryAPIRoute: docs/openapi.yaml has an operation
// for every registered /api/v1 route and none that does not exist; every
// operation has an operationId, a tag and a description. HEAD is
// answered wherever GET is and is not described separately.
func TestOpenAPIDescribesEveryAPIRoute(t *testing.T) {
	doc := apispec.Doc(t)
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + apispec.Base + path
			documented[key] = true
			if op.OperationID == "" || len(op.Tags) == 0 || op.Description == "" || op.Summary == "" {
				t.Errorf("%s lacks an operationId, tag, summary or description", key)
			}
		}
	}
	param := regexp.MustCompile(`[:*]([a-z]+)`)
	h := newHarness(t)
	n := 0
	for _, r := range h.server.Routes() {
		if !apispec.IsAPIPath(r.Path) || r.Method == http.MethodHead {
			continue
		}
		n++
		key := r.Method + " " + param.ReplaceAllString(r.Path, "{$1}")
		if !documented[key] {
			t.Errorf("%s is not in docs/openapi.yaml", key)
		}
		delete(documented, key)
	}
	for key := range documented {
		t.Errorf("docs/openapi.yaml describes %s, which is not a route", key)
	}
	if n < 19 {
		t.Fatalf("only %d API routes registered?", n)
	}
}

// TestLocationAnswersGET: the Location of every 201 answers GET with what
// was created.
func TestLocationAnswersGET(t *testing.T) {
	e := newSourcesEnv(t)
	api := e.apiAs(model.RoleAdmin)
	creates := []struct{ path, body, name string }{
		{"/api/v1/sources", `{"name":"AP / Wire","url":"https://ap.example/wire.rss"}`, "AP / Wire"},
		{"/api/v1/sections", `{"name":"Elections & votes","position":2}`, "Elections & votes"},
		// Publishing the next edition: its Location names the edition.
		{"/api/v1/editions", "", ""},
		{"/api/v1/rules", `{"name":"Fire & flood","include":"fire","actions":{"tags":["fire"]}}`, "Fire & flood"},
	}
	e.addApproved("loc", "Flood warning", "Crest tonight.", "Top stories")
	// Every operation the document gives a Location is tried here.
	for path, item := range apispec.Doc(t).Paths.Map() {
		for method, op := range item.Operations() {
			for status, resp := range op.Responses.Map() {
				if _, ok := resp.Value.Headers["Location"]; ok && !slices.ContainsFunc(creates, func(c struct{ path, body, name string }) bool {
					return method == http.MethodPost && c.path == apispec.Base+path
				}) {
					t.Errorf("%s %s answers %s with a Location this test does not follow", method, path, status)
				}
			}
		}
	}
	for _, tc := range creates {
		code, hdr, _ := api.do("POST", tc.path, tc.body)
		loc := hdr.Get("Location")
		if code != http.StatusCreated || loc == "" {
			t.Fatalf("POST %s: %d, Location %q", tc.path, code, loc)
		}
		code, hdr2, body := api.do("GET", loc, "")
		if tc.name == "" {
			tc.name = loc[strings.LastIndex(loc, "/")+1:]
			body["name"] = body["id"]
		}
		if code != http.StatusOK || body["name"] != tc.name {
			t.Errorf("GET %s (the Location of POST %s): %d %v", loc, tc.path, code, body)
		}
		if hdr2.Get("ETag") != hdr.Get("ETag") {
			t.Errorf("GET %s: ETag %s, the create answered %s", loc, hdr2.Get("ETag"), hdr.Get("ETag"))
		}
	}
}

// TestSpecLimitsAgreeWithTheCode: the limits the document states are the
// ones the server holds, at and just past each edge.
func TestSpecLimitsAgreeWithTheCode(t *testing.T) {
	doc := apispec.Doc(t)
	h := newHarness(t)
	tok := h.token(model.RoleAdmin)
	for _, tc := range []struct{ path, param string }{
		{"/items", "limit"}, {"/items", "offset"}, {"/audit", "limit"}, {"/audit", "before"},
	} {
		var schema *openapi3.Schema
		for _, p := range doc.Paths.Value(tc.path).Get.Parameters {
			if p.Value.Name == tc.param {
				schema = p.Value.Schema.Value
			}
		}
		if schema == nil || schema.Min == nil {
			t.Fatalf("%s?%s: no minimum in the document", tc.path, tc.param)
		}
		edges := map[float64]int{*schema.Min: 200, *schema.Min - 1: 400}
		if schema.Max != nil {
			edges[*schema.Max], edges[*schema.Max+1] = 200, 400
		}
		for v, want := range edges {
			q := apispec.Base + tc.path + "?" + tc.param + "=" + strconv.FormatFloat(v, 'f', -1, 64)
			if code, body := h.apiCall(tok, "GET", q, ""); code != want {
				t.Errorf("%s: %d, want %d (%v)", q, code, want, body)
			}
		}
	}
}

// TestSpecEditLimitsAreTheDesks: the edit limits the document states are
// the desk's.
func TestSpecEditLimitsAreTheDesks(t *testing.T) {
	patch := apispec.Doc(t).Components.Schemas["ItemPatch"].Value
	for field, want := range map[string]int{
		"title": curate.MaxTitleChars, "lead": curate.MaxLeadChars, "byline": curate.MaxBylineChars, "note": curate.MaxNoteChars,
	} {
		if got := patch.Properties[field].Value.MaxLength; got == nil || *got != uint64(want) {
			t.Errorf("ItemPatch.%s maxLength %v, the desk's limit is %d", field, got, want)
		}
	}
	tags := patch.Properties["tags"].Value
	if tags.MaxItems == nil || *tags.MaxItems != uint64(curate.MaxTags) || tags.Items.Value.MaxLength == nil || *tags.Items.Value.MaxLength != uint64(curate.MaxTagChars) {
		t.Errorf("ItemPatch.tags: maxItems %v, items maxLength %v; the desk's limits are %d and %d", tags.MaxItems, tags.Items.Value.MaxLength, curate.MaxTags, curate.MaxTagChars)
	}
}

// TestSectionPositionCountsFromOne: a section position below 0 is refused
// on add as on change (0 or absent: append, or keep the place), as the
// document states.
func TestSectionPositionCountsFromOne(t *testing.T) {
	e := newSourcesEnv(t)
	api := e.apiAs(model.RoleAdmin)
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/api/v1/sections", `{"name":"Elections","position":-1}`, http.StatusUnprocessableEntity},
		{"POST", "/api/v1/sections", `{"name":"Elections","position":0}`, http.StatusCreated},
		{"PUT", "/api/v1/sections/Elections", `{"position":-1}`, http.StatusUnprocessableEntity},
		{"PUT", "/api/v1/sections/Elections", `{"position":1}`, http.StatusOK},
	} {
		if code, _, body := api.do(tc.method, tc.path, tc.body); code != tc.want {
			t.Errorf("%s %s %s: %d, want %d (%v)", tc.method, tc.path, tc.body, code, tc.want, body)
		}
	}
	if secs := e.live.Current().Sections; len(secs) == 0 || secs[0] != "Elections" {
		t.Errorf("sections: %v", secs)
	}
}

// TestAPIErrorAnswers reaches the error answers the other API tests do
// not (wrong content type, malformed replace, stale delete, no sources
// file, a failing store), so the harness checks them against the document
// too.
func TestAPIErrorAnswers(t *testing.T) {
	e := newSourcesEnv(t)
	api := e.apiAs(model.RoleAdmin)
	item := e.add("https://example.com/a", "A", "Lead.", "")
	stale := `"` + strings.Repeat("0", 64) + `"`
	for _, tc := range []struct {
		method, path, body string
		hdr                []string
		want               int
		code               string
	}{
		{"PATCH", "/api/v1/items/" + item.ID, `{"title":"B"}`, []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType, "bad_content_type"},
		{"POST", "/api/v1/sources", `{"name":"X","url":"https://x.example/feed"}`, []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType, "bad_content_type"},
		{"POST", "/api/v1/sections", `{"name":"X"}`, []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType, "bad_content_type"},
		{"PUT", "/api/v1/sources/" + url.PathEscape("Krebs on Security"), `{"name":`, nil, http.StatusBadRequest, "bad_request"},
		{"PUT", "/api/v1/sections/Cyber", `{"name":`, nil, http.StatusBadRequest, "bad_request"},
		{"DELETE", "/api/v1/sources/" + url.PathEscape("Krebs on Security"), "", []string{"If-Match", stale}, http.StatusPreconditionFailed, "stale"},
		{"DELETE", "/api/v1/sections/Cyber", "", []string{"If-Match", stale}, http.StatusPreconditionFailed, "stale"},
	} {
		if code, _, body := api.do(tc.method, tc.path, tc.body, tc.hdr...); code != tc.want || errCode(body) != tc.code {
			t.Errorf("%s %s: %d %v, want %d %s", tc.method, tc.path, code, body, tc.want, tc.code)
		}
	}

	// Without an editable sources file.
	h := newHarness(t)
	admin := h.token(model.RoleAdmin)
	for _, p := range []string{"/api/v1/sources", "/api/v1/sections", "/api/v1/sections/Cyber"} {
		if code, body := h.apiCall(admin, "GET", p, ""); code != http.StatusServiceUnavailable || apiErrCode(body) != "unavailable" {
			t.Errorf("GET %s without a sources file: %d %v", p, code, body)
		}
	}
	// A store that fails: 500 without details.
	h.store.Close()
	if code, body := h.apiCall(admin, "GET", "/api/v1/me", ""); code != http.StatusInternalServerError || apiErrCode(body) != "internal" {
		t.Errorf("failing store: %d %v", code, body)
	}
}
