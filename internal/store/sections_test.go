package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
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
	for i, tc := range []struct {
		source string
		ago    time.Duration
	}{{"A", time.Hour}, {"A", 30 * time.Hour}, {"A", 10 * 24 * time.Hour}, {"B", 2 * time.Hour}} {
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

// TestArrivalFieldsMatchesFullDecode: the fast read of source and
// fetched_at gives what decoding the record gives, also for values that
// contain the key text, quotes and escapes, and declines records it
// cannot read safely.
func TestArrivalFieldsMatchesFullDecode(t *testing.T) {
	at := time.Date(2026, 3, 9, 6, 7, 8, 123456789, time.FixedZone("CET", 3600))
	tricky := `He said "source":"Fake" and \"fetched_at\": never <b>&</b>`
	items := []*model.Item{
		model.NewItem(model.Extraction{URL: "https://e.example/1", Title: "Plain"}, "NPR — News", "Top", at),
		model.NewItem(model.Extraction{URL: "https://e.example/2", Title: tricky, Lead: tricky, Body: tricky}, `Quote "Source" \ back`, "Top", at.UTC()),
		model.NewItem(model.Extraction{URL: "https://e.example/3"}, "", "", time.Time{}),
	}
	// And texts made of what JSON has to escape.
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{`"`, `\`, `\"`, "\n", "<", "&", "é", "\u2028", "source", `"source":"`, " ", "x"}
	for i := range 200 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		txt := b.String()
		items = append(items, model.NewItem(model.Extraction{URL: fmt.Sprintf("https://e.example/r%d", i), Title: txt, Body: txt}, txt, txt, at.Add(time.Duration(i))))
	}
	for i, it := range items {
		v, err := encodeRecord(it)
		if err != nil {
			t.Fatal(err)
		}
		var head itemHead
		if err := json.Unmarshal(v, &head); err != nil {
			t.Fatal(err)
		}
		source, fetched, ok := arrivalFields(v)
		if !ok || source != head.Source || !fetched.Equal(head.FetchedAt) {
			t.Errorf("item %d: fast read %q %v %v, decode %q %v", i, source, fetched, ok, head.Source, head.FetchedAt)
		}
	}
	// Only top-level keys count.
	if source, _, ok := arrivalFields([]byte(`{"source":"a","fetched_at":"2026-03-09T06:07:08Z","x":{"source":"b"}}`)); !ok || source != "a" {
		t.Errorf("nested key after: %q %v", source, ok)
	}
	for _, junk := range []string{`{}`, `[]`, `{"source":1,"fetched_at":"2026-03-09T06:07:08Z"}`, `{"x":{"source":"b"},"source":"a","fetched_at":"2026-03-09T06:07:08Z"}`,
		`{"source":"a`, `{"source":"a","fetched_at":"yesterday"}`, `{"source" "a"}`, `{"a":"\"","source":"s"`} {
		if _, _, ok := arrivalFields([]byte(junk)); ok {
			t.Errorf("%s: read although it cannot be read safely", junk)
		}
	}
}
