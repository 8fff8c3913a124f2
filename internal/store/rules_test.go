package store

import (
	"context"
	"errors"
	"testing"

	"github.com/clipsheet/clipsheet/internal/rules"
)

// TestRulesStorage: rules get increasing IDs, list oldest first, refuse a
// change or delete based on an old version, and survive reopening; a file
// that never stored a rule lists none.
func TestRulesStorage(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	if rs, err := s.ListRules(ctx); err != nil || len(rs) != 0 {
		t.Fatalf("fresh file: %v, %v", rs, err)
	}
	a, err := s.PutRule(ctx, rules.Rule{Name: "a", Include: "fire"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.PutRule(ctx, rules.Rule{Name: "b", Include: "flood"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID || a.Version != 1 || b.Version != 1 {
		t.Fatalf("created %+v and %+v", a, b)
	}
	a.Include = "fire, blaze"
	a2, err := s.PutRule(ctx, *a, 1)
	if err != nil || a2.Version != 2 {
		t.Fatalf("update: %+v, %v", a2, err)
	}
	var stale *RuleStaleError
	if _, err := s.PutRule(ctx, *a, 1); !errors.As(err, &stale) || !errors.Is(err, ErrStale) || stale.Current.Version != 2 {
		t.Errorf("stale update: %v", err)
	}
	if err := s.DeleteRule(ctx, b.ID, 7); !errors.Is(err, ErrStale) {
		t.Errorf("stale delete: %v", err)
	}
	for _, id := range []string{"", "x", "0", "999"} {
		if _, err := s.GetRule(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetRule(%q) = %v, want not found", id, err)
		}
		if id == "" {
			continue // an empty ID asks for a new rule
		}
		if _, err := s.PutRule(ctx, rules.Rule{ID: id, Name: "x"}, 0); !errors.Is(err, ErrNotFound) {
			t.Errorf("PutRule(%q) = %v, want not found", id, err)
		}
	}
	if err := s.DeleteRule(ctx, b.ID, 1); err != nil {
		t.Fatal(err)
	}
	c, err := s.PutRule(ctx, rules.Rule{Name: "c", Include: "storm"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	rs, err := s2.ListRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].ID != a.ID || rs[0].Include != "fire, blaze" || rs[0].Version != 2 || rs[1].ID != c.ID {
		t.Errorf("after reopening: %+v", rs)
	}
	if got, err := s2.GetRule(ctx, c.ID); err != nil || got.Name != "c" {
		t.Errorf("GetRule: %+v, %v", got, err)
	}
}
