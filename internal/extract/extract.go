// Package extract turns a news article page into its headline, byline,
// publication time, lead and plain-text body.
//
// Extraction is purely local: it never fetches anything and never needs the
// network. Every function is safe for concurrent use.
package extract

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// DefaultMaxLeadChars is the lead length used when Options.MaxLeadChars is 0.
const DefaultMaxLeadChars = 600

// Selectors are per-source CSS overrides from sources.yaml. Each non-empty
// selector replaces the automatic choice for its field when it matches an
// element with text; when it matches nothing the automatic choice is used.
// Remove selectors are deleted from the page before anything else is read;
// the other selectors then match the page as parsed, before any boilerplate
// stripping, so they may point inside an <aside>, <header> or <footer>.
type Selectors struct {
	Title, Byline, Body, Lead, Published string
	Remove                               []string
}

// Validate reports the first selector that is not valid CSS, so that a
// configuration loader can reject it early. Extract itself ignores invalid
// selectors.
func (s *Selectors) Validate() error {
	if s == nil {
		return nil
	}
	check := func(field, sel string) error {
		if sel == "" {
			return nil
		}
		if _, err := cascadia.ParseGroup(sel); err != nil {
			return fmt.Errorf("extract: %s selector %q: %w", field, sel, err)
		}
		return nil
	}
	for _, f := range []struct{ name, sel string }{
		{"title", s.Title}, {"byline", s.Byline}, {"body", s.Body}, {"lead", s.Lead}, {"published", s.Published},
	} {
		if err := check(f.name, f.sel); err != nil {
			return err
		}
	}
	for _, r := range s.Remove {
		if err := check("remove", r); err != nil {
			return err
		}
	}
	return nil
}

// Options tune one extraction.
type Options struct {
	URL          string     // page URL: base for relative links, date-in-URL, host fallback for site name
	ContentType  string     // HTTP Content-Type header value, if any (charset)
	MaxLeadChars int        // 0 means 600
	Selectors    *Selectors // optional overrides
}

// Article is the extraction result. Body is plain text with paragraphs
// separated by a blank line ("\n\n"); Lead is the first paragraph or two of
// the body, cut at a sentence end, with the same separator.
type Article struct {
	URL          string    `json:"url"`
	CanonicalURL string    `json:"canonical_url"`
	Title        string    `json:"title"`
	Byline       string    `json:"byline"`
	Published    time.Time `json:"-"`
	SiteName     string    `json:"site_name"`
	Lead         string    `json:"lead"`
	Body         string    `json:"body"`
	Language     string    `json:"language"`
	Image        string    `json:"image,omitempty"`
}

// MarshalJSON writes Published as an RFC 3339 string under "published",
// empty when the time is unknown.
func (a Article) MarshalJSON() ([]byte, error) {
	type plain Article
	pub := ""
	if !a.Published.IsZero() {
		pub = a.Published.Format(time.RFC3339)
	}
	return json.Marshal(struct {
		plain
		Published string `json:"published"`
	}{plain(a), pub})
}

// UnmarshalJSON is the inverse of MarshalJSON.
func (a *Article) UnmarshalJSON(b []byte) error {
	type plain Article
	var v struct {
		plain
		Published string `json:"published"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*a = Article(v.plain)
	if v.Published != "" {
		t, err := time.Parse(time.RFC3339, v.Published)
		if err != nil {
			return fmt.Errorf("extract: published: %w", err)
		}
		a.Published = t
	}
	return nil
}

// Extract reads raw HTML bytes in any charset and returns the article.
//
// A page without an article (a home page, an error page, an empty document)
// is not an error: the result then has an empty Body and Lead, with whatever
// metadata the page has. The error is non-nil only if the extractor itself
// failed, which is a bug; Extract recovers from panics so that one bad page
// cannot take down a crawler.
func Extract(raw []byte, opts Options) (a *Article, err error) {
	defer func() {
		if r := recover(); r != nil {
			a = &Article{URL: opts.URL}
			err = fmt.Errorf("extract: internal error on %q: %v", opts.URL, r)
		}
	}()
	if opts.MaxLeadChars <= 0 {
		opts.MaxLeadChars = DefaultMaxLeadChars
	}
	text := decodeHTML(raw, opts.ContentType)
	root, err := parse(text, opts.Selectors)
	if err != nil {
		return &Article{URL: opts.URL}, err
	}
	var base *url.URL
	if opts.URL != "" {
		if u, err := url.Parse(opts.URL); err == nil && u.IsAbs() {
			base = u
		}
	}
	m := collectMeta(root, base)
	a = &Article{URL: opts.URL}
	fillMeta(a, m, base, opts.URL)
	sel := opts.Selectors
	if sel == nil {
		sel = &Selectors{}
	}
	var doc *goquery.Document
	if sel.Title != "" || sel.Byline != "" || sel.Published != "" || sel.Lead != "" || sel.Body != "" {
		doc = goquery.NewDocumentFromNode(root)
	}
	if t := selText(doc, sel.Title); t != "" {
		a.Title = collapseSpace(t)
	}
	if t := selText(doc, sel.Byline); t != "" {
		// Judge line by line: a byline block often has the date or
		// "Updated ..." on a second line.
		for _, line := range strings.Split(t, "\n") {
			if b := cleanByline([]string{line}); b != "" {
				a.Byline = b
				break
			}
		}
	}
	if sel.Published != "" && doc != nil {
		if m, err := cascadia.Compile(sel.Published); err == nil && doc.FindMatcher(m).Length() > 0 {
			s := doc.FindMatcher(m).First()
			v := firstNonEmpty(s.AttrOr("datetime", ""), s.AttrOr("content", ""), s.Text())
			if t := parseDate(v); !t.IsZero() {
				a.Published = t
			}
		}
	}

	// Every override reads the page as parsed (only Remove applied): the
	// body emission and the automatic extraction below both strip
	// boilerplate in place, and a Lead selector may well point at an
	// <aside> or a standfirst the cleaner drops.
	leadText := selText(doc, sel.Lead)

	var paras []para
	if sel.Body != "" && doc != nil {
		if m, err := cascadia.Compile(sel.Body); err == nil && doc.FindMatcher(m).Length() > 0 {
			s := doc.FindMatcher(m)
			paras = emitNodes(s.Nodes, flagWeightClasses, a.Title)
			if len(paras) == 0 {
				// emitNodes cleaned the matched nodes in place; the
				// automatic extraction needs the page as parsed.
				if r, err := parse(text, opts.Selectors); err == nil {
					root = r
				}
			}
		}
	}
	if len(paras) == 0 {
		paras = autoBody(root, text, opts.Selectors, a.Title)
	}
	paras = dropMetaParas(paras, a)
	a.Body = joinParas(paras)

	if leadText != "" {
		a.Lead = cutLead(leadText, opts.MaxLeadChars)
	} else {
		a.Lead = leadFromParas(paras, opts.MaxLeadChars)
		if sf := m.standfirst; sf != "" && !strings.HasPrefix(a.Lead, sf) && !strings.Contains(a.Body, sf) {
			// The standfirst (perex, dek) opens the story for a reader
			// even where templates keep it outside the story's block.
			lead := sf
			if a.Lead != "" && runeLen(sf)+2+runeLen(a.Lead) <= opts.MaxLeadChars {
				lead += "\n\n" + a.Lead
			}
			a.Lead = cutLead(lead, opts.MaxLeadChars)
		}
		if a.Lead == "" && strings.TrimSpace(a.Body) == "" && m.firstItem != "" && !reNotLead.MatchString(m.firstItem) {
			// A story told only in lists (release notes, a changelog)
			// that the body finder did not keep: its first item.
			a.Lead = cutLead(m.firstItem, opts.MaxLeadChars)
		}
	}
	return a, nil
}

func parse(text string, sel *Selectors) (*html.Node, error) {
	root, err := html.Parse(strings.NewReader(text))
	if err != nil {
		// The parser refuses documents nested deeper than 512
		// elements; flatten the excess and try once more.
		root, err = html.Parse(strings.NewReader(flattenDeep(text, 256)))
		if err != nil {
			return nil, fmt.Errorf("extract: parse html: %w", err)
		}
	}
	if sel != nil && len(sel.Remove) > 0 {
		doc := goquery.NewDocumentFromNode(root)
		for _, r := range sel.Remove {
			if m, err := cascadia.Compile(r); err == nil {
				doc.FindMatcher(m).Remove()
			}
		}
	}
	return root, nil
}

// flattenDeep drops start and end tags nested deeper than maxDepth, keeping
// their text, so that pathological markup can still be parsed.
func flattenDeep(text string, maxDepth int) string {
	z := html.NewTokenizer(strings.NewReader(text))
	var b strings.Builder
	b.Grow(len(text))
	depth := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return b.String()
		case html.StartTagToken:
			name, _ := z.TagName()
			if voidElements[string(name)] {
				b.Write(z.Raw())
				continue
			}
			depth++
			if depth > maxDepth {
				continue
			}
		case html.EndTagToken:
			depth--
			if depth >= maxDepth {
				continue
			}
		}
		b.Write(z.Raw())
	}
}

var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true,
}

func selText(doc *goquery.Document, sel string) string {
	if doc == nil || sel == "" {
		return ""
	}
	m, err := cascadia.Compile(sel)
	if err != nil {
		return ""
	}
	var parts []string
	doc.FindMatcher(m).Each(func(_ int, s *goquery.Selection) {
		for _, n := range s.Nodes {
			if t := nodeLines(n); t != "" {
				parts = append(parts, t)
			}
		}
	})
	return strings.Join(parts, "\n\n")
}

// nodeLines is the text of n with line breaks and blocks kept as "\n".
func nodeLines(n *html.Node) string {
	e := &emitter{st: map[*html.Node]*stats{}}
	e.walk(n)
	e.flush()
	lines := make([]string, 0, len(e.paras))
	for _, p := range e.paras {
		lines = append(lines, p.text)
	}
	return strings.Join(lines, "\n")
}

// autoBody finds the story without help. A result shorter than minBody is
// retried with fewer cleaning rules (a fresh parse each time, since cleaning
// mutates the tree) and the longest result wins.
func autoBody(root *html.Node, text string, sel *Selectors, title string) []para {
	const minBody = 500
	attempts := []flags{
		flagStripUnlikely | flagWeightClasses | flagCleanConditionally,
		flagWeightClasses | flagCleanConditionally,
		flagCleanConditionally,
		0,
	}
	var best []para
	bestLen := -1
	for i, f := range attempts {
		if i > 0 {
			var err error
			if root, err = parse(text, sel); err != nil {
				break
			}
		}
		paras := bodyFromTree(root, f, title)
		l := parasLen(paras)
		if l > bestLen {
			best, bestLen = paras, l
		}
		if l >= minBody {
			break
		}
	}
	return best
}

func bodyFromTree(root *html.Node, f flags, title string) []para {
	clean(root, f)
	body := findBody(root)
	st := make(map[*html.Node]*stats, 1024)
	measure(root, st)
	s := &scorer{f: f, st: st, scores: make(map[*html.Node]float64, 256)}
	s.score(body)
	nodes := s.pick(body)
	return emitWith(nodes, f, st, title)
}

// emitNodes renders user-selected nodes: they are cleaned of non-text
// elements but not second-guessed by the class/id heuristics.
func emitNodes(nodes []*html.Node, f flags, title string) []para {
	st := make(map[*html.Node]*stats, 256)
	for _, n := range nodes {
		clean(n, 0)
		measure(n, st)
	}
	return emitWith(nodes, f, st, title)
}

func emitWith(nodes []*html.Node, f flags, st map[*html.Node]*stats, title string) []para {
	e := &emitter{f: f, st: st}
	for _, n := range nodes {
		if s := st[n]; s != nil {
			e.total += s.text
		}
	}
	for _, n := range nodes {
		e.walk(n)
		e.flush()
	}
	out := e.paras[:0]
	for _, p := range e.paras {
		if keepPara(p, title) {
			out = append(out, p)
		}
	}
	return out
}

func parasLen(ps []para) int {
	n := 0
	for _, p := range ps {
		n += len(p.text)
	}
	return n
}

func joinParas(ps []para) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(p.text)
	}
	return b.String()
}

// dropMetaParas removes paragraphs that repeat the headline or byline
// found in the metadata; templates often print them inside the story
// container.
func dropMetaParas(ps []para, a *Article) []para {
	out := ps[:0]
	for _, p := range ps {
		if a.Title != "" && strings.EqualFold(p.text, a.Title) {
			continue
		}
		if a.Byline != "" && runeLen(p.text) < 120 && (strings.EqualFold(p.text, a.Byline) || strings.EqualFold(cleanByline([]string{p.text}), a.Byline)) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// pickDate returns the first candidate that parses with a time of day; a
// date-only value ("2019-11-19", "November 19, 2019") is used only when no
// candidate has a time, since it loses the time zone and often the day.
func pickDate(cands []string) time.Time {
	var dateOnly time.Time
	for _, v := range cands {
		t := parseDate(v)
		if t.IsZero() {
			continue
		}
		if t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || t.Location() != time.UTC {
			return t
		}
		if dateOnly.IsZero() {
			dateOnly = t
		}
	}
	return dateOnly
}

func fillMeta(a *Article, m *pageMeta, base *url.URL, pageURL string) {
	host := ""
	if base != nil {
		host = base.Hostname()
	}
	a.SiteName = siteName(m, host)

	// The story's <h1>: the first candidate that does not name the site
	// (blogs print their name in an <h1> above the post's own).
	h1 := ""
	for _, c := range m.h1s {
		c = collapseSpace(c)
		if !siteLike(c, a.SiteName, host) && !(m.ld.publisher != "" && siteLike(c, m.ld.publisher, "")) {
			h1 = c
			break
		}
	}
	cleanH1 := h1
	if fh := collapseSpace(m.firstH1); cleanH1 == "" && !siteLike(fh, a.SiteName, host) {
		// Only to recognise "Headline - Section" around it in a title.
		cleanH1 = fh
	}
	defer func() {
		// The article's own heading wins over a social or SEO title that
		// tells the story differently; a section or blog name in the
		// <h1> never does (it is the site or a segment of <title>).
		if h1 != "" && a.Title != "" && storyHeading(h1, a.Title, a.SiteName, m.ld.publisher, host, m.title) {
			a.Title = h1
		}
	}()
	switch {
	case m.ld.headline != "":
		a.Title = cleanTitle(m.ld.headline, a.SiteName, host, cleanH1)
	case m.get("og:title") != "":
		a.Title = cleanTitle(m.get("og:title"), a.SiteName, host, cleanH1)
	case m.get("twitter:title") != "":
		a.Title = cleanTitle(m.get("twitter:title"), a.SiteName, host, cleanH1)
	case h1 != "" && !titleSegment(h1, m.title):
		a.Title = h1
	default:
		a.Title = cleanTitle(m.title, a.SiteName, host, "")
		if fh := collapseSpace(m.firstH1); fh != "" && runeLen(fh) < runeLen(a.Title) {
			// "Blog Name: Post title", the blog's name being the page's
			// first <h1>.
			for _, sep := range []string{": ", " | ", " - ", " – ", " — ", " :: ", " · "} {
				if strings.HasPrefix(a.Title, fh+sep) {
					a.Title = strings.TrimSpace(a.Title[len(fh)+len(sep):])
					break
				}
			}
		}
		if m.firstH1 == "" && len(m.h2s) > 0 && (len(strings.Fields(a.Title)) <= 3 || siteLike(a.Title, a.SiteName, host)) {
			// No <h1>, and <title> names only the site and a section:
			// the first <h2> that reads as a headline.
			a.Title = collapseSpace(m.h2s[0])
		}
		if fh := collapseSpace(m.firstH1); fh != "" && titleSegment(fh, a.Title) {
			// "Headline - Allergy Health Center": the section the
			// page's <h1> names is not part of the headline.
			a.Title = strings.TrimSpace(strings.TrimSuffix(a.Title[:strings.LastIndex(a.Title, fh)], " "))
			a.Title = strings.TrimSpace(strings.TrimRight(a.Title, "|-–—:·•/ "))
		}
	}
	if a.SiteName == strings.TrimPrefix(host, "www.") {
		// Only the host was found: "Blog Name: Headline" in <title>.
		if s := titleSite(m.title, a.Title, host); s != "" && !isPlatform(s) {
			a.SiteName = strings.TrimPrefix(s, "www.")
		}
	}

	a.Byline = cleanByline(m.ld.authors)
	if a.Byline != "" && siteLike(a.Byline, a.SiteName, host) {
		// The outlet named as author ("AppleInsider"): look further.
		a.Byline = ""
	}
	defer func() {
		// An author equal to the site is the outlet, not a person.
		if a.Byline != "" && siteLike(a.Byline, a.SiteName, host) {
			a.Byline = ""
		}
	}()
	if a.Byline == "" {
		if v := m.get("author", "article:author", "dc.creator", "sailthru.author", "parsely-author", "byl"); v != "" && !siteLike(v, a.SiteName, host) {
			a.Byline = cleanByline([]string{v})
		}
	}
	if a.Byline == "" {
		a.Byline = cleanByline(m.relAuthor)
	}
	if a.Byline != "" {
		// Structured data often names only the first of several
		// authors; a visible byline that names them all wins.
		a.Byline = widerByline(a.Byline, append(append([]string{}, m.byLines...), m.bylineEls...))
	}
	if a.Byline == "" {
		for _, l := range m.byLines {
			if a.Byline = cleanByline([]string{l}); a.Byline != "" {
				break
			}
		}
	}
	if a.Byline == "" {
		// "Published March 3 · by Jane Doe": a name after "by" in a
		// short line near the headline.
		for _, t := range m.textBy {
			if a.Byline = cleanByline([]string{t}); a.Byline != "" {
				break
			}
		}
	}
	if a.Byline == "" {
		// An author block without rel=author or itemprop: the link to
		// the author's page names the person.
		a.Byline = cleanByline(m.authorLinks)
	}
	if a.Byline == "" {
		// Byline-classed blocks are the weakest source (they also match
		// datelines and author bios), so a lone word is not trusted.
	els:
		for _, b := range m.bylineEls {
			if v := cleanByline([]string{b}); strings.Contains(v, " ") {
				a.Byline = v
				break
			}
			// "Texto: Ana Lima" over "Imprensa TJRS": line by line.
			for _, l := range strings.Split(b, "\n") {
				if v := cleanByline([]string{l}); strings.Contains(v, " ") {
					a.Byline = v
					break els
				}
			}
		}
	}

	a.Published = pickDate(append([]string{
		m.ld.published,
		m.get("article:published_time", "article:published", "og:published_time", "og:article:published_time", "datepublished",
			"pubdate", "publishdate", "publish-date", "publish_date", "article.published", "dc.date.issued",
			"dcterms.created", "dc.date", "dcterms.date", "date", "sailthru.date", "parsely-pub-date", "cxenseparse:recs:publishtime"),
	}, m.timeEls...))
	if a.Published.IsZero() && len(m.textDates) > 0 {
		// Visible text near the headline ("Published March 3, 2020",
		// "3.4.2020", "5. März 2020"); the modified date is never used.
		a.Published = m.textDates[0]
	}
	if a.Published.IsZero() && m.firstH1 == "" && len(m.preH1Dates) > 0 {
		a.Published = m.preH1Dates[0]
	}
	if a.Published.IsZero() {
		a.Published = dateFromURL(pageURL)
	}

	a.CanonicalURL = firstNonEmpty(resolveURL(base, m.canonical), resolveURL(base, m.get("og:url")), resolveURL(base, m.ld.url), pageURL)
	a.Language = normLang(firstNonEmpty(m.lang, m.get("content-language"), m.get("language"), m.get("dc.language"), m.ld.lang, m.get("og:locale")))
	a.Image = firstNonEmpty(resolveURL(base, m.get("og:image", "og:image:url", "og:image:secure_url")), resolveURL(base, m.get("twitter:image", "twitter:image:src")), resolveURL(base, m.ld.image))
}

// widerByline returns the first line that names every author of cur and
// more, cleaned, or cur.
func widerByline(cur string, lines []string) string {
	have := reNameSplit.Split(cur, -1)
	for _, l := range lines {
		if i := strings.IndexAny(l, "0123456789"); i >= 0 {
			// The names end where the date or time starts.
			l = l[:i]
		}
		v := cleanByline([]string{l})
		if v == "" || v == cur {
			continue
		}
		got := map[string]bool{}
		for _, n := range reNameSplit.Split(v, -1) {
			got[strings.ToLower(n)] = true
		}
		if len(got) <= len(have) {
			continue
		}
		all := true
		for _, n := range have {
			if !got[strings.ToLower(n)] {
				all = false
				break
			}
		}
		if all {
			return v
		}
	}
	return cur
}
