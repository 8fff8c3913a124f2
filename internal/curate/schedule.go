package curate

import (
	"fmt"
	"sort"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
)

// Schedule is when editions are published: times of day in the desk's
// timezone, optionally on weekdays only. No times means manual only.
type Schedule struct {
	times        []clockTime // sorted
	loc          *time.Location
	weekdaysOnly bool
}

type clockTime struct{ hour, minute int }

// maxCatchUpDays bounds how far back Due looks for a missed slot (a server
// that was down for a week publishes once, for the latest slot).
const maxCatchUpDays = 8

// NewSchedule reads the editions.schedule, timezone and
// editions.weekdays_only settings.
func NewSchedule(times []string, timezone string, weekdaysOnly bool) (Schedule, error) {
	if timezone == "" {
		timezone = "Local"
	}
	loc, err := time.LoadLocation(timezone)
	if err != nil {
		return Schedule{}, fmt.Errorf("timezone %q: %w", timezone, err)
	}
	s := Schedule{loc: loc, weekdaysOnly: weekdaysOnly}
	seen := map[clockTime]bool{}
	for _, t := range times {
		h, m, ok := config.ParseClock(t)
		if !ok {
			return Schedule{}, fmt.Errorf("editions.schedule: %q is not a time of day (HH:MM)", t)
		}
		if c := (clockTime{h, m}); !seen[c] {
			seen[c] = true
			s.times = append(s.times, c)
		}
	}
	sort.Slice(s.times, func(i, j int) bool {
		return s.times[i].hour*60+s.times[i].minute < s.times[j].hour*60+s.times[j].minute
	})
	return s, nil
}

// Location is the desk's timezone.
func (s Schedule) Location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// Manual reports a schedule without times: editions are published by hand.
func (s Schedule) Manual() bool { return len(s.times) == 0 }

// slotsOn returns the scheduled times on the day of day (in the desk's
// timezone), none on a weekend day of a weekdays-only schedule.
func (s Schedule) slotsOn(day time.Time) []time.Time {
	if s.weekdaysOnly && (day.Weekday() == time.Saturday || day.Weekday() == time.Sunday) {
		return nil
	}
	out := make([]time.Time, 0, len(s.times))
	for _, c := range s.times {
		// time.Date moves a time that does not exist on a day the clocks
		// go forward past the gap, so the slot still happens.
		out = append(out, time.Date(day.Year(), day.Month(), day.Day(), c.hour, c.minute, 0, 0, s.Location()))
	}
	return out
}

// Due returns the latest scheduled time in (after, now], if any: the slot
// an edition is owed for. Slots missed while the server was down are not
// published one by one; the latest one stands for them.
func (s Schedule) Due(after, now time.Time) (time.Time, bool) {
	if s.Manual() {
		return time.Time{}, false
	}
	day := now.In(s.Location())
	for range maxCatchUpDays {
		slots := s.slotsOn(day)
		for i := len(slots) - 1; i >= 0; i-- {
			t := slots[i]
			if t.After(now) {
				continue
			}
			if t.After(after) {
				return t, true
			}
			return time.Time{}, false
		}
		day = time.Date(day.Year(), day.Month(), day.Day()-1, 12, 0, 0, 0, s.Location())
	}
	return time.Time{}, false
}

// Next returns the first scheduled time after now.
func (s Schedule) Next(now time.Time) (time.Time, bool) {
	if s.Manual() {
		return time.Time{}, false
	}
	day := now.In(s.Location())
	for range maxCatchUpDays {
		for _, t := range s.slotsOn(day) {
			if t.After(now) {
				return t, true
			}
		}
		day = time.Date(day.Year(), day.Month(), day.Day()+1, 12, 0, 0, 0, s.Location())
	}
	return time.Time{}, false
}

// Describe says when editions are published, for the preview page.
func (s Schedule) Describe() string {
	if s.Manual() {
		return "published by hand"
	}
	out := "published at "
	for i, c := range s.times {
		switch {
		case i == 0:
		case i == len(s.times)-1:
			out += " and "
		default:
			out += ", "
		}
		out += fmt.Sprintf("%02d:%02d", c.hour, c.minute)
	}
	out += " " + s.Location().String()
	if s.weekdaysOnly {
		out += ", Monday to Friday"
	}
	return out
}

// SlotName names the part of the day an edition published at t belongs
// to, in the desk's timezone: it is the last part of the edition's ID.
func (s Schedule) SlotName(t time.Time) string {
	switch h := t.In(s.Location()).Hour(); {
	case h < 5:
		return "night"
	case h < 12:
		return "morning"
	case h < 17:
		return "afternoon"
	case h < 21:
		return "evening"
	default:
		return "night"
	}
}

// EditionID is the stable name of an edition for the slot at t:
// "2026-12-02-morning".
func (s Schedule) EditionID(t time.Time) (id, date, slot string) {
	date = t.In(s.Location()).Format(time.DateOnly)
	slot = s.SlotName(t)
	return date + "-" + slot, date, slot
}
