package web

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// The outgoing feeds, each in RSS 2.0, Atom and JSON Feed: the whole
// briefing, one section (?section=cyber) or one edition
// (?edition=2026-12-02-morning). Once editions are published they carry
// the stories of the latest editions, as published; before the first
// edition, the approved stories (the briefing as it stands).

// feedEntry is one story in a feed, whatever the format.
type feedEntry struct {
	ID        string
	Title     string
	Byline    string
	Publisher string
	Link      string // the original story ("#" when unusable)
	Page      string // the item page, "" when the story is not published
	Lead      string
	Published time.Time
	Updated   time.Time
	Section   string
	Tags      []string
	Source    string
}

// feedDoc is a feed before it is written in a format.
type feedDoc struct {
	Title   string
	ID      string // the feed's id: stays the same whatever address is used
	Home    string // the page the feed follows
	Query   url.Values
	Updated time.Time
	Entries []feedEntry
}

// feedFormat is one of the three formats.
type feedFormat struct {
	path        string
	contentType string
	write       func(s *Server, d *feedDoc, self string) ([]byte, error)
}

var (
	formatAtom = feedFormat{"/feed.atom", "application/atom+xml; charset=utf-8", (*Server).writeAtom}
	formatJSON = feedFormat{"/feed.json", "application/feed+json; charset=utf-8", (*Server).writeJSONFeed}
	formatRSS  = feedFormat{"/feed.rss", "application/rss+xml; charset=utf-8", (*Server).writeRSS}
)

func (s *Server) feedAtom(c *gin.Context) { s.serveFeed(c, formatAtom) }
func (s *Server) feedJSON(c *gin.Context) { s.serveFeed(c, formatJSON) }
func (s *Server) feedRSS(c *gin.Context)  { s.serveFeed(c, formatRSS) }

// errNoFeed is a section or edition that does not exist.
var errNoFeed = errors.New("no such feed")

func (s *Server) serveFeed(c *gin.Context, f feedFormat) {
	ctx := c.Request.Context()
	rev, changed, err := s.store.EditionsRev(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	section, edition := strings.TrimSpace(c.Query("section")), strings.TrimSpace(c.Query("edition"))
	build := func() (*feedDoc, error) { return s.feedDocument(c, rev > 0, section, edition) }
	who, public := s.feedAudience(c)
	if rev > 0 && public {
		// The same for everyone: rendered once per change to the editions.
		key := "feed " + f.path + "?" + url.Values{"section": {slug(section)}, "edition": {edition}}.Encode()
		a, err := s.renders.get(rev, key, func() (*cachedAnswer, error) {
			d, err := build()
			if err != nil {
				return nil, err
			}
			body, err := f.write(s, d, s.feedSelf(c, f, d))
			if err != nil {
				return nil, err
			}
			return s.newCachedAnswer(f.contentType, body, changed)
		})
		if errors.Is(err, errNoFeed) || errors.Is(err, store.ErrNotFound) {
			s.noFeed(c)
			return
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		s.serveCached(c, a)
		return
	}
	d, err := build()
	if errors.Is(err, errNoFeed) || errors.Is(err, store.ErrNotFound) {
		s.noFeed(c)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	body, err := f.write(s, d, s.feedSelf(c, f, d))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.sendValidated(c, f.contentType, body, who, public)
}

func (s *Server) noFeed(c *gin.Context) {
	c.String(http.StatusNotFound, "No such feed: the section or edition does not exist.")
	c.Abort()
}

// feedSelf is the feed's own address: where it is, with the token of a
// private feed.
func (s *Server) feedSelf(c *gin.Context, f feedFormat, d *feedDoc) string {
	q := url.Values{}
	for k, v := range d.Query {
		q[k] = v
	}
	if tok := c.GetString(feedTokenKey); tok != "" && !s.cfg.Settings.Briefing.Public {
		q.Set("token", tok)
	}
	self := s.feedBase() + f.path
	if len(q) > 0 {
		self += "?" + q.Encode()
	}
	return self
}

// feedDocument collects the entries of the feed the query names.
func (s *Server) feedDocument(c *gin.Context, editions bool, section, edition string) (*feedDoc, error) {
	ctx := c.Request.Context()
	base := s.feedBase()
	d := &feedDoc{Title: s.cfg.Settings.Briefing.Title, ID: base + "/", Home: base + "/", Query: url.Values{}}
	sectionName := ""
	if section != "" {
		for _, name := range s.sections() {
			if name == section || slug(name) == slug(section) {
				sectionName = name
			}
		}
		if sectionName == "" {
			return nil, errNoFeed
		}
		d.Query.Set("section", slug(sectionName))
		d.Title += ": " + sectionName
		d.ID = base + "/#section-" + slug(sectionName)
	}
	switch {
	case edition != "":
		e, err := s.store.GetEdition(ctx, edition)
		if err != nil {
			return nil, err
		}
		d.Query.Set("edition", e.ID)
		d.Title += " — " + s.editionTitle(e)
		d.ID = base + "/editions/" + e.ID
		d.Home = d.ID
		d.Updated = e.UpdatedAt
		for _, it := range e.Items {
			if sectionName == "" || it.Section == sectionName {
				d.Entries = append(d.Entries, s.editionEntry(e, it))
			}
		}
	case editions:
		eds, err := s.store.ListEditions(ctx, 50, 0)
		if err != nil {
			return nil, err
		}
		for _, e := range eds {
			if e.UpdatedAt.After(d.Updated) {
				d.Updated = e.UpdatedAt
			}
			for _, it := range e.Items {
				if len(d.Entries) < feedSize && (sectionName == "" || it.Section == sectionName) {
					d.Entries = append(d.Entries, s.editionEntry(e, it))
				}
			}
		}
	default:
		items, err := s.desk.Items(ctx, store.ItemFilter{Status: model.StatusApproved, Section: sectionName, Limit: feedSize})
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			e := feedEntry{ID: it.ID, Title: it.Title, Byline: it.Byline, Publisher: publisher(it), Link: safeURL(it.LinkURL()),
				Lead: it.Lead, Published: it.Published, Updated: itemUpdated(it), Section: it.Section, Tags: it.Tags, Source: it.Source}
			if e.Updated.After(d.Updated) {
				d.Updated = e.Updated
			}
			d.Entries = append(d.Entries, e)
		}
	}
	if d.Updated.IsZero() {
		d.Updated = time.Unix(0, 0)
	}
	d.Updated = d.Updated.UTC()
	return d, nil
}

// editionEntry is a published story as a feed entry: its time is the
// edition's, or the correction's when it was corrected.
func (s *Server) editionEntry(e *model.Edition, it model.EditionItem) feedEntry {
	updated := e.PublishedAt
	for _, c := range e.Corrections {
		if c.ItemID == it.ID && c.At.After(updated) {
			updated = c.At
		}
	}
	pub := it.Publisher
	if pub == "" {
		pub = hostOf(it.URL)
	}
	return feedEntry{ID: it.ID, Title: it.Title, Byline: it.Byline, Publisher: pub, Link: safeURL(it.URL),
		Page: s.feedBase() + "/items/" + it.ID, Lead: it.Lead, Published: it.Published, Updated: updated.UTC(),
		Section: it.Section, Tags: it.Tags, Source: it.Source}
}

func publisher(it *model.Item) string {
	if it.SiteName != "" {
		return it.SiteName
	}
	return hostOf(it.LinkURL())
}

// entryHTML is the HTML body of a feed entry: publisher and byline, the
// sanitised excerpt and the links to the full story (and to the item
// page). Titles, bylines and publishers are text everywhere (the fetcher
// stores them as text) and are escaped, never interpreted.
func (s *Server) entryHTML(e feedEntry) string {
	var b strings.Builder
	b.WriteString("<p>")
	b.WriteString(html.EscapeString(e.Publisher))
	if e.Byline != "" {
		b.WriteString(" · ")
		b.WriteString(html.EscapeString(e.Byline))
	}
	b.WriteString("</p>")
	b.WriteString(string(s.leadHTML(e.Lead)))
	if e.Link != "#" {
		b.WriteString(`<p><a href="` + html.EscapeString(e.Link) + `" rel="noopener noreferrer">Full story</a>`)
		if e.Page != "" {
			b.WriteString(` · <a href="` + html.EscapeString(e.Page) + `">On the briefing</a>`)
		}
		b.WriteString(`</p>`)
	}
	return b.String()
}

func itemUpdated(it *model.Item) time.Time {
	for _, t := range []time.Time{it.UpdatedAt, it.DecidedAt, it.FetchedAt} {
		if !t.IsZero() {
			return t.UTC()
		}
	}
	return time.Unix(0, 0).UTC()
}

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Gen     string      `xml:"generator"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomSource struct {
	Title string `xml:"title"`
}

type atomEntry struct {
	Title      atomText       `xml:"title"`
	ID         string         `xml:"id"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published,omitempty"`
	Links      []atomLink     `xml:"link"`
	Authors    []atomPerson   `xml:"author"`
	Categories []atomCategory `xml:"category"`
	Source     *atomSource    `xml:"source,omitempty"`
	Summary    atomText       `xml:"summary"`
	Content    atomText       `xml:"content"`
}

func categories(e feedEntry) []string {
	var out []string
	if e.Section != "" {
		out = append(out, e.Section)
	}
	return append(out, e.Tags...)
}

func (s *Server) writeAtom(d *feedDoc, self string) ([]byte, error) {
	f := atomFeed{
		Title:   d.Title,
		ID:      d.ID,
		Updated: d.Updated.Format(time.RFC3339),
		Links:   []atomLink{{Rel: "self", Type: "application/atom+xml", Href: self}, {Rel: "alternate", Type: "text/html", Href: d.Home}},
		Author:  atomPerson{Name: s.cfg.Settings.Briefing.Title},
		Gen:     "Clipsheet",
	}
	for _, it := range d.Entries {
		e := atomEntry{
			Title:   atomText{Type: "text", Body: it.Title},
			ID:      "urn:clipsheet:item:" + it.ID,
			Updated: it.Updated.Format(time.RFC3339),
			Source:  &atomSource{Title: it.Publisher},
			Summary: atomText{Type: "text", Body: s.plainText(it.Lead)},
			Content: atomText{Type: "html", Body: s.entryHTML(it)},
		}
		if !it.Published.IsZero() {
			e.Published = it.Published.UTC().Format(time.RFC3339)
		}
		if it.Link != "#" {
			e.Links = []atomLink{{Rel: "alternate", Type: "text/html", Href: it.Link}}
		}
		if it.Page != "" {
			e.Links = append(e.Links, atomLink{Rel: "related", Type: "text/html", Href: it.Page})
		}
		if it.Byline != "" {
			e.Authors = []atomPerson{{Name: it.Byline}}
		}
		for _, t := range categories(it) {
			e.Categories = append(e.Categories, atomCategory{Term: t})
		}
		f.Entries = append(f.Entries, e)
	}
	out, err := xml.MarshalIndent(f, "", " ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}

// jsonFeed is JSON Feed 1.1 (https://jsonfeed.org/version/1.1). The
// "_clipsheet" object is an extension (keys starting with "_" are reserved
// for that) carrying what the format has no field for.
type jsonFeed struct {
	Version     string         `json:"version"`
	Title       string         `json:"title"`
	HomePageURL string         `json:"home_page_url"`
	FeedURL     string         `json:"feed_url"`
	Items       []jsonFeedItem `json:"items"`
}

type jsonFeedItem struct {
	ID            string           `json:"id"`
	URL           string           `json:"url,omitempty"`
	ExternalURL   string           `json:"external_url,omitempty"`
	Title         string           `json:"title"`
	Summary       string           `json:"summary,omitempty"`
	ContentHTML   string           `json:"content_html"`
	ContentText   string           `json:"content_text"`
	DatePublished string           `json:"date_published,omitempty"`
	DateModified  string           `json:"date_modified"`
	Authors       []jsonFeedAuthor `json:"authors,omitempty"`
	Tags          []string         `json:"tags,omitempty"`
	Clipsheet     jsonFeedExt      `json:"_clipsheet"`
}

type jsonFeedAuthor struct {
	Name string `json:"name"`
}

type jsonFeedExt struct {
	Publisher string `json:"publisher"`
	Byline    string `json:"byline,omitempty"`
	Section   string `json:"section,omitempty"`
	Source    string `json:"source,omitempty"`
}

func (s *Server) writeJSONFeed(d *feedDoc, self string) ([]byte, error) {
	f := jsonFeed{
		Version:     "https://jsonfeed.org/version/1.1",
		Title:       d.Title,
		HomePageURL: d.Home,
		FeedURL:     self,
		Items:       []jsonFeedItem{},
	}
	for _, it := range d.Entries {
		lead := s.plainText(it.Lead)
		ji := jsonFeedItem{
			ID:           "urn:clipsheet:item:" + it.ID,
			Title:        it.Title,
			Summary:      lead,
			ContentHTML:  s.entryHTML(it),
			ContentText:  lead,
			DateModified: it.Updated.Format(time.RFC3339),
			Tags:         categories(it),
			Clipsheet:    jsonFeedExt{Publisher: it.Publisher, Byline: it.Byline, Section: it.Section, Source: it.Source},
		}
		// url is the item's permalink, here its page; external_url the
		// story it is about (JSON Feed 1.1). Unpublished: the story.
		switch {
		case it.Page != "":
			ji.URL = it.Page
			if it.Link != "#" {
				ji.ExternalURL = it.Link
			}
		case it.Link != "#":
			ji.URL = it.Link
		}
		if !it.Published.IsZero() {
			ji.DatePublished = it.Published.UTC().Format(time.RFC3339)
		}
		if it.Byline != "" {
			ji.Authors = []jsonFeedAuthor{{Name: it.Byline}}
		}
		f.Items = append(f.Items, ji)
	}
	return json.Marshal(f)
}

// rss is RSS 2.0 (https://www.rssboard.org/rss-specification), with
// atom:link rel=self as the RSS Advisory Board recommends and dc:creator
// for bylines (RSS's own author element takes an e-mail address).
type rss struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	AtomNS  string     `xml:"xmlns:atom,attr"`
	DCNS    string     `xml:"xmlns:dc,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	LastBuildDate string    `xml:"lastBuildDate"`
	Generator     string    `xml:"generator"`
	Docs          string    `xml:"docs"`
	Self          rssSelf   `xml:"atom:link"`
	Items         []rssItem `xml:"item"`
}

type rssSelf struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type rssGUID struct {
	IsPermaLink bool   `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

type rssItem struct {
	Title       string   `xml:"title"`
	Link        string   `xml:"link,omitempty"`
	Description string   `xml:"description"`
	Creator     string   `xml:"dc:creator,omitempty"`
	Categories  []string `xml:"category"`
	GUID        rssGUID  `xml:"guid"`
	PubDate     string   `xml:"pubDate,omitempty"`
}

func (s *Server) writeRSS(d *feedDoc, self string) ([]byte, error) {
	f := rss{Version: "2.0", AtomNS: "http://www.w3.org/2005/Atom", DCNS: "http://purl.org/dc/elements/1.1/",
		Channel: rssChannel{
			Title:         d.Title,
			Link:          d.Home,
			Description:   "Headlines with their lead paragraphs and links to the full stories, chosen by the desk.",
			LastBuildDate: d.Updated.Format(time.RFC1123Z),
			Generator:     "Clipsheet",
			Docs:          "https://www.rssboard.org/rss-specification",
			Self:          rssSelf{Href: self, Rel: "self", Type: "application/rss+xml"},
		}}
	for _, it := range d.Entries {
		ri := rssItem{Title: it.Title, Description: s.entryHTML(it), Creator: it.Byline, Categories: slices.Clone(categories(it))}
		if it.Link != "#" {
			ri.Link = it.Link
		}
		// The guid is the item page when there is one: a permalink of
		// ours, stable whatever the publisher does with its URL.
		if it.Page != "" {
			ri.GUID = rssGUID{IsPermaLink: true, Value: it.Page}
		} else {
			ri.GUID = rssGUID{Value: "urn:clipsheet:item:" + it.ID}
		}
		when := it.Published
		if when.IsZero() {
			when = it.Updated
		}
		ri.PubDate = when.UTC().Format(time.RFC1123Z)
		f.Channel.Items = append(f.Channel.Items, ri)
	}
	out, err := xml.MarshalIndent(f, "", " ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}
