// Package model holds the domain types shared by the store, the fetcher, the
// curation desk and the web layer.
package model

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Status is where an item stands in the curation workflow.
type Status string

// Item statuses.
const (
	StatusQueued   Status = "queued"
	StatusApproved Status = "approved"
	StatusRejected Status = "rejected"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s == StatusQueued || s == StatusApproved || s == StatusRejected
}

// Extraction is what the fetcher found for a story, kept unchanged when a
// curator edits the item so the original stays readable.
type Extraction struct {
	URL          string    `json:"url"`
	CanonicalURL string    `json:"canonical_url"`
	Title        string    `json:"title"`
	Byline       string    `json:"byline"`
	Published    time.Time `json:"published"`
	SiteName     string    `json:"site_name"`
	Lead         string    `json:"lead"`
	// Body is left out of lists, the briefing and feeds, which never read
	// it from the store; an item read on its own has it.
	Body     string `json:"body,omitempty"`
	Language string `json:"language,omitempty"`
	Image    string `json:"image,omitempty"`
}

// Item is one story on its way through the desk.
type Item struct {
	ID           string     `json:"id"`
	URL          string     `json:"url"`
	CanonicalURL string     `json:"canonical_url"`
	Title        string     `json:"title"`
	Byline       string     `json:"byline"`
	Published    time.Time  `json:"published"`
	SiteName     string     `json:"site_name"`
	Lead         string     `json:"lead"`
	Body         string     `json:"body,omitempty"` // as in Extraction
	Language     string     `json:"language,omitempty"`
	Image        string     `json:"image,omitempty"`
	Source       string     `json:"source"`
	Section      string     `json:"section"`
	Status       Status     `json:"status"`
	FetchedAt    time.Time  `json:"fetched_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	DecidedAt    time.Time  `json:"decided_at"`
	DecidedBy    string     `json:"decided_by,omitempty"`
	EditedBy     string     `json:"edited_by,omitempty"`
	Tags         []string   `json:"tags,omitempty"`
	Note         string     `json:"note,omitempty"`
	Original     Extraction `json:"original"`
	FetchError   string     `json:"fetch_error,omitempty"`
	// Story is the ID of the first item of the story this item is a
	// version of (the same article elsewhere, wire copy carried by another
	// outlet); "" for an item that is the first of its story or alone.
	Story string `json:"story,omitempty"`
	// DuplicateOf is the version of this item's story that was approved in
	// its place; such an item is rejected and never reaches the briefing.
	DuplicateOf string `json:"duplicate_of,omitempty"`
	// Priority orders the queue within a time: higher first. Rules set it.
	Priority int `json:"priority,omitempty"`
	// Why says what put the item where it is: one line per rule that
	// acted on it ("rule Fire words: section Fire"), for the desk's
	// "why is this here?".
	Why []string `json:"why,omitempty"`
	// Version counts the item's stored changes: 1 when first stored, one
	// more with every decision, edit or update. A change based on an older
	// version can be refused (store.UpdateItemIf), so two curators on one
	// item do not silently overwrite each other.
	Version int64 `json:"version"`
}

// NewItem starts a queued item from an extraction, keeping the extraction as
// the original.
func NewItem(e Extraction, source, section string, fetchedAt time.Time) *Item {
	id := ItemID(e.URL)
	if usableCanonical(e.URL, e.CanonicalURL) {
		id = ItemID(e.CanonicalURL)
	}
	it := &Item{ID: id, Source: source, Section: section, Status: StatusQueued,
		FetchedAt: fetchedAt, UpdatedAt: fetchedAt, Original: e}
	it.SetExtraction(e)
	return it
}

// SetExtraction copies the extracted fields into the item's editable fields.
func (it *Item) SetExtraction(e Extraction) {
	it.URL, it.CanonicalURL, it.Title, it.Byline = e.URL, e.CanonicalURL, e.Title, e.Byline
	it.Published, it.SiteName, it.Lead, it.Body = e.Published, e.SiteName, e.Lead, e.Body
	it.Language, it.Image = e.Language, e.Image
}

// LinkURL is where "Full story" points: the canonical URL when known.
func (it *Item) LinkURL() string {
	if usableCanonical(it.URL, it.CanonicalURL) {
		return it.CanonicalURL
	}
	return it.URL
}

// usableCanonical reports whether a page's canonical URL can stand for the
// story. Some sites declare their home page canonical on every article;
// taken at its word that would give every story one ID (each new one
// dropped as a duplicate) and link "Full story" to the front page.
func usableCanonical(pageURL, canonical string) bool {
	if canonical == "" {
		return false
	}
	c, err := url.Parse(canonical)
	if err != nil || c.Host == "" || (c.Scheme != "http" && c.Scheme != "https") {
		return false
	}
	if strings.Trim(c.Path, "/") != "" || c.RawQuery != "" {
		return true
	}
	p, err := url.Parse(pageURL)
	return err != nil || p.Host == "" || (strings.Trim(p.Path, "/") == "" && p.RawQuery == "")
}

// MarshalJSON writes times as RFC 3339 and unknown times as "".
func (it Item) MarshalJSON() ([]byte, error) {
	type plain Item
	return json.Marshal(struct {
		plain
		Published string `json:"published"`
		DecidedAt string `json:"decided_at,omitempty"`
	}{plain(it), FormatTime(it.Published), FormatTime(it.DecidedAt)})
}

// UnmarshalJSON accepts the form MarshalJSON writes.
func (it *Item) UnmarshalJSON(b []byte) error {
	type plain Item
	var v struct {
		plain
		Published string `json:"published"`
		DecidedAt string `json:"decided_at"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*it = Item(v.plain)
	var err error
	if it.Published, err = ParseTime(v.Published); err != nil {
		return err
	}
	it.DecidedAt, err = ParseTime(v.DecidedAt)
	return err
}

// SortTime orders items: publication time when known and plausible, else
// when Clipsheet fetched the story.
func (it *Item) SortTime() time.Time {
	if !it.Published.IsZero() && !it.Published.After(it.FetchedAt.Add(time.Hour)) {
		return it.Published
	}
	return it.FetchedAt
}

// StoryID is the ID that names the item's story: its first item's.
func (it *Item) StoryID() string {
	if it.Story != "" {
		return it.Story
	}
	return it.ID
}

// Edited reports whether a curator changed the extracted text.
func (it *Item) Edited() bool {
	return it.Title != it.Original.Title || it.Lead != it.Original.Lead || it.Byline != it.Original.Byline
}

// MarshalJSON writes times as RFC 3339 and the zero publication time as "".
func (e Extraction) MarshalJSON() ([]byte, error) {
	type plain Extraction
	return json.Marshal(struct {
		plain
		Published string `json:"published"`
	}{plain(e), FormatTime(e.Published)})
}

// UnmarshalJSON accepts the form MarshalJSON writes.
func (e *Extraction) UnmarshalJSON(b []byte) error {
	type plain Extraction
	var v struct {
		plain
		Published string `json:"published"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*e = Extraction(v.plain)
	var err error
	e.Published, err = ParseTime(v.Published)
	return err
}

// ParseTime reads RFC 3339, with "" as the zero time.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// FormatTime writes t as RFC 3339, or "" when zero.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

// trackingParams are query parameters that identify a campaign, not a story.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "msclkid": true, "mc_cid": true, "mc_eid": true,
	"igshid": true, "ocid": true, "cmpid": true, "cmp": true, "ito": true, "smid": true, "smtyp": true,
	"mbid": true, "_ga": true, "_gl": true, "ns_mchannel": true, "ns_source": true, "ns_campaign": true,
	"ns_linkname": true, "ns_fee": true, "taid": true, "ref": true, "ref_src": true, "cid": true,
	"rss": true, "feedtype": true, "spm": true, "share": true, "s_cid": true,
}

// CanonicalURL normalises a story URL so the same story reached through
// different links gets one ID: lower-case scheme and host, no default port,
// no fragment, tracking parameters (utm_* and friends) removed, remaining
// parameters sorted.
func CanonicalURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Hostname() == "" {
		return strings.TrimSpace(raw)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	switch {
	case port != "":
		host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"):
		host = "[" + host + "]" // IPv6 literal: Hostname() dropped the brackets
	}
	u.Host = host
	u.Fragment = ""
	u.RawFragment = ""
	if u.Path == "" {
		u.Path = "/"
	}
	q := u.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "utm_") || strings.HasPrefix(lk, "at_") || trackingParams[lk] {
			q.Del(k)
		}
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		vals := q[k]
		sort.Strings(vals)
		for _, v := range vals {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
		}
	}
	u.RawQuery = b.String()
	u.ForceQuery = false
	return u.String()
}

// ItemID derives the stable item ID from a story URL: the first 16 bytes of
// the SHA-256 of its canonical form, in hex. http and https of the same story
// share an ID.
func ItemID(storyURL string) string {
	c := CanonicalURL(storyURL)
	c = strings.TrimPrefix(strings.TrimPrefix(c, "https://"), "http://")
	sum := sha256.Sum256([]byte(c))
	return hex.EncodeToString(sum[:16])
}
