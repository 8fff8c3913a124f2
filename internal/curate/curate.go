// Package curate holds the desk's domain operations: the queue, decisions,
// edits, and building the briefing from approved items.
package curate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// ErrInvalid marks an edit or decision the desk refuses.
var ErrInvalid = errors.New("invalid")

// Desk is the curation workflow over a store.
type Desk struct {
	store store.Store
	now   func() time.Time
}

// NewDesk returns a desk over st.
func NewDesk(st store.Store) *Desk {
	return &Desk{store: st, now: time.Now}
}

// Queue lists queued items, newest first.
func (d *Desk) Queue(ctx context.Context, f store.ItemFilter) ([]*model.Item, error) {
	f.Status = model.StatusQueued
	return d.store.ListItems(ctx, f)
}

// Items lists items with any filter.
func (d *Desk) Items(ctx context.Context, f store.ItemFilter) ([]*model.Item, error) {
	return d.store.ListItems(ctx, f)
}

// Page lists one page of items with any filter, and where the next starts.
func (d *Desk) Page(ctx context.Context, f store.ItemFilter) (*store.Page, error) {
	return d.store.ListPage(ctx, f)
}

// Item returns one item.
func (d *Desk) Item(ctx context.Context, id string) (*model.Item, error) {
	return d.store.GetItem(ctx, id)
}

// Counts returns the number of items per status.
func (d *Desk) Counts(ctx context.Context) (map[model.Status]int, error) {
	return d.store.CountItems(ctx)
}

// ErrStale marks a decision or edit based on an older version of the item
// than the stored one; errors.As gives the *StaleError with the item as it
// is now, to show the curator what changed.
var ErrStale = store.ErrStale

// StaleError is the refusal of a decision or edit based on an old version.
type StaleError = store.StaleError

// Decide sets an item's status, recording who decided and when.
func (d *Desk) Decide(ctx context.Context, id string, status model.Status, by string) (*model.Item, error) {
	return d.DecideIf(ctx, id, status, by, 0)
}

// DecideIf is Decide for a curator who saw the item at version: when it
// changed since, nothing is decided and the error is a *StaleError. Version
// 0 decides whatever the item's version.
func (d *Desk) DecideIf(ctx context.Context, id string, status model.Status, by string, version int64) (*model.Item, error) {
	if !status.Valid() {
		return nil, fmt.Errorf("decide %s: %w: unknown status %q", id, ErrInvalid, status)
	}
	if status == model.StatusApproved {
		it, _, err := d.ApproveVersion(ctx, id, by, version)
		return it, err
	}
	return d.store.UpdateItemIf(ctx, id, version, func(it *model.Item) error {
		it.Status = status
		it.DecidedAt = d.now().UTC()
		it.DuplicateOf = ""
		it.DecidedBy = by
		it.UpdatedAt = it.DecidedAt
		return nil
	})
}

// ApproveVersion approves an item (at version, 0: any) as the version of
// its story the briefing carries; the story's other queued versions are
// rejected as its duplicates, returned for the audit log.
func (d *Desk) ApproveVersion(ctx context.Context, id, by string, version int64) (*model.Item, []*model.Item, error) {
	return d.store.DecideVersion(ctx, id, version, by, d.now().UTC())
}

// Versions returns, for each item of a page that is one of several
// versions of its story, the story's other versions (any status), keyed
// by the item's ID.
func (d *Desk) Versions(ctx context.Context, items []*model.Item) (map[string][]*model.Item, error) {
	out := map[string][]*model.Item{}
	for _, it := range items {
		vs, err := d.store.StoryVersions(ctx, it.ID)
		if err != nil {
			return nil, err
		}
		var others []*model.Item
		for _, v := range vs {
			if v.ID != it.ID {
				others = append(others, v)
			}
		}
		if len(others) > 0 {
			out[it.ID] = others
		}
	}
	return out, nil
}

// AddClipped stores an item a curator clipped. A story the desk has
// already (the same canonical address) is not stored twice: the stored one
// is returned, with created false.
func (d *Desk) AddClipped(ctx context.Context, it *model.Item) (*model.Item, bool, error) {
	created, err := d.store.AddItem(ctx, it)
	if err != nil {
		return nil, false, err
	}
	if !created {
		it, err = d.store.GetItem(ctx, it.ID)
		if err != nil {
			return nil, false, err
		}
	}
	return it, created, nil
}

// Approve puts an item on the briefing.
func (d *Desk) Approve(ctx context.Context, id, by string) (*model.Item, error) {
	return d.Decide(ctx, id, model.StatusApproved, by)
}

// Reject keeps an item off the briefing.
func (d *Desk) Reject(ctx context.Context, id, by string) (*model.Item, error) {
	return d.Decide(ctx, id, model.StatusRejected, by)
}

// Edit is a curator's change to an item; nil fields stay as they are.
type Edit struct {
	Title   *string
	Lead    *string
	Byline  *string
	Section *string
	Tags    *[]string
	Note    *string
	// Version, when not 0, is the item's version the edit is based on:
	// an item changed since is left alone (a *StaleError).
	Version int64
}

// Limits on edited fields; generous, but they keep a paste accident (or a
// malicious curator) from putting a whole article on the briefing and its
// public feeds. The one-line fields share their limits with the fetcher.
const (
	MaxTitleChars  = model.MaxTitleChars
	MaxBylineChars = model.MaxBylineChars
	MaxTagChars    = model.MaxTagChars
	MaxTags        = model.MaxTags
	MaxLeadChars   = 5000
	MaxNoteChars   = 2000
)

// Apply validates and applies an edit. sections, when non-nil, lists the
// sections an item may be filed under.
func (d *Desk) Apply(ctx context.Context, id string, e Edit, by string, sections []string) (*model.Item, error) {
	if err := e.validate(sections); err != nil {
		return nil, fmt.Errorf("edit %s: %w", id, err)
	}
	return d.store.UpdateItemIf(ctx, id, e.Version, func(it *model.Item) error {
		if e.Title != nil {
			it.Title = cleanLine(*e.Title)
		}
		if e.Lead != nil {
			it.Lead = cleanText(*e.Lead)
		}
		if e.Byline != nil {
			it.Byline = cleanLine(*e.Byline)
		}
		if e.Section != nil {
			it.Section = *e.Section
		}
		if e.Tags != nil {
			it.Tags = cleanTags(*e.Tags)
		}
		if e.Note != nil {
			it.Note = cleanText(*e.Note)
		}
		it.EditedBy = by
		it.UpdatedAt = d.now().UTC()
		return nil
	})
}

func (e Edit) validate(sections []string) error {
	if e.Title != nil {
		t := cleanLine(*e.Title)
		if t == "" {
			return fmt.Errorf("%w: headline cannot be empty", ErrInvalid)
		}
		if utf8.RuneCountInString(t) > MaxTitleChars {
			return fmt.Errorf("%w: headline longer than %d characters", ErrInvalid, MaxTitleChars)
		}
	}
	if e.Byline != nil {
		if n := utf8.RuneCountInString(cleanLine(*e.Byline)); n > MaxBylineChars {
			return fmt.Errorf("%w: byline: at most %d characters (got %d)", ErrInvalid, MaxBylineChars, n)
		}
	}
	if e.Tags != nil {
		tags := cleanTags(*e.Tags)
		for _, t := range tags {
			if n := utf8.RuneCountInString(t); n > MaxTagChars {
				return fmt.Errorf("%w: tags: at most %d characters per tag (%q has %d)", ErrInvalid, MaxTagChars, model.ClampLine(t, 20), n)
			}
		}
		if len(tags) > MaxTags {
			return fmt.Errorf("%w: tags: at most %d tags (got %d)", ErrInvalid, MaxTags, len(tags))
		}
	}
	if e.Lead != nil && utf8.RuneCountInString(*e.Lead) > MaxLeadChars {
		return fmt.Errorf("%w: excerpt longer than %d characters", ErrInvalid, MaxLeadChars)
	}
	if e.Note != nil && utf8.RuneCountInString(*e.Note) > MaxNoteChars {
		return fmt.Errorf("%w: note longer than %d characters", ErrInvalid, MaxNoteChars)
	}
	if e.Section != nil && sections != nil && *e.Section != "" {
		found := false
		for _, s := range sections {
			if s == *e.Section {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%w: unknown section %q", ErrInvalid, *e.Section)
		}
	}
	return nil
}

// cleanText normalises multi-line text from a form: browsers submit a
// textarea with CRLF line ends, and paragraphs are split on "\n\n", so an
// edited two-paragraph excerpt would otherwise print as one paragraph.
// Blank-looking lines and runs of blank lines become one paragraph break.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	s = strings.Join(lines, "\n")
	for strings.Contains(s, "\n\n\n") {
		s = strings.ReplaceAll(s, "\n\n\n", "\n\n")
	}
	return strings.TrimSpace(s)
}

func cleanLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func cleanTags(tags []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tags {
		t = strings.ToLower(cleanLine(t))
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// Section is one heading of the briefing with its items.
type Section struct {
	Name  string
	Items []*model.Item
}

// Briefing is the readers' page: approved items grouped by section.
type Briefing struct {
	Generated time.Time
	Sections  []Section
	Total     int
}

// DefaultBriefingWindow is how far back approved items stay on the briefing.
const DefaultBriefingWindow = 48 * time.Hour

// Briefing groups approved items decided within window (0: default) by
// section, in the configured section order; items filed under a section not
// in the list come last under their own heading, and items with no section
// under "Other".
func (d *Desk) Briefing(ctx context.Context, sections []string, window time.Duration) (*Briefing, error) {
	if window <= 0 {
		window = DefaultBriefingWindow
	}
	now := d.now()
	// The decision-time index hands over the window's items only; the
	// briefing lists them by publication time, as every other list.
	items, err := d.store.ListItems(ctx, store.ItemFilter{Status: model.StatusApproved, DecidedSince: now.Add(-window)})
	if err != nil {
		return nil, fmt.Errorf("briefing: %w", err)
	}
	slices.SortStableFunc(items, func(a, b *model.Item) int { return b.SortTime().Compare(a.SortTime()) })
	bySection := map[string][]*model.Item{}
	var extra []string
	known := map[string]bool{}
	for _, s := range sections {
		known[s] = true
	}
	total := 0
	for _, it := range items {
		decided := it.DecidedAt
		if decided.IsZero() {
			decided = it.FetchedAt
		}
		if now.Sub(decided) > window {
			continue
		}
		name := it.Section
		if name == "" {
			name = "Other"
		}
		if !known[name] && bySection[name] == nil {
			extra = append(extra, name)
		}
		bySection[name] = append(bySection[name], it)
		total++
	}
	b := &Briefing{Generated: now, Total: total}
	for _, name := range append(append([]string{}, sections...), extra...) {
		if len(bySection[name]) > 0 {
			b.Sections = append(b.Sections, Section{Name: name, Items: bySection[name]})
		}
	}
	return b, nil
}
