// Command benchextract runs Clipsheet's extractor and two Go peers
// (go-trafilatura, go-readability) on the article-extraction-benchmark corpus
// in one process, writes each system's predictions to out/, scores them with
// the shared scorer and prints one comparison table.
//
// Speed is measured on one core (GOMAXPROCS=1) with every page already
// decompressed in memory, so only extraction is timed.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/clipsheet/clipsheet/internal/extract"
	readability "github.com/go-shiori/go-readability"
	trafilatura "github.com/markusmobius/go-trafilatura"
)

type page struct {
	id, url string
	html    []byte
}

type system struct {
	name string
	run  func(p page) (body, lead string)
}

type pred struct {
	ArticleBody string `json:"articleBody"`
	Lead        string `json:"lead"`
}

type result struct {
	name               string
	f1, prec, rec, acc float64
	leadPrec, leadCov  float64
	pagesPerSec        float64
	failures           int
}

func main() {
	corpus := flag.String("corpus", "../../shared/corpus/article-extraction-benchmark", "corpus directory (with html/ and ground-truth.json)")
	scorer := flag.String("scorer", "../../shared/bench/score_extraction.py", "path to score_extraction.py")
	outDir := flag.String("out", "out", "directory for prediction files")
	only := flag.String("systems", "clipsheet,go-trafilatura,go-trafilatura-fallback,go-readability", "comma-separated systems to run")
	worst := flag.Int("worst", 0, "also print the N worst clipsheet pages (scorer --worst)")
	rounds := flag.Int("rounds", 1, "timed passes over the corpus per system (the best pass counts)")
	dump := flag.String("dump", "", "write Clipsheet's full articles (all fields) as JSON lines to this file and exit")
	labels := flag.String("labels", "../internal/extract/testdata/meta", "labelled metadata set (*.json, pages/)")
	meta := flag.String("meta", "also", "metadata scoring: also (after the body table), only, or off")
	misses := flag.String("misses", "", "with metadata scoring, write every system's wrong fields to this file")
	flag.Parse()

	if *dump != "" {
		if err := dumpArticles(*corpus, *dump); err != nil {
			fmt.Fprintln(os.Stderr, "benchextract:", err)
			os.Exit(1)
		}
		return
	}

	if *meta != "only" {
		if err := run(*corpus, *scorer, *outDir, *only, *worst, *rounds); err != nil {
			fmt.Fprintln(os.Stderr, "benchextract:", err)
			os.Exit(1)
		}
	}
	if *meta != "off" {
		if err := runMeta(os.Stdout, *corpus, *labels, *only, *misses); err != nil {
			fmt.Fprintln(os.Stderr, "benchextract:", err)
			os.Exit(1)
		}
	}
}

func run(corpus, scorer, outDir, only string, worst, rounds int) error {
	pages, err := loadPages(corpus)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("create out dir: %w", err)
	}
	want := map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		want[strings.TrimSpace(s)] = true
	}
	var results []result
	for _, sys := range systems() {
		if !want[sys.name] {
			continue
		}
		preds, pps, fails := runSystem(sys, pages, rounds)
		path := filepath.Join(outDir, sys.name+".json")
		if err := writeJSON(path, preds); err != nil {
			return err
		}
		r, err := score(scorer, filepath.Join(corpus, "ground-truth.json"), path)
		if err != nil {
			return fmt.Errorf("score %s: %w", sys.name, err)
		}
		r.name, r.pagesPerSec, r.failures = sys.name, pps, fails
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "%s done: F1 %.3f, %.1f pages/s\n", sys.name, r.f1, pps)
	}
	printTable(os.Stdout, results, len(pages))
	if worst > 0 && want["clipsheet"] {
		cmd := exec.Command("python3", scorer, "--truth", filepath.Join(corpus, "ground-truth.json"),
			"--pred", filepath.Join(outDir, "clipsheet.json"), "--lead", "--n-bootstrap", "0", "--worst", fmt.Sprint(worst))
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("scorer --worst: %w", err)
		}
	}
	return nil
}

// dumpArticles writes every field Clipsheet extracts, for reviewing
// metadata (title, byline, date) by eye; the corpus has no truth for those.
func dumpArticles(corpus, path string) error {
	pages, err := loadPages(corpus)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	for _, p := range pages {
		a, err := extract.Extract(p.html, extract.Options{URL: p.url})
		if err != nil {
			return fmt.Errorf("%s: %w", p.id, err)
		}
		a.Body = ""
		// Article has its own MarshalJSON, so the page id is spliced in
		// rather than embedded (embedding would promote MarshalJSON).
		raw, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("encode %s: %w", p.id, err)
		}
		fmt.Fprintf(&b, "{\"id\":%q,%s\n", p.id, raw[1:])
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write dump: %w", err)
	}
	return nil
}

func systems() []system {
	return []system{
		{"clipsheet", func(p page) (string, string) {
			a, err := extract.Extract(p.html, extract.Options{URL: p.url})
			if err != nil {
				return "", ""
			}
			return a.Body, a.Lead
		}},
		{"go-trafilatura", func(p page) (string, string) {
			return runTrafilatura(p, false)
		}},
		{"go-trafilatura-fallback", func(p page) (string, string) {
			return runTrafilatura(p, true)
		}},
		{"go-readability", func(p page) (string, string) {
			u, _ := url.Parse(p.url)
			a, err := readability.FromReader(bytes.NewReader(p.html), u)
			if err != nil {
				return "", ""
			}
			return a.TextContent, peerLead(a.TextContent)
		}},
	}
}

// runTrafilatura uses the options of go-trafilatura's own comparison script.
func runTrafilatura(p page, fallback bool) (string, string) {
	u, _ := url.Parse(p.url)
	r, err := trafilatura.Extract(bytes.NewReader(p.html), trafilatura.Options{
		EnableFallback:  fallback,
		ExcludeComments: true,
		OriginalURL:     u,
	})
	if err != nil || r == nil {
		return "", ""
	}
	return r.ContentText, peerLead(r.ContentText)
}

// peerLead gives the peers a lead the same way Clipsheet's is scored: the
// opening paragraph(s) cut at a sentence end, via the shared helper.
func peerLead(text string) string {
	return extract.LeadFromHTML("<p>"+strings.ReplaceAll(htmlEscape(text), "\n", "</p><p>")+"</p>", 0)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func runSystem(sys system, pages []page, rounds int) (map[string]pred, float64, int) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	preds := make(map[string]pred, len(pages))
	best := time.Duration(1<<63 - 1)
	fails := 0
	for r := 0; r < max(1, rounds); r++ {
		runtime.GC()
		debug.FreeOSMemory()
		start := time.Now()
		fails = 0
		for _, p := range pages {
			body, lead := safeRun(sys, p)
			if body == "" {
				fails++
			}
			preds[p.id] = pred{ArticleBody: body, Lead: lead}
		}
		if d := time.Since(start); d < best {
			best = d
		}
	}
	return preds, float64(len(pages)) / best.Seconds(), fails
}

func safeRun(sys system, p page) (body, lead string) {
	defer func() {
		if r := recover(); r != nil {
			body, lead = "", ""
		}
	}()
	return sys.run(p)
}

func loadPages(corpus string) ([]page, error) {
	raw, err := os.ReadFile(filepath.Join(corpus, "ground-truth.json"))
	if err != nil {
		return nil, fmt.Errorf("read ground truth: %w", err)
	}
	var truth map[string]struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal(raw, &truth); err != nil {
		return nil, fmt.Errorf("parse ground truth: %w", err)
	}
	ids := make([]string, 0, len(truth))
	for id := range truth {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	pages := make([]page, 0, len(ids))
	for _, id := range ids {
		b, err := readGz(filepath.Join(corpus, "html", id+".html.gz"))
		if err != nil {
			return nil, err
		}
		pages = append(pages, page{id: id, url: truth[id].URL, html: b})
	}
	return pages, nil
}

func readGz(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open page: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("gunzip %s: %w", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gunzip %s: %w", path, err)
	}
	return b, nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write predictions: %w", err)
	}
	return nil
}

func score(scorer, truth, predPath string) (result, error) {
	out, err := exec.Command("python3", scorer, "--truth", truth, "--pred", predPath, "--lead", "--json", "--n-bootstrap", "0").Output()
	if err != nil {
		return result{}, fmt.Errorf("run scorer: %w", err)
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		return result{}, fmt.Errorf("parse scorer output: %w", err)
	}
	num := func(keys ...string) float64 {
		var cur any = v
		for _, k := range keys {
			m, ok := cur.(map[string]any)
			if !ok {
				return 0
			}
			cur = m[k]
		}
		if f, ok := cur.(float64); ok {
			return f
		}
		return 0
	}
	return result{
		f1: num("f1"), prec: num("precision"), rec: num("recall"), acc: num("accuracy"),
		leadPrec: num("lead_precision"), leadCov: num("lead_coverage"),
	}, nil
}

func printTable(w io.Writer, rs []result, n int) {
	var ref float64
	for _, r := range rs {
		if r.name == "go-trafilatura" {
			ref = r.pagesPerSec
		}
	}
	fmt.Fprintf(w, "%d pages, GOMAXPROCS=1, %s\n\n", n, time.Now().Format("2006-01-02"))
	fmt.Fprintln(w, "| system | body F1 | precision | recall | accuracy | lead precision | lead coverage | pages/s | speed vs go-trafilatura |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		ratio := "n/a"
		if ref > 0 {
			ratio = fmt.Sprintf("%.2f×", r.pagesPerSec/ref)
		}
		fmt.Fprintf(w, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.1f | %s |\n",
			r.name, r.f1, r.prec, r.rec, r.acc, r.leadPrec, r.leadCov, r.pagesPerSec, ratio)
	}
}
