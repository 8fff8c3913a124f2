package backup

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// Run takes a checked copy at each tick, named by the clock, and keeps
// the newest Keep; each copy holds what was stored before its tick.
// Files in the directory that are not copies are left alone.
func TestScheduledBackupsKeepTheNewest(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir := filepath.Join(t.TempDir(), "backups")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	keepMe := filepath.Join(dir, "clipsheet-notes.db")
	if err := os.WriteFile(keepMe, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tick := make(chan time.Time)
	start := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	var now time.Time
	type result struct {
		path string
		err  error
	}
	results := make(chan result)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, st, Schedule{Dir: dir, Keep: 3, Tick: tick, Now: func() time.Time { return now },
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), After: func(p string, err error) { results <- result{p, err} }})
	}()

	var want []string
	for i := range 5 {
		it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://example.com/%d", i), Title: "T"}, "src", "Top", start)
		if _, err := st.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		now = start.Add(time.Duration(i) * time.Hour)
		tick <- now
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.path != filepath.Join(dir, Name(now)) {
			t.Errorf("copy %d at %s, want it named for %s", i, r.path, now)
		}
		want = append(want, filepath.Base(r.path))
		// Each copy holds the items stored before its tick (opened as a
		// copy: Open writes, and the kept copies must stay as taken).
		copyTo(t, r.path, r.path+".open")
		c, err := store.Open(r.path + ".open")
		if err != nil {
			t.Fatal(err)
		}
		items, err := c.ListItems(ctx, store.ItemFilter{})
		c.Close()
		os.Remove(r.path + ".open")
		if err != nil || len(items) != i+1 {
			t.Errorf("copy %d holds %d items, want %d (%v)", i, len(items), i+1, err)
		}
	}
	cancel()
	<-done

	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	wantLeft := append(want[2:], filepath.Base(keepMe))
	slices.Sort(wantLeft)
	if !slices.Equal(got, wantLeft) {
		t.Errorf("left in the directory: %v, want %v", got, wantLeft)
	}
}

func copyTo(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A failed copy (the directory cannot be written) is reported and leaves
// the older copies in place.
func TestFailedBackupKeepsOlder(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir := t.TempDir()
	ctx := context.Background()
	first, err := Take(ctx, st, dir, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Take(ctx, st, dir, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("a second copy under the same name replaced the first")
	}
	// A file where the directory should be.
	blocked := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocked, nil, 0o600)
	if _, err := Take(ctx, st, blocked, time.Now()); err == nil {
		t.Error("a copy into a file as directory did not fail")
	}
	if err := store.VerifyBackup(ctx, first); err != nil {
		t.Errorf("the first copy: %v", err)
	}
}
