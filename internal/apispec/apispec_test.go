package apispec

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/andybalholm/brotli"
)

// TestCheckRefusesWhatIsNotDocumented: the check that wraps every
// test server fails an undocumented status, field, header or body, and a
// wrong Allow; documented answers pass.
func TestCheckRefusesWhatIsNotDocumented(t *testing.T) {
	doc := Doc(t)
	item := `{"id":"a","version":3,"url":"u","canonical_url":"u","title":"t","byline":"","published":"","site_name":"","lead":"","body":"","source":"s","section":"","status":"queued","fetched_at":"2026-01-02T15:04:05Z","updated_at":"2026-01-02T15:04:05Z","original":{"url":"u","canonical_url":"u","title":"t","byline":"","published":"","site_name":"","lead":"","body":""}}`
	errBody := func(code string) string { return `{"error":{"code":"` + code + `","message":"m"}}` }
	json := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	with := func(h http.Header, kv ...string) http.Header {
		h = h.Clone()
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	itemHdr := with(json, "ETag", `"3"`)
	for _, tc := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		ok                 bool
	}{
		{"item", "GET", "/api/v1/items/a", 200, itemHdr, item, true},
		{"item without its ETag", "GET", "/api/v1/items/a", 200, json, item, false},
		{"item without its version", "GET", "/api/v1/items/a", 200, itemHdr, strings.Replace(item, `"version":3,`, "", 1), false},
		{"item HEAD", "HEAD", "/api/v1/items/a", 200, itemHdr, "", true},
		{"undocumented status", "GET", "/api/v1/items/a", 409, json, errBody("exists"), false},
		{"undocumented field", "GET", "/api/v1/items/a", 200, itemHdr, strings.Replace(item, `"id":"a"`, `"id":"a","secret":1`, 1), false},
		{"missing field", "GET", "/api/v1/items/a", 200, itemHdr, strings.Replace(item, `"title":"t",`, "", 1), false},
		{"not a time", "GET", "/api/v1/items/a", 200, itemHdr, strings.Replace(item, `"fetched_at":"2026-01-02T15:04:05Z"`, `"fetched_at":"yesterday"`, 1), false},
		{"unknown time", "GET", "/api/v1/items/a", 200, itemHdr, strings.Replace(item, `"fetched_at":"2026-01-02T15:04:05Z"`, `"fetched_at":""`, 1), false},
		{"wrong status enum", "GET", "/api/v1/items/a", 200, itemHdr, strings.Replace(item, `"queued"`, `"pending"`, 1), false},
		{"undocumented header", "GET", "/api/v1/items/a", 200, with(itemHdr, "X-Debug", "1"), item, false},
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
			err := Check(doc, r, tc.status, tc.header, []byte(tc.body))
			if (err == nil) != tc.ok {
				t.Errorf("ok=%v, err=%v", tc.ok, err)
			}
		})
	}
}

// TestHandlerFailsTheTest: a test whose server is wrapped fails on an
// undocumented answer, naming request, status and operation, and the
// answer reaches the client unchanged.
func TestHandlerFailsTheTest(t *testing.T) {
	rec := &recordingTB{TB: t}
	undocumented := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte(`{}`))
	})
	srv := httptest.NewServer(Handler(rec, undocumented))
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

// TestCheckReadsCompressedAnswers: gzip and brotli answers are checked
// on what they decode to.
func TestCheckReadsCompressedAnswers(t *testing.T) {
	doc := Doc(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"name":"ann","role":"reader","disabled":false,"created":"2026-01-02T15:04:05Z","password_hash":"x"}`))
	zw.Close()
	var br bytes.Buffer
	bw := brotli.NewWriter(&br)
	bw.Write([]byte(`{"name":"ann","role":"reader","disabled":false,"created":"2026-01-02T15:04:05Z"}`))
	bw.Close()
	for _, tc := range []struct {
		enc  string
		body []byte
		ok   bool
	}{{"gzip", gz.Bytes(), false}, {"br", br.Bytes(), true}, {"gzip", []byte("not gzip"), false}} {
		h := http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {tc.enc}}
		err := Check(doc, httptest.NewRequest("GET", "/api/v1/me", nil), 200, h, tc.body)
		if (err == nil) != tc.ok {
			t.Errorf("%s: ok=%v, err=%v", tc.enc, tc.ok, err)
		}
	}
}
