package store

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

// TestCompactGivesSpaceBack: after retention deletes most items the file
// keeps its size; Compact shrinks it, and every remaining item, counter and
// list reads as before.
func TestCompactGivesSpaceBack(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	body := strings.Repeat("Deputies closed the highway while crews cleared the wreck. ", 40)
	var poll PollWrite
	for i := range 1500 {
		poll.Items = append(poll.Items, model.NewItem(model.Extraction{URL: fmt.Sprintf("https://e.example/%d", i), Title: fmt.Sprint("story ", i), Body: body + fmt.Sprint(i)},
			"src", "sec", now.Add(-time.Duration(1500-i)*time.Hour)))
	}
	if err := s.WritePolls(ctx, []PollWrite{poll}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(poll.Items); i += 50 {
		decide(t, s, poll.Items[i].ID, model.StatusApproved, now)
	}
	if _, err := s.Prune(ctx, now, Retention{PruneAfter: 100 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	want, err := s.ListItems(ctx, ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	counts, _ := s.CountItems(ctx)
	s.Close()
	before, after, err := Compact(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Size() != after || after*2 > before {
		t.Fatalf("compacted %d -> %d bytes", before, after)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.ListItems(ctx, ItemFilter{})
	if err != nil || len(got) != len(want) {
		t.Fatalf("%d items after compacting, want %d (%v)", len(got), len(want), err)
	}
	for i := range want {
		full, err := s2.GetItem(ctx, want[i].ID)
		if err != nil || got[i].ID != want[i].ID || !strings.HasPrefix(full.Body, body) {
			t.Fatalf("item %d after compacting: %v", i, err)
		}
	}
	if c2, _ := s2.CountItems(ctx); fmt.Sprint(c2) != fmt.Sprint(counts) {
		t.Errorf("counts %v after compacting, %v before", c2, counts)
	}
	checkCounts(t, s2, "after compacting")
	if _, err := os.Stat(path + ".compacting"); !os.IsNotExist(err) {
		t.Errorf("the working copy is left behind: %v", err)
	}
}

// TestCompactInPlaceWhileInUse: compacting the open store while readers
// and writers keep going loses no write and leaves every reader an answer.
func TestCompactInPlaceWhileInUse(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	var poll PollWrite
	for i := range 600 {
		poll.Items = append(poll.Items, model.NewItem(model.Extraction{URL: fmt.Sprintf("https://e.example/%d", i), Body: strings.Repeat("text ", 300)},
			"src", "sec", time.Now().Add(-time.Duration(600-i)*time.Hour)))
	}
	if err := s.WritePolls(ctx, []PollWrite{poll}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prune(ctx, time.Now(), Retention{PruneAfter: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	errs := make(chan error, 2)
	added := make(chan string, 1000)
	go func() { // a writer
		for i := 0; ; i++ {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://e.example/new/%d", i)}, "src", "sec", time.Now())
			if _, err := s.AddItem(ctx, it); err != nil {
				errs <- err
				return
			}
			added <- it.ID
		}
	}()
	go func() { // a reader
		for {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			if _, err := s.ListItems(ctx, ItemFilter{Limit: 20}); err != nil {
				errs <- err
				return
			}
		}
	}()
	before, after, err := s.CompactInPlace(ctx)
	close(stop)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("while compacting: %v", err)
		}
	}
	close(added)
	if err != nil || after >= before {
		t.Fatalf("compacted %d -> %d: %v", before, after, err)
	}
	if fi, _ := os.Stat(path); fi.Size() > after+(1<<20) {
		t.Errorf("file is %d bytes after compacting to %d", fi.Size(), after)
	}
	n := 0
	for id := range added {
		if _, err := s.GetItem(ctx, id); err != nil {
			t.Fatalf("a write made around the compaction is lost: %v", err)
		}
		n++
	}
	t.Logf("%d items added while compacting", n)
	checkCounts(t, s, "after compacting in place")
}
