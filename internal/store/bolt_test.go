package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

func openTemp(t *testing.T) (*Bolt, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "clipsheet.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func item(url string, published time.Time) *model.Item {
	return model.NewItem(model.Extraction{URL: url, Title: distinctTitle(url), Published: published}, "src", "Top", time.Now().UTC())
}

// distinctTitle makes a headline of its own for each URL: test items named
// "Story 1", "Story 2"… would be one story to the grouping (story.go).
func distinctTitle(seed string) string {
	words := strings.Fields(`harbour council budget storm bridge school fire river clinic market vote police rail airport museum farm
		library court drought festival factory hospital election stadium mayor tunnel ferry orchard glacier refinery bakery
		satellite vaccine pipeline wildfire earthquake orchestra harvest strike merger lawsuit`)
	h := sha256.Sum256([]byte(seed))
	var b strings.Builder
	for i := range 5 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[int(h[i])%len(words)])
	}
	return b.String()
}

func TestAddItemDeduplicates(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	it := item("https://example.com/a?utm_source=x", time.Time{})
	created, err := s.AddItem(ctx, it)
	if err != nil || !created {
		t.Fatalf("first add: %v %v", created, err)
	}
	again := item("https://EXAMPLE.com/a#frag", time.Time{})
	again.Title = "changed"
	created, err = s.AddItem(ctx, again)
	if err != nil || created {
		t.Fatalf("second add should be a no-op: %v %v", created, err)
	}
	got, err := s.GetItem(ctx, it.ID)
	if err != nil || got.Title != it.Title {
		t.Fatalf("existing item changed: %+v %v", got, err)
	}
	items, _ := s.ListItems(ctx, ItemFilter{})
	if len(items) != 1 {
		t.Fatalf("want 1 item, got %d", len(items))
	}
}

func TestConcurrentAddsAreBatchedAndExact(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	createdCount := 0
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				created, err := s.AddItem(ctx, item(fmt.Sprintf("https://example.com/%d", i), time.Time{}))
				if err != nil {
					t.Error(err)
					return
				}
				if created {
					mu.Lock()
					createdCount++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if createdCount != 50 {
		t.Fatalf("created %d, want exactly 50", createdCount)
	}
}

func TestListOrderFiltersAndStatusIndex(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		it := item(fmt.Sprintf("https://example.com/%d", i), base.Add(time.Duration(i)*time.Hour))
		if i%2 == 0 {
			it.Section = "Cyber"
		}
		if _, err := s.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := s.ListItems(ctx, ItemFilter{})
	for i := 1; i < len(all); i++ {
		if all[i].SortTime().After(all[i-1].SortTime()) {
			t.Fatalf("not newest first at %d", i)
		}
	}
	cyber, _ := s.ListItems(ctx, ItemFilter{Section: "Cyber"})
	if len(cyber) != 3 {
		t.Errorf("section filter: %d", len(cyber))
	}
	since, _ := s.ListItems(ctx, ItemFilter{Since: base.Add(3 * time.Hour)})
	if len(since) != 2 {
		t.Errorf("since filter: %d", len(since))
	}
	q, _ := s.ListItems(ctx, ItemFilter{Query: distinctTitle("https://example.com/4")})
	if len(q) != 1 {
		t.Errorf("query filter: %d", len(q))
	}
	page, _ := s.ListItems(ctx, ItemFilter{Limit: 2, Offset: 2})
	if len(page) != 2 || page[0].ID != all[2].ID {
		t.Errorf("paging wrong")
	}

	id := all[0].ID
	if _, err := s.UpdateItem(ctx, id, func(it *model.Item) error { it.Status = model.StatusApproved; return nil }); err != nil {
		t.Fatal(err)
	}
	approved, _ := s.ListItems(ctx, ItemFilter{Status: model.StatusApproved})
	queued, _ := s.ListItems(ctx, ItemFilter{Status: model.StatusQueued})
	if len(approved) != 1 || approved[0].ID != id || len(queued) != 4 {
		t.Fatalf("status index stale: approved %d queued %d", len(approved), len(queued))
	}
	counts, _ := s.CountItems(ctx)
	if counts[model.StatusApproved] != 1 || counts[model.StatusQueued] != 4 {
		t.Errorf("counts %v", counts)
	}
	_, err := s.UpdateItem(ctx, id, func(it *model.Item) error { it.Status = "bogus"; return nil })
	if err == nil {
		t.Error("invalid status accepted")
	}
	if err := s.DeleteItem(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetItem(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted item: %v", err)
	}
	if approved, _ := s.ListItems(ctx, ItemFilter{Status: model.StatusApproved}); len(approved) != 0 {
		t.Error("index entry survived delete")
	}
}

func TestApprovedItemSurvivesReopen(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	it := item("https://example.com/keep", time.Time{})
	s.AddItem(ctx, it)
	if _, err := s.UpdateItem(ctx, it.ID, func(i *model.Item) error { i.Status = model.StatusApproved; i.Title = "edited"; return nil }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.GetItem(ctx, it.ID)
	if err != nil || got.Status != model.StatusApproved || got.Title != "edited" || got.Original.Title != it.Title {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
}

func TestSourceState(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	st, err := s.SourceState(ctx, "nope")
	if err != nil || st.Name != "nope" || st.ETag != "" {
		t.Fatalf("missing state: %+v %v", st, err)
	}
	st.ETag = `"abc"`
	st.LastError = "boom"
	if err := s.PutSourceState(ctx, st); err != nil {
		t.Fatal(err)
	}
	got, _ := s.SourceState(ctx, "nope")
	if got.ETag != `"abc"` || got.Healthy() {
		t.Errorf("state not stored: %+v", got)
	}
	all, _ := s.ListSourceStates(ctx)
	if len(all) != 1 {
		t.Errorf("list: %d", len(all))
	}
	s.DeleteSourceState(ctx, "nope")
	if all, _ := s.ListSourceStates(ctx); len(all) != 0 {
		t.Error("delete failed")
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	s, path := openTemp(t)
	s.DB().Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte("99")) })
	s.Close()
	if _, err := Open(path); err == nil {
		t.Fatal("opened a file from the future")
	}
}

func TestRecordsAppendedAndBodyStoredOnce(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	body := strings.Repeat("A long article body paragraph. ", 200)
	var ids []string
	for i := 0; i < 3; i++ {
		it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://example.com/body/%d", i), Title: "T", Body: body}, "src", "", time.Now())
		if _, err := s.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, it.ID)
	}
	s.DB().View(func(tx *bolt.Tx) error {
		// Record keys grow in insertion order whatever the IDs are.
		var prev uint64
		for i, id := range ids {
			ref := tx.Bucket(bucketItems).Get([]byte(id))
			if len(ref) != 8 || (i > 0 && binary.BigEndian.Uint64(ref) <= prev) {
				t.Errorf("record key of item %d: %x", i, ref)
			}
			prev = binary.BigEndian.Uint64(ref)
			// The body is in the text record only, compressed.
			if head := tx.Bucket(bucketHeads).Get(ref); bytes.Contains(head, []byte("A long article")) {
				t.Errorf("item %d: the head holds the body", i)
			}
			if text := tx.Bucket(bucketTexts).Get(ref); len(text) == 0 || len(text) > len(body)/4 {
				t.Errorf("item %d: text record of %d bytes for a %d-byte body", i, len(text), len(body))
			}
		}
		return nil
	})
	got, err := s.GetItem(ctx, ids[0])
	if err != nil || got.Body != body || got.Original.Body != body {
		t.Fatalf("body not restored: %v", err)
	}
	if _, err := s.UpdateItem(ctx, ids[0], func(i *model.Item) error { i.Title = "edited"; return nil }); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetItem(ctx, ids[0])
	if got.Body != body || got.Title != "edited" || got.Original.Title != "T" {
		t.Fatalf("after update: %+v", got)
	}
	if err := s.DeleteItem(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	s.DB().View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketHeads, bucketTexts, bucketItems} {
			if n := tx.Bucket(b).Stats().KeyN; n != 2 {
				t.Errorf("%s: %d records after deleting one of three", b, n)
			}
		}
		return nil
	})
}

func TestUpgradesVersion1File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	approved := model.NewItem(model.Extraction{URL: "https://example.com/old", Title: "Old", Body: "Old body."}, "src", "Cyber", time.Now().UTC())
	approved.Status = model.StatusApproved
	err = db.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket(bucketMeta)
		meta.Put(keySchema, []byte("1"))
		items, _ := tx.CreateBucket(bucketItems)
		data, _ := json.Marshal(approved)
		items.Put([]byte(approved.ID), data)
		idx, _ := tx.CreateBucket(bucketTimeIdx)
		// The version-1 index: status, a zero byte, time and ID.
		return idx.Put(append([]byte("approved\x00\x01\x02\x03\x04\x05\x06\x07\x08"), approved.ID...), nil)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	got, err := s.GetItem(ctx, approved.ID)
	if err != nil || got.Title != "Old" || got.Body != "Old body." || got.Status != model.StatusApproved {
		t.Fatalf("upgraded item: %+v %v", got, err)
	}
	list, err := s.ListItems(ctx, ItemFilter{Status: model.StatusApproved})
	if err != nil || len(list) != 1 {
		t.Fatalf("approved list after upgrade: %d %v", len(list), err)
	}
	if counts, err := s.CountItems(ctx); err != nil || len(counts) != 1 || counts[model.StatusApproved] != 1 {
		t.Errorf("counts after upgrade: %v %v", counts, err)
	}
	s.DB().View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keySchema); string(v) != fmt.Sprint(SchemaVersion) {
			t.Errorf("schema version %s", v)
		}
		return nil
	})
}

// TestSubSecondPublishedListedOnce: feeds may give fractions of a second;
// the record keeps whole seconds (RFC 3339), so an index key made from the
// finer time would outlive the item's next change and list it twice.
func TestSubSecondPublishedListedOnce(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	published := time.Date(2026, 12, 1, 8, 30, 15, 123456789, time.UTC)
	it := item("https://example.com/fraction", published)
	it.FetchedAt = published.Add(time.Minute)
	if _, err := s.AddItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	for _, st := range []model.Status{model.StatusApproved, model.StatusQueued} {
		if _, err := s.UpdateItem(ctx, it.ID, func(x *model.Item) error { x.Status = st; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []ItemFilter{{}, {Status: model.StatusQueued}, {Status: model.StatusApproved}} {
		items, err := s.ListItems(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if f.Status == model.StatusApproved {
			want = 0
		}
		if len(items) != want {
			t.Errorf("filter %+v lists %d items, want %d", f, len(items), want)
		}
	}
}
