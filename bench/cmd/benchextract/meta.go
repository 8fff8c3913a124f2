package main

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clipsheet/clipsheet/internal/extract"
	"github.com/clipsheet/clipsheet/internal/extract/metaeval"
	readability "github.com/go-shiori/go-readability"
	trafilatura "github.com/markusmobius/go-trafilatura"
)

// metaSystem extracts the five scored metadata fields from one page.
type metaSystem struct {
	name string
	run  func(html []byte, pageURL string) metaeval.Prediction
}

func metaSystems() []metaSystem {
	return []metaSystem{
		{"clipsheet", func(b []byte, u string) metaeval.Prediction {
			a, err := extract.Extract(b, extract.Options{URL: u})
			if err != nil {
				return metaeval.Prediction{}
			}
			return metaeval.Prediction{Headline: a.Title, Byline: a.Byline, Published: a.Published, Publisher: a.SiteName, Lead: a.Lead}
		}},
		{"go-trafilatura", func(b []byte, u string) metaeval.Prediction {
			pu, _ := url.Parse(u)
			r, err := trafilatura.Extract(bytes.NewReader(b), trafilatura.Options{ExcludeComments: true, OriginalURL: pu})
			if err != nil || r == nil {
				return metaeval.Prediction{}
			}
			return metaeval.Prediction{Headline: r.Metadata.Title, Byline: r.Metadata.Author, Published: r.Metadata.Date,
				Publisher: r.Metadata.Sitename, Lead: peerLead(r.ContentText)}
		}},
		{"go-readability", func(b []byte, u string) metaeval.Prediction {
			pu, _ := url.Parse(u)
			a, err := readability.FromReader(bytes.NewReader(b), pu)
			if err != nil {
				return metaeval.Prediction{}
			}
			p := metaeval.Prediction{Headline: a.Title, Byline: a.Byline, Publisher: a.SiteName, Lead: peerLead(a.TextContent)}
			if a.PublishedTime != nil {
				p.Published = *a.PublishedTime
			}
			return p
		}},
	}
}

// runMeta scores every system on the labelled metadata set: the shared
// benchmark's pages (read from the corpus) and the pages written for the
// set (labelsDir/pages).
func runMeta(w io.Writer, corpus, labelsDir, only string, misses string) error {
	labels, err := metaeval.LoadLabels(labelsDir)
	if err != nil {
		return err
	}
	type loaded struct {
		l    metaeval.Label
		html []byte
	}
	var pages []loaded
	skipped := 0
	for _, l := range labels {
		var b []byte
		switch {
		case strings.HasPrefix(l.Page, "shared:"):
			b, err = readGz(filepath.Join(corpus, "html", strings.TrimPrefix(l.Page, "shared:")+".html.gz"))
			if err != nil {
				skipped++
				continue
			}
		case strings.HasPrefix(l.Page, "local:"):
			b, err = os.ReadFile(filepath.Join(labelsDir, "pages", strings.TrimPrefix(l.Page, "local:")))
			if err != nil {
				return fmt.Errorf("labelled page: %w", err)
			}
		default:
			return fmt.Errorf("label page %q: want a shared: or local: prefix", l.Page)
		}
		pages = append(pages, loaded{l, b})
	}
	want := map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		want[strings.TrimSpace(s)] = true
	}
	// One row per system and labels file (shared: the benchmark's pages;
	// written, written-feeds: pages in the repository), and all together.
	sets := []string{"all"}
	seen := map[string]bool{}
	for _, p := range pages {
		if !seen[p.l.Set] {
			seen[p.l.Set] = true
			sets = append(sets, p.l.Set)
		}
	}
	type row struct {
		name string
		tot  map[string]*metaeval.Totals
	}
	var rows []row
	var missOut strings.Builder
	for _, sys := range metaSystems() {
		if !want[sys.name] && !(sys.name == "go-trafilatura" && want["go-trafilatura-fallback"]) {
			continue
		}
		r := row{name: sys.name, tot: map[string]*metaeval.Totals{}}
		for _, s := range sets {
			r.tot[s] = &metaeval.Totals{}
		}
		for _, p := range pages {
			pred := safeMeta(sys, p.html, p.l.URL)
			res := metaeval.Score(p.l, pred)
			r.tot["all"].Add(res)
			r.tot[p.l.Set].Add(res)
			if misses != "" {
				for i, ok := range res {
					if ok {
						continue
					}
					got := []string{pred.Headline, pred.Byline, fmtTime(pred.Published), pred.Publisher, pred.Lead}[i]
					exp := []string{p.l.Headline, strings.Join(p.l.Byline, ", "), p.l.Published, p.l.Publisher, p.l.Lead}[i]
					if len(got) > 120 {
						got = got[:120]
					}
					fmt.Fprintf(&missOut, "%s\t%s\t%s\tgot %q\twant %q\n", sys.name, metaeval.Fields[i], p.l.Page[:min(len(p.l.Page), 20)], got, exp)
				}
			}
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return fmt.Errorf("no metadata system selected")
	}
	fmt.Fprintf(w, "\nMetadata: %d labelled pages, %s", len(pages), time.Now().Format("2006-01-02"))
	if skipped > 0 {
		fmt.Fprintf(w, "; %d shared pages skipped (corpus not found)", skipped)
	}
	fmt.Fprint(w, "\n\n| system | set | headline | byline | published | publisher | lead | mean |\n|---|---|---|---|---|---|---|---|\n")
	for _, set := range sets {
		for _, r := range rows {
			t := r.tot[set]
			if t.N == 0 {
				continue
			}
			fmt.Fprintf(w, "| %s | %s (%d) | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", r.name, set, t.N,
				t.Share(0), t.Share(1), t.Share(2), t.Share(3), t.Share(4), t.Mean())
		}
	}
	if misses != "" {
		if err := os.WriteFile(misses, []byte(missOut.String()), 0o644); err != nil {
			return fmt.Errorf("write misses: %w", err)
		}
	}
	return nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

func safeMeta(sys metaSystem, b []byte, u string) (p metaeval.Prediction) {
	defer func() {
		if r := recover(); r != nil {
			p = metaeval.Prediction{}
		}
	}()
	return sys.run(b, u)
}
