package search

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The benchmarks search a synthetic corpus of news-like docs (an 80-char
// headline, a 600-char lead of Zipf-distributed words over a 500,000-word
// vocabulary plus one number per doc, a byline, a publisher, tags) built
// once per size and cached under os.TempDir(), keyed by the index format
// and the generator's version, so re-runs start at once.
//
//	go test -run XXX -bench . ./internal/search/                         # 100,000 docs
//	SEARCH_BENCH_DOCS=1000000 go test -run XXX -bench . -timeout 60m ./internal/search/
//
// The first build of 1,000,000 docs takes several minutes on a 2-core
// machine; every figure is also measured at 10,000 docs in the same run and
// reported as a ratio.

const (
	benchGenVersion = 2
	benchBaseDocs   = 10_000
)

var bucketBenchDocs = []byte("bench_docs")

func benchDocs() int {
	if s := os.Getenv("SEARCH_BENCH_DOCS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 100_000
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

func encodeBenchDoc(d Doc) []byte {
	return []byte(strings.Join([]string{d.Title, d.Lead, d.Byline, d.Publisher, d.Source, strings.Join(d.Tags, "\x1e")}, "\x1f"))
}

func decodeBenchDoc(v []byte) Doc {
	f := strings.Split(string(v), "\x1f")
	if len(f) != 6 {
		return Doc{}
	}
	d := Doc{Title: f[0], Lead: f[1], Byline: f[2], Publisher: f[3], Source: f[4]}
	if f[5] != "" {
		d.Tags = strings.Split(f[5], "\x1e")
	}
	return d
}

// benchRef is a sequence, like bbolt's NextSequence would give the store.
func benchRef(i int) uint64 { return uint64(i) + 1000 }

var benchDBs sync.Map // size -> *bolt.DB, open for the whole run

// benchDB opens the cached corpus of n docs, building it first if needed.
func benchDB(b *testing.B, n int) *bolt.DB {
	if db, ok := benchDBs.Load(n); ok {
		return db.(*bolt.DB)
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("clipsheet-search-bench-v%d-g%d-%d.db", Version, benchGenVersion, n))
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true, NoFreelistSync: true})
	if err != nil {
		b.Fatal(err)
	}
	complete := false
	_ = db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketBenchDocs)
		complete = bk != nil && bk.Get([]byte("complete")) != nil
		return nil
	})
	if !complete {
		start := time.Now()
		if err := buildBench(db, n); err != nil {
			b.Fatal(err)
		}
		b.Logf("built %d docs in %s (%s)", n, time.Since(start).Round(time.Second), path)
	}
	benchDBs.Store(n, db)
	return db
}

func buildBench(db *bolt.DB, n int) error {
	if err := db.Update(func(tx *bolt.Tx) error {
		_ = tx.DeleteBucket(bucketBenchDocs)
		return Drop(tx)
	}); err != nil {
		return err
	}
	g := newDocGen(1)
	bd := NewBuilder()
	const batch = 5000
	for lo := 0; lo < n; lo += batch {
		err := db.Update(func(tx *bolt.Tx) error {
			docs, err := tx.CreateBucketIfNotExists(bucketBenchDocs)
			if err != nil {
				return err
			}
			docs.FillPercent = 1 // appended in key order
			for i := lo; i < min(n, lo+batch); i++ {
				d := benchDoc(g, i)
				if err := docs.Put(be64(benchRef(i)), encodeBenchDoc(d)); err != nil {
					return err
				}
				bd.Add(benchRef(i), d)
			}
			if lo+batch >= n { // one flush: the whole index written in key order
				return bd.Flush(tx)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBenchDocs).Put([]byte("complete"), []byte{1})
	})
}

func benchLoad(tx *bolt.Tx) LoadFunc {
	docs := tx.Bucket(bucketBenchDocs)
	return func(ref uint64) (Doc, bool, error) {
		v := docs.Get(be64(ref))
		if v == nil {
			return Doc{}, false, errors.New("no doc")
		}
		return decodeBenchDoc(v), true, nil
	}
}

var benchQueries = []struct {
	name string
	q    Query
}{
	{"common-5pct", Query{Text: "harbor"}},
	{"rare-0.5pct", Query{Text: "glacier"}},
	{"absent", Query{Text: "zzyzx"}},
	{"and-0.25pct", Query{Text: "harbor tsunami"}},
	{"phrase-1pct", Query{Text: `"state of emergency"`}},
	{"prefix-2pct", Query{Text: "transp*"}},
	{"stopword-and-rare", Query{Text: "the glacier"}},
	{"common-relevance", Query{Text: "harbor", Order: Relevance}},
	{"and-relevance", Query{Text: "harbor tsunami", Order: Relevance}},
}

// runQuery times one query n times and returns the sorted latencies.
func runQuery(b *testing.B, db *bolt.DB, q Query, n int) []time.Duration {
	if q.Limit == 0 {
		q.Limit = 50
	}
	lat := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		err := db.View(func(tx *bolt.Tx) error {
			refs, err := Search(context.Background(), tx, q, benchLoad(tx))
			if err == nil && len(refs) == 0 && q.Text != "zzyzx" {
				err = fmt.Errorf("%q found nothing", q.Text)
			}
			return err
		})
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	slices.Sort(lat)
	return lat
}

// cpuTime is the process's CPU time (user and system). On a machine shared
// with other work, wall-clock latency mostly measures the wait for a core;
// CPU time per query is what the query costs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// indexAlloc is the bytes of the pages the index's buckets take.
func indexAlloc(b *testing.B, db *bolt.DB) int {
	var alloc int
	err := db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketPostings, bucketMeta} {
			s := tx.Bucket(name).Stats()
			alloc += s.BranchAlloc + s.LeafAlloc
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return alloc
}

func reportCPU(b *testing.B, since time.Duration) {
	b.ReportMetric(float64((cpuTime()-since)/time.Duration(b.N))/1e6, "cpu-ms/op")
}

func p99(lat []time.Duration) time.Duration { return lat[(len(lat)*99)/100] }

// BenchmarkSearch runs each query at benchDocs() docs (ns/op, p99) and, in
// the same run, 200 times at 10,000 docs, reporting the ratio of the
// medians ("x-vs-10k"; flat is 1.0).
func BenchmarkSearch(b *testing.B) {
	n := benchDocs()
	base := benchDB(b, benchBaseDocs)
	big := benchDB(b, n)
	for _, bq := range benchQueries {
		b.Run(fmt.Sprintf("%s/docs=%d", bq.name, n), func(b *testing.B) {
			cpu0 := cpuTime()
			baseLat := runQuery(b, base, bq.q, 200)
			baseCPU := (cpuTime() - cpu0) / 200
			b.ResetTimer()
			cpu0 = cpuTime()
			lat := runQuery(b, big, bq.q, b.N)
			cpu := (cpuTime() - cpu0) / time.Duration(b.N)
			b.StopTimer()
			b.ReportMetric(float64(p99(lat).Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(lat[len(lat)/2])/float64(baseLat[len(baseLat)/2]), "x-vs-10k")
			b.ReportMetric(float64(cpu.Microseconds())/1000, "cpu-ms/op")
			b.ReportMetric(float64(cpu)/float64(max(baseCPU, 1)), "cpu-x-vs-10k")
		})
	}
}

// BenchmarkIndexSize reports the pages the index takes in the file per doc
// (allocated, i.e. what it adds to the file, and in use), at benchDocs().
func BenchmarkIndexSize(b *testing.B) {
	n := benchDocs()
	db := benchDB(b, n)
	b.ResetTimer()
	for range b.N {
		err := db.View(func(tx *bolt.Tx) error {
			var alloc, inuse int
			var keys int
			for _, name := range [][]byte{bucketPostings, bucketMeta} {
				s := tx.Bucket(name).Stats()
				alloc += s.BranchAlloc + s.LeafAlloc
				inuse += s.BranchInuse + s.LeafInuse
				keys += s.KeyN
			}
			docs := tx.Bucket(bucketBenchDocs).Stats()
			b.ReportMetric(float64(alloc)/float64(n), "index-bytes/doc")
			b.ReportMetric(float64(inuse)/float64(n), "index-inuse-bytes/doc")
			b.ReportMetric(float64(keys)/float64(n), "chunks/doc")
			b.ReportMetric(float64(docs.BranchAlloc+docs.LeafAlloc)/float64(n), "docs-bytes/doc")
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddRemove times Add and Remove of new docs into the big index
// inside a write transaction that is rolled back (the cache stays as
// built), and Add with its commit, one doc per transaction as the store
// does when an item arrives (NoSync: the fsync is the disk's, not ours).
func BenchmarkAddRemove(b *testing.B) {
	n := benchDocs()
	db := benchDB(b, n)
	g := newDocGen(99)
	rollback := errors.New("rollback")
	b.Run(fmt.Sprintf("add/docs=%d", n), func(b *testing.B) {
		docs := make([]Doc, b.N)
		for i := range docs {
			docs[i] = benchDoc(g, n+i)
		}
		b.ResetTimer()
		cpu0 := cpuTime()
		err := db.Update(func(tx *bolt.Tx) error {
			for i, d := range docs {
				if err := Add(tx, benchRef(n+i), d); err != nil {
					return err
				}
			}
			b.StopTimer()
			reportCPU(b, cpu0)
			return rollback
		})
		if !errors.Is(err, rollback) {
			b.Fatal(err)
		}
	})
	b.Run(fmt.Sprintf("remove/docs=%d", n), func(b *testing.B) {
		err := db.Update(func(tx *bolt.Tx) error {
			docs := tx.Bucket(bucketBenchDocs)
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := range b.N {
				// Spread over the whole corpus, old and new.
				ref := benchRef((i * 7919) % n)
				if err := Remove(tx, ref, decodeBenchDoc(docs.Get(be64(ref)))); err != nil {
					return err
				}
			}
			b.StopTimer()
			reportCPU(b, cpu0)
			return rollback
		})
		if !errors.Is(err, rollback) {
			b.Fatal(err)
		}
	})
	b.Run(fmt.Sprintf("add-commit/docs=%d", n), func(b *testing.B) {
		docs := make([]Doc, b.N)
		for i := range docs {
			docs[i] = benchDoc(g, n+i)
		}
		before := indexAlloc(b, db)
		b.ResetTimer()
		cpu0 := cpuTime()
		for i, d := range docs {
			if err := db.Update(func(tx *bolt.Tx) error { return Add(tx, benchRef(n+i), d) }); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		reportCPU(b, cpu0)
		// What one more doc adds to the pages of the index, added one per
		// transaction as items arrive (pages split as they fill).
		b.ReportMetric(float64(indexAlloc(b, db)-before)/float64(b.N), "grow-bytes/doc")
		// Take them out again so the cached corpus stays as built.
		err := db.Update(func(tx *bolt.Tx) error {
			for i, d := range docs {
				if err := Remove(tx, benchRef(n+i), d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	})
}
