package store

import (
	"context"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

func TestRenameSectionMovesOnlyThatSection(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	now := time.Now().UTC()
	add := func(url, section string, status model.Status) *model.Item {
		it := model.NewItem(model.Extraction{URL: url, Title: "T " + url}, "src", section, now)
		it.Status = status
		if _, err := s.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		return it
	}
	a := add("https://example.com/a", "Cyber", model.StatusQueued)
	b := add("https://example.com/b", "Cyber", model.StatusApproved)
	c := add("https://example.com/c", "Cybersecurity", model.StatusQueued)
	d := add("https://example.com/d", "Top", model.StatusQueued)

	n, err := s.RenameSection(ctx, "Cyber", "Cyber & tech")
	if err != nil || n != 2 {
		t.Fatalf("RenameSection = %d, %v; want 2", n, err)
	}
	want := map[string]string{a.ID: "Cyber & tech", b.ID: "Cyber & tech", c.ID: "Cybersecurity", d.ID: "Top"}
	check := func(st *Bolt) {
		t.Helper()
		for id, sec := range want {
			it, err := st.GetItem(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if it.Section != sec {
				t.Errorf("item %s: section %q, want %q", it.URL, it.Section, sec)
			}
		}
		// Filtering by the new name finds them through the usual path,
		// and the status index still works.
		got, err := st.ListItems(ctx, ItemFilter{Section: "Cyber & tech", Status: model.StatusApproved})
		if err != nil || len(got) != 1 || got[0].ID != b.ID {
			t.Errorf("ListItems(new section, approved) = %v, %v", got, err)
		}
	}
	check(s)

	// The change is durable.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	check(s2)

	if n, err := s2.RenameSection(ctx, "Nope", "Other"); err != nil || n != 0 {
		t.Fatalf("rename of an unused section = %d, %v", n, err)
	}
}

func TestItemArrivals(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	// Stored in the order a fetcher stores them, give or take a batch: a
	// record may be up to arrivalSlack older than the one before it.
	for i, tc := range []struct {
		source string
		ago    time.Duration
	}{{"A", 10 * 24 * time.Hour}, {"A", 30 * time.Hour}, {"A", time.Hour}, {"B", 2 * time.Hour}} {
		it := model.NewItem(model.Extraction{URL: "https://example.com/" + string(rune('a'+i))}, tc.source, "Top", now.Add(-tc.ago))
		if _, err := s.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ItemArrivals(ctx, now.Add(-7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got["A"]) != 2 || len(got["B"]) != 1 {
		t.Fatalf("arrivals = %v", got)
	}
	if !got["A"][0].Before(got["A"][1]) {
		t.Errorf("arrivals not oldest first: %v", got["A"])
	}
	if !got["A"][1].Equal(now.Add(-time.Hour)) {
		t.Errorf("latest arrival %v, want %v", got["A"][1], now.Add(-time.Hour))
	}
}

func TestRenameSourceRefilesItsItems(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	now := time.Now().UTC()
	var ids []string
	for i, src := range []string{"NPR", "NPR", "NPR News", "BBC"} {
		it := model.NewItem(model.Extraction{URL: "https://example.com/" + string(rune('a'+i)), Title: "T", Body: "body text"}, src, "Top", now)
		if _, err := s.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, it.ID)
	}
	n, err := s.RenameSource(ctx, "NPR", "NPR News")
	if err != nil || n != 2 {
		t.Fatalf("RenameSource = %d, %v; want 2", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for i, want := range []string{"NPR News", "NPR News", "NPR News", "BBC"} {
		it, err := s2.GetItem(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if it.Source != want || it.Body != "body text" {
			t.Errorf("item %d: source %q body %q", i, it.Source, it.Body)
		}
	}
	got, err := s2.ListItems(ctx, ItemFilter{Source: "NPR News"})
	if err != nil || len(got) != 3 {
		t.Errorf("ListItems(source) = %d, %v", len(got), err)
	}
	arr, err := s2.ItemArrivals(ctx, now.Add(-time.Hour))
	if err != nil || len(arr["NPR News"]) != 3 || len(arr["NPR"]) != 0 {
		t.Errorf("arrivals after rename = %v, %v", arr, err)
	}
}
