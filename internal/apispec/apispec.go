// Package apispec checks the answers of the JSON API against
// docs/openapi.yaml, the API's contract, with kin-openapi's validator. Test
// servers wrap their handler with Handler, so an undocumented status,
// header, field or body fails the test that met it. Only tests import it.
package apispec

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// load reads and checks the document once per test binary.
var load = sync.OnceValues(func() (*openapi3.T, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return nil, errors.New("apispec: cannot locate docs/openapi.yaml")
	}
	specFile := filepath.Join(filepath.Dir(self), "..", "..", "docs", "openapi.yaml")
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

// Doc is docs/openapi.yaml, loaded and validated; a document that does
// not load fails t.
func Doc(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := load()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// Base is where the API lives; the document's server URL.
const Base = "/api/v1"

// IsAPIPath reports whether a request path belongs to the API.
func IsAPIPath(p string) bool { return p == Base || strings.HasPrefix(p, Base+"/") }

// genericHeader: these go with every answer, API or not (security
// headers, caching, transfer and compression); the document says so once,
// in its description. Any other header must be declared on the response.
func genericHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Content-Type", "Content-Length", "Content-Encoding", "Vary", "Date", "Cache-Control", "Set-Cookie",
		"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
		"Cross-Origin-Opener-Policy", "Permissions-Policy", "Strict-Transport-Security":
		return true
	}
	return false
}

// Handler wraps a test server's handler so that every /api/v1 answer is
// checked against the document; a mismatch fails t with the request, the
// operation, the status and the validator's message. Other paths pass
// through untouched.
func Handler(t testing.TB, next http.Handler) http.Handler {
	doc := Doc(t)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !IsAPIPath(r.URL.Path) {
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
		if err := Check(doc, r, res.StatusCode, res.Header, body); err != nil {
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
	rest, ok := strings.CutPrefix(escapedPath, Base)
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

// Check checks one answer of the API against the document: the
// status must be documented for the operation, and so must its headers
// and body. A request the server accepted (2xx) must also be one the
// document allows. Answers that match no operation must be NotFound (no
// such path) or MethodNotAllowed (with Allow naming the path's methods).
func Check(doc *openapi3.T, r *http.Request, status int, header http.Header, body []byte) error {
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
		// net/http drops what a handler writes to a HEAD answer.
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
		return fmt.Errorf("header Allow %q, want the path's methods %v", allow, want)
	}
	return nil
}

func undeclaredHeaders(resp *openapi3.Response, header http.Header) error {
	for k := range header {
		if genericHeader(k) {
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
