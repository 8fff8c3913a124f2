package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestClip: a clipped URL is fetched and extracted like a feed's story;
// not an address, a page that fails, an empty page, and (without
// allow_private) a loopback address are errors that store nothing.
func TestClip(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/news/bridge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, articleHTML("Bridge reopens after repairs", "Dana Reporter"))
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body></body></html>")
	})
	mux.HandleFunc("/robots.txt", http.NotFound)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f, st := newTestFetcher(t, testConfig())
	ctx := context.Background()

	it, err := f.Clip(ctx, " "+srv.URL+"/news/bridge ", "Top")
	if err != nil {
		t.Fatal(err)
	}
	if it.Title != "Bridge reopens after repairs" || it.Source != ClipSource || it.Section != "Top" || it.Lead == "" || it.Body == "" {
		t.Errorf("clipped item: %+v", it)
	}
	if n, _ := st.CountItems(ctx); len(n) != 0 {
		t.Errorf("Clip stored something: %v", n)
	}
	for _, bad := range []string{"", "not a url", "ftp://example.com/x", "javascript:alert(1)", srv.URL + "/missing", srv.URL + "/empty"} {
		if _, err := f.Clip(ctx, bad, "Top"); err == nil {
			t.Errorf("clip %q: no error", bad)
		}
	}
	if _, err := f.Clip(ctx, "mailto:x@example.com", ""); !errors.Is(err, ErrBadClipURL) {
		t.Errorf("mailto: %v", err)
	}
	guarded := testConfig()
	guarded.AllowPrivate = false
	g, _ := newTestFetcher(t, guarded)
	if _, err := g.Clip(ctx, srv.URL+"/news/bridge", ""); err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("a loopback clip without allow_private: %v", err)
	}
}
