package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

// A backup taken while writers go on is one consistent moment: it checks
// clean and its counters agree with its items.
func TestHotBackupIsConsistent(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	fillItems(t, s, 500)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var w PollWrite
			for j := range 20 {
				w.Items = append(w.Items, item(fmt.Sprintf("https://hot.example/%d/%d", i, j), time.Time{}))
			}
			if err := s.WritePolls(ctx, []PollWrite{w}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	dir := t.TempDir()
	for i := range 3 {
		path := filepath.Join(dir, fmt.Sprintf("b%d.db", i))
		var size int64
		err := WriteBackupFile(ctx, path, func(w io.Writer) error {
			n, err := s.Backup(ctx, w, func(n int64) { size = n })
			if err == nil && n != size {
				err = fmt.Errorf("wrote %d bytes, announced %d", n, size)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		restored := filepath.Join(dir, fmt.Sprintf("r%d", i), "clipsheet.db")
		if _, err := Restore(ctx, path, restored, time.Now()); err != nil {
			t.Fatal(err)
		}
		b, err := Open(restored)
		if err != nil {
			t.Fatal(err)
		}
		items, err := b.ListItems(ctx, ItemFilter{})
		counts, _ := b.CountItems(ctx)
		b.Close()
		if err != nil || len(items) < 500 || counts[model.StatusQueued] != len(items) {
			t.Errorf("backup %d: %d items, counted %d, %v", i, len(items), counts[model.StatusQueued], err)
		}
	}
	close(stop)
	wg.Wait()
}

// Restore checks the backup first, refuses while the database is open,
// and keeps the file it replaces.
func TestRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	live := filepath.Join(dir, "data", "clipsheet.db")
	s, err := Open(live)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddItem(ctx, item("https://example.com/old", time.Time{})); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := WriteBackupFile(ctx, backup, func(w io.Writer) error { _, err := s.Backup(ctx, w, nil); return err }); err != nil {
		t.Fatal(err)
	}
	if err := WriteBackupFile(ctx, backup, func(io.Writer) error { return nil }); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("backup over an existing file: %v", err)
	}
	if _, err := s.AddItem(ctx, item("https://example.com/new", time.Time{})); err != nil {
		t.Fatal(err)
	}

	// While open, the database is not replaced.
	if _, err := Restore(ctx, backup, live, time.Now()); !errors.Is(err, ErrInUse) {
		t.Fatalf("restore while open: %v, want ErrInUse", err)
	}
	s.Close()

	// Files that are not sound backups are refused before anything moves.
	bad := map[string]func(p string){
		"damaged": func(p string) {
			copyFile(t, backup, p)
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()/2)
		},
		"not bbolt": func(p string) { os.WriteFile(p, bytes.Repeat([]byte("x"), 8192), 0o600) },
		"not clipsheet": func(p string) {
			db, err := bolt.Open(p, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
			db.Close()
		},
		"newer schema": func(p string) {
			copyFile(t, backup, p)
			db, err := bolt.Open(p, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(bucketMeta).Put(keySchema, []byte(fmt.Sprint(SchemaVersion+1)))
			})
			db.Close()
		},
	}
	before, _ := os.ReadFile(live)
	for name, make := range bad {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".db")
		make(p)
		if _, err := Restore(ctx, p, live, time.Now()); err == nil {
			t.Errorf("%s backup restored", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if after, _ := os.ReadFile(live); !bytes.Equal(before, after) {
		t.Fatal("a refused restore changed the database")
	}

	at := time.Date(2026, 7, 8, 9, 10, 11, 0, time.UTC)
	aside, err := Restore(ctx, backup, live, at)
	if err != nil {
		t.Fatal(err)
	}
	if aside != live+".replaced-20260708-091011" {
		t.Errorf("replaced file kept as %q", aside)
	}
	if kept, _ := os.ReadFile(aside); !bytes.Equal(kept, before) {
		t.Error("the replaced file was not kept as it was")
	}
	s, err = Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	items, _ := s.ListItems(ctx, ItemFilter{})
	if len(items) != 1 || items[0].URL != "https://example.com/old" {
		t.Errorf("restored database holds %d items", len(items))
	}
	fi, _ := os.Stat(live)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("restored file mode %v", fi.Mode())
	}
}
