package curate

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

func newDesk(t *testing.T) (*Desk, *store.Bolt) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return NewDesk(st), st
}

func add(t *testing.T, st store.Store, url, section string) *model.Item {
	t.Helper()
	it := model.NewItem(model.Extraction{URL: url, Title: "Title " + url, Lead: "Lead."}, "src", section, time.Now().UTC())
	if _, err := st.AddItem(context.Background(), it); err != nil {
		t.Fatal(err)
	}
	return it
}

func TestEditKeepsOriginalAndValidates(t *testing.T) {
	d, st := newDesk(t)
	ctx := context.Background()
	it := add(t, st, "https://example.com/1", "Cyber")
	title, lead, sec := "  New   headline ", "Trimmed lead.", "Public health"
	tags := []string{"Flood", "flood", " ", "Heat"}
	got, err := d.Apply(ctx, it.ID, Edit{Title: &title, Lead: &lead, Section: &sec, Tags: &tags}, "ann", []string{"Cyber", "Public health"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "New headline" || got.Lead != lead || got.Section != sec || got.EditedBy != "ann" {
		t.Errorf("edit not applied: %+v", got)
	}
	if strings.Join(got.Tags, ",") != "flood,heat" {
		t.Errorf("tags %v", got.Tags)
	}
	if got.Original.Title != it.Title || !got.Edited() {
		t.Errorf("original lost: %+v", got.Original)
	}
	empty := "  "
	if _, err := d.Apply(ctx, it.ID, Edit{Title: &empty}, "ann", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty headline: %v", err)
	}
	bad := "Sports"
	if _, err := d.Apply(ctx, it.ID, Edit{Section: &bad}, "ann", []string{"Cyber"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown section: %v", err)
	}
	long := strings.Repeat("x", MaxLeadChars+1)
	if _, err := d.Apply(ctx, it.ID, Edit{Lead: &long}, "ann", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("long lead: %v", err)
	}
	if _, err := d.Apply(ctx, "missing", Edit{Lead: &lead}, "ann", nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing item: %v", err)
	}
}

// A textarea arrives with CRLF line ends; the stored excerpt must keep its
// paragraph breaks as "\n\n", which is what the briefing splits on.
func TestEditNormalisesFormLineEnds(t *testing.T) {
	d, st := newDesk(t)
	ctx := context.Background()
	it := add(t, st, "https://example.com/crlf", "Cyber")
	for in, want := range map[string]string{
		"First paragraph.\r\n\r\nSecond paragraph.\r\n":      "First paragraph.\n\nSecond paragraph.",
		"One.\r\n \r\n\r\n\r\nTwo.  \r\nstill two.":          "One.\n\nTwo.\nstill two.",
		"Old Mac\r\rbreaks.":                                 "Old Mac\n\nbreaks.",
		"  \n\nPlain unix text.\n\nAnother paragraph.\n\n  ": "Plain unix text.\n\nAnother paragraph.",
	} {
		lead, note := in, in
		got, err := d.Apply(ctx, it.ID, Edit{Lead: &lead, Note: &note}, "ann", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.Lead != want || got.Note != want {
			t.Errorf("edit %q: lead %q note %q, want %q", in, got.Lead, got.Note, want)
		}
	}
}

func TestBriefingGroupsApprovedBySectionOrder(t *testing.T) {
	d, st := newDesk(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	d.now = func() time.Time { return now }
	a := add(t, st, "https://example.com/a", "Cyber")
	b := add(t, st, "https://example.com/b", "Top stories")
	c := add(t, st, "https://example.com/c", "")
	add(t, st, "https://example.com/queued", "Cyber")
	r := add(t, st, "https://example.com/rejected", "Cyber")
	old := add(t, st, "https://example.com/old", "Cyber")
	for _, it := range []*model.Item{a, b, c} {
		if _, err := d.Approve(ctx, it.ID, "ann"); err != nil {
			t.Fatal(err)
		}
	}
	d.Reject(ctx, r.ID, "ann")
	d.now = func() time.Time { return now.Add(-72 * time.Hour) }
	d.Approve(ctx, old.ID, "ann")
	d.now = func() time.Time { return now }

	br, err := d.Briefing(ctx, []string{"Top stories", "Cyber"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range br.Sections {
		names = append(names, s.Name)
		for _, it := range s.Items {
			if it.Status != model.StatusApproved || it.ID == old.ID {
				t.Errorf("item %s (%s) should not be on the briefing", it.URL, it.Status)
			}
		}
	}
	if strings.Join(names, "|") != "Top stories|Cyber|Other" || br.Total != 3 {
		t.Errorf("sections %v total %d", names, br.Total)
	}
	got, _ := d.Item(ctx, a.ID)
	if got.DecidedBy != "ann" || !got.DecidedAt.Equal(now) {
		t.Errorf("decision not recorded: %+v", got)
	}
}

// TestEditLimitsBylineAndTags: one curator once made the public feed
// 20.9 MB through an unlimited byline; byline, each tag and the number of
// tags are limited like headline, excerpt and note.
func TestEditLimitsBylineAndTags(t *testing.T) {
	d, st := newDesk(t)
	ctx := context.Background()
	it := add(t, st, "https://example.com/limits", "Cyber")
	many := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, "tag"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+string(rune('a'+i/26)))
		}
		return out
	}
	str := func(s string) *string { return &s }
	tags := func(ts ...string) *[]string { return &ts }
	manyTags := func(n int) *[]string { ts := many(n); return &ts }
	cases := []struct {
		name string
		edit Edit
		want string // "" = accepted; else the message must contain it
	}{
		{"byline at the limit", Edit{Byline: str(strings.Repeat("é", MaxBylineChars))}, ""},
		{"byline with spaces that collapse to the limit", Edit{Byline: str("  " + strings.Repeat("a", MaxBylineChars) + "   ")}, ""},
		{"byline over the limit", Edit{Byline: str(strings.Repeat("a", MaxBylineChars+1))}, "byline: at most 200 characters (got 201)"},
		{"megabyte byline", Edit{Byline: str(strings.Repeat("Jane Doe ", 1<<17))}, "byline: at most 200 characters"},
		{"tag at the limit", Edit{Tags: tags(strings.Repeat("t", MaxTagChars))}, ""},
		{"tag over the limit", Edit{Tags: tags("ok", strings.Repeat("t", MaxTagChars+1))}, "tags: at most 50 characters per tag"},
		{"20 tags", Edit{Tags: manyTags(MaxTags)}, ""},
		{"21 tags", Edit{Tags: manyTags(MaxTags + 1)}, "tags: at most 20 tags (got 21)"},
		{"duplicates count once", Edit{Tags: func() *[]string { ts := append(many(MaxTags), many(MaxTags)...); return &ts }()}, ""},
	}
	for _, c := range cases {
		_, err := d.Apply(ctx, it.ID, c.edit, "ann", nil)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.want != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: want ErrInvalid %q, got %v", c.name, c.want, err)
		}
	}
	got, err := d.Item(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tags) != MaxTags || len([]rune(got.Byline)) != MaxBylineChars {
		t.Errorf("refused edits changed the item: %d tags, byline of %d", len(got.Tags), len([]rune(got.Byline)))
	}
}

// TestDecisionsAndEditsOnAStaleVersion: a decision or edit based on the
// version the curator saw applies while the item is unchanged, and is
// refused with the current item once someone else changed it; version 0
// (scripts that send none) applies as before.
func TestDecisionsAndEditsOnAStaleVersion(t *testing.T) {
	d, st := newDesk(t)
	ctx := context.Background()
	it := add(t, st, "https://example.com/v", "Cyber")
	seen := it.Version

	rejected, err := d.DecideIf(ctx, it.ID, model.StatusRejected, "demo", seen)
	if err != nil || rejected.Version != seen+1 {
		t.Fatalf("decision on the current version: %+v, %v", rejected, err)
	}
	_, err = d.DecideIf(ctx, it.ID, model.StatusApproved, "ann", seen)
	var stale *StaleError
	if !errors.As(err, &stale) || !errors.Is(err, ErrStale) {
		t.Fatalf("second decision on the version both saw: %v, want a StaleError", err)
	}
	if stale.Current.Status != model.StatusRejected || stale.Current.DecidedBy != "demo" {
		t.Errorf("stale error shows %s by %q, want rejected by demo", stale.Current.Status, stale.Current.DecidedBy)
	}
	title := "Another headline"
	if _, err := d.Apply(ctx, it.ID, Edit{Title: &title, Version: seen}, "ann", nil); !errors.As(err, &stale) {
		t.Errorf("edit on the old version: %v, want a StaleError", err)
	}
	if got, _ := st.GetItem(ctx, it.ID); got.Status != model.StatusRejected || got.Title == title || got.Version != seen+1 {
		t.Errorf("refused changes were stored: %+v", got)
	}
	edited, err := d.Apply(ctx, it.ID, Edit{Title: &title, Version: stale.Current.Version}, "ann", nil)
	if err != nil || edited.Title != title || edited.Version != seen+2 {
		t.Fatalf("edit on the current version: %+v, %v", edited, err)
	}
	approved, err := d.Approve(ctx, it.ID, "ann")
	if err != nil || approved.Status != model.StatusApproved || approved.Version != seen+3 {
		t.Fatalf("decision without a version: %+v, %v", approved, err)
	}
}
