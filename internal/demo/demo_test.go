package demo

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/clipsheet/clipsheet/internal/config"
)

// The sample site behaves like a publisher the fetcher can be tested
// against: absolute links to itself, feed content types, validators and
// 304s, 404 for what it does not have, nothing outside its folder.
func TestSiteServesLikeAPublisher(t *testing.T) {
	srv := httptest.NewServer(NewSite(os.DirFS("../../testdata/demo/site")))
	defer srv.Close()
	get := func(path string, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	for path, ctype := range map[string]string{"/rss.xml": "application/rss+xml", "/atom.xml": "application/atom+xml",
		"/news/2026/11/24/cooling-centres.html": "text/html"} {
		res, body := get(path, nil)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), ctype) {
			t.Errorf("%s: %s %q", path, res.Status, res.Header.Get("Content-Type"))
		}
		if strings.Contains(body, Placeholder) || (strings.HasSuffix(path, ".xml") && !strings.Contains(body, srv.URL+"/news/")) {
			t.Errorf("%s: links not made absolute to %s", path, srv.URL)
		}
		etag, lastMod := res.Header.Get("ETag"), res.Header.Get("Last-Modified")
		if etag == "" || lastMod == "" {
			t.Fatalf("%s: no validators", path)
		}
		if res, _ := get(path, map[string]string{"If-None-Match": etag}); res.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: %s", path, res.Status)
		}
		if res, _ := get(path, map[string]string{"If-Modified-Since": lastMod}); res.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-Modified-Since: %s", path, res.Status)
		}
	}
	for _, path := range []string{"/missing.html", "/../../go.mod", "/%2e%2e/%2e%2e/go.mod"} {
		if res, _ := get(path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %s, want 404", path, res.Status)
		}
	}
}

func TestSourcesYAMLIsValid(t *testing.T) {
	f, err := config.ParseSources([]byte(SourcesYAML("http://127.0.0.1:8079")))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Sources) != 2 || f.Sources[0].URL != "http://127.0.0.1:8079/rss.xml" || f.Sources[1].URL != "http://127.0.0.1:8079/atom.xml" {
		t.Errorf("demo sources: %+v", f.Sources)
	}
}
