package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

// The words searched for. They are not in the vocabulary; the generator
// puts the common one in about a quarter of the items' leads and the rare
// one in about 0.5%, and the absent one nowhere, so every size searches
// for the same shares.
const (
	searchCommon = "statewide"
	searchRare   = "zeolite"
	searchAbsent = "quixotry"
	shareCommon  = 0.25
	shareRare    = 0.005
)

var sections = []string{"Top stories", "Terrorism & security", "Disasters & weather", "Cyber", "Public health"}

const (
	numSources = 30
	span       = 60 * 24 * time.Hour
	// briefingWindow is the briefing's 48 hours (curate.DefaultBriefingWindow).
	briefingWindow = 48 * time.Hour
	leadChars      = 600
	bodyChars      = 2048
)

type source struct{ name, site, host, section string }

func sourceList() []source {
	out := make([]source, numSources)
	for i := range out {
		place := places[i%len(places)]
		kind := []string{"Ledger", "Tribune", "Gazette", "Post", "Herald", "Daily News"}[i%6]
		site := fmt.Sprintf("The %s %s", place, kind)
		if i >= len(places) {
			site = fmt.Sprintf("%s %s Online", place, kind)
		}
		host := strings.ToLower(strings.NewReplacer(" ", "", "'", "").Replace(place+kind)) + fmt.Sprint(i) + ".example"
		out[i] = source{name: site, site: site, host: host, section: sections[i%len(sections)]}
	}
	return out
}

// textGen writes prose from the vocabulary with a seeded RNG.
type textGen struct {
	r     *rand.Rand
	words []string
	zipf  *rand.Zipf
}

func newTextGen(seed uint64) *textGen {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	words := strings.Fields(vocabulary)
	return &textGen{r: r, words: words, zipf: rand.NewZipf(r, 1.07, 2, uint64(len(words)-1))}
}

func (g *textGen) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *textGen) person() string { return g.pick(givenNames) + " " + g.pick(surnames) }

// sentence is a templated sentence one time in six, else 8 to 28 words
// drawn by frequency, with an occasional comma.
func (g *textGen) sentence() string {
	if g.r.IntN(6) == 0 {
		return fmt.Sprintf(g.pick(templates), g.person(), g.pick(roles), g.pick(orgs), g.pick(places),
			1+g.r.IntN(12), g.pick(weekdays), 2+g.r.IntN(4000))
	}
	n := 8 + g.r.IntN(21)
	var b strings.Builder
	for i := range n {
		w := g.words[g.zipf.Uint64()]
		if i == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		} else {
			b.WriteByte(' ')
			if g.r.IntN(25) == 0 {
				w = g.pick(places)
			}
		}
		b.WriteString(w)
		if i > 2 && i < n-2 && g.r.IntN(9) == 0 {
			b.WriteByte(',')
		}
	}
	b.WriteByte('.')
	return b.String()
}

// prose is paragraphs of sentences until at least n characters.
func (g *textGen) prose(n int, first string) string {
	var b strings.Builder
	b.WriteString(first)
	inPara := 0
	for b.Len() < n {
		if b.Len() > 0 {
			if inPara >= 3+g.r.IntN(3) {
				b.WriteString("\n\n")
				inPara = 0
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(g.sentence())
		inPara++
	}
	return b.String()
}

// cut shortens s to at most n bytes at a word boundary, with an ellipsis,
// as the extractor cuts a lead to excerpt.max_chars.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n-len("…")]
	if i := strings.LastIndexByte(s, ' '); i > n/2 {
		s = s[:i]
	}
	return strings.TrimRight(s, " ,.") + "…"
}

func (g *textGen) title() string {
	s := g.sentence()
	s = strings.TrimSuffix(s, ".")
	return cut(s, 60+g.r.IntN(50))
}

// plan says what becomes of item i of n: its times and status.
type plan struct {
	fetched, published, decided time.Time
	status                      model.Status
	// recentApproval marks the approvals of the last 48 hours, which are
	// stored queued and then approved through UpdateItem, as a curator
	// would.
	recentApproval bool
	edit           bool
}

// generator makes the items of one store: n items over 60 days ending at
// now, in fetch order.
type generator struct {
	n        int
	now      time.Time
	sources  []source
	text     *textGen
	r        *rand.Rand
	recentP  float64 // chance that an item of the last 48 h is approved
	approveP float64 // chance that an older item is approved
}

// newGenerator plans about briefingItems approvals in the last 48 hours at
// every size, so that `/` shows about the same page at 10k and 1M (a desk
// approves what its curators can read, not a share of what came in), and
// makes about 15% of all items approved overall.
func newGenerator(n int, now time.Time, briefingItems int, seed uint64) *generator {
	recent := float64(n) * float64(briefingWindow-time.Hour) / float64(span)
	g := &generator{n: n, now: now, sources: sourceList(), text: newTextGen(seed),
		r: rand.New(rand.NewPCG(seed, 0xdec1de))}
	if recent > 0 {
		g.recentP = min(0.5, float64(briefingItems)/recent)
	}
	older := float64(n) - recent
	if older > 0 {
		g.approveP = max(0, (0.15*float64(n)-g.recentP*recent)/older)
	}
	return g
}

func (g *generator) plan(i int) plan {
	r := g.r
	// Evenly spread with jitter, oldest first, the last one a minute ago.
	at := g.now.Add(-span + time.Duration((float64(i)+r.Float64())/float64(g.n)*float64(span-time.Minute)))
	p := plan{fetched: at, published: at.Add(-time.Duration(r.Int64N(int64(3 * time.Hour))))}
	age := g.now.Sub(at)
	switch {
	case age < briefingWindow-time.Hour:
		if r.Float64() < g.recentP {
			p.status, p.recentApproval = model.StatusApproved, true
			gap := min(12*time.Hour, age-time.Minute)
			p.decided = at.Add(time.Minute + time.Duration(r.Int64N(int64(max(gap, time.Minute)))))
			if p.decided.After(g.now.Add(-time.Minute)) {
				p.decided = g.now.Add(-time.Minute)
			}
		} else if r.IntN(100) < 85 {
			p.status = model.StatusQueued
		} else {
			p.status = model.StatusRejected
			p.decided = at.Add(time.Duration(r.Int64N(int64(max(age/2, time.Minute)))))
		}
	default:
		x := r.Float64()
		switch {
		case x < g.approveP:
			p.status = model.StatusApproved
		case x < g.approveP+0.47:
			p.status = model.StatusRejected
		default:
			p.status = model.StatusQueued
		}
		if p.status != model.StatusQueued {
			// Decided within 5 minutes to 18 hours, but before the
			// briefing's window, which only the planned approvals fill.
			p.decided = at.Add(5*time.Minute + time.Duration(r.Int64N(int64(18*time.Hour))))
			if limit := g.now.Add(-briefingWindow - time.Minute); p.decided.After(limit) {
				p.decided = limit
			}
		}
	}
	p.edit = p.status == model.StatusApproved && r.IntN(10) == 0
	return p
}

// item makes item i: a story with a 600-character lead and a body of
// about 2 KB, stored as the fetcher stores it (extraction kept as the
// original). The status and decision are applied by the caller.
func (g *generator) item(i int, p plan) *model.Item {
	t := g.text
	src := g.sources[i%len(g.sources)]
	if g.r.IntN(4) == 0 { // sources do not take strict turns
		src = g.sources[g.r.IntN(len(g.sources))]
	}
	title := t.title()
	first := t.sentence()
	switch x := g.r.Float64(); {
	case x < shareRare:
		first = "Tests found " + searchRare + " in the water supply of " + t.pick(places) + ". " + first
	case x < shareRare+shareCommon:
		first = "The " + searchCommon + " alert covers " + t.pick(places) + " and nearby towns. " + first
	}
	body := t.prose(bodyChars, first)
	lead := strings.ReplaceAll(cut(body, leadChars), "\n\n", " ")
	slug := strings.ToLower(strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ' ' {
			return r
		}
		return -1
	}, title)), "-"))
	u := fmt.Sprintf("https://www.%s/%s/%s-%d", src.host, p.published.Format("2006/01/02"), cut(slug, 60), i)
	u = strings.TrimSuffix(u, "…")
	e := model.Extraction{URL: u, CanonicalURL: u, Title: title, Byline: "By " + t.person(),
		Published: p.published, SiteName: src.site, Lead: lead, Body: body, Language: "en"}
	return model.NewItem(e, src.name, src.section, p.fetched)
}

// decide applies a planned decision to it.
func decide(it *model.Item, p plan) {
	it.Status = p.status
	if p.status != model.StatusQueued {
		it.DecidedAt, it.UpdatedAt, it.DecidedBy = p.decided, p.decided, "curator"
	}
}

// edit changes the headline and lead as a curator would, keeping the
// original extraction.
func edit(it *model.Item, at time.Time) {
	it.Title = strings.TrimSuffix(it.Title, "…") + " (updated)"
	it.Lead = cut("Update: "+it.Lead, leadChars)
	it.EditedBy, it.UpdatedAt = "curator", at
}
