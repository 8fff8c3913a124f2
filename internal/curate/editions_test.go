package curate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

func mustSchedule(t *testing.T, times []string, tz string, weekdays bool) Schedule {
	t.Helper()
	s, err := NewSchedule(times, tz, weekdays)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScheduleDueAndNext(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	twice := mustSchedule(t, []string{"17:00", "06:00", "06:00"}, "Europe/Berlin", false)
	weekdays := mustSchedule(t, []string{"06:00", "17:00"}, "Europe/Berlin", true)
	manual := mustSchedule(t, nil, "Europe/Berlin", false)
	zero := time.Time{}
	for _, tc := range []struct {
		name       string
		s          Schedule
		after, now time.Time
		due        string // "" for none
	}{
		{"before the first slot", twice, zero, at("2026-12-02 05:59"), "2026-12-01 17:00"},
		{"yesterday evening published", twice, at("2026-12-01 17:00"), at("2026-12-02 05:59"), ""},
		{"at the slot", twice, at("2026-12-01 17:00"), at("2026-12-02 06:00"), "2026-12-02 06:00"},
		{"slot published", twice, at("2026-12-02 06:00"), at("2026-12-02 16:59"), ""},
		{"published by hand after the slot", twice, at("2026-12-02 06:30"), at("2026-12-02 12:00"), ""},
		{"published by hand before the slot", twice, at("2026-12-02 05:30"), at("2026-12-02 06:01"), "2026-12-02 06:00"},
		{"down three days: the latest slot once", twice, at("2026-11-28 06:00"), at("2026-12-01 09:00"), "2026-12-01 06:00"},
		{"Saturday on weekdays only", weekdays, at("2026-12-04 17:00"), at("2026-12-05 09:00"), ""},
		{"Monday morning after the weekend", weekdays, at("2026-12-04 17:00"), at("2026-12-07 06:00"), "2026-12-07 06:00"},
		{"Sunday night, Friday owed", weekdays, at("2026-12-04 06:00"), at("2026-12-06 23:00"), "2026-12-04 17:00"},
		{"manual", manual, zero, at("2026-12-02 09:00"), ""},
		// 29 March 2026: clocks go from 02:00 to 03:00 in Berlin.
		{"a slot in the spring gap still happens", mustSchedule(t, []string{"02:30"}, "Europe/Berlin", false), at("2026-03-28 02:30"), at("2026-03-29 03:31"), "2026-03-29 03:30"},
	} {
		got, ok := tc.s.Due(tc.after, tc.now)
		gotS := ""
		if ok {
			gotS = got.In(berlin).Format("2006-01-02 15:04")
		}
		if gotS != tc.due {
			t.Errorf("%s: due %q, want %q", tc.name, gotS, tc.due)
		}
	}
	if n, ok := weekdays.Next(at("2026-12-04 17:00")); !ok || !n.Equal(at("2026-12-07 06:00")) {
		t.Errorf("next after Friday evening: %v %v", n, ok)
	}
	if _, ok := manual.Next(at("2026-12-04 17:00")); ok {
		t.Error("a manual schedule has a next slot")
	}
	if got := weekdays.Describe(); got != "published at 06:00 and 17:00 Europe/Berlin, Monday to Friday" {
		t.Errorf("describe: %q", got)
	}
	if id, _, _ := twice.EditionID(at("2026-12-02 06:00")); id != "2026-12-02-morning" {
		t.Errorf("edition id %q", id)
	}
	if id, _, _ := twice.EditionID(at("2026-12-02 23:30").UTC()); id != "2026-12-02-night" {
		t.Errorf("edition id in the desk's zone: %q", id)
	}
	for _, bad := range []struct{ times []string }{{[]string{"6"}}, {[]string{"25:00"}}, {[]string{"06:60"}}} {
		if _, err := NewSchedule(bad.times, "UTC", false); err == nil {
			t.Errorf("%v accepted", bad.times)
		}
	}
	if _, err := NewSchedule(nil, "Nowhere/Special", false); err == nil {
		t.Error("bad timezone accepted")
	}
}

// pressWorld is a press over a real bbolt file with a settable clock.
type pressWorld struct {
	t     *testing.T
	st    *store.Bolt
	desk  *Desk
	press *Press
	mu    sync.Mutex
	now   time.Time
}

func newPressWorld(t *testing.T, sched Schedule) *pressWorld {
	d, st := newDesk(t)
	w := &pressWorld{t: t, st: st, desk: d, now: time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)}
	d.now = w.clock
	w.press = NewPress(st, st, sched, func() []string { return []string{"Top stories", "Cyber"} }, w.clock)
	return w
}

func (w *pressWorld) clock() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }
func (w *pressWorld) advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

// approve stores and approves a story.
func (w *pressWorld) approve(slug, section string) *model.Item {
	w.t.Helper()
	it := model.NewItem(model.Extraction{URL: "https://example.com/" + slug, Title: "Story " + slug, Lead: "Lead of " + slug + ".", SiteName: "Example"},
		"src", section, w.clock().Add(-time.Duration(len(slug))*time.Minute))
	if _, err := w.st.AddItem(context.Background(), it); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.desk.Approve(context.Background(), it.ID, "cur"); err != nil {
		w.t.Fatal(err)
	}
	return it
}

func order(n *NextEdition) string {
	var out []string
	for _, it := range n.Items {
		out = append(out, strings.TrimPrefix(it.Title, "Story ")+"@"+it.Section)
	}
	return strings.Join(out, " ")
}

func TestNextEditionArrangeAndPublish(t *testing.T) {
	w := newPressWorld(t, mustSchedule(t, nil, "UTC", false))
	ctx := context.Background()
	p := w.press
	a, b := w.approve("a", "Top stories"), w.approve("bb", "Top stories")
	c := w.approve("ccc", "Cyber")
	queued := model.NewItem(model.Extraction{URL: "https://example.com/q", Title: "Queued"}, "src", "Cyber", w.clock())
	w.st.AddItem(ctx, queued)

	next, err := p.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Newest first within a section, sections in the configured order.
	if got := order(next); got != "a@Top stories bb@Top stories ccc@Cyber" {
		t.Fatalf("default order: %s", got)
	}
	if next, err = p.Move(ctx, a.ID, 1); err != nil || order(next) != "bb@Top stories a@Top stories ccc@Cyber" {
		t.Fatalf("move down: %s %v", order(next), err)
	}
	// Not past the end of its section.
	if next, _ = p.Move(ctx, a.ID, 1); order(next) != "bb@Top stories a@Top stories ccc@Cyber" {
		t.Fatalf("move past the section: %s", order(next))
	}
	if next, err = p.MoveToSection(ctx, b.ID, "Cyber"); err != nil || order(next) != "a@Top stories ccc@Cyber bb@Cyber" {
		t.Fatalf("move to Cyber: %s %v", order(next), err)
	}
	if _, err := p.MoveToSection(ctx, b.ID, "Sports"); !errors.Is(err, ErrInvalid) {
		t.Errorf("move to an unknown section: %v", err)
	}
	if next, err = p.Place(ctx, a.ID, c.ID); err != nil || order(next) != "a@Cyber ccc@Cyber bb@Cyber" {
		t.Fatalf("drag a before ccc: %s %v", order(next), err)
	}
	if next, err = p.Pin(ctx, c.ID); err != nil || next.Lead != c.ID || order(next) != "ccc@Cyber a@Cyber bb@Cyber" {
		t.Fatalf("pin: lead %q, %s %v", next.Lead, order(next), err)
	}
	if _, err := p.Move(ctx, "no-such", 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("move a story not in the edition: %v", err)
	}
	// The item itself keeps its section: the move is the edition's.
	if got, _ := w.st.GetItem(ctx, b.ID); got.Section != "Top stories" {
		t.Errorf("item section changed to %q", got.Section)
	}

	w.advance(2 * time.Hour)
	e, err := p.Publish(ctx, "cur")
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "2026-12-02-morning" || e.Lead != c.ID || len(e.Items) != 3 || e.PublishedBy != "cur" {
		t.Fatalf("published %+v", e)
	}
	// Published: the edition never follows the item.
	title := "Story a, rewritten"
	if _, err := w.desk.Apply(ctx, a.ID, Edit{Title: &title}, "cur", nil); err != nil {
		t.Fatal(err)
	}
	w.desk.Reject(ctx, b.ID, "cur")
	got, err := w.st.GetEdition(ctx, e.ID)
	if err != nil || got.Items[1].Title != "Story a" || len(got.Items) != 3 {
		t.Fatalf("edition changed with its items: %+v %v", got, err)
	}
	// Nothing new: nothing to publish, and the preview is empty.
	if _, err := p.Publish(ctx, "cur"); !errors.Is(err, ErrNothingToPublish) {
		t.Fatalf("publish with nothing new: %v", err)
	}
	// Approved after the edition: in the next one, on its own.
	w.advance(time.Minute)
	d := w.approve("dddd", "Top stories")
	// Approved as the edition was being published, and so not in it: not
	// lost either.
	late := w.approve("eeeee", "Top stories")
	if _, err := w.st.UpdateItem(ctx, late.ID, func(it *model.Item) error { it.DecidedAt = e.PublishedAt.Add(-30 * time.Second); return nil }); err != nil {
		t.Fatal(err)
	}
	w.advance(time.Hour)
	next, _ = p.Next(ctx)
	if order(next) != "dddd@Top stories eeeee@Top stories" || next.After != e.ID || next.Lead != "" {
		t.Fatalf("next after publishing: %s after %q lead %q", order(next), next.After, next.Lead)
	}
	e2, err := p.Publish(ctx, "cur")
	if err != nil || e2.ID != "2026-12-02-morning-2" || len(e2.Items) != 2 || e2.Items[0].ID != d.ID {
		t.Fatalf("second edition: %+v %v", e2, err)
	}

	// A correction is recorded, shown and changes only the story.
	w.advance(30 * time.Minute)
	fixed := "Story ccc, corrected"
	e, err = p.Correct(ctx, e.ID, Correction{ItemID: c.ID, Title: &fixed, Note: "name misspelled"}, "cur")
	if err != nil {
		t.Fatal(err)
	}
	if it, _ := e.Item(c.ID); it.Title != fixed || len(e.Corrections) != 1 || e.Corrections[0].Note != "Headline corrected: name misspelled" || !e.UpdatedAt.Equal(w.clock()) {
		t.Errorf("corrected edition: %+v", e)
	}
	same := fixed
	for name, corr := range map[string]Correction{
		"nothing changed":   {ItemID: c.ID, Title: &same},
		"empty headline":    {ItemID: c.ID, Title: new(string)},
		"story not in it":   {ItemID: d.ID, Note: "x"},
		"note far too long": {ItemID: c.ID, Note: strings.Repeat("x", 201)},
	} {
		if _, err := p.Correct(ctx, e.ID, corr, "cur"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if it, ed, err := p.FindItem(ctx, c.ID); err != nil || ed.ID != e.ID || it.Title != fixed {
		t.Errorf("find item: %+v %v %v", it, ed, err)
	}
	if _, _, err := p.FindItem(ctx, queued.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("find an unpublished item: %v", err)
	}
}

// TestScheduledPublishing drives the schedule with an injected clock: an
// edition at each slot with something new, none on the weekend, none
// twice for one slot.
func TestScheduledPublishing(t *testing.T) {
	w := newPressWorld(t, mustSchedule(t, []string{"06:00", "17:00"}, "UTC", true))
	ctx := context.Background()
	w.now = time.Date(2026, 12, 4, 5, 0, 0, 0, time.UTC) // a Friday
	var published []string
	tick := func() {
		t.Helper()
		e, err := w.press.PublishDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if e != nil {
			published = append(published, fmt.Sprintf("%s(%d)", e.ID, len(e.Items)))
		}
	}
	w.approve("a", "Cyber")
	tick() // Thursday 17:00 is owed, but twelve hours late: skipped
	w.approve("b", "Cyber")
	w.advance(59 * time.Minute)
	tick() // 05:59: nothing due
	w.advance(time.Minute)
	tick() // 06:00
	tick() // not twice
	w.advance(3 * time.Hour)
	tick() // nothing due
	w.advance(8 * time.Hour)
	tick() // 17:00 with nothing new: no edition
	w.approve("c", "Top stories")
	w.advance(5 * time.Minute)
	tick() // the 17:00 slot was dealt with: c waits for the next
	w.advance(24 * time.Hour)
	tick() // Saturday
	w.advance(24 * time.Hour)
	tick() // Sunday
	w.advance(13 * time.Hour)
	tick() // Monday 06:00
	want := "2026-12-04-morning(2) 2026-12-07-morning(1)"
	if got := strings.Join(published, " "); got != want {
		t.Errorf("published %s\nwant      %s", got, want)
	}
}
