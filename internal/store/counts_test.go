package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

// recount counts every stored record by status and section, the slow way
// the counters replace.
func recount(t *testing.T, s *Bolt) (map[model.Status]int, map[model.Status]map[string]int) {
	t.Helper()
	byStatus := map[model.Status]int{}
	bySection := map[model.Status]map[string]int{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketHeads).ForEach(func(_, v []byte) error {
			it := &model.Item{}
			if err := s.codec.decodeHead(v, it); err != nil {
				return err
			}
			byStatus[it.Status]++
			if bySection[it.Status] == nil {
				bySection[it.Status] = map[string]int{}
			}
			bySection[it.Status][it.Section]++
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return byStatus, bySection
}

func checkCounts(t *testing.T, s *Bolt, when string) {
	t.Helper()
	wantStatus, wantSection := recount(t, s)
	gotStatus, err := s.CountItems(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(gotStatus, wantStatus) {
		t.Fatalf("%s: CountItems = %v, a recount gives %v", when, gotStatus, wantStatus)
	}
	gotSection, err := s.CountSections(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(gotSection, wantSection, maps.Equal) {
		t.Fatalf("%s: CountSections = %v, a recount gives %v", when, gotSection, wantSection)
	}
}

func TestCountsBuiltOnceForFileWithoutCounters(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	now := time.Now().UTC()
	statuses := []model.Status{model.StatusQueued, model.StatusApproved, model.StatusRejected}
	for i := range 30 {
		it := item(fmt.Sprintf("https://example.com/%d", i), now.Add(-time.Duration(i)*time.Minute))
		it.Status = statuses[i%3]
		it.Section = []string{"Top", "World", "Sport", "Arts"}[i%4]
		if _, err := s.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	// Make it a file written before there were counters.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketCounts); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Delete(keyCountsBuilt); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("2"))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.CountItems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[model.Status]int{model.StatusQueued: 10, model.StatusApproved: 10, model.StatusRejected: 10}
	if !maps.Equal(got, want) {
		t.Fatalf("counts of an old file: %v, want %v", got, want)
	}
	sections, err := s.CountSections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// i%3 and i%4 over 0..29: queued items are i = 0,3,...,27.
	if n := sections[model.StatusQueued]["Top"]; n != 3 {
		t.Errorf("queued in Top: %d, want 3 (%v)", n, sections)
	}
	checkCounts(t, s, "after building")
	var built []byte
	_ = s.db.View(func(tx *bolt.Tx) error {
		built = append(built, tx.Bucket(bucketMeta).Get(keyCountsBuilt)...)
		return nil
	})
	if built == nil {
		t.Error("counters not marked built: every open would walk the items again")
	}
	if schema := readSchema(t, s); schema != fmt.Sprint(SchemaVersion) {
		t.Errorf("schema version %s after building counters, want %d", schema, SchemaVersion)
	}
}

func readSchema(t *testing.T, s *Bolt) string {
	t.Helper()
	var v []byte
	_ = s.db.View(func(tx *bolt.Tx) error {
		v = append(v, tx.Bucket(bucketMeta).Get(keySchema)...)
		return nil
	})
	return string(v)
}

// TestCountsFollowRandomOperations runs random sequences of every store
// change that moves an item between statuses or sections and compares the
// counters with a full recount after each step, and after a reopen.
func TestCountsFollowRandomOperations(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			s, path := openTemp(t)
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(seed, 99))
			statuses := []model.Status{model.StatusQueued, model.StatusApproved, model.StatusRejected}
			sections := []string{"Top", "World", "Sport"}
			sources := []string{"a", "b"}
			now := time.Now().UTC()
			var ids []string
			newItem := func() *model.Item {
				// Repeated URLs exercise adds of an existing ID.
				it := item(fmt.Sprintf("https://example.com/%d", rng.IntN(60)), now.Add(-time.Duration(rng.IntN(1000))*time.Minute))
				it.Status = statuses[rng.IntN(3)]
				it.Section = sections[rng.IntN(3)]
				it.Source = sources[rng.IntN(2)]
				return it
			}
			pick := func() string {
				if len(ids) == 0 || rng.IntN(10) == 0 {
					return "missing"
				}
				return ids[rng.IntN(len(ids))]
			}
			for step := range 300 {
				var op string
				var err error
				switch rng.IntN(8) {
				case 0, 1:
					op = "add"
					it := newItem()
					ids = append(ids, it.ID)
					_, err = s.AddItem(ctx, it)
				case 2:
					op = "write polls"
					w := PollWrite{SeenIDs: []string{"seen"}}
					for range rng.IntN(4) {
						it := newItem()
						ids = append(ids, it.ID)
						w.Items = append(w.Items, it)
					}
					err = s.WritePolls(ctx, []PollWrite{w})
				case 3:
					op = "decision"
					st := statuses[rng.IntN(3)]
					_, err = s.UpdateItem(ctx, pick(), func(it *model.Item) error { it.Status = st; return nil })
				case 4:
					op = "edit section"
					sec := sections[rng.IntN(3)]
					_, err = s.UpdateItemIf(ctx, pick(), int64(rng.IntN(3)), func(it *model.Item) error { it.Section = sec; return nil })
				case 5:
					op = "failed edit"
					_, err = s.UpdateItem(ctx, pick(), func(it *model.Item) error { it.Status = model.StatusApproved; return errors.New("refused") })
				case 6:
					op = "delete"
					err = s.DeleteItem(ctx, pick())
				case 7:
					if rng.IntN(2) == 0 {
						op = "rename section"
						i := rng.IntN(3)
						_, err = s.RenameSection(ctx, sections[i], sections[(i+1)%3])
					} else {
						op = "rename source"
						_, err = s.RenameSource(ctx, sources[0], sources[1])
						sources[0], sources[1] = sources[1], sources[0]
					}
				}
				// Refusals (missing, stale, fn's error) are part of the
				// sequence; what matters is that they leave counts right.
				if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrStale) && err.Error() != "refused" {
					t.Fatalf("step %d %s: %v", step, op, err)
				}
				checkCounts(t, s, fmt.Sprintf("step %d (%s)", step, op))
			}
			s.Close()
			s2, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			checkCounts(t, s2, "after reopen")
		})
	}
}

// fillItems stores n small items through WritePolls, a few thousand per
// transaction.
func fillItems(t testing.TB, s *Bolt, n int) {
	t.Helper()
	now := time.Now().UTC()
	for start := 0; start < n; start += 5000 {
		var w PollWrite
		for i := start; i < min(n, start+5000); i++ {
			it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://example.com/%d", i), Title: "Headline"}, "src", "Top", now.Add(-time.Duration(i)*time.Second))
			w.Items = append(w.Items, it)
		}
		if err := s.WritePolls(context.Background(), []PollWrite{w}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLongScansStopWhenCancelled cancels each long scan at its first record
// read and checks that it gives up within one check interval instead of
// reading the whole store.
func TestLongScansStopWhenCancelled(t *testing.T) {
	const n = 5000
	s, _ := openTemp(t)
	fillItems(t, s, n)
	scans := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"ListItems", func(ctx context.Context) error { _, err := s.ListItems(ctx, ItemFilter{}); return err }},
		{"ListItems search every filter refuses", func(ctx context.Context) error {
			_, err := s.ListItems(ctx, ItemFilter{Query: "headline", Section: "Nowhere"})
			return err
		}},
		{"ItemArrivals", func(ctx context.Context) error { _, err := s.ItemArrivals(ctx, time.Time{}); return err }},
		{"RenameSection", func(ctx context.Context) error { _, err := s.RenameSection(ctx, "Top", "Front"); return err }},
		{"RenameSource", func(ctx context.Context) error { _, err := s.RenameSource(ctx, "src", "other"); return err }},
	}
	for _, sc := range scans {
		t.Run(sc.name, func(t *testing.T) {
			// Uncancelled, the scan reads everything: the yardstick.
			full := 0
			s.onScanRecord = func() { full++ }
			if sc.name == "ListItems" || sc.name == "ItemArrivals" {
				if err := sc.run(context.Background()); err != nil {
					t.Fatal(err)
				}
				if full < n {
					t.Fatalf("full scan read %d records, want %d", full, n)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			read := 0
			s.onScanRecord = func() {
				read++
				if read == 1 {
					cancel()
				}
			}
			defer func() { s.onScanRecord = nil }()
			err := sc.run(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled scan returned %v, want context.Canceled", err)
			}
			if read > scanCheckEvery {
				t.Errorf("cancelled scan read %d of %d records, want at most %d", read, n, scanCheckEvery)
			}
		})
	}
	// The cancelled renames changed nothing.
	counts, err := s.CountSections(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := counts[model.StatusQueued]["Top"]; got != n {
		t.Errorf("after cancelled renames: %d queued in Top, want %d", got, n)
	}
}

// TestOldestQueued: the queue's tail, by the queue's order, and its fetch
// time; zero for an empty queue; decided items do not count.
func TestOldestQueued(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	if at, err := s.OldestQueued(ctx); err != nil || !at.IsZero() {
		t.Fatalf("empty queue: %v %v", at, err)
	}
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 5 {
		it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://e.example/%d", i)}, "src", "", base.Add(time.Duration(i)*time.Hour))
		if _, err := s.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, it.ID)
	}
	if at, err := s.OldestQueued(ctx); err != nil || !at.Equal(base) {
		t.Fatalf("oldest = %v %v, want %v", at, err, base)
	}
	decide(t, s, ids[0], model.StatusApproved, base)
	if at, _ := s.OldestQueued(ctx); !at.Equal(base.Add(time.Hour)) {
		t.Errorf("after approving the oldest: %v", at)
	}
	if n, _ := s.FileSize(); n <= 0 {
		t.Errorf("file size %d", n)
	}
}
