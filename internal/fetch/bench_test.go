package fetch

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/extract"
	"github.com/clipsheet/clipsheet/internal/store"
)

// Benchmark scale; CLIPSHEET_BENCH_SOURCES overrides the source count for
// quick runs (the target figures are for the default).
const (
	benchHosts   = 50
	benchEntries = 20
)

func benchSources() int {
	if n, err := strconv.Atoi(os.Getenv("CLIPSHEET_BENCH_SOURCES")); err == nil && n > 0 {
		return n
	}
	return 5000
}

// benchArticle is a plain news page: navigation, a six-paragraph story,
// related links and a footer (~8 KB), so extraction does real work.
var benchArticle = func() string {
	var nav, body, related strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&nav, `<li><a href="/section/%d">Section %d</a></li>`, i, i)
	}
	for i := 0; i < 6; i++ {
		fmt.Fprintf(&body, `<p>Paragraph %d of TITLE. The council met on Tuesday evening and voted on the proposal after a long debate, officials said, adding that the work would start next spring and cost about %d million, according to documents seen by reporters.</p>`, i+1, 10+i)
	}
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&related, `<li><a href="/related/%d">Related story number %d</a></li>`, i, i)
	}
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>TITLE | Bench Gazette</title>
<meta property="og:site_name" content="Bench Gazette"><meta name="author" content="Dana Reporter">
<meta property="article:published_time" content="2026-03-10T09:00:00Z"></head><body>
<header><ul class="nav">` + nav.String() + `</ul></header><main><article><h1>TITLE</h1><p class="byline">By Dana Reporter</p>` +
		body.String() + `</article><aside class="related"><ul>` + related.String() + `</ul></aside></main>
<footer><p>Copyright Bench Gazette. All rights reserved.</p></footer></body></html>`
}()

// benchPublisher serves /f/N (an RSS feed of benchEntries articles, with a
// fixed ETag per feed) and /a/N/I (the articles).
func benchPublisher() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/f/"):
			etag := `"` + p[3:] + `"`
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", etag)
			w.Header().Set("Content-Type", "application/rss+xml")
			var b strings.Builder
			fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed %s</title><link>http://%s/</link>`, p[3:], r.Host)
			for i := 0; i < benchEntries; i++ {
				fmt.Fprintf(&b, `<item><title>Story %s-%d</title><link>http://%s/a/%s/%d</link><description>Summary of story %d.</description><pubDate>Tue, 10 Mar 2026 09:00:00 +0000</pubDate></item>`, p[3:], i, r.Host, p[3:], i, i)
			}
			b.WriteString(`</channel></rss>`)
			io.WriteString(w, b.String())
		case strings.HasPrefix(p, "/a/"):
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, strings.ReplaceAll(benchArticle, "TITLE", "Story "+p[3:]))
		default:
			http.NotFound(w, r)
		}
	})
}

// procStatus reads a kB field of /proc/self/status (VmHWM, RssAnon,
// RssFile), in MB.
func procStatus(field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field+":") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// memSampler records the peak of the anonymous (heap, stacks) and
// file-backed (the bbolt mmap) parts of the resident set, which VmHWM
// lumps together.
type memSampler struct {
	stop               chan struct{}
	done               chan struct{}
	peakAnon, peakFile float64
}

func startMemSampler() *memSampler {
	m := &memSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			m.peakAnon = max(m.peakAnon, procStatus("RssAnon"))
			m.peakFile = max(m.peakFile, procStatus("RssFile"))
			select {
			case <-t.C:
			case <-m.stop:
				return
			}
		}
	}()
	return m
}

func (m *memSampler) finish() { close(m.stop); <-m.done }

// rawGets is the baseline: a plain net/http client GETting urls with the
// same concurrency, reading bodies and handing them to each (if set; else
// discarding them), with etag (if set) as If-None-Match. It returns the
// elapsed time.
func rawGets(urls []string, workers int, etag func(string) string, each func(u string, body []byte)) time.Duration {
	tr := &http.Transport{MaxIdleConnsPerHost: 2, MaxIdleConns: 1024}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	ch := make(chan string)
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for u := range ch {
				req, _ := http.NewRequest(http.MethodGet, u, nil)
				if etag != nil {
					req.Header.Set("If-None-Match", etag(u))
				}
				resp, err := c.Do(req)
				if err != nil {
					continue
				}
				if each != nil {
					body, _ := io.ReadAll(resp.Body)
					each(u, body)
				} else {
					io.Copy(io.Discard, resp.Body)
				}
				resp.Body.Close()
			}
		})
	}
	for _, u := range urls {
		ch <- u
	}
	close(ch)
	wg.Wait()
	return time.Since(start)
}

// BenchmarkPollCycles polls 5,000 feed sources on 50 loopback hosts, 20
// entries each: the first cycle fetches and extracts every article, the
// second gets 304s. Figures are also given as ratios to a raw net/http GET
// loop over the same URLs, measured in the same run.
func BenchmarkPollCycles(b *testing.B) {
	nSources := benchSources()
	goroutinesBefore := runtime.NumGoroutine()
	var servers []*httptest.Server
	for range benchHosts {
		srv := httptest.NewUnstartedServer(benchPublisher())
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.Start()
		servers = append(servers, srv)
	}
	file := &config.SourcesFile{Sections: []string{"Top"}}
	var feedURLs, articleURLs []string
	for i := 0; i < nSources; i++ {
		u := fmt.Sprintf("%s/f/%d", servers[i%benchHosts].URL, i)
		feedURLs = append(feedURLs, u)
		file.Sources = append(file.Sources, config.Source{Name: fmt.Sprint("src", i), URL: u, Section: "Top"})
		for j := 0; j < benchEntries; j++ {
			articleURLs = append(articleURLs, fmt.Sprintf("%s/a/%d/%d", servers[i%benchHosts].URL, i, j))
		}
	}
	cfg := config.DefaultSettings().Fetch
	cfg.AllowPrivate = true // loopback publishers
	dir := b.TempDir()
	st, err := store.Open(dir + "/clipsheet.db")
	if err != nil {
		b.Fatal(err)
	}
	f := New(st, cfg, 600, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	mem := startMemSampler()
	b.ResetTimer()

	// Baseline 1: every feed and article, raw.
	base1 := rawGets(append(append([]string{}, feedURLs...), articleURLs...), cfg.Workers, nil, nil)
	// Baseline 1b: a tenth of the feeds and their articles, raw GET plus
	// extract.Extract of each article: what cycle 1 costs without
	// politeness, feed parsing, dedup and the store.
	sampleFeeds := max(nSources/10, 1)
	extracted := 0
	var extractMu sync.Mutex
	base1x := rawGets(append(append([]string{}, feedURLs[:sampleFeeds]...), articleURLs[:sampleFeeds*benchEntries]...), cfg.Workers, nil,
		func(u string, body []byte) {
			if strings.Contains(u, "/a/") {
				if _, err := extract.Extract(body, extract.Options{URL: u, ContentType: "text/html; charset=utf-8", MaxLeadChars: 600}); err == nil {
					extractMu.Lock()
					extracted++
					extractMu.Unlock()
				}
			}
		})
	b1xArticles := float64(extracted) / base1x.Seconds()

	t0 := time.Now()
	res1 := f.PollOnce(ctx, file)
	c1 := time.Since(t0)
	newItems, failed := 0, 0
	for _, r := range res1 {
		newItems += r.NewItems
		if r.Err != nil {
			failed++
			if failed < 5 {
				b.Logf("cycle 1 %s: %v", r.Source, r.Err)
			}
		}
	}

	// Baseline 2: conditional GET of every feed (all 304).
	base2 := rawGets(feedURLs, cfg.Workers, func(u string) string { return `"` + u[strings.LastIndex(u, "/")+1:] + `"` }, nil)

	t1 := time.Now()
	res2 := f.PollOnce(ctx, file)
	c2 := time.Since(t1)
	notModified := 0
	for _, r := range res2 {
		if r.NotModified {
			notModified++
		}
	}
	b.StopTimer()
	mem.finish()
	rss := procStatus("VmHWM")
	f.Close()
	st.Close()
	for _, s := range servers {
		s.Close()
	}
	// Give exiting goroutines (closed keep-alive conns) a moment.
	var goroutinesAfter int
	for i := 0; i < 50; i++ {
		goroutinesAfter = runtime.NumGoroutine()
		if goroutinesAfter <= goroutinesBefore {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	dbInfo, _ := os.Stat(dir + "/clipsheet.db")

	articles := float64(len(articleURLs))
	feeds := float64(nSources)
	c1Articles := float64(newItems) / c1.Seconds()
	b1Articles := (articles + feeds) / base1.Seconds()
	c2Feeds := feeds / c2.Seconds()
	b2Feeds := feeds / base2.Seconds()
	b.ReportMetric(feeds/c1.Seconds(), "c1_feeds/s")
	b.ReportMetric(c1Articles, "c1_articles/s")
	b.ReportMetric(c2Feeds, "c2_feeds/s")
	b.ReportMetric(c1Articles/b1Articles, "c1_vs_raw")
	b.ReportMetric(c1Articles/b1xArticles, "c1_vs_raw_extract")
	b.ReportMetric(c2Feeds/b2Feeds, "c2_vs_raw")
	b.ReportMetric(rss, "peak_rss_MB")
	b.ReportMetric(mem.peakAnon, "peak_anon_MB")
	b.ReportMetric(float64(goroutinesAfter-goroutinesBefore), "goroutines_leaked")
	// Printed, not logged: the testing package cuts benchmark logs short.
	fmt.Printf("\n"+
		"| figure | value | raw net/http baseline | ratio |\n"+
		"|---|---|---|---|\n"+
		"| sources x entries | %d x %d on %d hosts | | |\n"+
		"| cycle 1 (all new, fetch+extract+store) | %s, %.0f feeds/s, %.0f articles/s | %s, %.0f req/s | %.2f |\n"+
		"| cycle 1 vs raw GET + extract (1/10 sample) | %.0f articles/s | %.0f articles/s | %.2f |\n"+
		"| cycle 2 (all 304) | %s, %.0f feeds/s | %s, %.0f feeds/s | %.2f |\n"+
		"| items stored / failed sources / 304s | %d / %d / %d | | |\n"+
		"| peak RSS (VmHWM, whole process incl. servers) | %.0f MB | | |\n"+
		"| of which peak anonymous (heap, stacks) / file-backed (bbolt mmap) | %.0f MB / %.0f MB | | |\n"+
		"| bbolt file | %.0f MB | | |\n"+
		"| goroutines before / after | %d / %d | | |\n",
		nSources, benchEntries, benchHosts,
		c1.Round(time.Millisecond), feeds/c1.Seconds(), c1Articles, base1.Round(time.Millisecond), b1Articles, c1Articles/b1Articles,
		c1Articles, b1xArticles, c1Articles/b1xArticles,
		c2.Round(time.Millisecond), c2Feeds, base2.Round(time.Millisecond), b2Feeds, c2Feeds/b2Feeds,
		newItems, failed, notModified, rss, mem.peakAnon, mem.peakFile, float64(dbInfo.Size())/(1<<20), goroutinesBefore, goroutinesAfter)
	if goroutinesAfter > goroutinesBefore {
		b.Errorf("goroutine leak: %d before, %d after the run", goroutinesBefore, goroutinesAfter)
	}
	if failed > 0 || newItems != len(articleURLs) || notModified != nSources {
		b.Errorf("cycle 1: %d new of %d, %d failed; cycle 2: %d of %d not modified", newItems, len(articleURLs), failed, notModified, nSources)
	}
}
