package store

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

// codecItems are items whose fields are what breaks encodings: empty,
// zero times, offsets, text JSON would escape, long bodies, edits.
func codecItems() []*model.Item {
	at := time.Date(2026, 3, 9, 6, 7, 8, 123456789, time.FixedZone("CET", 3600))
	tricky := `He said "source":"Fake" and \"fetched_at\": never <b>&</b>` + "\x00\u2028é"
	long := strings.Repeat("Officials said further details would follow later in the week. ", 80)
	items := []*model.Item{
		model.NewItem(model.Extraction{URL: "https://e.example/1", Title: "Plain"}, "NPR — News", "Top", at),
		model.NewItem(model.Extraction{URL: "https://e.example/2", Title: tricky, Lead: tricky, Body: tricky, Byline: tricky}, `Quote "Source" \ back`, "Top", at.UTC()),
		model.NewItem(model.Extraction{URL: "https://e.example/3"}, "", "", time.Time{}),
		model.NewItem(model.Extraction{URL: "https://e.example/4", CanonicalURL: "https://e.example/4", Title: "Self-canonical", Body: long,
			Published: time.Date(2020, 4, 8, 23, 30, 0, 0, time.FixedZone("", -5*3600)), Language: "en", Image: "https://e.example/i.jpg", SiteName: "E"}, "E", "Fire", at),
		model.NewItem(model.Extraction{URL: "https://e.example/5", CanonicalURL: "https://e.example/five", Title: "Other canonical", Body: long[:300]}, "E", "Fire", at),
	}
	edited := model.NewItem(model.Extraction{URL: "https://e.example/6", Title: "Extracted", Byline: "By Ann", Lead: "First lead.", Body: long}, "E", "EMS", at)
	edited.Title, edited.Byline, edited.Lead = "Fixed headline", "Ann Lee", "Trimmed."
	edited.Status, edited.DecidedAt, edited.DecidedBy, edited.EditedBy = model.StatusApproved, at.Add(time.Hour).Truncate(time.Second), "ana", "bo"
	edited.Tags, edited.Note, edited.FetchError, edited.Version = []string{"wildfire", "", "road closure"}, "note", "HTTP 503", 7
	edited.Story, edited.DuplicateOf, edited.Priority, edited.Why = "first-id", "approved-id", -3, []string{"rule Fire words: section Fire", "rule Wire: tag wire"}
	items = append(items, edited)
	// The original differs outside the head: kept in the text record.
	odd := model.NewItem(model.Extraction{URL: "https://e.example/7", Title: "T", Body: "short body", SiteName: "Site"}, "E", "", at)
	odd.Original.SiteName, odd.Original.Image = "Old site", "https://e.example/old.jpg"
	odd.Original.Published = at.Add(-time.Hour).Truncate(time.Second)
	items = append(items, odd)
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{`"`, `\`, "\n", "<", "&", "é", "\u2028", "source", " ", "x", "\xff", "漢字"}
	for i := range 200 {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		txt := b.String()
		it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://e.example/r%d", i), Title: txt, Body: strings.Repeat(txt, rng.IntN(30))}, txt, txt, at.Add(time.Duration(i)))
		if i%3 == 0 {
			it.Lead = txt + "edited"
		}
		items = append(items, it)
	}
	for _, it := range items {
		prepareItem(it)
	}
	return items
}

// TestRecordsRoundTrip: an item encoded as head and text reads back equal,
// times to the nanosecond and with their offsets; the head alone gives
// everything but the body; arrivalFields gives what the head gives.
func TestRecordsRoundTrip(t *testing.T) {
	var c codec
	for i, want := range codecItems() {
		head := c.encodeHead(want)
		text, err := c.encodeText(want)
		if err != nil {
			t.Fatal(err)
		}
		var got model.Item
		if err := c.decodeHead(head, &got); err != nil {
			t.Fatalf("item %d: decode head: %v", i, err)
		}
		if got.Body != "" || got.Original.Body != "" {
			t.Errorf("item %d: the head carries a body", i)
		}
		if got.Edited() != want.Edited() {
			t.Errorf("item %d: Edited() = %v from the head, want %v", i, got.Edited(), want.Edited())
		}
		source, at, err := arrivalFields(head)
		if err != nil || source != want.Source || !at.Equal(want.FetchedAt) {
			t.Errorf("item %d: arrivalFields = %q %v %v", i, source, at, err)
		}
		if err := c.decodeText(text, &got); err != nil {
			t.Fatalf("item %d: decode text: %v", i, err)
		}
		if !sameItem(&got, want) {
			t.Errorf("item %d:\n got %+v\nwant %+v", i, got, *want)
		}
		if _, off := got.Published.Zone(); !want.Published.IsZero() {
			if _, wantOff := want.Published.Zone(); off != wantOff {
				t.Errorf("item %d: published offset %d, want %d", i, off, wantOff)
			}
		}
	}
}

// sameItem compares items as their JSON, which is how every reader sees
// them (times as RFC 3339 with their offsets).
func sameItem(a, b *model.Item) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb) && a.FetchedAt.Equal(b.FetchedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		reflect.DeepEqual(a.Tags, b.Tags)
}

// TestDamagedRecordsAreErrors: every truncation of a record is an error,
// never a panic or a silently shorter item.
func TestDamagedRecordsAreErrors(t *testing.T) {
	var c codec
	for _, it := range codecItems()[:7] {
		head := c.encodeHead(it)
		for n := range len(head) - 1 {
			var got model.Item
			if err := c.decodeHead(head[:n], &got); err == nil {
				t.Fatalf("%s: head cut to %d of %d bytes decoded", it.URL, n, len(head))
			}
		}
		text, _ := c.encodeText(it)
		if text[1]&bodyDeflated != 0 {
			var got model.Item
			if err := c.decodeText(text[:len(text)-3], &got); err == nil {
				t.Errorf("%s: cut deflated body decoded", it.URL)
			}
		}
	}
}

func FuzzDecodeRecords(f *testing.F) {
	var c codec
	for _, it := range codecItems()[:7] {
		text, _ := c.encodeText(it)
		f.Add(c.encodeHead(it), text)
	}
	f.Fuzz(func(t *testing.T, head, text []byte) {
		var it model.Item
		if c.decodeHead(head, &it) != nil {
			return
		}
		_ = c.decodeText(text, &it)
		// A decoded head encodes to a head that decodes the same.
		var again model.Item
		if err := c.decodeHead(c.encodeHead(&it), &again); err != nil {
			t.Fatalf("re-encoded head does not decode: %v", err)
		}
	})
}
