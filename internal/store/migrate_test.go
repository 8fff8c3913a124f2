package store

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

// copySchema3 copies the schema-3 release's file into a temp dir.
func copySchema3(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("testdata/schema3.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "clipsheet.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestUpgradesSchema3File opens a file the schema-3 release wrote: a copy
// of it is kept beside it first, and afterwards every item reads back as
// that release read it, lists in the same order, and the rest of the file
// (accounts, sessions, source state, audit) is still there.
func TestUpgradesSchema3File(t *testing.T) {
	path := copySchema3(t)
	var want []*model.Item
	data, err := os.ReadFile("testdata/schema3.items.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()

	backups, _ := filepath.Glob(path + ".schema3-*.bak")
	if len(backups) != 1 {
		t.Fatalf("copies before the upgrade: %v", backups)
	}
	old, err := bolt.Open(backups[0], 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("the copy does not open: %v", err)
	}
	old.View(func(tx *bolt.Tx) error {
		if v, _ := storedSchema(tx); v != 3 || tx.Bucket(bucketRecords).Stats().KeyN != len(want) {
			t.Errorf("the copy is at schema %d with %d records; want the schema-3 file", v, tx.Bucket(bucketRecords).Stats().KeyN)
		}
		return nil
	})
	old.Close()

	s.DB().View(func(tx *bolt.Tx) error {
		if v, _ := storedSchema(tx); v != SchemaVersion {
			t.Errorf("schema %d after the upgrade", v)
		}
		if tx.Bucket(bucketRecords) != nil || tx.Bucket(bucketTimeIdx) != nil {
			t.Error("schema-3 buckets left behind")
		}
		return nil
	})
	for _, w := range want {
		got, err := s.GetItem(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !sameItem(got, w) {
			g, _ := json.Marshal(got)
			x, _ := json.Marshal(w)
			t.Errorf("item %s after the upgrade:\n got %s\nwant %s", w.ID, g, x)
		}
	}
	list, err := s.ListItems(ctx, ItemFilter{})
	if err != nil || len(list) != len(want) {
		t.Fatalf("list after the upgrade: %d items, %v", len(list), err)
	}
	for i := range list {
		if list[i].ID != want[i].ID {
			t.Fatalf("list order differs at %d: %s, want %s", i, list[i].ID, want[i].ID)
		}
	}
	checkCounts(t, s, "after the upgrade")
	byStatus := map[model.Status]int{}
	for _, w := range want {
		byStatus[w.Status]++
	}
	for st, n := range byStatus {
		if got, _ := s.ListItems(ctx, ItemFilter{Status: st}); len(got) != n {
			t.Errorf("%s: %d listed, want %d", st, len(got), n)
		}
	}
	if got, _ := s.ListItems(ctx, ItemFilter{Section: "Fire", Source: "Wire A"}); len(got) == 0 {
		t.Error("nothing under section Fire and source Wire A")
	}
	if u, err := s.GetUser(ctx, "ana"); err != nil || u.Role != model.RoleAdmin {
		t.Errorf("user after the upgrade: %+v %v", u, err)
	}
	if ss, err := s.GetSession(ctx, "5e55"); err != nil || ss.CSRF != "c5rf" {
		t.Errorf("session after the upgrade: %+v %v", ss, err)
	}
	if st, err := s.SourceState(ctx, "Wire A"); err != nil || st.ItemsFound != 14 {
		t.Errorf("source state after the upgrade: %+v %v", st, err)
	}
	if ev, err := s.ListAudit(ctx, AuditFilter{}); err != nil || len(ev) != 1 {
		t.Errorf("audit after the upgrade: %v %v", ev, err)
	}
	// New items continue after the old ones.
	it := model.NewItem(model.Extraction{URL: "https://new.example/1", Title: "New"}, "Wire A", "Fire", list[0].FetchedAt.Add(1))
	if _, err := s.AddItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListItems(ctx, ItemFilter{Limit: 1}); len(got) != 1 || got[0].ID != it.ID {
		t.Errorf("newest after adding: %v", got)
	}
	s.Close()
	if s2, err := Open(path); err != nil {
		t.Fatalf("reopening: %v", err)
	} else {
		if more, _ := filepath.Glob(path + ".schema*.bak"); len(more) != 1 {
			t.Errorf("an upgraded file was copied again on open: %v", more)
		}
		s2.Close()
	}
}

// TestFailedUpgradeLeavesTheOldFile: an upgrade that cannot read a record
// changes nothing; the file stays at schema 3 with every record.
func TestFailedUpgradeLeavesTheOldFile(t *testing.T) {
	path := copySchema3(t)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var records int
	db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		records = b.Stats().KeyN + 1
		return b.Put([]byte("\xff\xff\xff\xff\xff\xff\xff\xff"), []byte(`{"id": broken`))
	})
	db.Close()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "upgrade schema 3 to 4") {
		t.Fatalf("Open of a file with a broken record: %v", err)
	}
	db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if v, _ := storedSchema(tx); v != 3 {
			t.Errorf("schema %d after a failed upgrade", v)
		}
		if b := tx.Bucket(bucketRecords); b == nil || b.Stats().KeyN != records {
			t.Error("records lost by a failed upgrade")
		}
		if tx.Bucket(bucketHeads) != nil {
			t.Error("half an upgrade committed")
		}
		return nil
	})
}
