package search

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkTokenizeDoc is the pass over one loaded doc that phrase checks
// and relevance make for every candidate.
func BenchmarkTokenizeDoc(b *testing.B) {
	d := benchDoc(newDocGen(5), 5)
	tk := newTokenizer()
	p, _ := Parse(`"state of emergency" harbor`)
	b.ReportAllocs()
	var w []string
	for range b.N {
		_, w = tk.match(d, p, w)
	}
}

// BenchmarkAddFresh adds docs to an index that starts empty, 100 per
// transaction as a fetch cycle would, and reports the pages the index then
// takes per doc: the size an index grown by Add has, pages split as they fill.
func BenchmarkAddFresh(b *testing.B) {
	ix := newTestIndex(b)
	g := newDocGen(3)
	docs := make([]Doc, min(b.N, 200_000))
	for i := range docs {
		docs[i] = benchDoc(g, i)
	}
	b.ResetTimer()
	i := 0
	for i < b.N {
		err := ix.db.Update(func(tx *bolt.Tx) error {
			for j := 0; j < 100 && i < b.N; j++ {
				if err := Add(tx, benchRef(i), docs[i%len(docs)]); err != nil {
					return err
				}
				i++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(indexAlloc(b, ix.db))/float64(b.N), "index-bytes/doc")
	err := ix.db.View(func(tx *bolt.Tx) error {
		s := tx.Bucket(bucketPostings).Stats()
		b.ReportMetric(float64(s.LeafInuse+s.BranchInuse)/float64(b.N), "index-inuse-bytes/doc")
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// The store's compaction (bbolt.Compact, pages filled whole) brings a
	// grown index back to the size of a bulk-built one.
	dst, err := bolt.Open(filepath.Join(b.TempDir(), "compact.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer dst.Close()
	if err := bolt.Compact(dst, ix.db, 64<<20); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(indexAlloc(b, dst))/float64(b.N), "compacted-bytes/doc")
}
