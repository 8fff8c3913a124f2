package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/fetch/httpx"
)

// Discovery is what Discover found for a page.
type Discovery struct {
	URL   string      `json:"url"` // the page after redirects
	Title string      `json:"title,omitempty"`
	Feeds []FoundFeed `json:"feeds"`
	// Page is a proposed page source, set when no feed was found.
	Page *PageSuggestion `json:"page,omitempty"`
}

// FoundFeed is one feed candidate, checked by fetching it.
type FoundFeed struct {
	URL     string `json:"url"`
	Title   string `json:"title,omitempty"`
	Format  string `json:"format,omitempty"`
	Entries int    `json:"entries"`
	Via     string `json:"via"`             // self, link (rel=alternate), anchor, probe
	Error   string `json:"error,omitempty"` // declared by the page but not a working feed
}

// PageSuggestion proposes a `type: page` source for a page without feeds.
type PageSuggestion struct {
	Links   string   `json:"links"`   // CSS selector for article links
	Matches int      `json:"matches"` // article-like links it selects
	Samples []string `json:"samples"` // first few of them
}

// Source returns the suggestion as a sources.yaml entry.
func (p *PageSuggestion) Source(name, pageURL string) config.Source {
	return config.Source{Name: name, URL: pageURL, Type: config.TypePage, Links: p.Links}
}

// probePaths are tried, at the site root, when a page declares no feed.
func probePaths() []string {
	return []string{"/feed", "/rss.xml", "/atom.xml", "/index.xml", "/feed.json", "/feed.xml", "/rss"}
}

// feedType reports whether a <link type> names a feed format.
func feedType(t string) bool {
	switch t {
	case "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json",
		"application/json", "text/xml", "application/xml",
		"application/x.atom+xml", "application/x-atom+xml", "application/x-rss+xml":
		return true
	}
	return false
}

var reFeedHref = regexp.MustCompile(`(?i)(/feed/?$|/rss/?$|\.rss$|/atom/?$|\.atom$|rss\.xml$|atom\.xml$|feed\.xml$|index\.xml$|feed\.json$|[?&](feed|format)=(rss|atom))`)

// Discover finds the feeds a page offers: <link rel="alternate"> feeds,
// then feed-looking links in the page, then common paths at the site root.
// Every candidate is fetched and parsed; only working feeds are kept
// (declared ones that fail are reported with their error). If there is
// none, it proposes a page source with a link selector.
func (f *Fetcher) Discover(ctx context.Context, pageURL string) (*Discovery, error) {
	resp, err := f.get(ctx, httpx.Request{URL: pageURL, Accept: httpx.AcceptHTML})
	if err != nil {
		return nil, err
	}
	d := &Discovery{URL: resp.URL}
	if !looksLikeHTML(resp.Body) {
		if feed, err := parseFeed(resp.Body, resp.ContentType(), resp.URL); err == nil {
			d.Title = feed.Title
			d.Feeds = []FoundFeed{{URL: resp.URL, Title: feed.Title, Format: feed.Format, Entries: len(feed.Entries), Via: "self"}}
			return d, nil
		}
	}
	doc, err := parseHTML(resp.Body, resp.ContentType())
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", pageURL, err)
	}
	d.Title = plainText(doc.Find("title").First().Text())
	base := baseURL(doc, resp.URL)

	d.Feeds = f.checkFeeds(ctx, declaredFeeds(doc, base), "link", true)
	if len(d.Feeds) == 0 || allFailed(d.Feeds) {
		var anchors []string
		doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) {
			if href := s.AttrOr("href", ""); reFeedHref.MatchString(href) && len(anchors) < 5 {
				if l := resolve(base, href); sameSite(l, resp.URL) {
					anchors = appendNew(anchors, l)
				}
			}
		})
		d.Feeds = append(d.Feeds, f.checkFeeds(ctx, anchors, "anchor", false)...)
	}
	if len(d.Feeds) == 0 || allFailed(d.Feeds) {
		root, _ := url.Parse(resp.URL)
		var probes []string
		for _, p := range probePaths() {
			probes = append(probes, root.ResolveReference(&url.URL{Path: p}).String())
		}
		d.Feeds = append(d.Feeds, f.checkFeeds(ctx, probes, "probe", false)...)
	}
	d.Feeds = dedupeFeeds(d.Feeds)
	if len(d.Feeds) == 0 || allFailed(d.Feeds) {
		d.Page = suggestLinks(doc, base, resp.URL)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return d, nil
}

// declaredFeeds returns the feeds a page declares with <link
// rel="alternate"> (or rel="feed"). Generic XML/JSON types count only when
// the URL looks like a feed, since sites also use them for oEmbed and APIs.
func declaredFeeds(doc *goquery.Document, base *url.URL) []string {
	var out []string
	doc.Find("link[href]").Each(func(_ int, s *goquery.Selection) {
		rel := " " + strings.ToLower(strings.Join(strings.Fields(s.AttrOr("rel", "")), " ")) + " "
		typ := strings.ToLower(strings.TrimSpace(strings.Split(s.AttrOr("type", ""), ";")[0]))
		href := s.AttrOr("href", "")
		generic := typ == "application/json" || typ == "text/xml" || typ == "application/xml"
		if strings.Contains(rel, " feed ") ||
			(strings.Contains(rel, " alternate ") && feedType(typ) && (!generic || reFeedHref.MatchString(href))) {
			out = appendNew(out, resolve(base, href))
		}
	})
	return out
}

func appendNew(list []string, s string) []string {
	if s == "" || !isHTTPURL(s) {
		return list
	}
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func allFailed(fs []FoundFeed) bool {
	for _, f := range fs {
		if f.Error == "" {
			return false
		}
	}
	return true
}

// checkFeeds fetches candidates concurrently (the per-host limit still
// applies) and keeps those that parse; failures are kept only if
// keepFailures, since a page's own declaration deserves an explanation but
// a guessed path does not.
func (f *Fetcher) checkFeeds(ctx context.Context, urls []string, via string, keepFailures bool) []FoundFeed {
	out := make([]*FoundFeed, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Go(func() {
			ff := &FoundFeed{URL: u, Via: via}
			resp, err := f.get(ctx, httpx.Request{URL: u, Accept: httpx.AcceptFeed})
			if err == nil {
				var feed *parsedFeed
				feed, err = parseFeed(resp.Body, resp.ContentType(), resp.URL)
				if err == nil {
					ff.URL, ff.Title, ff.Format, ff.Entries = resp.URL, feed.Title, feed.Format, len(feed.Entries)
				}
			}
			if err != nil {
				if !keepFailures {
					return
				}
				ff.Error = err.Error()
				if errors.Is(err, ErrNotFeed) {
					ff.Error = "declared as a feed, but " + err.Error()
				}
			}
			out[i] = ff
		})
	}
	wg.Wait()
	var res []FoundFeed
	for _, ff := range out {
		if ff != nil {
			res = append(res, *ff)
		}
	}
	return res
}

func dedupeFeeds(fs []FoundFeed) []FoundFeed {
	seen := map[string]bool{}
	var out []FoundFeed
	for _, f := range fs {
		if seen[f.URL] {
			continue
		}
		seen[f.URL] = true
		out = append(out, f)
	}
	return out
}

func sameSite(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return siteOf(ua.Hostname()) == siteOf(ub.Hostname())
}

// siteOf approximates the registrable domain: the last two labels, or three
// under a two-letter country code with a generic second level (co.uk,
// com.au). Good enough to group a publisher's subdomains together.
func siteOf(host string) string {
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(host, ".")), ".")
	n := 2
	if l := len(labels); l >= 3 && len(labels[l-1]) == 2 {
		switch labels[l-2] {
		case "co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go":
			n = 3
		}
	}
	if len(labels) <= n {
		return strings.Join(labels, ".")
	}
	return strings.Join(labels[len(labels)-n:], ".")
}

var (
	reSlugWord   = regexp.MustCompile(`[a-z0-9]+(-[a-z0-9]+){2,}`)
	reDigits     = regexp.MustCompile(`\d{4,}`)
	reGoodClass  = regexp.MustCompile(`^[A-Za-z][A-Za-z_-]{1,40}$`)
	reNavishPath = regexp.MustCompile(`(?i)^/(tag|tags|category|categories|topic|topics|author|authors|search|login|signin|subscribe|account|about|contact|privacy|terms|help|newsletters?|video|videos|live|page)(/|$)`)
)

// articleLike reports whether a link looks like a story: on the page's own
// site, a path that is a slug or carries an ID or date, and headline-like
// anchor text.
func articleLike(link, text, pageURL string) bool {
	if !sameSite(link, pageURL) || len(strings.Fields(text)) < 2 || len(text) < 12 {
		return false
	}
	u, err := url.Parse(link)
	if err != nil || u.Path == "" || u.Path == "/" || reNavishPath.MatchString(u.Path) {
		return false
	}
	p := strings.ToLower(u.Path)
	return reSlugWord.MatchString(p) || reDigits.MatchString(p) || strings.Count(strings.Trim(p, "/"), "/") >= 2
}

// suggestLinks proposes a CSS selector picking a page's article links. It
// builds candidate selectors from the ancestry of article-like links (such
// as "h2 a", "article.post a", "a.headline") and keeps the one that
// selects the most article-like links with the fewest others.
func suggestLinks(doc *goquery.Document, base *url.URL, pageURL string) *PageSuggestion {
	cands := map[string]*selCand{}
	var order []string
	add := func(sel string, spec int) {
		if _, ok := cands[sel]; !ok && len(cands) < 300 {
			cands[sel] = &selCand{sel: sel, specificness: spec}
			order = append(order, sel)
		}
	}
	doc.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
		link := resolve(base, a.AttrOr("href", ""))
		if !isHTTPURL(link) || !articleLike(link, plainText(a.Text()), pageURL) {
			return
		}
		if c := classSelector(a); c != "" {
			add("a"+c, 1)
		}
		n := a.Get(0).Parent
		for depth := 0; n != nil && depth < 4; depth, n = depth+1, n.Parent {
			if n.Type != html.ElementNode || n.Data == "body" || n.Data == "html" {
				break
			}
			add(n.Data+" a", 2)
			if c := classSelector(goquery.NewDocumentFromNode(n).Selection); c != "" {
				add(n.Data+c+" a", 3)
			}
		}
	})
	var best *selCand
	for _, sel := range order {
		c := cands[sel]
		seen := map[string]bool{}
		doc.Find(sel).Each(func(_ int, a *goquery.Selection) {
			if goquery.NodeName(a) != "a" {
				return
			}
			link := resolve(base, a.AttrOr("href", ""))
			if !isHTTPURL(link) || seen[link] {
				return
			}
			seen[link] = true
			c.total++
			if articleLike(link, plainText(a.Text()), pageURL) {
				c.good++
				if len(c.samples) < 5 {
					c.samples = append(c.samples, link)
				}
			}
		})
		if c.good < 3 {
			continue
		}
		if best == nil || c.better(best) {
			best = c
		}
	}
	if best == nil {
		return nil
	}
	return &PageSuggestion{Links: best.sel, Matches: best.good, Samples: best.samples}
}

// selCand is a candidate link selector and how it did on the page.
type selCand struct {
	sel          string
	good, total  int // article-like links selected, all links selected
	samples      []string
	specificness int // 1 a.class, 2 "tag a", 3 "tag.class a"
}

var reHeadingSel = regexp.MustCompile(`(^|[ .])(h[1-4]|[A-Za-z-]*([Tt]itle|[Hh]eadline|[Hh]ed)[A-Za-z-]*)([ .\[]|$)`)

// score favours selectors that catch many story links and little else, and
// headings (whose links carry the headline) over other containers.
func (c *selCand) score() float64 {
	p := float64(c.good) / float64(max(c.total, 1))
	s := float64(c.good) * p * p
	if reHeadingSel.MatchString(c.sel) {
		s *= 1.5
	}
	return s
}

func (c *selCand) better(o *selCand) bool {
	if c.score() != o.score() {
		return c.score() > o.score()
	}
	if c.specificness != o.specificness {
		return c.specificness < o.specificness
	}
	return len(c.sel) < len(o.sel)
}

var reHashedClass = regexp.MustCompile(`^([A-Za-z][A-Za-z]+(?:[-_][A-Za-z]+)*)[-_]([A-Za-z0-9]{5,8})$`)

// classSelector returns a class selector for s from its first class that
// reads like a hand-written name: ".entry-title", or for CSS-in-JS names
// with a build hash ("SummaryItemHedLink-civMjp") a prefix match that
// survives the next build ("[class*=SummaryItemHedLink-]"); "" if none.
func classSelector(s *goquery.Selection) string {
	for _, c := range strings.Fields(s.AttrOr("class", "")) {
		if m := reHashedClass.FindStringSubmatch(c); m != nil && looksHashed(m[2]) {
			return `[class*="` + m[1] + c[len(m[1]):len(m[1])+1] + `"]`
		}
		if reGoodClass.MatchString(c) && !strings.Contains(c, "--") {
			return "." + c
		}
	}
	return ""
}

// looksHashed tells a build hash ("civMjp", "a1b2c") from a word ("title").
func looksHashed(s string) bool {
	upper, lower, digit := 0, 0, 0
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			upper++
		case r >= 'a' && r <= 'z':
			lower++
		case r >= '0' && r <= '9':
			digit++
		}
	}
	return (upper > 0 && lower > 0 && upper < len(s)) || (digit > 0 && upper+lower > 0)
}
