package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

// countByWalk is how CountItems counted before the counters: a walk of the
// whole time index. Kept here as the benchmark's yardstick.
func countByWalk(s *Bolt) (map[model.Status]int, error) {
	counts := map[model.Status]int{}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, st := range []model.Status{model.StatusQueued, model.StatusApproved, model.StatusRejected} {
			p := indexPrefix(idxTime, st, "")
			c := tx.Bucket(bucketIndex).Cursor()
			for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
				counts[st]++
			}
		}
		return nil
	})
	return counts, err
}

// BenchmarkCountItems measures counting at 10k and 100k items, three ways:
// the counters, the old walk of the time index, and a /healthz-like request
// (real HTTP over loopback, a handler that counts and answers JSON). The
// ratio of 100k to 10k is what bench/README.md reports; counters should
// keep it near 1.
func BenchmarkCountItems(b *testing.B) {
	sizes := []int{10_000, 100_000}
	stores := make([]*Bolt, len(sizes))
	for i, n := range sizes {
		stores[i] = countStore(b, n)
	}
	ctx := context.Background()
	// Each way at both sizes back to back, so a shared machine's load
	// changes as little as possible between the two numbers of a ratio.
	for i, n := range sizes {
		s := stores[i]
		b.Run(fmt.Sprintf("counters/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.CountItems(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for i, n := range sizes {
		s := stores[i]
		b.Run(fmt.Sprintf("walk/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := countByWalk(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, how := range []string{"healthz-counters", "healthz-walk"} {
		for i, n := range sizes {
			benchHealthz(b, stores[i], how, n)
		}
	}
}

// benchHealthz times GET /healthz over loopback against a handler that
// counts the way how names, as the real /healthz does through the desk.
func benchHealthz(b *testing.B, s *Bolt, how string, n int) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		if how == "healthz-counters" {
			_, err = s.CountItems(r.Context())
		} else {
			_, err = countByWalk(s)
		}
		if err != nil {
			http.Error(w, `{"status":"store unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
	}))
	defer srv.Close()
	b.Run(fmt.Sprintf("%s/%d", how, n), func(b *testing.B) {
		for b.Loop() {
			resp, err := srv.Client().Get(srv.URL + "/healthz")
			if err != nil {
				b.Fatal(err)
			}
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

// countStore is a store of n small items, a third in each status.
func countStore(b *testing.B, n int) *Bolt {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "count.db"))
	if err != nil {
		b.Fatal(err)
	}
	fillItems(b, s, n)
	// Spread the items over statuses as a working desk has them.
	err = s.db.Update(func(tx *bolt.Tx) error {
		var ids []string
		if err := tx.Bucket(bucketItems).ForEach(func(k, _ []byte) error { ids = append(ids, string(k)); return nil }); err != nil {
			return err
		}
		for i, id := range ids {
			if i%3 == 0 {
				continue
			}
			it, ref, err := s.getItem(tx, id)
			if err != nil {
				return err
			}
			if err := deleteIndex(tx, it, ref); err != nil {
				return err
			}
			it.Status = []model.Status{model.StatusQueued, model.StatusApproved, model.StatusRejected}[i%3]
			if err := s.writeRecords(tx, it, ref, false); err != nil {
				return err
			}
			if err := putIndex(tx, it, ref); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
