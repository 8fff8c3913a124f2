package store

import (
	"context"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

func TestWritePollsAndKnownIDs(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	a := item("https://example.com/a", time.Now())
	b := item("https://example.com/b", time.Now())
	if _, err := s.AddItem(ctx, a); err != nil {
		t.Fatal(err)
	}
	var got []int
	st := &model.SourceState{Name: "src", URL: "https://example.com/feed"}
	err := s.WritePolls(ctx, []PollWrite{{
		Items:       []*model.Item{a, b, b},
		SeenIDs:     []string{model.ItemID("https://example.com/b?from=feed")},
		State:       st,
		BeforeState: func(created int) { got = append(got, created); st.LastNewItems = created },
	}, {
		State: &model.SourceState{Name: "other"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != 1 {
		t.Fatalf("created counts %v, want [1] (a existed, b twice)", got)
	}
	stored, err := s.SourceState(ctx, "src")
	if err != nil || stored.LastNewItems != 1 {
		t.Fatalf("state not written with counter: %+v %v", stored, err)
	}
	ids := []string{a.ID, b.ID, model.ItemID("https://example.com/b?from=feed"), model.ItemID("https://example.com/c")}
	known, err := s.KnownIDs(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{true, true, true, false}
	for i := range want {
		if known[i] != want[i] {
			t.Errorf("known[%d] = %v, want %v", i, known[i], want[i])
		}
	}
	// Seen records survive a reopen and can be pruned.
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if k, _ := s2.KnownIDs(ctx, ids[2:3]); !k[0] {
		t.Error("seen record lost on reopen")
	}
	if n, err := s2.PruneSeen(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("prune of fresh records: %d %v", n, err)
	}
	if n, err := s2.PruneSeen(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("prune of old records: %d %v", n, err)
	}
	if k, _ := s2.KnownIDs(ctx, ids[2:3]); k[0] {
		t.Error("pruned record still known")
	}
}

func TestKnownIDsOnFreshStore(t *testing.T) {
	s, _ := openTemp(t)
	known, err := s.KnownIDs(context.Background(), []string{"x"})
	if err != nil || known[0] {
		t.Fatalf("%v %v", known, err)
	}
	if n, err := s.PruneSeen(context.Background(), time.Now()); err != nil || n != 0 {
		t.Fatalf("%d %v", n, err)
	}
}

// TestSeenLinksOfStoredItems: a link whose item is stored under the same ID
// is known through the item, and stays known after the item is deleted, so
// a later poll does not bring a deleted story back.
func TestSeenLinksOfStoredItems(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	a := item("https://example.com/a", time.Now())
	moved := model.ItemID("https://example.com/a-old-link")
	if err := s.WritePolls(ctx, []PollWrite{{Items: []*model.Item{a}, SeenIDs: []string{a.ID, moved}, State: &model.SourceState{Name: "src"}}}); err != nil {
		t.Fatal(err)
	}
	if known, _ := s.KnownIDs(ctx, []string{a.ID, moved}); !known[0] || !known[1] {
		t.Fatalf("known %v", known)
	}
	if err := s.DeleteItem(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if has, _ := s.HasItem(ctx, a.ID); has {
		t.Fatal("item not deleted")
	}
	if known, _ := s.KnownIDs(ctx, []string{a.ID}); !known[0] {
		t.Error("deleted item's link forgotten: the next poll would store it again")
	}
}
