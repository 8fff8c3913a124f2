package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

// proseWords is a news-desk vocabulary; prose draws from it with Zipf
// frequencies and mangled numbers, so it deflates about as news text does.
var proseWords = strings.Fields(`the of and to in a is that for on was with he it as at by from his said an be has have are were but not this which they had been their its after who more would will about one up out also new police fire county city officials state year two over than people into when could other last first time some there residents department emergency crews road highway closed injured hospital sheriff deputies firefighters arrived scene morning evening night storm flood warning weather school students council meeting budget vote water power outage traffic crash driver vehicle investigation suspect arrested charged court judge federal agency report according spokesperson statement public safety community service officers training response incident area near street avenue north south east west million percent week month monday tuesday wednesday thursday friday saturday sunday`)

type prose struct {
	rng  *rand.Rand
	zipf *rand.Zipf
}

func newProse(seed uint64) *prose {
	rng := rand.New(rand.NewPCG(seed, 9))
	return &prose{rng, rand.NewZipf(rng, 1.1, 2, uint64(len(proseWords)-1))}
}

func (p *prose) text(chars int) string {
	var b strings.Builder
	for b.Len() < chars {
		w := proseWords[p.zipf.Uint64()]
		if p.rng.IntN(9) == 0 {
			w = fmt.Sprintf("%s%d", w[:1+p.rng.IntN(len(w))], p.rng.IntN(1000))
		}
		b.WriteString(w)
		if p.rng.IntN(12) == 0 {
			b.WriteString(". ")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()[:chars]
}

// BenchmarkYearOfDesk stores a year of a busy desk (DESK_PER_DAY
// candidates a day, default 3,000, with 600-character leads and 2 KB
// bodies; about 100 approved a day) under the default retention, pruning
// daily as serve does, and reports the file's size at the end of the year,
// after compacting it, and how long the compaction took. It is a
// measurement, not a timing of the loop: run it with -benchtime=1x.
// DESK_DAYS shortens the year.
func BenchmarkYearOfDesk(b *testing.B) {
	perDay, _ := strconv.Atoi(os.Getenv("DESK_PER_DAY"))
	if perDay <= 0 {
		perDay = 3000
	}
	days, _ := strconv.Atoi(os.Getenv("DESK_DAYS"))
	if days <= 0 {
		days = 365
	}
	keep := Retention{DropBodiesAfter: 30 * 24 * time.Hour, PruneAfter: 180 * 24 * time.Hour}
	for b.Loop() {
		path := filepath.Join(b.TempDir(), "year.db")
		s, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		p := newProse(1)
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for d := range days {
			day := start.AddDate(0, 0, d)
			var poll PollWrite
			for i := range perDay {
				at := day.Add(time.Duration(i) * 24 * time.Hour / time.Duration(perDay))
				src := fmt.Sprintf("Source %d", p.rng.IntN(300))
				it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://news%d.example/%d/%d/%s", p.rng.IntN(300), d, i, strings.ReplaceAll(p.text(40), " ", "-")),
					Title: p.text(80), Byline: p.text(18), Published: at.Add(-time.Hour), SiteName: src, Lead: p.text(600), Body: p.text(2048), Language: "en"},
					src, fmt.Sprintf("Section %d", p.rng.IntN(5)), at)
				if i%(perDay/100+1) == 0 {
					it.Status, it.DecidedAt, it.DecidedBy = model.StatusApproved, at.Add(time.Hour), "ana"
				} else if i%3 == 0 {
					it.Status, it.DecidedAt, it.DecidedBy = model.StatusRejected, at.Add(time.Hour), "ana"
				}
				poll.Items = append(poll.Items, it)
				if len(poll.Items) == 1000 {
					if err := s.WritePolls(ctx, []PollWrite{poll}); err != nil {
						b.Fatal(err)
					}
					poll.Items = nil
				}
			}
			if err := s.WritePolls(ctx, []PollWrite{poll}); err != nil {
				b.Fatal(err)
			}
			if _, err := s.Prune(ctx, day.AddDate(0, 0, 1), keep); err != nil {
				b.Fatal(err)
			}
		}
		counts, _ := s.CountItems(ctx)
		fi, _ := os.Stat(path)
		s.Close()
		began := time.Now()
		_, after, err := Compact(path)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(began)
		b.ReportMetric(float64(fi.Size())/(1<<20), "MiB")
		b.ReportMetric(float64(after)/(1<<20), "MiB-compacted")
		b.ReportMetric(took.Seconds(), "s-compact")
		b.Logf("%d days x %d a day: %v kept; file %.0f MiB, compacted %.0f MiB in %s", days, perDay, counts, float64(fi.Size())/(1<<20), float64(after)/(1<<20), took.Round(time.Millisecond))
	}
}
