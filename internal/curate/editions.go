package curate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// ErrNothingToPublish refuses an edition without a story.
var ErrNothingToPublish = store.ErrEmptyEdition

// Press makes editions: the next one from the approved stories not yet
// published, arranged by curators, and publishes it by hand or on the
// schedule.
type Press struct {
	items    store.Store
	editions store.Editions
	sched    Schedule
	// sections is the configured section order (it changes while
	// running when sources.yaml is edited).
	sections func() []string
	now      func() time.Time

	// handled is the latest slot the schedule dealt with, published or
	// found with nothing new: it is not owed again.
	mu      sync.Mutex
	handled time.Time
}

// maxLateness is how late a scheduled edition may still go out: a server
// started at 07:00 publishes the 06:00 edition, one started on Saturday
// does not publish Friday evening's.
const maxLateness = 6 * time.Hour

// NewPress returns a press over the item and edition stores.
func NewPress(items store.Store, editions store.Editions, sched Schedule, sections func() []string, now func() time.Time) *Press {
	if now == nil {
		now = time.Now
	}
	if sections == nil {
		sections = func() []string { return nil }
	}
	return &Press{items: items, editions: editions, sched: sched, sections: sections, now: now}
}

// Schedule is the publication schedule.
func (p *Press) Schedule() Schedule { return p.sched }

// NextEdition is the edition that would be published now.
type NextEdition struct {
	// After is the ID of the newest edition ("" for none); Since is when
	// it was published.
	After string
	Since time.Time
	Lead  string
	// Items in order: the pinned lead first, then section by section.
	Items []model.EditionItem
	// Sections are the section names in order, those with stories first.
	Sections []string
}

// Sectioned groups items by section in order, the lead left out.
func Sectioned(items []model.EditionItem, lead string) []EditionSection {
	var out []EditionSection
	index := map[string]int{}
	for _, it := range items {
		if it.ID == lead {
			continue
		}
		i, ok := index[it.Section]
		if !ok {
			i = len(out)
			index[it.Section] = i
			out = append(out, EditionSection{Name: it.Section})
		}
		out[i].Items = append(out[i].Items, it)
	}
	return out
}

// EditionSection is one heading of an edition.
type EditionSection struct {
	Name  string
	Items []model.EditionItem
}

// candidates are the approved stories not yet in an edition: those
// decided since shortly before the newest edition (a story approved
// while that edition was being published may have missed it), or within
// the briefing window when there is no edition yet.
func (p *Press) candidates(ctx context.Context, since time.Time) ([]*model.Item, error) {
	recent, err := p.items.ListItems(ctx, store.ItemFilter{Status: model.StatusApproved, DecidedSince: since})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(recent))
	for i, it := range recent {
		ids[i] = it.ID
	}
	where, err := p.editions.ItemEditions(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := recent[:0]
	for i, it := range recent {
		if where[i] == "" {
			out = append(out, it)
		}
	}
	return out, nil
}

// Next builds the next edition as it stands: every approved story not yet
// published, in the curators' arrangement.
func (p *Press) Next(ctx context.Context) (*NextEdition, error) {
	next := &NextEdition{}
	since := p.now().Add(-DefaultBriefingWindow)
	latest, err := p.editions.LatestEdition(ctx)
	switch {
	case err == nil:
		next.After, next.Since = latest.ID, latest.PublishedAt
		since = latest.PublishedAt.Add(-time.Minute)
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("next edition: %w", err)
	}
	items, err := p.candidates(ctx, since)
	if err != nil {
		return nil, fmt.Errorf("next edition: %w", err)
	}
	draft, err := p.editions.EditionDraft(ctx)
	if err != nil {
		return nil, err
	}
	p.arrange(next, items, draft)
	return next, nil
}

// arrange orders the stories: by section in the configured order (other
// sections after, "Other" for none), within a section in the draft's
// order, then newest first; the pinned lead goes first.
func (p *Press) arrange(next *NextEdition, items []*model.Item, d *model.EditionDraft) {
	pos := map[string]int{}
	for i, id := range d.Order {
		pos[id] = i
	}
	secRank := map[string]int{}
	for i, s := range p.sections() {
		secRank[s] = i
		next.Sections = append(next.Sections, s)
	}
	snaps := make([]model.EditionItem, 0, len(items))
	times := map[string]time.Time{}
	for _, it := range items {
		sec := it.Section
		if moved, ok := d.Sections[it.ID]; ok && moved != "" {
			sec = moved
		}
		if sec == "" {
			sec = "Other"
		}
		if _, ok := secRank[sec]; !ok {
			secRank[sec] = len(secRank)
			next.Sections = append(next.Sections, sec)
		}
		snaps = append(snaps, it.Snapshot(sec))
		times[it.ID] = it.SortTime()
		if it.ID == d.Lead {
			next.Lead = it.ID
		}
	}
	sort.SliceStable(snaps, func(i, j int) bool {
		a, b := snaps[i], snaps[j]
		if (a.ID == next.Lead) != (b.ID == next.Lead) {
			return a.ID == next.Lead
		}
		if secRank[a.Section] != secRank[b.Section] {
			return secRank[a.Section] < secRank[b.Section]
		}
		pa, okA := pos[a.ID]
		pb, okB := pos[b.ID]
		switch {
		case okA && okB:
			return pa < pb
		case okA != okB:
			return okA
		}
		return times[a.ID].After(times[b.ID])
	})
	next.Items = snaps
}

// saveArrangement stores the order of next as the draft's.
func (p *Press) saveArrangement(ctx context.Context, next *NextEdition, d *model.EditionDraft) error {
	d.Order = d.Order[:0]
	for _, it := range next.Items {
		d.Order = append(d.Order, it.ID)
	}
	return p.editions.PutEditionDraft(ctx, d)
}

// edit loads the next edition and its draft, lets fn change the draft
// given the story's index, and stores it.
func (p *Press) edit(ctx context.Context, id string, fn func(next *NextEdition, i int, d *model.EditionDraft) error) (*NextEdition, error) {
	next, err := p.Next(ctx)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(next.Items, func(it model.EditionItem) bool { return it.ID == id })
	if i < 0 {
		return nil, fmt.Errorf("next edition: story %s: %w", id, store.ErrNotFound)
	}
	d, err := p.editions.EditionDraft(ctx)
	if err != nil {
		return nil, err
	}
	if d.Sections == nil {
		d.Sections = map[string]string{}
	}
	if err := fn(next, i, d); err != nil {
		return nil, err
	}
	if err := p.saveArrangement(ctx, next, d); err != nil {
		return nil, err
	}
	return p.Next(ctx)
}

// Move moves a story up (delta < 0) or down within its section; at the
// edge of the section it stays.
func (p *Press) Move(ctx context.Context, id string, delta int) (*NextEdition, error) {
	return p.edit(ctx, id, func(next *NextEdition, i int, d *model.EditionDraft) error {
		items := next.Items
		for step := 0; step < abs(delta); step++ {
			j := i + sign(delta)
			if j < 0 || j >= len(items) || items[j].Section != items[i].Section || items[j].ID == next.Lead || items[i].ID == next.Lead {
				break
			}
			items[i], items[j] = items[j], items[i]
			i = j
		}
		return nil
	})
}

// Place puts a story just before another one (dragged there), filing it
// under that story's section; before "" puts it last in its section.
func (p *Press) Place(ctx context.Context, id, before string) (*NextEdition, error) {
	return p.edit(ctx, id, func(next *NextEdition, i int, d *model.EditionDraft) error {
		if before == "" || before == id {
			return nil
		}
		moving := next.Items[i]
		rest := slices.Delete(slices.Clone(next.Items), i, i+1)
		j := slices.IndexFunc(rest, func(it model.EditionItem) bool { return it.ID == before })
		if j < 0 {
			return fmt.Errorf("next edition: story %s: %w", before, store.ErrNotFound)
		}
		if moving.Section != rest[j].Section {
			moving.Section = rest[j].Section
			d.Sections[id] = moving.Section
		}
		next.Items = slices.Insert(rest, j, moving)
		return nil
	})
}

// MoveToSection files a story under another section of the next edition,
// last in it. The item itself keeps its section.
func (p *Press) MoveToSection(ctx context.Context, id, section string) (*NextEdition, error) {
	section = strings.TrimSpace(section)
	if section == "" || utf8.RuneCountInString(section) > 200 {
		return nil, fmt.Errorf("%w: choose a section", ErrInvalid)
	}
	return p.edit(ctx, id, func(next *NextEdition, i int, d *model.EditionDraft) error {
		if !slices.Contains(next.Sections, section) {
			return fmt.Errorf("%w: unknown section %q", ErrInvalid, section)
		}
		d.Sections[id] = section
		moving := next.Items[i]
		moving.Section = section
		next.Items = append(slices.Delete(next.Items, i, i+1), moving)
		return nil
	})
}

// Pin makes a story the lead of the next edition; pinning the lead again
// unpins it.
func (p *Press) Pin(ctx context.Context, id string) (*NextEdition, error) {
	return p.edit(ctx, id, func(next *NextEdition, i int, d *model.EditionDraft) error {
		if d.Lead == id {
			d.Lead = ""
		} else {
			d.Lead = id
		}
		return nil
	})
}

// Publish publishes the next edition now, as by (a user name, or
// "schedule" with the slot it is for).
func (p *Press) Publish(ctx context.Context, by string) (*model.Edition, error) {
	return p.publish(ctx, by, p.now())
}

func (p *Press) publish(ctx context.Context, by string, slot time.Time) (*model.Edition, error) {
	next, err := p.Next(ctx)
	if err != nil {
		return nil, err
	}
	if len(next.Items) == 0 {
		return nil, fmt.Errorf("publish: %w", ErrNothingToPublish)
	}
	now := p.now().UTC()
	id, date, slotName := p.sched.EditionID(slot)
	e := &model.Edition{ID: id, Date: date, Slot: slotName, PublishedAt: now, PublishedBy: by, Lead: next.Lead, Items: next.Items, UpdatedAt: now}
	if err := p.editions.PublishEdition(ctx, e, next.After); err != nil {
		return nil, err
	}
	return e, nil
}

// PublishDue publishes the edition the schedule owes, if any: nil when
// none is due or there is nothing new to publish.
func (p *Press) PublishDue(ctx context.Context) (*model.Edition, error) {
	var after time.Time
	latest, err := p.editions.LatestEdition(ctx)
	switch {
	case err == nil:
		after = latest.PublishedAt
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.handled.After(after) {
		after = p.handled
	}
	now := p.now()
	slot, due := p.sched.Due(after, now)
	if !due {
		return nil, nil
	}
	if now.Sub(slot) > maxLateness {
		p.handled = slot
		return nil, nil
	}
	e, err := p.publish(ctx, "schedule", slot)
	switch {
	case errors.Is(err, ErrNothingToPublish), errors.Is(err, store.ErrEditionRace):
		p.handled = slot
		return nil, nil
	case err != nil:
		return nil, err
	}
	p.handled = slot
	return e, nil
}

// Correction changes a story of a published edition.
type Correction struct {
	ItemID string
	Title  *string
	Lead   *string
	Note   string // why, in a few words; optional when a field changes
}

// Correct applies a correction to a published edition and records it,
// with a note that says what changed ("headline corrected").
func (p *Press) Correct(ctx context.Context, editionID string, c Correction, by string) (*model.Edition, error) {
	note := cleanLine(c.Note)
	if utf8.RuneCountInString(note) > 200 {
		return nil, fmt.Errorf("%w: the note is longer than 200 characters", ErrInvalid)
	}
	if c.Title != nil {
		t := cleanLine(*c.Title)
		if t == "" || utf8.RuneCountInString(t) > MaxTitleChars {
			return nil, fmt.Errorf("%w: headline must have 1 to %d characters", ErrInvalid, MaxTitleChars)
		}
		c.Title = &t
	}
	if c.Lead != nil {
		l := cleanText(*c.Lead)
		if utf8.RuneCountInString(l) > MaxLeadChars {
			return nil, fmt.Errorf("%w: excerpt longer than %d characters", ErrInvalid, MaxLeadChars)
		}
		c.Lead = &l
	}
	return p.editions.CorrectEdition(ctx, editionID, func(e *model.Edition) error {
		it, ok := e.Item(c.ItemID)
		if !ok {
			return fmt.Errorf("edition %s: story %s: %w", editionID, c.ItemID, store.ErrNotFound)
		}
		var changed []string
		if c.Title != nil && *c.Title != it.Title {
			it.Title = *c.Title
			changed = append(changed, "headline")
		}
		if c.Lead != nil && *c.Lead != it.Lead {
			it.Lead = *c.Lead
			changed = append(changed, "excerpt")
		}
		what := strings.Join(changed, " and ")
		switch {
		case what != "" && note != "":
			note = what + " corrected: " + note
		case what != "":
			note = what + " corrected"
		case note == "":
			return fmt.Errorf("%w: nothing changed; a note alone needs words", ErrInvalid)
		}
		e.Corrections = append(e.Corrections, model.Correction{At: p.now().UTC(), By: by, ItemID: c.ItemID, Note: capitalise(note)})
		return nil
	})
}

// Related returns up to max stories of recent editions related to it:
// sharing key words of the headline, or the section; the closest first,
// then the newest.
func (p *Press) Related(ctx context.Context, it model.EditionItem, max int) ([]model.EditionItem, error) {
	recent, err := p.editions.ListEditions(ctx, 20, 0)
	if err != nil {
		return nil, err
	}
	terms := keyTerms(it.Title + " " + it.Lead)
	type cand struct {
		it    model.EditionItem
		score int
		order int
	}
	var cands []cand
	seen := map[string]bool{it.ID: true}
	for _, e := range recent {
		for _, o := range e.Items {
			if seen[o.ID] {
				continue
			}
			seen[o.ID] = true
			score := 0
			for t := range keyTerms(o.Title + " " + o.Lead) {
				if terms[t] {
					score += 2
				}
			}
			if o.Section == it.Section {
				score++
			}
			if score > 0 {
				cands = append(cands, cand{o, score, len(cands)})
			}
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	var out []model.EditionItem
	for _, c := range cands {
		if len(out) == max {
			break
		}
		out = append(out, c.it)
	}
	return out, nil
}

// FindItem returns a published story as its edition printed it, with the
// edition.
func (p *Press) FindItem(ctx context.Context, id string) (*model.EditionItem, *model.Edition, error) {
	where, err := p.editions.ItemEditions(ctx, []string{id})
	if err != nil {
		return nil, nil, err
	}
	if where[0] == "" {
		return nil, nil, fmt.Errorf("story %s: %w", id, store.ErrNotFound)
	}
	e, err := p.editions.GetEdition(ctx, where[0])
	if err != nil {
		return nil, nil, err
	}
	it, ok := e.Item(id)
	if !ok {
		return nil, nil, fmt.Errorf("story %s in edition %s: %w", id, e.ID, store.ErrNotFound)
	}
	return it, e, nil
}

// stopWords are common words that say nothing about what a story is about.
var stopWords = map[string]bool{
	"about": true, "after": true, "again": true, "against": true, "their": true, "there": true, "these": true,
	"those": true, "which": true, "while": true, "where": true, "would": true, "could": true, "should": true,
	"says": true, "said": true, "with": true, "from": true, "that": true, "this": true, "have": true,
	"been": true, "were": true, "will": true, "into": true, "over": true, "more": true, "than": true,
	"what": true, "when": true, "week": true, "year": true, "years": true, "first": true, "also": true,
}

// keyTerms are the words of s worth matching: letters and digits, at least
// four of them, lower-cased, without common words.
func keyTerms(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if utf8.RuneCountInString(w) >= 4 && !stopWords[w] {
			out[w] = true
		}
	}
	return out
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func sign(n int) int {
	if n < 0 {
		return -1
	}
	return 1
}
