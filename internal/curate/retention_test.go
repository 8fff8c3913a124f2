package curate

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// TestKeepTidyPrunesOnSchedule: the retention loop prunes at once and
// again on each tick, and stops with its context.
func TestKeepTidyPrunesOnSchedule(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	add := func(url string, fetched time.Time) string {
		it := model.NewItem(model.Extraction{URL: url, Body: "text"}, "src", "", fetched)
		if _, err := st.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		return it.ID
	}
	old := add("https://e.example/old", now.AddDate(0, 0, -200))
	young := add("https://e.example/young", now.AddDate(0, 0, -5))
	clock := make(chan time.Time, 1)
	clock <- now
	nowFn := func() time.Time {
		select {
		case t := <-clock:
			return t
		default:
			return now.AddDate(0, 0, 200) // later runs: everything is old
		}
	}
	done := make(chan struct{})
	go func() {
		KeepTidy(ctx, st, store.Retention{PruneAfter: 180 * 24 * time.Hour}, time.Millisecond, nowFn, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	gone := func(id string) bool {
		_, err := st.GetItem(context.Background(), id)
		return errors.Is(err, store.ErrNotFound)
	}
	for i := 0; i < 500 && !(gone(old) && gone(young)); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if !gone(old) || !gone(young) {
		t.Fatalf("after the loop ran: old gone %v, young gone %v", gone(old), gone(young))
	}
}
