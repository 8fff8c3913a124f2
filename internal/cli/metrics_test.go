package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeMetricsAddr: with metrics.addr set, serve answers /metrics
// there without a token, and the fetcher's polls reach it.
func TestServeMetricsAddr(t *testing.T) {
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/feed.xml" {
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title><link>http://%s/</link>
<item><title>Road reopens</title><link>http://%s/news/1</link><description>The road reopened at dawn.</description></item>
</channel></rss>`, r.Host, r.Host)
			return
		}
		fmt.Fprint(w, `<html><head><title>Road reopens</title></head><body><article><h1>Road reopens</h1><p>The road reopened at dawn after crews cleared the debris overnight, officials said.</p></article></body></html>`)
	}))
	defer feed.Close()
	dir := t.TempDir()
	sources := filepath.Join(dir, "sources.yaml")
	if err := os.WriteFile(sources, []byte("sections: [Local]\nsources:\n  - name: Local feed\n    url: "+feed.URL+"/feed.xml\n    section: Local\n    interval: 1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CLIPSHEET_METRICS_ADDR", "127.0.0.1:0")
	t.Setenv("CLIPSHEET_FETCH_ALLOW_PRIVATE", "true")
	out, stop := startServe(t, "--config", sources, "--data", dir)
	defer stop()
	m := regexp.MustCompile(`metrics on (http://[0-9.:]+/metrics)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("serve did not say where the metrics are: %q", out)
	}
	var body string
	for i := 0; i < 600 && !strings.Contains(body, `clipsheet_polls_total{result="ok",source="Local feed"} 1`); i++ {
		res, err := http.Get(m[1])
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("metrics listener: %d", res.StatusCode)
		}
		body = string(b)
		time.Sleep(25 * time.Millisecond)
	}
	for _, want := range []string{`clipsheet_polls_total{result="ok",source="Local feed"} 1`, `clipsheet_items_fetched_total{source="Local feed"} 1`, `clipsheet_items{status="queued"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
