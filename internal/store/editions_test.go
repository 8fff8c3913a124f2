package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

func testEdition(id string, at time.Time, itemIDs ...string) *model.Edition {
	e := &model.Edition{ID: id, Date: id[:10], Slot: "morning", PublishedAt: at, PublishedBy: "cur"}
	for _, iid := range itemIDs {
		e.Items = append(e.Items, model.EditionItem{ID: iid, Section: "Top stories", Title: "Story " + iid, URL: "https://example.com/" + iid})
	}
	return e
}

// TestEditionsPublishListAndReopen: editions are kept in publication order
// on a real bbolt file, survive a reopen, name the edition of each story,
// and every publication or correction moves the change counter.
func TestEditionsPublishListAndReopen(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	if _, err := s.LatestEdition(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("latest of none: %v, want ErrNotFound", err)
	}
	if rev, at, err := s.EditionsRev(ctx); err != nil || rev != 0 || !at.IsZero() {
		t.Fatalf("rev of a fresh file: %d %v %v", rev, at, err)
	}
	t0 := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	if err := s.PutEditionDraft(ctx, &model.EditionDraft{Order: []string{"b", "a"}, Lead: "b"}); err != nil {
		t.Fatal(err)
	}
	first := testEdition("2026-12-02-morning", t0, "a", "b")
	first.Lead = "b"
	if err := s.PublishEdition(ctx, first, ""); err != nil {
		t.Fatal(err)
	}
	if d, err := s.EditionDraft(ctx); err != nil || len(d.Order) != 0 || d.Lead != "" {
		t.Errorf("draft not cleared by publishing: %+v %v", d, err)
	}
	// A publisher who did not see the first edition is refused.
	late := testEdition("2026-12-02-morning", t0.Add(time.Minute), "c")
	if err := s.PublishEdition(ctx, late, ""); !errors.Is(err, ErrEditionRace) {
		t.Fatalf("publish on a stale latest: %v, want ErrEditionRace", err)
	}
	// Same slot again: a new ID; stories already published are dropped.
	second := testEdition("2026-12-02-morning", t0.Add(time.Hour), "b", "c")
	second.Lead = "b"
	if err := s.PublishEdition(ctx, second, first.ID); err != nil {
		t.Fatal(err)
	}
	if second.ID != "2026-12-02-morning-2" || len(second.Items) != 1 || second.Items[0].ID != "c" || second.Lead != "" {
		t.Fatalf("second edition: id %s, items %+v, lead %q", second.ID, second.Items, second.Lead)
	}
	if err := s.PublishEdition(ctx, testEdition("2026-12-02-evening", t0.Add(2*time.Hour), "a", "c"), second.ID); !errors.Is(err, ErrEmptyEdition) {
		t.Fatalf("publishing only published stories: %v, want ErrEmptyEdition", err)
	}
	rev, at, err := s.EditionsRev(ctx)
	if err != nil || rev != 2 || !at.Equal(second.PublishedAt) {
		t.Fatalf("rev after two editions: %d at %v (%v)", rev, at, err)
	}

	fixed := time.Date(2026, 12, 2, 8, 12, 0, 0, time.UTC)
	_, err = s.CorrectEdition(ctx, first.ID, func(e *model.Edition) error {
		it, _ := e.Item("a")
		it.Title = "Story a, corrected"
		e.Corrections = append(e.Corrections, model.Correction{At: fixed, By: "cur", ItemID: "a", Note: "headline corrected"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A correction may not sneak in other changes.
	for name, fn := range map[string]func(*model.Edition){
		"no correction recorded": func(e *model.Edition) {},
		"a story removed": func(e *model.Edition) {
			e.Items = e.Items[:1]
			e.Corrections = append(e.Corrections, model.Correction{At: fixed, Note: "x"})
		},
		"stories reordered": func(e *model.Edition) {
			e.Items[0], e.Items[1] = e.Items[1], e.Items[0]
			e.Corrections = append(e.Corrections, model.Correction{At: fixed, Note: "x"})
		},
	} {
		if _, err := s.CorrectEdition(ctx, first.ID, func(e *model.Edition) error { fn(e); return nil }); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := s.CorrectEdition(ctx, "no-such", func(*model.Edition) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("correct a missing edition: %v", err)
	}

	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	list, err := s.ListEditions(ctx, 0, 0)
	if err != nil || len(list) != 2 || list[0].ID != second.ID || list[1].ID != first.ID {
		t.Fatalf("list after reopen: %v %v", editionIDs(list), err)
	}
	got := list[1]
	if got.Lead != "b" || len(got.Items) != 2 || got.Items[0].Title != "Story a, corrected" || len(got.Corrections) != 1 || !got.UpdatedAt.Equal(fixed) {
		t.Errorf("first edition after reopen: %+v", got)
	}
	if page, _ := s.ListEditions(ctx, 1, 1); len(page) != 1 || page[0].ID != first.ID {
		t.Errorf("limit 1 offset 1: %v", editionIDs(page))
	}
	latest, err := s.LatestEdition(ctx)
	if err != nil || latest.ID != second.ID {
		t.Errorf("latest: %v %v", latest, err)
	}
	where, err := s.ItemEditions(ctx, []string{"a", "b", "c", "d"})
	if err != nil || strings.Join(where, ",") != first.ID+","+first.ID+","+second.ID+"," {
		t.Errorf("item editions: %q %v", where, err)
	}
	if rev, _, _ := s.EditionsRev(ctx); rev != 3 {
		t.Errorf("rev after a correction: %d, want 3", rev)
	}
}

// TestConcurrentPublishersPublishOnce: of several publishers building on
// the same latest edition, exactly one publishes.
func TestConcurrentPublishersPublishOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			errs <- s.PublishEdition(ctx, testEdition("2026-12-02-morning", time.Now(), "a", fmt.Sprint(i)), "")
		}()
	}
	ok := 0
	for range 8 {
		err := <-errs
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrEditionRace):
			t.Errorf("unexpected error %v", err)
		}
	}
	if list, _ := s.ListEditions(ctx, 0, 0); ok != 1 || len(list) != 1 {
		t.Fatalf("%d publishers succeeded, %d editions stored; want 1 and 1", ok, len(list))
	}
}

func editionIDs(es []*model.Edition) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}
