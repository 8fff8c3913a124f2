package model

import "time"

// Edition is one published issue of the briefing: a fixed, ordered list of
// stories as they stood when it was published. It is never rebuilt from the
// items afterwards (an item edited or rejected later does not change it);
// the only change is a correction, which is recorded and shown.
type Edition struct {
	// ID is the edition's stable name in URLs: the date and slot in the
	// desk's timezone, e.g. "2026-12-02-morning".
	ID          string    `json:"id"`
	Date        string    `json:"date"` // YYYY-MM-DD in the desk's timezone
	Slot        string    `json:"slot"` // "morning", "afternoon", "evening", …
	PublishedAt time.Time `json:"published_at"`
	// PublishedBy is the curator who published it, or "schedule".
	PublishedBy string `json:"published_by"`
	// Lead is the ID of the story pinned at the top, if any.
	Lead        string        `json:"lead,omitempty"`
	Items       []EditionItem `json:"items"`
	Corrections []Correction  `json:"corrections,omitempty"`
	// UpdatedAt is the time of the last correction, else PublishedAt.
	UpdatedAt time.Time `json:"updated_at"`
}

// EditionItem is a story as an edition printed it: the reader-facing
// fields only (no body, no curator notes), under the section it was filed.
type EditionItem struct {
	ID        string    `json:"id"`
	Section   string    `json:"section"`
	Title     string    `json:"title"`
	Byline    string    `json:"byline,omitempty"`
	Publisher string    `json:"publisher"`
	URL       string    `json:"url"` // the original story
	Published time.Time `json:"published,omitzero"`
	Lead      string    `json:"lead"`
	Image     string    `json:"image,omitempty"`
	Tags      []string  `json:"tags,omitempty"`
	Source    string    `json:"source,omitempty"`
}

// Correction is a change to a published edition, shown with it
// ("Updated 09:12: headline corrected").
type Correction struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	ItemID string    `json:"item_id,omitempty"`
	Note   string    `json:"note"`
}

// EditionDraft is how curators arranged the next edition before it is
// published: an order, section moves and a pinned lead. Which stories it
// holds is not stored: it is every approved story not yet published.
type EditionDraft struct {
	Order    []string          `json:"order,omitempty"`
	Sections map[string]string `json:"sections,omitempty"` // item ID → section
	Lead     string            `json:"lead,omitempty"`
}

// Item returns the edition's story with this ID.
func (e *Edition) Item(id string) (*EditionItem, bool) {
	for i := range e.Items {
		if e.Items[i].ID == id {
			return &e.Items[i], true
		}
	}
	return nil, false
}

// Snapshot is the item as an edition prints it.
func (it *Item) Snapshot(section string) EditionItem {
	pub := it.SiteName
	return EditionItem{ID: it.ID, Section: section, Title: it.Title, Byline: it.Byline, Publisher: pub,
		URL: it.LinkURL(), Published: it.Published, Lead: it.Lead, Image: it.Image,
		Tags: append([]string(nil), it.Tags...), Source: it.Source}
}
