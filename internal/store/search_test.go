package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

func ids(items []*model.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

// TestSearchThroughTheStore: ListItems with a query finds items through
// the index, newest first, with the status/section/source filters, pages
// by cursor; edits, deletions and pruning keep the index true, and it all
// reads the same after reopening.
func TestSearchThroughTheStore(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	now := time.Now().UTC()
	add := func(url, title, lead, section string, at time.Time) *model.Item {
		it := model.NewItem(model.Extraction{URL: url, Title: title, Lead: lead}, "src", section, at)
		if _, err := s.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		return it
	}
	old := add("https://e.example/1", "Wildfire near Ventura forces evacuations", "Crews fought the blaze overnight.", "Fire", now.Add(-200*24*time.Hour))
	a := add("https://e.example/2", "Flood warning for river towns", "The river is expected to crest on Friday; a wildfire season review follows.", "Weather", now.Add(-3*time.Hour))
	b := add("https://e.example/3", "Café owners in Zürich protest rent rises", "Owners said the increase was unfair.", "Business", now.Add(-2*time.Hour))
	c := add("https://e.example/4", "東京都で地震 震度5弱", "気象庁によると、東京都で震度5弱の地震がありました。", "World", now.Add(-time.Hour))
	d := add("https://e.example/5", "Second wildfire threatens homes in Ojai", "Evacuation orders were issued for 2,000 homes.", "Fire", now)
	decide(t, s, a.ID, model.StatusApproved, now)

	check := func(when string, f ItemFilter, want ...string) {
		t.Helper()
		got, err := s.ListItems(ctx, f)
		if err != nil {
			t.Fatalf("%s: %+v: %v", when, f, err)
		}
		if !slices.Equal(ids(got), want) {
			t.Errorf("%s: %+v: got %v, want %v", when, f, ids(got), want)
		}
	}
	check("word", ItemFilter{Query: "wildfire"}, d.ID, a.ID, old.ID)
	check("status", ItemFilter{Query: "wildfire", Status: model.StatusQueued}, d.ID, old.ID)
	check("section", ItemFilter{Query: "wildfire", Section: "Fire"}, d.ID, old.ID)
	check("phrase", ItemFilter{Query: `"wildfire season"`}, a.ID)
	check("prefix", ItemFilter{Query: "evacuat*"}, d.ID, old.ID)
	check("diacritics", ItemFilter{Query: "cafe zurich"}, b.ID)
	check("CJK", ItemFilter{Query: "東京"}, c.ID)
	check("absent", ItemFilter{Query: "zeppelin"})
	check("exclusion", ItemFilter{Query: "wildfire -ojai"}, a.ID, old.ID)
	if got, _ := s.ListItems(ctx, ItemFilter{Query: "wildfire", ByRelevance: true}); len(got) != 3 {
		t.Errorf("by relevance: %d results", len(got))
	}

	// Pages by cursor.
	var walked []string
	f := ItemFilter{Query: "wildfire", Limit: 1}
	for range 5 {
		p, err := s.ListPage(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, ids(p.Items)...)
		if p.Next == "" {
			break
		}
		f.After = p.Next
	}
	if !slices.Equal(walked, []string{d.ID, a.ID, old.ID}) {
		t.Errorf("paged: %v", walked)
	}

	// Edits move the postings; a decision leaves them.
	if _, err := s.UpdateItem(ctx, d.ID, func(it *model.Item) error { it.Title = "Brush fire threatens homes in Ojai"; return nil }); err != nil {
		t.Fatal(err)
	}
	check("after an edit, old word", ItemFilter{Query: "wildfire"}, a.ID, old.ID)
	check("after an edit, new word", ItemFilter{Query: "brush"}, d.ID)
	if _, err := s.RenameSource(ctx, "src", "County Wire"); err != nil {
		t.Fatal(err)
	}
	check("after a source rename", ItemFilter{Query: "county"}, d.ID, c.ID, b.ID, a.ID, old.ID)
	if err := s.DeleteItem(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	check("after a delete", ItemFilter{Query: "cafe"})
	if _, err := s.Prune(ctx, now, Retention{PruneAfter: 180 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	check("after pruning", ItemFilter{Query: "wildfire"}, a.ID)

	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s = s2
	check("after reopening", ItemFilter{Query: "brush"}, d.ID)
	check("after reopening", ItemFilter{Query: "wildfire"}, a.ID)
	if _, err := s.ListItems(ctx, ItemFilter{Query: "x", After: "nonsense"}); err == nil {
		t.Error("a bad search cursor was taken")
	}
}

// TestSearchIndexBuiltOnUpgrade: a schema-3 file gets its index when it
// is opened, and finds what that release's items hold.
func TestSearchIndexBuiltOnUpgrade(t *testing.T) {
	path := copySchema3(t)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.ListItems(context.Background(), ItemFilter{Query: `"story 07"`})
	if err != nil || len(got) != 1 || got[0].Title != fmt.Sprintf("Story %02d: crews respond to incident on Route %d", 7, 17) {
		t.Fatalf("search after the upgrade: %v %v", ids(got), err)
	}
	// Every lead has the word but the four a curator trimmed.
	if got, _ := s.ListItems(context.Background(), ItemFilter{Query: "firefighters"}); len(got) != 36 {
		t.Errorf("a word in every extracted lead: %d of 36", len(got))
	}
}
