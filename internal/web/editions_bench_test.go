package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// BenchmarkPublishedVsStatic serves the latest edition ("/"), a story page
// and the Atom feed to 100 concurrent loopback connections and, in the
// same run, the same bytes from a file through Go's http.FileServer. It
// reports requests per second and p99 latency of each as a ratio to the
// file server's (rate-ratio ≥ 0.9 is the target), at 10,000 and 100,000
// stored items: the kept answers cost a counter read and a map lookup
// whatever the store holds. Run with -benchtime=1x (make bench-web).
func BenchmarkPublishedVsStatic(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		srv, paths := benchSite(b, n)
		for _, target := range []string{"edition", "item", "atom"} {
			path := paths[target]
			b.Run(fmt.Sprintf("%s/%d", target, n), func(b *testing.B) {
				body := benchGet(b, srv.URL+path)
				file := filepath.Join(b.TempDir(), "body")
				if err := os.WriteFile(file, body, 0o600); err != nil {
					b.Fatal(err)
				}
				static := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(file))))
				defer static.Close()
				for b.Loop() {
					ours := loadRun(b, srv.URL+path)
					theirs := loadRun(b, static.URL+"/body")
					b.ReportMetric(ours.rate, "req/s")
					b.ReportMetric(theirs.rate, "static-req/s")
					b.ReportMetric(ours.rate/theirs.rate, "rate-ratio")
					b.ReportMetric(float64(ours.p99.Microseconds()), "p99-µs")
					b.ReportMetric(float64(ours.p99)/float64(theirs.p99), "p99-ratio")
				}
			})
		}
		srv.Close()
	}
}

// benchSite is a server over a store of n items with one published
// edition of 40 stories, and the paths to load.
func benchSite(b *testing.B, n int) (*httptest.Server, map[string]string) {
	b.Helper()
	st, err := store.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ctx := context.Background()
	now := time.Now().UTC()
	const batch = 2000
	for start := 0; start < n; start += batch {
		var items []*model.Item
		for i := start; i < min(start+batch, n); i++ {
			it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://news.example/%d/story-%d", i%97, i),
				Title: fmt.Sprintf("Story %d about the river and the bridge", i), SiteName: "Example News", Byline: "Ann Lee",
				Lead: "The river will crest tonight, the weather service said. Residents of low-lying streets should move their cars."},
				"Example", []string{"Top stories", "Cyber"}[i%2], now.Add(-time.Duration(n-i)*time.Minute))
			if i >= n-40 {
				it.Status, it.DecidedAt = model.StatusApproved, now
			} else if i%10 == 0 {
				it.Status, it.DecidedAt = model.StatusApproved, now.Add(-30*24*time.Hour)
			}
			items = append(items, it)
		}
		if err := st.WritePolls(ctx, []store.PollWrite{{Items: items}}); err != nil {
			b.Fatal(err)
		}
	}
	sources := &config.SourcesFile{Sections: []string{"Top stories", "Cyber"}}
	s, err := NewServer(st, Config{Settings: config.DefaultSettings(), Sources: func() *config.SourcesFile { return sources },
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	e, err := s.press.Publish(ctx, "bench")
	if err != nil || len(e.Items) != 40 {
		b.Fatalf("publish: %v (%d stories)", err, len(e.Items))
	}
	srv := httptest.NewServer(s)
	return srv, map[string]string{"edition": "/", "item": "/items/" + e.Items[7].ID, "atom": "/feed.atom"}
}

func benchGet(b *testing.B, url string) []byte {
	b.Helper()
	res, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		b.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	return body
}

type loadResult struct {
	rate float64
	p99  time.Duration
}

// loadRun sends 100 concurrent connections' worth of GETs (100 each) and
// measures the rate and the 99th percentile latency.
func loadRun(b *testing.B, url string) loadResult {
	b.Helper()
	const conns, perConn = 100, 100
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	lat := make([]time.Duration, conns*perConn)
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	start := time.Now()
	for c := range conns {
		wg.Go(func() {
			for i := range perConn {
				t0 := time.Now()
				res, err := client.Get(url)
				if err != nil {
					errs <- err
					return
				}
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != 200 {
					errs <- fmt.Errorf("GET %s: %d %v", url, res.StatusCode, err)
					return
				}
				lat[c*perConn+i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	slices.Sort(lat)
	return loadResult{rate: float64(len(lat)) / elapsed.Seconds(), p99: lat[len(lat)*99/100]}
}
