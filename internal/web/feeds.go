package web

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// feedSize is how many approved items the outgoing feeds carry.
const feedSize = 100

// feedTokenKey holds the feed token that identified the reader.
const feedTokenKey = "clipsheet.feedtoken"

// feedChallenge is WWW-Authenticate on a feed's 401: feeds take no
// Authorization header but a per-user token in ?token= (on /account).
const feedChallenge = `FeedToken realm="clipsheet", param="token"`

// sessionChallenge is WWW-Authenticate on the 401s of the pages (a wrong
// password, a page script whose session ended): they sign in with the
// form at /login, which sets the session cookie. RFC 9110 requires a
// challenge on every 401; this one names the form.
const sessionChallenge = `Cookie realm="clipsheet", form-action="/login"`

// feedAuth lets feed readers, which cannot sign in, identify with the
// per-user token in ?token=. A bad token is refused only when the briefing
// is private; on a public briefing it changes nothing.
func (s *Server) feedAuth(c *gin.Context) {
	c.Set(kindKey, kindFeed)
	tok := c.Query("token")
	if tok == "" {
		c.Next()
		return
	}
	u, err := s.auth.FeedUser(c.Request.Context(), tok)
	switch {
	case err == nil:
		c.Set(userKey, u)
		c.Set(feedTokenKey, tok)
	case errors.Is(err, auth.ErrNoSession):
		if !s.cfg.Settings.Briefing.Public {
			c.Header("WWW-Authenticate", feedChallenge+`, error="invalid_token"`)
			c.String(http.StatusUnauthorized, "This feed token is not valid any more: copy the feed URL from your account page again.")
			c.Abort()
			return
		}
	default:
		s.fail(c, err)
		return
	}
	c.Next()
}

// feedBase is the root of feed ids and links: base_url, else the
// configured listen address. Never the request's Host or
// X-Forwarded-Host: an atom:id must not change (RFC 4287 §4.2.6), and
// whoever sends the request must not choose where readers are sent.
func (s *Server) feedBase() string {
	if b := strings.TrimRight(s.cfg.Settings.BaseURL, "/"); b != "" {
		return b
	}
	scheme, defaultPort := "http", "80"
	if s.cfg.Settings.TLS.Cert != "" {
		scheme, defaultPort = "https", "443"
	}
	host, port, err := net.SplitHostPort(s.cfg.Settings.Addr)
	if err != nil {
		return scheme + "://" + s.cfg.Settings.Addr
	}
	// Listening on every interface names no host; localhost is the one
	// that certainly reaches it (base_url is the fix for other readers).
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	if port != defaultPort {
		return scheme + "://" + net.JoinHostPort(host, port)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host
}

// feedQuery is what a feed's self link needs to work when followed: the
// token of a private feed (never added on a public one, where it is not
// needed and would spread).
func (s *Server) feedQuery(c *gin.Context) string {
	if tok := c.GetString(feedTokenKey); tok != "" && !s.cfg.Settings.Briefing.Public {
		return "?token=" + url.QueryEscape(tok)
	}
	return ""
}

// feedAudience is whose copy a feed document is: everyone's on a public
// briefing, else the token holder's (the self link carries the token).
func (s *Server) feedAudience(c *gin.Context) (string, bool) {
	if s.cfg.Settings.Briefing.Public {
		return "", true
	}
	if u := currentUser(c); u != nil {
		return u.Name, false
	}
	return "", false
}

// baseURL is the public root of the site as the account page shows it:
// base_url when configured, else the address the user reached.
func (s *Server) baseURL(c *gin.Context) string {
	if b := strings.TrimRight(s.cfg.Settings.BaseURL, "/"); b != "" {
		return b
	}
	scheme := "http"
	if s.isTLS(c) {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

func (s *Server) feedItems(c *gin.Context) ([]*model.Item, bool) {
	items, err := s.desk.Items(c.Request.Context(), store.ItemFilter{Status: model.StatusApproved, Limit: feedSize})
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return items, true
}

func publisher(it *model.Item) string {
	if it.SiteName != "" {
		return it.SiteName
	}
	return hostOf(it.LinkURL())
}

// entryHTML is the HTML body of a feed entry: publisher and byline, the
// sanitised excerpt and the link to the full story. Titles, bylines and
// publishers are text everywhere (the fetcher stores them as text) and are
// escaped, never interpreted.
func (s *Server) entryHTML(it *model.Item) string {
	var b strings.Builder
	b.WriteString("<p>")
	b.WriteString(html.EscapeString(publisher(it)))
	if it.Byline != "" {
		b.WriteString(" · ")
		b.WriteString(html.EscapeString(it.Byline))
	}
	b.WriteString("</p>")
	b.WriteString(string(s.leadHTML(it.Lead)))
	if link := safeURL(it.LinkURL()); link != "#" {
		b.WriteString(`<p><a href="` + html.EscapeString(link) + `" rel="noopener noreferrer">Full story</a></p>`)
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

func (s *Server) feedAtom(c *gin.Context) {
	items, ok := s.feedItems(c)
	if !ok {
		return
	}
	base := s.feedBase()
	f := atomFeed{
		Title:  s.cfg.Settings.Briefing.Title,
		ID:     base + "/",
		Links:  []atomLink{{Rel: "self", Type: "application/atom+xml", Href: base + "/feed.atom" + s.feedQuery(c)}, {Rel: "alternate", Type: "text/html", Href: base + "/"}},
		Author: atomPerson{Name: s.cfg.Settings.Briefing.Title},
		Gen:    "Clipsheet",
	}
	latest := time.Unix(0, 0).UTC()
	for _, it := range items {
		up := itemUpdated(it)
		if up.After(latest) {
			latest = up
		}
		e := atomEntry{
			Title:   atomText{Type: "text", Body: it.Title},
			ID:      "urn:clipsheet:item:" + it.ID,
			Updated: up.Format(time.RFC3339),
			Source:  &atomSource{Title: publisher(it)},
			Summary: atomText{Type: "text", Body: s.plainText(it.Lead)},
			Content: atomText{Type: "html", Body: s.entryHTML(it)},
		}
		if !it.Published.IsZero() {
			e.Published = it.Published.UTC().Format(time.RFC3339)
		}
		if link := safeURL(it.LinkURL()); link != "#" {
			e.Links = []atomLink{{Rel: "alternate", Type: "text/html", Href: link}}
		}
		if it.Byline != "" {
			e.Authors = []atomPerson{{Name: it.Byline}}
		}
		if it.Section != "" {
			e.Categories = append(e.Categories, atomCategory{Term: it.Section})
		}
		for _, t := range it.Tags {
			e.Categories = append(e.Categories, atomCategory{Term: t})
		}
		f.Entries = append(f.Entries, e)
	}
	f.Updated = latest.Format(time.RFC3339)
	out, err := xml.MarshalIndent(f, "", " ")
	if err != nil {
		s.fail(c, err)
		return
	}
	who, public := s.feedAudience(c)
	s.sendValidated(c, "application/atom+xml; charset=utf-8", append([]byte(xml.Header), out...), who, public)
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

func (s *Server) feedJSON(c *gin.Context) {
	items, ok := s.feedItems(c)
	if !ok {
		return
	}
	base := s.feedBase()
	f := jsonFeed{
		Version:     "https://jsonfeed.org/version/1.1",
		Title:       s.cfg.Settings.Briefing.Title,
		HomePageURL: base + "/",
		FeedURL:     base + "/feed.json" + s.feedQuery(c),
		Items:       []jsonFeedItem{},
	}
	for _, it := range items {
		lead := s.plainText(it.Lead)
		ji := jsonFeedItem{
			ID:           "urn:clipsheet:item:" + it.ID,
			Title:        it.Title,
			Summary:      lead,
			ContentHTML:  s.entryHTML(it),
			ContentText:  lead,
			DateModified: itemUpdated(it).Format(time.RFC3339),
			Clipsheet:    jsonFeedExt{Publisher: publisher(it), Byline: it.Byline, Section: it.Section, Source: it.Source},
		}
		if link := safeURL(it.LinkURL()); link != "#" {
			ji.URL = link
		}
		if !it.Published.IsZero() {
			ji.DatePublished = it.Published.UTC().Format(time.RFC3339)
		}
		if it.Byline != "" {
			ji.Authors = []jsonFeedAuthor{{Name: ji.Clipsheet.Byline}}
		}
		if it.Section != "" {
			ji.Tags = append(ji.Tags, it.Section)
		}
		ji.Tags = append(ji.Tags, it.Tags...)
		f.Items = append(f.Items, ji)
	}
	out, err := json.Marshal(f)
	if err != nil {
		s.fail(c, err)
		return
	}
	who, public := s.feedAudience(c)
	s.sendValidated(c, "application/feed+json; charset=utf-8", out, who, public)
}
