package web

import (
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/model"
)

func TestAssessHealth(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	every := func(n int, gap, lastAgo time.Duration, perPoll int) []time.Time {
		var out []time.Time
		for i := n - 1; i >= 0; i-- {
			at := now.Add(-lastAgo - time.Duration(i)*gap)
			for j := range perPoll {
				out = append(out, at.Add(time.Duration(j)*time.Second))
			}
		}
		return out
	}
	polled := &model.SourceState{LastAttempt: now.Add(-time.Minute), LastSuccess: now.Add(-time.Minute), ItemsFound: 20}
	off := false
	cases := []struct {
		name     string
		src      config.Source
		interval time.Duration
		state    *model.SourceState
		arrivals []time.Time
		health   string
		why      string
	}{
		{"disabled wins", config.Source{Enabled: &off}, time.Hour, &model.SourceState{LastError: "x", LastAttempt: now}, nil, healthDisabled, "disabled"},
		{"never polled", config.Source{}, time.Hour, nil, nil, healthPending, "not polled yet"},
		{"failing", config.Source{}, time.Hour, &model.SourceState{LastAttempt: now, LastError: "HTTP 500", ConsecutiveFailures: 1}, nil, healthFailing, "last poll failed"},
		{"too little history", config.Source{}, time.Hour, polled, every(2, time.Hour, time.Hour, 3), healthOK, "too little history"},
		// Nothing at all in the 30-day window, but it delivered before.
		{"quiet for longer than the window", config.Source{}, time.Hour,
			&model.SourceState{LastAttempt: now.Add(-time.Minute), LastSuccess: now.Add(-time.Minute), ItemsFound: 20, LastNewItemAt: now.Add(-40 * 24 * time.Hour)},
			nil, healthSilent, "nothing new for 40 days"},
		// Answered with nothing in it: the selector or the feed broke.
		{"page without links", config.Source{Type: "page"}, time.Hour, &model.SourceState{LastAttempt: now, LastSuccess: now}, every(8, time.Hour, time.Hour, 1), healthSilent, "no article links on the page: check the links selector"},
		{"empty feed", config.Source{}, time.Hour, &model.SourceState{LastAttempt: now, LastSuccess: now}, nil, healthSilent, "the feed had no entries"},
		{"weekly source, quiet for 20 days", config.Source{}, 7 * 24 * time.Hour,
			&model.SourceState{LastAttempt: now.Add(-time.Minute), LastSuccess: now.Add(-time.Minute), ItemsFound: 20, LastNewItemAt: now.Add(-20 * 24 * time.Hour)},
			nil, healthOK, "too little history"},
		// Batches of several items per poll count once: gap is 6h, not seconds.
		{"rhythm kept", config.Source{}, time.Hour, polled, every(8, 6*time.Hour, 2*time.Hour, 4), healthOK, "usually every 6 h"},
		{"silent", config.Source{}, time.Hour, polled, every(8, 6*time.Hour, 19*time.Hour, 4), healthSilent, "nothing new for 19 h; usually every 6 h"},
		// A source polled every 2h cannot deliver faster than that: a 30-min
		// rhythm from old history is judged against the interval.
		{"interval bounds the gap", config.Source{}, 2 * time.Hour, polled, every(8, 2*time.Hour, 5*time.Hour, 1), healthOK, "usually every 2 h"},
	}
	for _, c := range cases {
		r := &sourceRow{Source: c.src, Interval: c.interval, State: c.state}
		assess(r, c.arrivals, now)
		if r.Health != c.health || !strings.Contains(r.Why, c.why) {
			t.Errorf("%s: %s (%s), want %s (%s)", c.name, r.Health, r.Why, c.health, c.why)
		}
	}
}

func TestRoughDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{20 * time.Second: "1 min", 40 * time.Minute: "40 min", 90 * time.Minute: "2 h", 47 * time.Hour: "47 h", 50 * time.Hour: "2 days"} {
		if got := roughDuration(d); got != want {
			t.Errorf("roughDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
