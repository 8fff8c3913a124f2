package store

import (
	"context"
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

const fireLead = "A wind-driven wildfire tore through brushy hills north of Ventura on Tuesday, forcing more than 8,000 people to flee their homes as firefighters struggled to keep the flames from reaching neighborhoods along the coast. The Foothill Fire had burned about 6 square miles by late afternoon and was 0% contained, according to the California Department of Forestry and Fire Protection."

func storyItem(url, site, title, lead string, fetched time.Time) *model.Item {
	return model.NewItem(model.Extraction{URL: url, SiteName: site, Title: title, Lead: lead, Byline: "Associated Press"}, site, "Fire", fetched)
}

// TestStoryGrouping: copies of one wire story from several outlets join
// the first one's story and not an unrelated story's; picking a version
// approves it and files the other queued versions as its duplicates in one
// go; a copy arriving after that goes straight to the duplicates; all of it
// survives reopening; a week on, prints expire and group nothing.
func TestStoryGrouping(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	now := time.Date(2026, 7, 14, 19, 0, 0, 0, time.UTC)
	first := storyItem("https://apnews.com/article/wildfire-ventura", "AP News", "Wind-driven wildfire forces thousands to flee in Southern California", "VENTURA, Calif. (AP) — "+fireLead, now)
	other := storyItem("https://example.com/council-budget", "County Herald", "Council passes budget with new money for libraries", "The county council voted 5-2 on Monday to pass a budget that adds money for libraries and road repairs, after a four-hour debate over property taxes.", now.Add(time.Minute))
	ktla := storyItem("https://ktla.com/news/foothill-fire", "KTLA", "Foothill Fire: 8,000 evacuated as flames race toward Ventura neighborhoods", fireLead, now.Add(40*time.Minute))
	yahoo := storyItem("https://news.yahoo.com/wildfire-forces-thousands", "Yahoo News", "Wind-driven wildfire forces thousands to flee in Southern California", "VENTURA, Calif. (AP) — "+fireLead[:200], now.Add(20*time.Minute))
	for _, it := range []*model.Item{first, other, ktla, yahoo} {
		if _, err := s.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	for _, it := range []*model.Item{ktla, yahoo} {
		got, _ := s.GetItem(ctx, it.ID)
		if got.Story != first.ID || got.Status != model.StatusQueued {
			t.Errorf("%s: story %q status %s, want %s queued", it.SiteName, got.Story, got.Status, first.ID)
		}
	}
	if got, _ := s.GetItem(ctx, other.ID); got.Story != "" {
		t.Errorf("an unrelated story joined %q", got.Story)
	}
	versions, err := s.StoryVersions(ctx, yahoo.ID)
	if err != nil || len(versions) != 3 || versions[0].ID != first.ID {
		t.Fatalf("versions: %d %v", len(versions), err)
	}

	chosen, dups, err := s.DecideVersion(ctx, ktla.ID, 1, "ana", now.Add(time.Hour))
	if err != nil || chosen.Status != model.StatusApproved || len(dups) != 2 {
		t.Fatalf("decide version: %+v %d %v", chosen, len(dups), err)
	}
	for _, id := range []string{first.ID, yahoo.ID} {
		got, _ := s.GetItem(ctx, id)
		if got.Status != model.StatusRejected || got.DuplicateOf != ktla.ID || got.DecidedBy != "ana" {
			t.Errorf("%s after picking KTLA: %s dup of %q by %q", got.SiteName, got.Status, got.DuplicateOf, got.DecidedBy)
		}
	}
	if _, _, err := s.DecideVersion(ctx, first.ID, 1, "ana", now); !errors.Is(err, ErrStale) {
		t.Errorf("a version picked on a stale view: %v", err)
	}
	approved, _ := s.ListItems(ctx, ItemFilter{Status: model.StatusApproved})
	if len(approved) != 1 || approved[0].ID != ktla.ID {
		t.Errorf("approved: %d items", len(approved))
	}

	late := storyItem("https://www.sfgate.com/news/ventura-wildfire", "SFGATE", "Ventura County blaze grows to 6 square miles, 0% contained", "VENTURA, Calif. (AP) — "+fireLead, now.Add(2*time.Hour))
	if _, err := s.AddItem(ctx, late); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, _ := s.GetItem(ctx, late.ID)
	if got.Story != first.ID || got.Status != model.StatusRejected || got.DuplicateOf != ktla.ID {
		t.Errorf("a copy after approval: story %q status %s dup of %q", got.Story, got.Status, got.DuplicateOf)
	}
	if q, _ := s.ListItems(ctx, ItemFilter{Status: model.StatusQueued}); len(q) != 1 || q[0].ID != other.ID {
		t.Errorf("queue after it all: %d items", len(q))
	}
	checkCounts(t, s, "after grouping")

	// A week and a day later the prints are gone and a copy starts anew.
	if _, err := s.Prune(ctx, now.Add(storyWindow+4*time.Hour), Retention{}); err != nil {
		t.Fatal(err)
	}
	s.DB().View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bucketStoryPrints).Stats().KeyN + tx.Bucket(bucketStoryKeys).Stats().KeyN; n != 0 {
			t.Errorf("%d prints and keys left after their week", n)
		}
		return nil
	})
	again := storyItem("https://example.org/wildfire-look-back", "Example", "Wind-driven wildfire forces thousands to flee in Southern California", fireLead, now.Add(10*24*time.Hour))
	if _, err := s.AddItem(ctx, again); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetItem(ctx, again.ID); got.Story != "" || got.Status != model.StatusQueued {
		t.Errorf("a copy after the prints expired: story %q status %s", got.Story, got.Status)
	}
	// Deleting an item takes its print and its place in the story along.
	if err := s.DeleteItem(ctx, yahoo.ID); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.StoryVersions(ctx, first.ID); len(v) != 3 {
		t.Errorf("versions after deleting one: %d", len(v))
	}
}
