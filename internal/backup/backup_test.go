package backup

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// clock is the schedule's time, moved by the test; each Wait reports the
// duration asked for and delivers when the test moves the clock on.
type clock struct {
	mu        sync.Mutex
	now       time.Time
	requested chan time.Duration
	fire      chan time.Time
}

func newClock(now time.Time) *clock {
	return &clock{now: now, requested: make(chan time.Duration), fire: make(chan time.Time)}
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Wait(d time.Duration) <-chan time.Time {
	c.requested <- d
	return c.fire
}

// pass expects the schedule to wait want, then lets that time pass.
func (c *clock) pass(t *testing.T, want time.Duration) {
	t.Helper()
	if got := <-c.requested; got != want {
		t.Fatalf("the schedule waits %v, want %v", got, want)
	}
	c.mu.Lock()
	c.now = c.now.Add(want)
	now := c.now
	c.mu.Unlock()
	c.fire <- now
}

// Run takes a checked copy every period, named by the clock, the first
// one period after the newest copy already there (so restarts do not
// put it off), and keeps the newest Keep; each copy holds what was
// stored before it. Files in the directory that are not copies are left
// alone. A failed copy is retried within the hour.
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
	start := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	keepMe := filepath.Join(dir, "clipsheet-notes.db")
	older := filepath.Join(dir, Name(start.Add(-2*time.Hour))) // from before a restart
	for _, p := range []string{keepMe, older} {
		if err := os.WriteFile(p, []byte("not read"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := newClock(start)
	type result struct {
		path string
		err  error
	}
	results := make(chan result)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, st, Schedule{Dir: dir, Every: 6 * time.Hour, Keep: 3, Now: clk.Now, Wait: clk.Wait,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), After: func(p string, err error) { results <- result{p, err} }})
	}()

	want := []string{filepath.Base(older)}
	for i := range 5 {
		it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://example.com/%d", i), Title: "T"}, "src", "Top", start)
		if _, err := st.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			clk.pass(t, 4*time.Hour) // six hours after the copy of two hours ago
		} else {
			clk.pass(t, 6*time.Hour)
		}
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.path != filepath.Join(dir, Name(clk.Now())) {
			t.Errorf("copy %d at %s, want it named for %s", i, r.path, clk.Now())
		}
		want = append(want, filepath.Base(r.path))
		// Each copy holds the items stored before it (opened as a copy:
		// Open writes, and the kept copies must stay as taken).
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
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	wantLeft := append(want[len(want)-3:], filepath.Base(keepMe))
	slices.Sort(wantLeft)
	if !slices.Equal(got, wantLeft) {
		t.Errorf("left in the directory: %v, want %v", got, wantLeft)
	}

	// A copy that fails (the store is closed) is tried again in an hour.
	st.Close()
	clk.pass(t, 6*time.Hour)
	if r := <-results; r.err == nil {
		t.Fatal("a copy of a closed store succeeded")
	}
	clk.pass(t, time.Hour)
	<-results
	cancel()
	select {
	case <-clk.requested:
	case <-done:
	}
	<-done
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
