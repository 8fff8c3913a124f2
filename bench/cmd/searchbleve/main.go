// Command searchbleve indexes the synthetic corpus of internal/search's
// benchmarks in bleve (v2, scorch, fields not stored, term vectors kept for
// phrases, a numeric Ref for newest-first) and times the same queries, for
// docs/search.md's comparison. The generator is a copy of the one in
// internal/search/bench_test.go (test code cannot be imported), so both
// index the same docs.
//
//	cd bench && go run ./cmd/searchbleve 10000
package main

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
)

type Doc struct {
	Title, Lead, Byline, Publisher, Source string
	Tags                                   []string
	Ref                                    float64
}

var stopWords = strings.Fields(`the of to and a in is for on that said with was at by as from it he has
have be are an after were its his will not but who been had they their more this which police
officials year new two over people would could about into than up out also`)

var firstNames = strings.Fields(`Anna John Maria Wei Yuki Ahmed Fatima Carlos Sofia Olga Pierre Lena
Omar Priya Kenji Elena David Sarah Miguel Chen Aisha Tom Ines Jonas Noor`)

var tagNames = strings.Fields(`weather cyber health terrorism flood wildfire earthquake transport
elections courts police energy water migration economy`)

// pseudoWord spells vocabulary rank r as syllables no English word here is
// made of (no 't', so nothing starts "transp").
func pseudoWord(r int) string {
	const cons = "bdfgklmnprsvz"
	const vows = "aeiou"
	var b strings.Builder
	r++
	for r > 0 {
		b.WriteByte(cons[r%len(cons)])
		r /= len(cons)
		b.WriteByte(vows[r%len(vows)])
		r /= len(vows)
	}
	return b.String()
}

type docGen struct {
	r    *rand.Rand
	zipf *rand.Zipf
	b    strings.Builder
}

func newDocGen(seed int64) *docGen {
	r := rand.New(rand.NewSource(seed))
	return &docGen{r: r, zipf: rand.NewZipf(r, 1.07, 2, 500_000)}
}

func (g *docGen) word() string {
	k := int(g.zipf.Uint64())
	if k < len(stopWords) {
		return stopWords[k]
	}
	return pseudoWord(k)
}

// text writes words until n bytes, with the planted words at the front.
func (g *docGen) text(n int, planted ...string) string {
	g.b.Reset()
	for _, p := range planted {
		g.b.WriteString(p)
		g.b.WriteByte(' ')
	}
	for g.b.Len() < n {
		g.b.WriteString(g.word())
		if g.r.Intn(12) == 0 {
			g.b.WriteByte(',')
		}
		g.b.WriteByte(' ')
	}
	return g.b.String()
}

// benchDoc is doc i of the corpus. The planted words give the queries known
// frequencies: harbor 5%, tsunami 5% (independent, so both 0.25%), glacier
// 0.5%, the phrase "state of emergency" 1% (its words alone 3% more each),
// transport/transparency/transplant/transponder 0.5% each.
func benchDoc(g *docGen, i int) Doc {
	var title, lead []string
	h := uint64(i) * 0x9E3779B97F4A7C15
	if i%20 == 3 {
		lead = append(lead, "harbor")
	}
	if (h>>20)%20 == 5 {
		lead = append(lead, "tsunami")
	}
	if i%200 == 17 {
		title = append(title, "glacier")
	}
	if i%100 == 42 {
		lead = append(lead, "declared a state of emergency")
	}
	switch (h >> 30) % 100 {
	case 1, 2, 3:
		lead = append(lead, "state")
	case 4, 5, 6:
		lead = append(lead, "emergency")
	}
	if w := (h >> 40) % 200; w < 4 {
		title = append(title, []string{"transport", "transparency", "transplant", "transponder"}[w])
	}
	lead = append(lead, strconv.Itoa(g.r.Intn(10_000_000)))
	g.r.Shuffle(len(lead), func(a, b int) { lead[a], lead[b] = lead[b], lead[a] })
	surname := pseudoWord(1000 + g.r.Intn(5000))
	d := Doc{
		Title:     g.text(80, title...),
		Lead:      g.text(600, lead...),
		Byline:    "By " + firstNames[g.r.Intn(len(firstNames))] + " " + strings.ToUpper(surname[:1]) + surname[1:],
		Publisher: "The " + pseudoWord(200+g.r.Intn(300)) + " Times",
	}
	d.Source = strings.ToLower(strings.ReplaceAll(d.Publisher, " ", "-"))
	for range g.r.Intn(3) {
		d.Tags = append(d.Tags, tagNames[g.r.Intn(len(tagNames))])
	}
	return d
}

func dirSize(p string) int64 {
	var n int64
	filepath.Walk(p, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func main() {
	n := 10000
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil && v > 0 {
			n = v
		}
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("blevecmp-%d", n))
	os.RemoveAll(dir)
	m := bleve.NewIndexMapping()
	dm := bleve.NewDocumentMapping()
	for _, f := range []string{"Title", "Lead", "Byline", "Publisher", "Source", "Tags"} {
		fm := bleve.NewTextFieldMapping()
		fm.Store = false
		fm.DocValues = false
		dm.AddFieldMappingsAt(f, fm)
	}
	ref := bleve.NewNumericFieldMapping()
	ref.Store = false
	dm.AddFieldMappingsAt("Ref", ref)
	m.DefaultMapping = dm
	m.StoreDynamic = false
	idx, err := bleve.New(dir, m)
	if err != nil {
		panic(err)
	}
	g := newDocGen(1)
	start := time.Now()
	b := idx.NewBatch()
	for i := 0; i < n; i++ {
		d := benchDoc(g, i)
		d.Ref = float64(i + 1000)
		if err := b.Index(strconv.Itoa(i+1000), d); err != nil {
			panic(err)
		}
		if b.Size() == 1000 {
			if err := idx.Batch(b); err != nil {
				panic(err)
			}
			b = idx.NewBatch()
		}
	}
	if err := idx.Batch(b); err != nil {
		panic(err)
	}
	build := time.Since(start)
	if err := idx.Close(); err != nil {
		panic(err)
	}
	// Give scorch's merger a moment; the size is of the files as left.
	time.Sleep(2 * time.Second)
	idx, err = bleve.Open(dir)
	if err != nil {
		panic(err)
	}
	fmt.Printf("docs %d build %s size %d bytes (%.0f bytes/doc)\n", n, build.Round(time.Second), dirSize(dir), float64(dirSize(dir))/float64(n))
	for _, q := range []string{"harbor", "glacier", "zzyzx", "+harbor +tsunami", `"state of emergency"`, "transp*"} {
		var lat []time.Duration
		for r := 0; r < 100; r++ {
			req := bleve.NewSearchRequestOptions(bleve.NewQueryStringQuery(q), 50, 0, false)
			req.SortBy([]string{"-Ref"})
			t0 := time.Now()
			res, err := idx.Search(req)
			if err != nil {
				panic(err)
			}
			lat = append(lat, time.Since(t0))
			if r == 0 {
				fmt.Printf("%-24s hits %d ", q, res.Total)
			}
		}
		slices.Sort(lat)
		fmt.Printf("median %s p99 %s\n", lat[50], lat[98])
	}
}
