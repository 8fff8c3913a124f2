package web

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/clipsheet/clipsheet/internal/model"
)

// docs/openapi.yaml is the API's contract: the test harness sends every
// /api/v1 answer of every test through checkAnswer (specChecked), so an
// undocumented status, header, field or body fails the test that met it.

const specFile = "../../docs/openapi.yaml"

// loadSpec reads and checks the document once for the package's tests.
var loadSpec = sync.OnceValues(func() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specFile)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", specFile, err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("%s is no valid OpenAPI document: %w", specFile, err)
	}
	return doc, nil
})

func apiSpec(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

const apiBase = "/api/v1"

func isAPIPath(p string) bool { return p == apiBase || strings.HasPrefix(p, apiBase+"/") }

// genericHeaders go with every answer, API or not (security headers,
// caching, transfer and compression); the document says so once, in its
// description. Any other header must be declared on the response.
var genericHeaders = []string{
	"Content-Type", "Content-Length", "Content-Encoding", "Vary", "Date", "Cache-Control", "Set-Cookie",
	"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
	"Cross-Origin-Opener-Policy", "Permissions-Policy", "Strict-Transport-Security",
}

// specChecked wraps the server so that every /api/v1 answer is checked
// against the document; a mismatch fails t.
func specChecked(t testing.TB, next http.Handler) http.Handler {
	doc := apiSpec(t)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isAPIPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		// Keep the request body for the request check; a body beyond what
		// is kept still reaches the server whole.
		var reqBody []byte
		if r.Body != nil {
			reqBody, _ = io.ReadAll(io.LimitReader(r.Body, 4<<20))
			r.Body = readCloser{io.MultiReader(bytes.NewReader(reqBody), r.Body), r.Body}
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		res := rec.Result()
		body := rec.Body.Bytes()
		out := w.Header()
		for k, v := range res.Header {
			out[k] = v
		}
		w.WriteHeader(res.StatusCode)
		w.Write(body)

		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		if err := checkAnswer(doc, r, res.StatusCode, res.Header, body); err != nil {
			t.Errorf("%s %s answered %d, which docs/openapi.yaml does not allow: %v", r.Method, r.URL.RequestURI(), res.StatusCode, err)
		}
	})
}

type readCloser struct {
	io.Reader
	io.Closer
}

// findOperation matches the request path against the document's paths,
// segment by segment on the escaped path, so "/sources/AP%20%2F%20Wire" is
// one {name}. Literal segments win over parameters.
func findOperation(doc *openapi3.T, escapedPath string) (tmpl string, item *openapi3.PathItem, params map[string]string) {
	rest, ok := strings.CutPrefix(escapedPath, apiBase)
	if !ok || rest == "" {
		return "", nil, nil
	}
	segs := strings.Split(rest, "/")
	best := -1
	for _, p := range doc.Paths.InMatchingOrder() {
		tsegs := strings.Split(p, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		got, literal := map[string]string{}, 0
		for i, ts := range tsegs {
			if strings.HasPrefix(ts, "{") && strings.HasSuffix(ts, "}") {
				v, err := url.PathUnescape(segs[i])
				if segs[i] == "" || err != nil {
					got = nil
					break
				}
				got[ts[1:len(ts)-1]] = v
				continue
			}
			if ts != segs[i] {
				got = nil
				break
			}
			literal++
		}
		if got != nil && literal > best {
			best, tmpl, item, params = literal, p, doc.Paths.Value(p), got
		}
	}
	return tmpl, item, params
}

// checkAnswer checks one answer of the API against the document: the
// status must be documented for the operation, and so must its headers
// and body. A request the server accepted (2xx) must also be one the
// document allows. Answers that match no operation must be NotFound (no
// such path) or MethodNotAllowed (with Allow naming the path's methods).
func checkAnswer(doc *openapi3.T, r *http.Request, status int, header http.Header, body []byte) error {
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	tmpl, item, params := findOperation(doc, r.URL.EscapedPath())
	var op *openapi3.Operation
	name := ""
	switch {
	case item == nil:
		op, name = componentOperation(doc, http.StatusNotFound, "NotFound"), "(no such path)"
	case item.GetOperation(method) == nil:
		op, name = componentOperation(doc, http.StatusMethodNotAllowed, "MethodNotAllowed"), "(no such method)"
		if status == http.StatusMethodNotAllowed {
			if err := checkAllow(item, header.Get("Allow")); err != nil {
				return fmt.Errorf("%s %s: %w", name, tmpl, err)
			}
		}
	default:
		op, name = item.GetOperation(method), item.GetOperation(method).OperationID
	}
	route := &routers.Route{Spec: doc, Path: tmpl, PathItem: item, Method: method, Operation: op}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, SkipSettingDefaults: true,
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
	fail := func(err error) error { return fmt.Errorf("%s: %w", name, err) }

	resp := op.Responses.Status(status)
	if resp == nil {
		return fail(fmt.Errorf("status %d is not documented", status))
	}
	if err := undeclaredHeaders(resp.Value, header); err != nil {
		return fail(err)
	}
	if r.Method == http.MethodHead {
		if len(body) > 0 {
			return fail(errors.New("HEAD answered with a body"))
		}
		return nil
	}
	plain, err := decoded(header, body)
	if err != nil {
		return fail(err)
	}
	if len(resp.Value.Content) == 0 && len(plain) > 0 {
		return fail(fmt.Errorf("the document gives status %d no body, the answer has %q", status, truncate(plain, 200)))
	}
	h := header.Clone()
	h.Del("Content-Encoding")
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: h, Options: opts}
	out.SetBodyBytes(plain)
	if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
		return fail(err)
	}
	if status >= 200 && status < 300 && item != nil {
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			return fail(fmt.Errorf("the server accepted a request the document refuses: %w", err))
		}
	}
	return nil
}

// componentOperation stands for the answers no operation describes: a
// path that does not exist, a method a path does not have.
func componentOperation(doc *openapi3.T, status int, component string) *openapi3.Operation {
	ref := doc.Components.Responses[component]
	return &openapi3.Operation{Responses: openapi3.NewResponses(openapi3.WithStatus(status, ref))}
}

// checkAllow: a 405's Allow names exactly the path's methods (HEAD and
// OPTIONS may come with them).
func checkAllow(item *openapi3.PathItem, allow string) error {
	var want, got []string
	for m := range item.Operations() {
		want = append(want, m)
	}
	for m := range strings.SplitSeq(allow, ",") {
		if m = strings.ToUpper(strings.TrimSpace(m)); m != "" && m != http.MethodHead && m != http.MethodOptions {
			got = append(got, m)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		return fmt.Errorf("Allow %q, want the path's methods %v", allow, want)
	}
	return nil
}

func undeclaredHeaders(resp *openapi3.Response, header http.Header) error {
	for k := range header {
		if slices.ContainsFunc(genericHeaders, func(g string) bool { return strings.EqualFold(g, k) }) {
			continue
		}
		declared := false
		for d := range resp.Headers {
			declared = declared || strings.EqualFold(d, k)
		}
		if !declared {
			return fmt.Errorf("header %s: %q is not documented for this status", k, header.Get(k))
		}
	}
	return nil
}

// decoded undoes Content-Encoding, so compressed answers are checked too.
func decoded(header http.Header, body []byte) ([]byte, error) {
	var r io.Reader
	switch enc := header.Get("Content-Encoding"); enc {
	case "", "identity":
		return body, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	default:
		return nil, fmt.Errorf("unexpected Content-Encoding %q", enc)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s body: %w", header.Get("Content-Encoding"), err)
	}
	return b, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// TestSpecCheckRefusesWhatIsNotDocumented: the check that wraps every
// test server fails an undocumented status, field, header or body, and a
// wrong Allow; documented answers pass.
func TestSpecCheckRefusesWhatIsNotDocumented(t *testing.T) {
	doc := apiSpec(t)
	item := `{"id":"a","url":"u","canonical_url":"u","title":"t","byline":"","published":"","site_name":"","lead":"","body":"","source":"s","section":"","status":"queued","fetched_at":"2026-01-02T15:04:05Z","updated_at":"2026-01-02T15:04:05Z","original":{"url":"u","canonical_url":"u","title":"t","byline":"","published":"","site_name":"","lead":"","body":""}}`
	errBody := func(code string) string { return `{"error":{"code":"` + code + `","message":"m"}}` }
	json := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	with := func(h http.Header, kv ...string) http.Header {
		h = h.Clone()
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	for _, tc := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		ok                 bool
	}{
		{"item", "GET", "/api/v1/items/a", 200, json, item, true},
		{"item HEAD", "HEAD", "/api/v1/items/a", 200, json, "", true},
		{"undocumented status", "GET", "/api/v1/items/a", 409, json, errBody("exists"), false},
		{"undocumented field", "GET", "/api/v1/items/a", 200, json, strings.Replace(item, `"id":"a"`, `"id":"a","secret":1`, 1), false},
		{"missing field", "GET", "/api/v1/items/a", 200, json, strings.Replace(item, `"title":"t",`, "", 1), false},
		{"wrong status enum", "GET", "/api/v1/items/a", 200, json, strings.Replace(item, `"queued"`, `"pending"`, 1), false},
		{"undocumented header", "GET", "/api/v1/items/a", 200, with(json, "X-Debug", "1"), item, false},
		{"error code for another status", "GET", "/api/v1/items/a", 404, json, errBody("forbidden"), false},
		{"401 without WWW-Authenticate", "GET", "/api/v1/me", 401, json, errBody("unauthenticated"), false},
		{"401", "GET", "/api/v1/me", 401, with(json, "WWW-Authenticate", `Bearer realm="clipsheet"`), errBody("unauthenticated"), true},
		{"body where none is documented", "DELETE", "/api/v1/sources/x", 204, with(json, "ETag", `"`+strings.Repeat("a", 64)+`"`), `{}`, false},
		{"201 without Location", "POST", "/api/v1/sections", 201, with(json, "ETag", `"`+strings.Repeat("a", 64)+`"`), `{"name":"x","sources":0}`, false},
		{"201", "POST", "/api/v1/sections", 201, with(json, "ETag", `"`+strings.Repeat("a", 64)+`"`, "Location", "/api/v1/sections/x"), `{"name":"x","sources":0}`, true},
		{"unknown path", "GET", "/api/v1/nothing", 404, json, errBody("not_found"), true},
		{"unknown path, HTML", "GET", "/api/v1", 404, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, "<p>Page not found</p>", false},
		{"405", "DELETE", "/api/v1/items/a", 405, with(json, "Allow", "GET, HEAD, PATCH"), errBody("method_not_allowed"), true},
		{"405 without Allow", "DELETE", "/api/v1/items/a", 405, json, errBody("method_not_allowed"), false},
		{"405 with a wrong Allow", "PUT", "/api/v1/sources", 405, with(json, "Allow", "GET"), errBody("method_not_allowed"), false},
		{"422 problems", "POST", "/api/v1/sources", 422, json, `{"error":{"code":"invalid","message":"m","problems":[{"line":0,"field":"url","message":"m"}]}}`, true},
		{"422 problems without message", "POST", "/api/v1/sources", 422, json, `{"error":{"code":"invalid","message":"m","problems":[{"line":0,"field":"url"}]}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.method == "POST" {
				body = strings.NewReader(`{"name":"x"}`)
			}
			r := httptest.NewRequest(tc.method, tc.path, body)
			if body != nil {
				r.Header.Set("Content-Type", "application/json")
			}
			err := checkAnswer(doc, r, tc.status, tc.header, []byte(tc.body))
			if (err == nil) != tc.ok {
				t.Errorf("ok=%v, err=%v", tc.ok, err)
			}
		})
	}
}

// TestSpecCheckWrapsTheHarness: a test that meets an undocumented answer
// fails, through the harness alone.
func TestSpecCheckWrapsTheHarness(t *testing.T) {
	rec := &recordingTB{TB: t}
	undocumented := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte(`{}`))
	})
	srv := httptest.NewServer(specChecked(rec, undocumented))
	defer srv.Close()
	for _, p := range []string{"/api/v1/me", "/not-api"} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusTeapot {
			t.Errorf("%s: the wrapper changed the answer: %d", p, res.StatusCode)
		}
	}
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "GET /api/v1/me answered 418") || !strings.Contains(rec.errs[0], "getMe") {
		t.Errorf("want one failure naming the request and operation, got %q", rec.errs)
	}
}

// recordingTB records failures instead of failing.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestOpenAPIDescribesEveryAPIRoute: docs/openapi.yaml has an operation
// for every registered /api/v1 route and none that does not exist; every
// operation has an operationId, a tag and a description. HEAD is
// answered wherever GET is and is not described separately.
func TestOpenAPIDescribesEveryAPIRoute(t *testing.T) {
	doc := apiSpec(t)
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + apiBase + path
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
		if !isAPIPath(r.Path) || r.Method == http.MethodHead {
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
	for _, tc := range []struct{ path, body, name string }{
		{"/api/v1/sources", `{"name":"AP / Wire","url":"https://ap.example/wire.rss"}`, "AP / Wire"},
		{"/api/v1/sections", `{"name":"Elections & votes","position":2}`, "Elections & votes"},
	} {
		code, hdr, _ := api.do("POST", tc.path, tc.body)
		loc := hdr.Get("Location")
		if code != http.StatusCreated || loc == "" {
			t.Fatalf("POST %s: %d, Location %q", tc.path, code, loc)
		}
		code, hdr2, body := api.do("GET", loc, "")
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
	doc := apiSpec(t)
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
			q := apiBase + tc.path + "?" + tc.param + "=" + strconv.FormatFloat(v, 'f', -1, 64)
			if code, body := h.apiCall(tok, "GET", q, ""); code != want {
				t.Errorf("%s: %d, want %d (%v)", q, code, want, body)
			}
		}
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
