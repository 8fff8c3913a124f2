package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

// benchItems fills a store with n items of realistic size (a 3 KB body)
// from 200 sources over 30 days: what the sources page reads on each load.
func benchItems(b *testing.B, n int) *Bolt {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := time.Now().UTC()
	body := strings.Repeat("Officials said further details would follow later in the week. ", 50)
	// One transaction: the benchmark is about reading.
	err = s.db.Update(func(tx *bolt.Tx) error {
		for i := range n {
			it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://example.com/%d", i), Title: "Headline", Lead: body[:400], Body: body},
				fmt.Sprintf("Source %d", i%200), "Top", now.Add(-time.Duration(i)*time.Minute))
			if err := s.putNewItem(tx, it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkItemArrivals reads arrivals from 20,000 items; compare with
// BenchmarkScanRecordsBaseline (the same walk, reading nothing) and
// BenchmarkItemArrivalsFullDecode (decoding each record) in the same run.
func BenchmarkItemArrivals(b *testing.B) {
	s := benchItems(b, 20000)
	since := time.Now().Add(-30 * 24 * time.Hour)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.ItemArrivals(context.Background(), since); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkItemArrivalsFullDecode(b *testing.B) {
	s := benchItems(b, 20000)
	b.ResetTimer()
	for b.Loop() {
		err := s.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketHeads).ForEach(func(k, v []byte) error {
				var it model.Item
				return s.codec.decodeHead(v, &it)
			})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanRecordsBaseline(b *testing.B) {
	s := benchItems(b, 20000)
	b.ResetTimer()
	for b.Loop() {
		n := 0
		err := s.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketHeads).ForEach(func(k, v []byte) error { n += len(v); return nil })
		})
		if err != nil || n == 0 {
			b.Fatal(err)
		}
	}
}
