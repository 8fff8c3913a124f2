package web

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/fetch"
	"github.com/clipsheet/clipsheet/internal/model"
)

// Source health marks, in the order the sources page sorts them: what
// needs attention first.
const (
	healthFailing  = "failing"
	healthSilent   = "silent"
	healthPending  = "pending"
	healthOK       = "ok"
	healthDisabled = "disabled"
)

var healthRank = map[string]int{healthFailing: 0, healthSilent: 1, healthPending: 2, healthOK: 3, healthDisabled: 4}

// healthWindow is how far back arrivals are read to learn a source's
// rhythm; a month covers weekly publishers.
const healthWindow = 30 * 24 * time.Hour

// silentFactor: a source is silent when nothing new arrived for this many
// of its usual gaps.
const silentFactor = 3

// minBatches is how many separate arrivals are needed before a usual gap
// is believed.
const minBatches = 3

// sourceRow is one line of the sources page and one entry of the API's
// health view.
type sourceRow struct {
	Source   config.Source
	Interval time.Duration
	State    *model.SourceState
	Last24h  int
	Last7d   int
	// LastNew is when the last new item arrived (zero if unknown).
	LastNew time.Time
	// UsualGap is the median time between arrivals of new items, zero
	// while there is not enough history.
	UsualGap time.Duration
	Health   string
	// Why explains the mark in a sentence.
	Why string

	now time.Time
}

// Ago writes how long before the page was made t was: "5 min ago", or
// "never" for the zero time.
func (r *sourceRow) Ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := r.now.Sub(t)
	if d < time.Minute {
		return "just now"
	}
	return roughDuration(d) + " ago"
}

// Problem says in a plain sentence why the last poll failed; "" when it
// did not. The stored error is the detail shown on demand.
func (r *sourceRow) Problem() string {
	if r.State == nil {
		return ""
	}
	return fetch.ExplainText(r.State.LastError)
}

// IntervalText is the poll interval as written in sources.yaml.
func (r *sourceRow) IntervalText() string { return config.Duration(r.Interval).String() }

// MovedTo is the address the source moved to permanently while
// sources.yaml still names the old one; "" when there is nothing to update.
func (r *sourceRow) MovedTo() string { return pendingMove(r.Source, r.State) }

// pendingMove is the permanent redirect target the fetcher recorded for src
// and polls instead of its configured URL. The comparison is exact: an
// http → https move is a move worth writing down, although both name the
// same source. A state recorded for another URL (the source was edited
// since) says nothing about this one; the fetcher drops it at the next poll.
func pendingMove(src config.Source, st *model.SourceState) string {
	if st == nil || st.MovedTo == "" || st.MovedTo == src.URL {
		return ""
	}
	if st.URL != "" && st.URL != src.URL {
		return ""
	}
	return st.MovedTo
}

// assess fills the counts and the health mark of a row from the source's
// stored state and the arrival times of its items (oldest first).
func assess(row *sourceRow, arrivals []time.Time, now time.Time) {
	row.now = now
	for _, t := range arrivals {
		if age := now.Sub(t); age <= 7*24*time.Hour {
			row.Last7d++
			if age <= 24*time.Hour {
				row.Last24h++
			}
		}
	}
	batches := arrivalBatches(arrivals, row.Interval)
	if n := len(batches); n > 0 {
		row.LastNew = batches[n-1]
	}
	if st := row.State; st != nil && st.LastNewItemAt.After(row.LastNew) {
		row.LastNew = st.LastNewItemAt
	}
	row.UsualGap = usualGap(batches)
	row.Health, row.Why = healthOf(row, now)
}

func healthOf(row *sourceRow, now time.Time) (string, string) {
	st := row.State
	switch {
	case !row.Source.IsEnabled():
		return healthDisabled, "disabled in sources.yaml"
	case st == nil || st.LastAttempt.IsZero():
		return healthPending, "not polled yet"
	case st.LastError != "":
		// The error itself has its own column.
		if st.ConsecutiveFailures > 1 {
			return healthFailing, fmt.Sprintf("last %d polls failed", st.ConsecutiveFailures)
		}
		return healthFailing, "last poll failed"
	}
	if st.ItemsFound == 0 && !st.LastSuccess.IsZero() {
		// Answered, but with nothing in it: a links selector that no
		// longer matches, or a feed emptied. Nothing can arrive.
		if row.Source.KindOrDefault() == config.TypePage {
			return healthSilent, "the last poll found no article links on the page: check the links selector"
		}
		return healthSilent, "the feed had no entries at the last poll"
	}
	if row.UsualGap == 0 || row.LastNew.IsZero() {
		// No rhythm to judge by, but a source that delivered before and
		// then nothing for the whole window (or three of its intervals,
		// for slow ones) has gone quiet all the same.
		if !row.LastNew.IsZero() {
			if quiet := now.Sub(row.LastNew); quiet > max(healthWindow, silentFactor*row.Interval) {
				return healthSilent, fmt.Sprintf("nothing new for %s", roughDuration(quiet))
			}
		}
		return healthOK, "too little history to judge"
	}
	// The poll interval bounds how often news can arrive at all.
	gap := max(row.UsualGap, row.Interval)
	if quiet := now.Sub(row.LastNew); quiet > silentFactor*gap {
		return healthSilent, fmt.Sprintf("nothing new for %s; usually every %s", roughDuration(quiet), roughDuration(gap))
	}
	return healthOK, fmt.Sprintf("new items usually every %s", roughDuration(gap))
}

// arrivalBatches collapses arrivals that one poll stored into one time:
// items of a poll are stored within moments of each other, polls are at
// least half an interval apart.
func arrivalBatches(arrivals []time.Time, interval time.Duration) []time.Time {
	join := max(interval/2, time.Minute)
	var out []time.Time
	for _, t := range arrivals {
		if n := len(out); n > 0 && t.Sub(out[n-1]) < join {
			continue
		}
		out = append(out, t)
	}
	return out
}

// usualGap is the median gap between batches; the median ignores the odd
// quiet weekend or burst of breaking news.
func usualGap(batches []time.Time) time.Duration {
	if len(batches) < minBatches {
		return 0
	}
	gaps := make([]time.Duration, 0, len(batches)-1)
	for i := 1; i < len(batches); i++ {
		gaps = append(gaps, batches[i].Sub(batches[i-1]))
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}

// roughDuration writes a duration the way people say it: "40 min",
// "5 h", "3 days".
func roughDuration(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d min", max(1, int(d.Minutes()+0.5)))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()+0.5))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24+0.5))
}

// rowFilter selects and orders rows on the sources page.
type rowFilter struct {
	Query   string // substring of name or URL
	Section string
	Health  string
	Sort    string // health (default), name, section, success, items
}

func (f rowFilter) keep(r *sourceRow) bool {
	if f.Section != "" && r.Source.Section != f.Section {
		return false
	}
	if f.Health != "" && r.Health != f.Health {
		return false
	}
	if q := strings.ToLower(strings.TrimSpace(f.Query)); q != "" {
		return strings.Contains(strings.ToLower(r.Source.Name), q) || strings.Contains(strings.ToLower(r.Source.URL), q)
	}
	return true
}

// sortRows orders rows; ties fall back to the name so the order is stable
// between reloads.
func sortRows(rows []*sourceRow, by string, sections []string) {
	secRank := map[string]int{}
	for i, s := range sections {
		secRank[s] = i
	}
	rankSection := func(s string) int {
		if r, ok := secRank[s]; ok {
			return r
		}
		return len(sections)
	}
	byName := func(a, b *sourceRow) int {
		return strings.Compare(strings.ToLower(a.Source.Name), strings.ToLower(b.Source.Name))
	}
	slices.SortStableFunc(rows, func(a, b *sourceRow) int {
		var c int
		switch by {
		case "name":
		case "section":
			c = rankSection(a.Source.Section) - rankSection(b.Source.Section)
		case "success":
			c = lastSuccess(a).Compare(lastSuccess(b))
		case "items":
			c = b.Last7d - a.Last7d
		default:
			c = healthRank[a.Health] - healthRank[b.Health]
		}
		if c != 0 {
			return c
		}
		return byName(a, b)
	})
}

func lastSuccess(r *sourceRow) time.Time {
	if r.State == nil {
		return time.Time{}
	}
	return r.State.LastSuccess
}

// failingCount is how many enabled sources failed at their last poll, of
// how many are enabled.
type failingCount struct {
	Failing, Enabled int
}

// many says whether so many sources fail that it changes what the desk
// sees: three or more, or a fifth of them.
func (f failingCount) many() bool {
	return f.Failing >= 3 || (f.Failing > 0 && f.Failing*5 >= f.Enabled)
}

// countFailing counts the enabled sources whose last poll failed.
func (s *Server) countFailing(ctx context.Context) (failingCount, error) {
	states, err := s.store.ListSourceStates(ctx)
	if err != nil {
		return failingCount{}, fmt.Errorf("source states: %w", err)
	}
	byName := make(map[string]*model.SourceState, len(states))
	for _, st := range states {
		byName[st.Name] = st
	}
	var n failingCount
	for _, src := range s.cfg.Sources().Sources {
		if !src.IsEnabled() {
			continue
		}
		n.Enabled++
		if st := byName[src.Name]; st != nil && !st.LastAttempt.IsZero() && st.LastError != "" {
			n.Failing++
		}
	}
	return n, nil
}

// addFailingSources puts the failing-sources count on every page of a
// curator or admin when many sources fail: admins get a badge in the
// navigation, curators the reason beside a thin queue.
func (s *Server) addFailingSources(c *gin.Context, data gin.H) {
	n, err := s.countFailing(c.Request.Context())
	if err != nil {
		s.log.Warn("count failing sources", "err", err)
		return
	}
	if n.many() {
		data["ManyFailing"] = n
	}
}
