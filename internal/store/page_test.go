package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

// TestListPagesByCursor: walking a list page by page with Next gives every
// item once, in the order of one long list, for each index (status, section,
// source, decision time, all statuses merged); items arriving or changing
// status meanwhile do not shift the pages after the cursor.
func TestListPagesByCursor(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 95 {
		it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://e.example/%d", i), Title: fmt.Sprint("story ", i),
			// Some share a publication time: the reference breaks the tie.
			Published: base.Add(time.Duration(i/3) * time.Hour)}, fmt.Sprint("src", i%3), fmt.Sprint("sec", i%4), base.Add(100*24*time.Hour))
		if _, err := s.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, it.ID)
	}
	for i, id := range ids {
		if i%5 == 0 {
			decide(t, s, id, model.StatusApproved, base.Add(time.Duration(i)*time.Minute))
		}
		if i%7 == 0 {
			decide(t, s, id, model.StatusRejected, base.Add(time.Duration(i)*time.Minute))
		}
	}
	filters := []ItemFilter{
		{}, {Status: model.StatusQueued}, {Section: "sec1"}, {Source: "src2", Status: model.StatusQueued},
		{Section: "sec2", Source: "src0"}, {DecidedSince: base}, {Query: "story 1"},
	}
	for _, f := range filters {
		whole, err := s.ListItems(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{1, 4, 10, 200} {
			pf := f
			pf.Limit = size
			var walked []string
			for pages := 0; ; pages++ {
				if pages > 200 {
					t.Fatalf("%+v: pages never end", f)
				}
				p, err := s.ListPage(ctx, pf)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Items) > size || (p.Next != "" && len(p.Items) != size) {
					t.Fatalf("%+v size %d: page of %d with next %q", f, size, len(p.Items), p.Next)
				}
				for _, it := range p.Items {
					walked = append(walked, it.ID)
				}
				if p.Next == "" {
					break
				}
				pf.After = p.Next
			}
			if len(walked) != len(whole) {
				t.Fatalf("%+v size %d: %d items by pages, %d in one list", f, size, len(walked), len(whole))
			}
			for i := range whole {
				if walked[i] != whole[i].ID {
					t.Fatalf("%+v size %d: item %d differs", f, size, i)
				}
			}
		}
	}

	// A newer item and a decision after the first page move nothing after it.
	p1, err := s.ListPage(ctx, ItemFilter{Status: model.StatusQueued, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := s.ListPage(ctx, ItemFilter{Status: model.StatusQueued, Limit: 10, After: p1.Next})
	newer := model.NewItem(model.Extraction{URL: "https://e.example/newer", Published: base.Add(1000 * time.Hour)}, "src0", "sec0", base.Add(2000*time.Hour))
	if _, err := s.AddItem(ctx, newer); err != nil {
		t.Fatal(err)
	}
	decide(t, s, p1.Items[9].ID, model.StatusApproved, base) // the cursor's own item leaves the queue
	got, _ := s.ListPage(ctx, ItemFilter{Status: model.StatusQueued, Limit: 10, After: p1.Next})
	for i := range want.Items {
		if got.Items[i].ID != want.Items[i].ID {
			t.Fatalf("page 2 shifted at %d", i)
		}
	}
	for _, bad := range []string{"x", "00", p1.Next + "00"} {
		if _, err := s.ListPage(ctx, ItemFilter{After: bad}); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
}

func decide(t *testing.T, s *Bolt, id string, st model.Status, at time.Time) {
	t.Helper()
	if _, err := s.UpdateItem(context.Background(), id, func(it *model.Item) error {
		it.Status, it.DecidedAt = st, at
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
