package story

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/testcorpus"
)

// pair is one labelled line of testdata/pairs.tsv.
type pair struct {
	line  int
	label string // same, different, or event (the same event reported independently: not scored)
	a, b  string // w:ID (testdata/items.txt) or f:FILE#N (Nth item of a shared feed)
	note  string
}

func loadPairs(t testing.TB) []pair {
	t.Helper()
	f, err := os.Open("testdata/pairs.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []pair
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 || cols[3] == "" {
			t.Fatalf("pairs.tsv:%d: want label, a, b and a note, tab-separated: %q", n, line)
		}
		switch cols[0] {
		case "same", "different", "event":
		default:
			t.Fatalf("pairs.tsv:%d: unknown label %q", n, cols[0])
		}
		out = append(out, pair{line: n, label: cols[0], a: cols[1], b: cols[2], note: cols[3]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// loadWritten reads testdata/items.txt: blocks of "key: value" lines.
func loadWritten(t testing.TB) map[string]*model.Item {
	t.Helper()
	b, err := os.ReadFile("testdata/items.txt")
	if err != nil {
		t.Fatal(err)
	}
	items := make(map[string]*model.Item)
	for _, block := range strings.Split(string(b), "\n\n") {
		var e model.Extraction
		var id string
		for _, line := range strings.Split(block, "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, ": ")
			if !ok {
				t.Fatalf("items.txt: not a key: value line: %q", line)
			}
			switch k {
			case "id":
				id = v
			case "site":
				e.SiteName = v
			case "by":
				e.Byline = v
			case "url":
				e.URL = v
			case "time":
				if e.Published, err = time.Parse(time.RFC3339, v); err != nil {
					t.Fatalf("items.txt %s: %v", id, err)
				}
			case "title":
				e.Title = v
			case "lead":
				e.Lead = v
			case "body":
				e.Body = v
			default:
				t.Fatalf("items.txt %s: unknown key %q", id, k)
			}
		}
		if id == "" {
			continue
		}
		if items[id] != nil {
			t.Fatalf("items.txt: duplicate id %s", id)
		}
		items[id] = model.NewItem(e, e.SiteName, "", e.Published.Add(10*time.Minute))
	}
	return items
}

// feedItems parses a shared-corpus feed into items the way a feed source
// gives them: headline, link, byline, the description as lead.
var feedCache sync.Map

func feedItems(t testing.TB, dir, name string) []*model.Item {
	t.Helper()
	if v, ok := feedCache.Load(name); ok {
		return v.([]*model.Item)
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := gofeed.NewParser().ParseString(string(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []*model.Item
	for _, fi := range f.Items {
		e := model.Extraction{URL: fi.Link, Title: plain(fi.Title), SiteName: plain(f.Title)}
		if fi.PublishedParsed != nil {
			e.Published = *fi.PublishedParsed
		} else if fi.UpdatedParsed != nil {
			e.Published = *fi.UpdatedParsed
		}
		for _, a := range fi.Authors {
			if a != nil && a.Name != "" {
				e.Byline = plain(a.Name)
				break
			}
		}
		lead := fi.Description
		if lead == "" {
			lead = fi.Content
		}
		e.Lead = model.ClampLine(plain(lead), 600)
		fetched := e.Published
		if fetched.IsZero() {
			fetched = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		out = append(out, model.NewItem(e, f.Title, "", fetched))
	}
	feedCache.Store(name, out)
	return out
}

// plain strips tags and entities and collapses white space, as the
// fetcher does for feed text.
func plain(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.Join(strings.Fields(b.String()), " ")
		case html.TextToken:
			b.Write(z.Text())
			b.WriteByte(' ')
		}
	}
}

// resolver turns pair references into items; corpus references report
// absent when ../shared is not there.
type resolver struct {
	written map[string]*model.Item
	feeds   string // "" when the shared corpus is absent
}

func newResolver(t testing.TB) *resolver {
	r := &resolver{written: loadWritten(t)}
	if dir, err := testcorpus.Find("feeds"); err == nil {
		r.feeds = dir
	}
	return r
}

func (r *resolver) item(t testing.TB, ref string) (*model.Item, bool) {
	t.Helper()
	switch {
	case strings.HasPrefix(ref, "w:"):
		it := r.written[ref[2:]]
		if it == nil {
			t.Fatalf("no written item %s", ref)
		}
		return it, true
	case strings.HasPrefix(ref, "f:"):
		if r.feeds == "" {
			return nil, false
		}
		name, idx, ok := strings.Cut(ref[2:], "#")
		n, err := strconv.Atoi(idx)
		if !ok || err != nil {
			t.Fatalf("bad feed reference %s", ref)
		}
		items := feedItems(t, r.feeds, name)
		if n < 0 || n >= len(items) {
			t.Fatalf("%s: feed has %d items", ref, len(items))
		}
		return items[n], true
	}
	t.Fatalf("bad reference %s", ref)
	return nil, false
}

type tally struct{ tp, fp, fn, tn int }

func (c tally) precision() float64 { return float64(c.tp) / float64(max(1, c.tp+c.fp)) }
func (c tally) recall() float64    { return float64(c.tp) / float64(max(1, c.tp+c.fn)) }

func (c *tally) add(label string, same bool) {
	switch {
	case label == "same" && same:
		c.tp++
	case label == "same":
		c.fn++
	case same:
		c.fp++
	default:
		c.tn++
	}
}

func (c tally) String() string {
	return fmt.Sprintf("P %.3f R %.3f (tp %d fp %d fn %d tn %d)", c.precision(), c.recall(), c.tp, c.fp, c.fn, c.tn)
}

// TestLabelledPairs scores grouping over the labelled pairs, end to end:
// the first item of a pair is indexed among all the others' prints, the
// second is looked up through the index, and the pair counts as grouped
// only when the first is among the candidates and Compare calls them the
// same story. Fails below precision 0.97 or recall 0.90.
func TestLabelledPairs(t *testing.T) {
	r := newResolver(t)
	pairs := loadPairs(t)
	type resolved struct {
		pair
		ia, ib *model.Item
	}
	var rs []resolved
	skipped := 0
	idx := NewIndex()
	for _, p := range pairs {
		a, okA := r.item(t, p.a)
		b, okB := r.item(t, p.b)
		if !okA || !okB {
			skipped++
			continue
		}
		rs = append(rs, resolved{p, a, b})
		idx.Add(p.a, Fingerprint(a))
		idx.Add(p.b, Fingerprint(b))
	}
	if skipped > 0 {
		t.Logf("%d pairs skipped: shared corpus not found (../shared beside the repository)", skipped)
	}
	var all, written, corpus, heldOut, heldOut2, compareOnly tally
	events, eventsGrouped := 0, 0
	byReason := map[Reason]int{}
	for _, p := range rs {
		pa, pb := Fingerprint(p.ia), Fingerprint(p.ib)
		m := Compare(pa, pb)
		if m2 := Compare(pb, pa); m2 != m {
			t.Errorf("pairs.tsv:%d: Compare not symmetric: %+v vs %+v", p.line, m, m2)
		}
		found := false
		for _, c := range idx.Candidates(pb) {
			if c.ID == p.a {
				found = true
				break
			}
		}
		same := m.Same && found
		if p.label == "event" {
			events++
			if same {
				eventsGrouped++
			}
			continue
		}
		compareOnly.add(p.label, m.Same)
		all.add(p.label, same)
		if strings.HasPrefix(p.a, "f:") || strings.HasPrefix(p.b, "f:") {
			corpus.add(p.label, same)
		} else if strings.HasPrefix(p.a, "w:h-") {
			heldOut.add(p.label, same)
		} else if strings.HasPrefix(p.a, "w:h2-") {
			heldOut2.add(p.label, same)
		} else {
			written.add(p.label, same)
		}
		if same {
			byReason[m.Reason]++
		}
		if same != (p.label == "same") {
			t.Logf("miss pairs.tsv:%d %s %s %s: got same=%v (compare %v, %s, lead %.2f, headline %.2f, in candidates %v) — %s",
				p.line, p.label, p.a, p.b, same, m.Same, m.Reason, m.Lead, m.Headline, found, p.note)
		}
	}
	t.Logf("all pairs:     %v", all)
	t.Logf("written pairs: %v", written)
	t.Logf("corpus pairs:  %v", corpus)
	t.Logf("held out, round 1 (then used for two fixes): %v", heldOut)
	t.Logf("held out, round 2 (never tuned on): %v", heldOut2)
	t.Logf("Compare alone (no index): %v", compareOnly)
	t.Logf("same-event pairs (independent reports, not scored): %d of %d grouped", eventsGrouped, events)
	t.Logf("grouped by reason: %v", byReason)
	if all.tp+all.fn == 0 || all.tn+all.fp == 0 {
		t.Fatal("the labelled set has no positive or no negative pairs")
	}
	if p := all.precision(); p < 0.97 {
		t.Errorf("precision %.3f, want >= 0.97", p)
	}
	if rc := all.recall(); rc < 0.90 {
		t.Errorf("recall %.3f, want >= 0.90", rc)
	}
}

// TestCorpusFeedsWithinFeed compares every pair of items inside each feed
// of the shared corpus (about 15,000 pairs of different posts) and fails
// on any pair the text rules group that is not one of the feeds' known
// repeats. Pairs grouped because their canonical URLs are equal are
// counted, not failed: the store gives them one item ID already.
func TestCorpusFeedsWithinFeed(t *testing.T) {
	dir, err := testcorpus.Find("feeds")
	if err != nil {
		t.Skipf("the shared feeds are not here: %v", err)
	}
	repeats := map[string]bool{ // read and labelled same in pairs.tsv
		"rss2-win1251-ibash.xml#0#5":               true,
		"rss092-scripting-grateful-dead.xml#12#21": true,
		"rss2-gb2312-kc0011-forum.rss#8#17":        true,
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	total, byURL, byText := 0, 0, 0
	for _, f := range files {
		name := filepath.Base(f)
		switch filepath.Ext(name) {
		case ".xml", ".rss", ".atom", ".rdf", ".json":
		default:
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gofeed.NewParser().ParseString(string(data)); err != nil {
			continue // the corpus's malformed and non-feed documents
		}
		items := feedItems(t, dir, name)
		prints := make([]Print, len(items))
		for i, it := range items {
			prints[i] = Fingerprint(it)
		}
		for i := range prints {
			for j := i + 1; j < len(prints); j++ {
				total++
				m := Compare(prints[i], prints[j])
				switch {
				case !m.Same:
				case m.Reason == SameURL:
					byURL++
				case repeats[fmt.Sprintf("%s#%d#%d", name, i, j)]:
					byText++
				default:
					byText++
					t.Errorf("%s #%d and #%d grouped (%v, lead %.2f, headline %.2f): %q / %q",
						name, i, j, m.Reason, m.Lead, m.Headline, items[i].Title, items[j].Title)
				}
			}
		}
	}
	t.Logf("%d pairs inside feeds: %d grouped by text (%d known repeats), %d by one canonical URL", total, byText, len(repeats), byURL)
	if total < 10000 {
		t.Fatalf("only %d pairs: feeds missing from the corpus?", total)
	}
}
