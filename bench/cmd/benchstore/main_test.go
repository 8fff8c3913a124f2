package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// The searches measure a known share of matches only if the generator
// never writes the search words except where it puts them on purpose.
func TestSearchWordsAppearOnlyWherePlanted(t *testing.T) {
	all := []string{vocabulary}
	for _, l := range [][]string{givenNames, surnames, places, orgs, roles, templates, weekdays, sections} {
		all = append(all, l...)
	}
	for _, s := range sourceList() {
		all = append(all, s.name, s.host)
	}
	text := strings.ToLower(strings.Join(all, "\n"))
	for _, w := range []string{searchCommon, searchRare, searchAbsent} {
		if strings.Contains(text, w) {
			t.Errorf("%q occurs in the generator's word lists", w)
		}
	}
	g := newGenerator(2000, time.Now(), 150, 1)
	var n [3]int
	for i := range 2000 {
		it := g.item(i, g.plan(i))
		s := strings.ToLower(it.Title + it.Lead + it.Byline + it.SiteName + it.Body)
		for j, w := range []string{searchCommon, searchRare, searchAbsent} {
			if strings.Contains(s, w) {
				n[j]++
			}
		}
	}
	if n[0] < 400 || n[0] > 600 || n[1] < 2 || n[1] > 30 || n[2] != 0 {
		t.Errorf("items with the common, rare and absent word: %v of 2000, want about 500, 10 and 0", n)
	}
}

// Bodies must compress about as English prose does (gzip takes real news
// text to roughly a third), or file sizes and I/O would be off.
func TestBodiesCompressLikeProse(t *testing.T) {
	g := newGenerator(500, time.Now(), 150, 7)
	var raw bytes.Buffer
	for i := range 500 {
		it := g.item(i, g.plan(i))
		if len(it.Body) < bodyChars || len(it.Body) > bodyChars+400 {
			t.Fatalf("body of %d bytes, want about %d", len(it.Body), bodyChars)
		}
		if n := len(it.Lead); n > leadChars || n < leadChars-40 {
			t.Fatalf("lead of %d bytes, want about %d", n, leadChars)
		}
		raw.WriteString(it.Body)
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	io.Copy(w, bytes.NewReader(raw.Bytes()))
	w.Close()
	ratio := float64(raw.Len()) / float64(z.Len())
	if ratio < 2.2 || ratio > 4.5 {
		t.Errorf("gzip ratio %.2f, want 2.2 to 4.5 as for English prose", ratio)
	}
	t.Logf("gzip ratio %.2f; a body begins: %.300s", ratio, g.item(0, g.plan(0)).Body)
}

// The whole harness on 10 items, one request per cell: it builds a store,
// builds and starts the real server, signs in and gets every row answered.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and a store; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	o := options{sizes: []int{10}, clients: []int{1}, cache: t.TempDir(), copyDB: true, requests: 1,
		cellCap: time.Minute, settle: 5 * time.Second, maxRSS: 2 << 30, briefingItems: 5, batch: 4}
	var log bytes.Buffer
	md, err := run(ctx, o, &log)
	if err != nil {
		t.Fatalf("run: %v\nlog:\n%s", err, log.String())
	}
	for _, row := range []string{"`/healthz`", "`/` briefing", "static file server", "`/queue` (signed-in curator)",
		"API search `q=` absent word", "Atom feed", "API approve"} {
		line := ""
		for _, l := range strings.Split(md, "\n") {
			if strings.HasPrefix(l, "| "+row) {
				line = l
			}
		}
		if line == "" {
			t.Errorf("no row %s in\n%s", row, md)
			continue
		}
		if strings.Contains(line, "*") || strings.Contains(line, "failed") {
			t.Errorf("row %s did not answer as expected: %s", row, line)
		}
	}
	for _, fig := range []string{"| file size |", "| start: process start", "RssAnon / VmRSS |", "items/s"} {
		if !strings.Contains(md, fig) {
			t.Errorf("no %q in\n%s", fig, md)
		}
	}
}
