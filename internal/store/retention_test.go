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

// TestPrune: of 200 days of items, queued and rejected ones past the item
// age are deleted (and their links stay known), those past the body age
// lose their body but stay listed, approved ones are kept whole, younger
// ones are untouched; counters stay right; a second run does nothing, and
// a later run takes only what came of age since.
func TestPrune(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	body := strings.Repeat("Body text of a story that is long enough to be deflated. ", 10)
	type rec struct {
		id      string
		age     time.Duration
		status  model.Status
		section string
	}
	var recs []rec
	for i := range 200 {
		age := time.Duration(200-i) * 24 * time.Hour
		if i%17 == 0 {
			age += 12 * time.Hour // stored a little out of fetch order
		}
		it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://e.example/%d", i), Title: fmt.Sprint("story ", i), Body: body},
			"src", fmt.Sprint("sec", i%3), now.Add(-age))
		if _, err := s.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		st := []model.Status{model.StatusQueued, model.StatusApproved, model.StatusRejected}[i%3]
		if st != model.StatusQueued {
			decide(t, s, it.ID, st, now.Add(-age+time.Hour))
		}
		recs = append(recs, rec{it.ID, age, st, it.Section})
	}
	r := Retention{DropBodiesAfter: 30 * 24 * time.Hour, PruneAfter: 90 * 24 * time.Hour}
	rep, err := s.Prune(ctx, now, r)
	if err != nil {
		t.Fatal(err)
	}
	wantItems, wantBodies := 0, 0
	for _, x := range recs {
		it, err := s.GetItem(ctx, x.id)
		switch {
		case x.status != model.StatusApproved && x.age > r.PruneAfter:
			wantItems++
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s aged %v: still stored (%v)", x.status, x.age, err)
			}
			if known, _ := s.KnownIDs(ctx, []string{x.id}); !known[0] {
				t.Errorf("pruned %s: its link is forgotten", x.id)
			}
		case err != nil:
			t.Fatalf("%s aged %v: %v", x.status, x.age, err)
		case x.status != model.StatusApproved && x.age > r.DropBodiesAfter:
			wantBodies++
			if it.Body != "" || it.Title == "" {
				t.Errorf("%s aged %v: body %d bytes, title %q", x.status, x.age, len(it.Body), it.Title)
			}
		default:
			if it.Body != body {
				t.Errorf("%s aged %v: body lost", x.status, x.age)
			}
		}
	}
	if rep.Items != wantItems || rep.Bodies != wantBodies || wantItems == 0 || wantBodies == 0 {
		t.Errorf("report %+v, want %d items and %d bodies", rep, wantItems, wantBodies)
	}
	checkCounts(t, s, "after prune")
	if list, _ := s.ListItems(ctx, ItemFilter{Section: "sec1", Status: model.StatusApproved}); len(list) == 0 {
		t.Error("approved items gone from their section")
	}

	if again, err := s.Prune(ctx, now, r); err != nil || again != (PruneReport{}) {
		t.Errorf("second run: %+v %v", again, err)
	}
	later, err := s.Prune(ctx, now.Add(10*24*time.Hour), r)
	if err != nil {
		t.Fatal(err)
	}
	// Ten more days: about two thirds of ten items reach each age.
	if later.Items < 5 || later.Items > 8 || later.Bodies < 5 || later.Bodies > 8 {
		t.Errorf("ten days later: %+v", later)
	}
	checkCounts(t, s, "after the later prune")
}

// TestPruneKeepsNothingWhenOff: a zero retention changes nothing.
func TestPruneKeepsNothingWhenOff(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	it := model.NewItem(model.Extraction{URL: "https://e.example/old", Body: "b"}, "src", "", time.Now().AddDate(-5, 0, 0))
	if _, err := s.AddItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.Prune(ctx, time.Now(), Retention{}); err != nil || rep != (PruneReport{}) {
		t.Fatalf("%+v %v", rep, err)
	}
	if got, err := s.GetItem(ctx, it.ID); err != nil || got.Body != "b" {
		t.Fatalf("%+v %v", got, err)
	}
}
