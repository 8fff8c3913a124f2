package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

// TestItemVersionCountsEveryChange: an item is stored at version 1 and
// every kind of stored change (UpdateItem, UpdateItemIf, a section or
// source rename) raises it by one; a refused change leaves it alone.
func TestItemVersionCountsEveryChange(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	it := item("https://example.com/v", time.Time{})
	if _, err := s.AddItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	polled := item("https://example.com/p", time.Time{})
	if err := s.WritePolls(ctx, []PollWrite{{Items: []*model.Item{polled}, State: &model.SourceState{Name: "src"}}}); err != nil {
		t.Fatal(err)
	}
	version := func(id string) int64 {
		t.Helper()
		got, err := s.GetItem(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return got.Version
	}
	if v := version(it.ID); v != 1 {
		t.Fatalf("new item at version %d, want 1", v)
	}
	if v := version(polled.ID); v != 1 {
		t.Fatalf("polled item at version %d, want 1", v)
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"UpdateItem", func() error {
			_, err := s.UpdateItem(ctx, it.ID, func(i *model.Item) error { i.Title = "edited"; return nil })
			return err
		}},
		{"UpdateItemIf at the current version", func() error {
			_, err := s.UpdateItemIf(ctx, it.ID, 2, func(i *model.Item) error { i.Status = model.StatusRejected; return nil })
			return err
		}},
		{"UpdateItem trying to set the version itself", func() error {
			_, err := s.UpdateItem(ctx, it.ID, func(i *model.Item) error { i.Version = 99; return nil })
			return err
		}},
		{"RenameSection", func() error { _, err := s.RenameSection(ctx, "Top", "Top stories"); return err }},
		{"RenameSource", func() error { _, err := s.RenameSource(ctx, "src", "source"); return err }},
	}
	for i, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if v, want := version(it.ID), int64(i+2); v != want {
			t.Fatalf("after %s: version %d, want %d", step.name, v, want)
		}
	}

	_, err := s.UpdateItemIf(ctx, it.ID, 2, func(i *model.Item) error { i.Status = model.StatusApproved; return nil })
	var stale *StaleError
	if !errors.As(err, &stale) || !errors.Is(err, ErrStale) {
		t.Fatalf("change based on version 2 of a version-6 item: err %v, want a *StaleError", err)
	}
	if stale.Want != 2 || stale.Current.Version != 6 || stale.Current.Status != model.StatusRejected || stale.Current.Title != "edited" {
		t.Errorf("stale error carries want %d and %+v", stale.Want, stale.Current)
	}
	got, _ := s.GetItem(ctx, it.ID)
	if got.Version != 6 || got.Status != model.StatusRejected {
		t.Errorf("refused change was applied: version %d, status %s", got.Version, got.Status)
	}
	if list, _ := s.ListItems(ctx, ItemFilter{Status: model.StatusRejected}); len(list) != 1 {
		t.Errorf("refused change disturbed the status index: %d rejected items", len(list))
	}
	if _, err := s.UpdateItemIf(ctx, "nope", 1, func(*model.Item) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing item: %v", err)
	}
}

// TestStaleDecisionsExactlyOneWins: curators who all saw version 1 decide
// at once; exactly one decision applies and every other one is refused
// with the winner's item.
func TestStaleDecisionsExactlyOneWins(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	it := item("https://example.com/race", time.Time{})
	if _, err := s.AddItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	const curators = 8
	var wg sync.WaitGroup
	errs := make([]error, curators)
	for i := range curators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status := model.StatusApproved
			if i%2 == 1 {
				status = model.StatusRejected
			}
			_, errs[i] = s.UpdateItemIf(ctx, it.ID, 1, func(x *model.Item) error {
				x.Status = status
				x.DecidedBy = string(rune('a' + i))
				return nil
			})
		}()
	}
	wg.Wait()
	winners := 0
	var winner string
	for i, err := range errs {
		var stale *StaleError
		switch {
		case err == nil:
			winners++
			winner = string(rune('a' + i))
		case errors.As(err, &stale):
			if stale.Current.Version != 2 {
				t.Errorf("curator %d refused with version %d, want 2", i, stale.Current.Version)
			}
		default:
			t.Errorf("curator %d: %v", i, err)
		}
	}
	if winners != 1 {
		t.Fatalf("%d decisions applied, want exactly 1", winners)
	}
	got, _ := s.GetItem(ctx, it.ID)
	if got.Version != 2 || got.DecidedBy != winner {
		t.Errorf("stored item: version %d decided by %q, want 2 by %q", got.Version, got.DecidedBy, winner)
	}
	for i, err := range errs {
		var stale *StaleError
		if errors.As(err, &stale) && stale.Current.DecidedBy != winner {
			t.Errorf("curator %d was shown a decision by %q, the winner is %q", i, stale.Current.DecidedBy, winner)
		}
	}
}

// TestRecordWithoutVersionReadsAsOne: files written before versions keep
// working; their items are at version 1 and count on from there.
func TestRecordWithoutVersionReadsAsOne(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	it := item("https://example.com/old", time.Time{})
	if _, err := s.AddItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	// Rewrite the record as one upgraded from a file without versions
	// reads: version 0.
	err := s.DB().Update(func(tx *bolt.Tx) error {
		ref := tx.Bucket(bucketItems).Get([]byte(it.ID))
		old, err := s.headAt(tx, ref)
		if err != nil {
			return err
		}
		old.Version = 0
		return tx.Bucket(bucketHeads).Put(ref, s.codec.encodeHead(old))
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetItem(ctx, it.ID)
	if err != nil || got.Version != 1 {
		t.Fatalf("old record: version %v, %v; want 1", got, err)
	}
	updated, err := s.UpdateItemIf(ctx, it.ID, 1, func(i *model.Item) error { i.Status = model.StatusApproved; return nil })
	if err != nil || updated.Version != 2 {
		t.Fatalf("change on an old record: %+v, %v; want version 2", updated, err)
	}
}
