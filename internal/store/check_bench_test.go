package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

// BenchmarkCheckFile: the consistency walk against reading the same file
// whole (the baseline: the least a check of every page can cost), on a
// file of 20,000 items with leads and bodies that do not compress.
//
//	go test -run '^$' -bench CheckFile ./internal/store/
func BenchmarkCheckFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "clipsheet.db")
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for start := 0; start < 20000; start += 2000 {
		var w PollWrite
		for i := start; i < start+2000; i++ {
			w.Items = append(w.Items, model.NewItem(model.Extraction{URL: fmt.Sprintf("https://example.com/%d", i), Title: fmt.Sprintf("Headline %d", i),
				Lead: words(uint64(i), 60), Body: words(uint64(i)+1e6, 300)}, "src", "Top", now.Add(-time.Duration(i)*time.Minute)))
		}
		if err := s.WritePolls(context.Background(), []PollWrite{w}); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	fi, _ := os.Stat(path)
	b.Run("read-whole-file", func(b *testing.B) {
		b.SetBytes(fi.Size())
		for b.Loop() {
			if _, err := os.ReadFile(path); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		b.SetBytes(fi.Size())
		for b.Loop() {
			rep, err := CheckFile(context.Background(), path)
			if err != nil || !rep.OK() {
				b.Fatal(err, rep.Problems)
			}
		}
	})
}
