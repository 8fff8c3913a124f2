package extract

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// pageMeta is everything read from the document before it is cleaned.
type pageMeta struct {
	lang        string
	title       string            // <title>
	meta        map[string]string // first value of each lower-cased name/property/itemprop
	canonical   string
	ld          ldInfo
	relAuthor   []string
	bylineEls   []string // text of byline-like elements
	byLines     []string // "By A, B and C" lines
	timeEls     []string // datetime attributes of <time> and itemprop=datePublished
	firstH1     string   // the first <h1> of all, for titles that repeat it
	h1s         []string // <h1>s that may be the story's: not in a sidebar or author box, not a teaser link
	bodySeen    bool     // the story's text has started (two paragraph-length texts after the first <h1>)
	longTexts   int
	h2s         []string    // <h2>s that may be the headline of a page with no <h1>
	preH1Dates  []time.Time // dates in visible text before any <h1>, for pages that have none
	base        *url.URL
	textDates   []time.Time // dates written in visible text after the first <h1>
	textBy      []string    // "by Name" found inside short text near the headline
	authorLinks []string    // links to an author page (/author/…), outside sidebars
	standfirst  string      // the summary under the headline (standfirst, perex, dek)
	firstItem   string      // the first list item of prose after the headline
}

type ldInfo struct {
	headline  string
	authors   []string
	published string
	modified  string
	publisher string
	body      string
	url       string
	image     string
	lang      string
	found     bool // an article-typed object was found
}

var (
	reAuthorHref  = regexp.MustCompile(`(?i)/(author|authors|autor|autoren|auteur|auteurs|autore|autori|staff|journalist|journalists|reporter|reporters|redakteur|columnist|columnists|writers)/[^/?#]+`)
	reUpdatedText = regexp.MustCompile(`(?i)^\s*(updated|last updated|modified|aktualisiert|actualizado|actualisé|mis à jour|aggiornato|atualizado|aktualizováno|обновлено)`)
	// "by Jane Doe" inside a meta line, after a date or a separator.
	reTextBy = regexp.MustCompile(`(?:^|[\s·|•,–—-])(?:[Bb]y|BY|[Vv]on|[Pp]or|[Pp]ar|[Dd]i|[Dd]oor|[Aa]v)\s+(\p{Lu}[\p{L}'’.-]+(?:\s+(?:\p{Lu}[\p{L}'’.-]+|de|da|van|von|der|del|la|le)){1,3})`)
	// A text node that ends in "by" / "Von", the name following in a link.
	reTrailingBy = regexp.MustCompile(`(?:^|[\s·|•,–—-])(?:[Bb]y|BY|[Vv]on|[Pp]or|[Pp]ar|[Dd]i|[Dd]oor|[Aa]v)\s*$`)
)

// Class/id hints, matched word by word: a word is a run of letters and
// hyphens, and a hint matches the word, one of its hyphenated parts, two
// adjacent parts ("author-box" in "about-author-box"), or, for prefixes, the
// start of a part. A table lookup per word, since every element is checked.
type classHint struct {
	words    map[string]bool
	prefixes []string
}

func newClassHint(words string, prefixes ...string) classHint {
	h := classHint{words: map[string]bool{}, prefixes: prefixes}
	for _, w := range strings.Fields(words) {
		h.words[w] = true
	}
	return h
}

func (h classHint) match(ci string) bool {
	start := -1
	for i := 0; i <= len(ci); i++ {
		if i < len(ci) && (ci[i] >= 'a' && ci[i] <= 'z' || ci[i] == '-') {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			if h.word(ci[start:i]) {
				return true
			}
			start = -1
		}
	}
	return false
}

func (h classHint) word(w string) bool {
	if i := strings.Index(w, "--"); i > 0 {
		// A BEM modifier ("content__header--no-promo") qualifies the
		// block; it does not say what the block is.
		w = w[:i]
	}
	if h.words[w] {
		return true
	}
	prev := ""
	for len(w) > 0 {
		part := w
		if j := strings.IndexByte(w, '-'); j >= 0 {
			part, w = w[:j], w[j+1:]
		} else {
			w = ""
		}
		if part == "" {
			continue
		}
		if h.words[part] || prev != "" && h.words[prev+"-"+part] {
			return true
		}
		for _, p := range h.prefixes {
			if strings.HasPrefix(part, p) {
				return true
			}
		}
		prev = part
	}
	return false
}

var (
	bylineClass = newClassHint("byline by-line author authors writer contributor reporter autor autore firma")
	// Blocks beside the story whose names and dates belong to other
	// stories or to vendors: sidebars, recommendation widgets, comments.
	sideClass = newClassHint("sidebar side-bar ob-widget outbrain taboola trc most-read popular trending comment comments promo newsletter", "recommend", "related")
	// An author box: a greeting heading there is not the headline.
	authorBoxClass = newClassHint("about-author author-box author-bio authorbox bio about-me profile")
	// The summary under the headline that a reader takes as the opening.
	standfirstClass = newClassHint("perex chapo entradilla standfirst")
)

// collectMeta walks the whole document once. base is the page's URL, if
// known, to tell links to the page itself and to other sites apart.
func collectMeta(root *html.Node, base *url.URL) *pageMeta {
	m := &pageMeta{meta: map[string]string{}, base: base}
	var lds []string
	h1Seen, afterH1 := false, 0
	var walk func(n *html.Node, inBody, side, box bool)
	walk = func(n *html.Node, inBody, side, box bool) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				if !inBody || side || afterH1 >= 80 || strings.TrimSpace(c.Data) == "" {
					continue
				}
				if !h1Seen {
					// Kept apart: a page header's "today" date stands
					// before the headline; used only without any <h1>.
					if len(m.preH1Dates) < 1 && strings.ContainsAny(c.Data, "0123456789") {
						if d := dateFromText(strings.TrimSpace(c.Data), m.dateLang()); !d.IsZero() && !reUpdatedText.MatchString(c.Data) {
							m.preH1Dates = append(m.preH1Dates, d)
						}
					}
					continue
				}
				afterH1++
				m.readText(c)
				if runeLen(strings.TrimSpace(c.Data)) >= 120 {
					// Two long texts: the story has started (one may be
					// the standfirst, above the byline).
					m.longTexts++
					m.bodySeen = m.longTexts >= 2
				}
				continue
			}
			if c.Type != html.ElementNode {
				continue
			}
			ci := classID(c)
			cside := side || c.DataAtom == atom.Aside || c.DataAtom == atom.Nav || c.DataAtom == atom.Footer || ci != "" && sideClass.match(ci)
			cbox := box || ci != "" && authorBoxClass.match(ci)
			switch c.DataAtom {
			case atom.Html:
				if l := attr(c, "lang"); l != "" {
					m.lang = l
				} else if l := attr(c, "xml:lang"); l != "" {
					m.lang = l
				}
			case atom.Body:
				walk(c, true, false, false)
				continue
			case atom.Title:
				if m.title == "" && !inBody {
					m.title = nodeText(c)
				}
				continue
			case atom.Meta:
				content := strings.TrimSpace(attr(c, "content"))
				if content == "" {
					continue
				}
				for _, k := range []string{"property", "name", "itemprop", "http-equiv"} {
					// itemprop may hold several names ("datePublished dateCreated").
					for _, key := range strings.Fields(strings.ToLower(attr(c, k))) {
						if _, ok := m.meta[key]; !ok {
							m.meta[key] = content
						}
					}
				}
				continue
			case atom.Link:
				rel := strings.ToLower(attr(c, "rel"))
				if m.canonical == "" && hasToken(rel, "canonical") {
					m.canonical = strings.TrimSpace(attr(c, "href"))
				}
				continue
			case atom.Script:
				if strings.Contains(strings.ToLower(attr(c, "type")), "ld+json") && c.FirstChild != nil {
					lds = append(lds, c.FirstChild.Data)
				}
				continue
			case atom.H1:
				t := nodeText(c)
				if m.firstH1 == "" {
					m.firstH1 = t
				}
				// The story's own heading: not in a sidebar or author
				// box, and not a link to another page (a teaser).
				if len(m.h1s) < 3 && t != "" && !cside && !cbox && !m.linksAway(c) {
					m.h1s = append(m.h1s, t)
				}
				h1Seen = true
			case atom.H2:
				if m.firstH1 == "" && len(m.h2s) < 2 && inBody && !cside && !cbox && !m.linksAway(c) {
					if t := nodeText(c); len(strings.Fields(t)) >= 4 && runeLen(t) <= 200 {
						m.h2s = append(m.h2s, t)
					}
				}
			case atom.Time:
				if cside {
					break
				}
				if dt := attr(c, "datetime"); dt != "" {
					m.timeEls = append(m.timeEls, dt)
				} else if t := nodeText(c); t != "" {
					m.timeEls = append(m.timeEls, t)
				}
			case atom.A:
				if cside {
					break
				}
				if hasToken(strings.ToLower(attr(c, "rel")), "author") {
					if t := nodeText(c); t != "" {
						m.relAuthor = append(m.relAuthor, t)
					}
				} else if inBody && !m.bodySeen && len(m.authorLinks) < 4 && reAuthorHref.MatchString(attr(c, "href")) && (c.Parent == nil || runeLen(nodeText(c.Parent)) < 150) {
					// Only in a short block: a link to a person's page
					// inside a paragraph is someone the story is about.
					if t := nodeText(c); t != "" && runeLen(t) < 60 {
						m.authorLinks = append(m.authorLinks, t)
					}
				}
				if inBody && h1Seen && afterH1 < 80 && !m.bodySeen && len(m.textBy) < 4 {
					// "… by <a>Name</a>": the name is the link.
					if p := c.PrevSibling; p != nil && p.Type == html.TextNode && reTrailingBy.MatchString(p.Data) && !m.offSite(attr(c, "href")) &&
						byPrefixOK(beforeBy(p.Data), m.lang) {
						if t := nodeText(c); t != "" {
							m.textBy = append(m.textBy, t)
						}
					}
				}
			}
			if cside {
				walk(c, inBody, true, cbox)
				continue
			}
			if inBody && h1Seen && m.firstItem == "" && c.DataAtom == atom.Li && !m.linksAway(c) {
				if t := nodeText(c); runeLen(t) >= 20 && runeLen(t) <= 400 {
					m.firstItem = t
				}
			}
			if inBody && h1Seen && m.standfirst == "" && ci != "" && standfirstClass.match(ci) {
				// It must end as a sentence: a subtitle without a full
				// stop is a second headline, not the story's opening.
				if t := nodeText(c); runeLen(t) >= 40 && runeLen(t) <= 400 && endsSentence(t) {
					m.standfirst = t
				}
			}
			if ip := attr(c, "itemprop"); ip != "" {
				switch ip {
				case "datePublished":
					if v := firstNonEmpty(attr(c, "datetime"), attr(c, "content")); v != "" {
						m.timeEls = append([]string{v}, m.timeEls...)
					}
				case "author":
					if c.DataAtom != atom.Meta && c.DataAtom != atom.Link && len(m.bylineEls) < 8 {
						if t := itempropName(c); t != "" {
							m.relAuthor = append(m.relAuthor, t)
						}
					}
				}
			}
			if inBody && len(m.byLines) < 4 {
				if l := byLine(c); l != "" {
					m.byLines = append(m.byLines, l)
				}
			}
			if inBody && len(m.bylineEls) < 8 {
				if ci := classID(c); ci != "" && bylineClass.match(ci) {
					// The children are still walked: a byline block often
					// wraps the rel=author link or itemprop=author that
					// names the person better than the block's whole text.
					if t := lineText(c); t != "" && runeLen(t) < 200 {
						m.bylineEls = append(m.bylineEls, t)
					}
				}
			}
			walk(c, inBody, cside, cbox)
		}
	}
	walk(root, false, false, false)

	for _, s := range lds {
		parseLD(s, &m.ld)
	}
	return m
}

// readText looks at one short text node near the headline for a date
// written out and for a "by Name" inside a meta line.
func (m *pageMeta) readText(c *html.Node) {
	t := strings.TrimSpace(c.Data)
	if len(t) < 4 || len(t) > 200 {
		return
	}
	if len(m.textDates) < 3 && strings.ContainsAny(t, "0123456789") && !reUpdatedText.MatchString(t) {
		if d := dateFromText(t, m.dateLang()); !d.IsZero() {
			m.textDates = append(m.textDates, d)
		}
	}
	if len(m.textBy) < 4 && len(t) <= 120 && !m.bodySeen {
		if mm := reTextBy.FindStringSubmatchIndex(t); mm != nil && byPrefixOK(t[:mm[0]], m.lang) {
			m.textBy = append(m.textBy, t[mm[2]:mm[3]])
		} else if loc := reByLabel.FindStringIndex(t); loc != nil && loc[1] < len(t) {
			// "Auteur: Jan de Vries", "Autor: Anna Kowalska" in a meta line.
			m.textBy = append(m.textBy, t)
		} else if reTrailingBy.MatchString(t) && byPrefixOK(beforeBy(t), m.lang) {
			// "by <strong>Name</strong>" / "di <strong>Name</strong>"
			if n := c.NextSibling; n != nil && n.Type == html.ElementNode && n.DataAtom != atom.A {
				if v := nodeText(n); v != "" && runeLen(v) < 60 {
					m.textBy = append(m.textBy, v)
				}
			}
		}
	}
}

// dateLang is the language that decides how "05/10/2018" reads: the
// page's own, else "xx" (day first) on a country domain other than .us.
func (m *pageMeta) dateLang() string {
	if m.lang != "" || m.base == nil {
		return m.lang
	}
	h := m.base.Hostname()
	if i := strings.LastIndexByte(h, '.'); i >= 0 && len(h)-i == 3 && !strings.HasSuffix(h, ".us") {
		return "xx"
	}
	return ""
}

// beforeBy is the text before a trailing "by" / "von" / "por".
func beforeBy(t string) string {
	if loc := reTrailingBy.FindStringIndex(t); loc != nil {
		return t[:loc[0]]
	}
	return t
}

// byPrefixOK accepts what stands before "by Name" in a meta line: nothing,
// a separator, a date, or a word such as "Posted" (not "Reporting" or a
// sentence of the story).
func byPrefixOK(prefix, lang string) bool {
	p := strings.TrimSpace(prefix)
	p = strings.TrimRight(p, " ·|•,–—-")
	if p == "" {
		return true
	}
	if runeLen(p) > 60 {
		return false
	}
	switch strings.ToLower(p) {
	case "posted", "written", "published", "story", "words", "text", "photos and text":
		return true
	}
	return !dateFromText(p, lang).IsZero()
}

func endsSentence(t string) bool {
	t = strings.TrimRight(t, " \u00a0\"'”’»)")
	return strings.HasSuffix(t, ".") || strings.HasSuffix(t, "!") || strings.HasSuffix(t, "?") || strings.HasSuffix(t, "。") || strings.HasSuffix(t, "۔")
}

// lineText is the text of n with "\n" at line breaks and block edges, each
// line's spaces collapsed.
func lineText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch c.Type {
			case html.TextNode:
				b.WriteString(c.Data)
			case html.ElementNode:
				switch {
				case c.DataAtom == atom.Script || c.DataAtom == atom.Style:
				case c.DataAtom == atom.Br:
					b.WriteByte('\n')
				case isBlock(c.DataAtom):
					b.WriteByte('\n')
					walk(c)
					b.WriteByte('\n')
				default:
					walk(c)
				}
			}
		}
	}
	walk(n)
	var lines []string
	for _, l := range strings.Split(b.String(), "\n") {
		if l = collapseSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// linksAway reports whether heading h is (mostly) a link to another page,
// as teaser headings are; a heading linked to the page itself is not.
func (m *pageMeta) linksAway(h *html.Node) bool {
	var a *html.Node
	for c := h.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == atom.A {
			a = c
		}
	}
	if a == nil || runeLen(nodeText(a))*2 <= runeLen(nodeText(h)) {
		return false
	}
	href := strings.TrimSpace(attr(a, "href"))
	if href == "" || strings.HasPrefix(href, "#") {
		return false
	}
	if m.base != nil {
		if u, err := m.base.Parse(href); err == nil && u.Host == m.base.Host && strings.TrimSuffix(u.Path, "/") == strings.TrimSuffix(m.base.Path, "/") {
			return false
		}
	}
	return true
}

// offSite reports a link to another site ("Designed by <a>Vendor</a>").
func (m *pageMeta) offSite(href string) bool {
	if m.base == nil || href == "" {
		return false
	}
	u, err := m.base.Parse(strings.TrimSpace(href))
	if err != nil || u.Host == "" {
		return false
	}
	return strings.TrimPrefix(u.Hostname(), "www.") != strings.TrimPrefix(m.base.Hostname(), "www.")
}

// byLine returns the "By A, B and C" line that element n opens, up to the
// first line break or block, or "". Only the first text child is looked at,
// which keeps the check cheap on large pages.
func byLine(n *html.Node) string {
	c := n.FirstChild
	for c != nil && c.Type == html.TextNode && strings.TrimSpace(c.Data) == "" {
		c = c.NextSibling
	}
	if c == nil || c.Type != html.TextNode {
		return ""
	}
	t := strings.TrimLeft(c.Data, " \t\r\n\u00a0")
	if !(strings.HasPrefix(t, "By ") || strings.HasPrefix(t, "BY ") || strings.HasPrefix(t, "by ")) {
		return ""
	}
	var b strings.Builder
	for ; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.DataAtom == atom.Br || isBlock(c.DataAtom)) {
			break
		}
		appendText(&b, c)
		if b.Len() > 200 {
			return ""
		}
	}
	line := collapseSpace(b.String())
	if !reBylineLine.MatchString(line) {
		return ""
	}
	return line
}

// itempropName returns the text of an itemprop=author element, preferring
// its nested itemprop=name.
func itempropName(n *html.Node) string {
	var name string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil && name == ""; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if attr(c, "itemprop") == "name" {
				name = firstNonEmpty(attr(c, "content"), nodeText(c))
				return
			}
			walk(c)
		}
	}
	walk(n)
	if name == "" {
		name = nodeText(n)
	}
	if runeLen(name) > 100 {
		return ""
	}
	return name
}

func hasToken(list, tok string) bool {
	for _, f := range strings.Fields(list) {
		if f == tok {
			return true
		}
	}
	return false
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

func (m *pageMeta) get(keys ...string) string {
	for _, k := range keys {
		if v := m.meta[k]; v != "" {
			return v
		}
	}
	return ""
}

var articleTypes = map[string]bool{
	"article": true, "newsarticle": true, "blogposting": true, "reportagenewsarticle": true,
	"analysisnewsarticle": true, "opinionnewsarticle": true, "reviewnewsarticle": true,
	"backgroundnewsarticle": true, "scholarlyarticle": true, "techarticle": true,
	"socialmediaposting": true, "liveblogposting": true, "report": true, "posting": true,
	"review": true, "creativework": true, "advertisercontentarticle": true, "satiricalarticle": true,
	"medicalscholarlyarticle": true, "discussionforumposting": true, "recipe": true, "videoobject": false,
}

func parseLD(src string, info *ldInfo) {
	src = strings.TrimSpace(src)
	// Some CMSs wrap JSON-LD in HTML comments or CDATA markers.
	src = strings.TrimPrefix(src, "<!--")
	src = strings.TrimSuffix(src, "-->")
	src = strings.TrimPrefix(strings.TrimSpace(src), "//<![CDATA[")
	src = strings.TrimSuffix(strings.TrimSpace(src), "//]]>")
	var v any
	if err := json.Unmarshal([]byte(src), &v); err != nil {
		return
	}
	var pages []map[string]any
	var visit func(v any, depth int)
	visit = func(v any, depth int) {
		if depth > 6 {
			return
		}
		switch t := v.(type) {
		case []any:
			for _, e := range t {
				visit(e, depth+1)
			}
		case map[string]any:
			if g, ok := t["@graph"]; ok {
				visit(g, depth+1)
			}
			typ := ldTypes(t["@type"])
			isArticle := false
			for _, ty := range typ {
				if articleTypes[ty] || strings.HasSuffix(ty, "article") {
					isArticle = true
				}
				if ty == "webpage" || ty == "itempage" {
					pages = append(pages, t)
				}
			}
			if isArticle && !info.found {
				info.found = true
				fillLD(t, info)
			}
			if me, ok := t["mainEntity"]; ok && !info.found {
				visit(me, depth+1)
			}
		}
	}
	visit(v, 0)
	if !info.found {
		for _, p := range pages {
			// A WebPage object still carries dates and authors.
			var tmp ldInfo
			fillLD(p, &tmp)
			if info.published == "" {
				info.published = tmp.published
			}
			if len(info.authors) == 0 {
				info.authors = tmp.authors
			}
			if info.publisher == "" {
				info.publisher = tmp.publisher
			}
			if info.lang == "" {
				info.lang = tmp.lang
			}
		}
	}
}

func ldTypes(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{strings.ToLower(t)}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, strings.ToLower(s))
			}
		}
		return out
	}
	return nil
}

func fillLD(t map[string]any, info *ldInfo) {
	info.headline = firstNonEmpty(ldString(t["headline"]), ldString(t["name"]))
	info.published = firstNonEmpty(ldString(t["datePublished"]), ldString(t["dateCreated"]))
	info.modified = ldString(t["dateModified"])
	info.body = ldString(t["articleBody"])
	info.url = firstNonEmpty(ldString(t["url"]), ldURL(t["mainEntityOfPage"]))
	info.image = ldURL(t["image"])
	info.lang = ldString(t["inLanguage"])
	if p, ok := t["publisher"]; ok {
		info.publisher = ldName(p)
	}
	info.authors = nil
	var persons, others []string
	collect := func(a any) {
		switch at := a.(type) {
		case string:
			persons = append(persons, at)
		case map[string]any:
			name := ldString(at["name"])
			if name == "" {
				return
			}
			types := ldTypes(at["@type"])
			if len(types) > 0 && types[0] == "organization" || len(types) > 0 && types[0] == "newsmediaorganization" {
				others = append(others, name)
			} else {
				persons = append(persons, name)
			}
		}
	}
	for _, key := range []string{"author", "creator"} {
		switch a := t[key].(type) {
		case []any:
			for _, e := range a {
				collect(e)
			}
		case nil:
		default:
			collect(a)
		}
		if len(persons) > 0 {
			break
		}
	}
	if len(persons) == 0 {
		persons = others
	}
	info.authors = persons
}

func ldString(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case []any:
		for _, e := range t {
			if s := ldString(e); s != "" {
				return s
			}
		}
	case map[string]any:
		if s, ok := t["@value"].(string); ok {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

func ldURL(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case []any:
		for _, e := range t {
			if s := ldURL(e); s != "" {
				return s
			}
		}
	case map[string]any:
		return firstNonEmpty(ldString(t["url"]), ldString(t["@id"]), ldString(t["contentUrl"]))
	}
	return ""
}

func ldName(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case []any:
		for _, e := range t {
			if s := ldName(e); s != "" {
				return s
			}
		}
	case map[string]any:
		return ldString(t["name"])
	}
	return ""
}

// ---- title ----

var titleSeps = []string{" | ", " - ", " – ", " — ", " :: ", " · ", " • ", " // ", " « ", " » "}

// cleanTitle strips a site-name suffix or prefix from a page title.
func cleanTitle(title, site, host, h1 string) string {
	title = collapseSpace(html.UnescapeString(title))
	if title == "" {
		return ""
	}
	if h1 != "" && h1 != title && (strings.HasPrefix(title, h1) || strings.HasSuffix(title, h1) && endsWithSep(title[:len(title)-len(h1)])) {
		// "Headline | Site" or "Section | Headline" around the <h1>.
		return h1
	}
	for _, sep := range titleSeps {
		i := strings.LastIndex(title, sep)
		if i <= 0 {
			continue
		}
		head, tail := strings.TrimSpace(title[:i]), strings.TrimSpace(title[i+len(sep):])
		if siteLike(tail, site, host) {
			return cleanTitle(head, site, host, h1)
		}
		j := strings.Index(title, sep)
		head2, tail2 := strings.TrimSpace(title[:j]), strings.TrimSpace(title[j+len(sep):])
		if siteLike(head2, site, host) {
			return cleanTitle(tail2, site, host, h1)
		}
	}
	return title
}

func endsWithSep(s string) bool {
	for _, sep := range titleSeps {
		if strings.HasSuffix(s, sep) {
			return true
		}
	}
	return false
}

func squash(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func siteLike(part, site, host string) bool {
	p := squash(part)
	if p == "" {
		return false
	}
	if s := squash(site); s != "" && (p == s || strings.Contains(p, s) && runeLen(p) < runeLen(s)+12 || strings.Contains(s, p)) {
		return true
	}
	if host != "" {
		h := strings.TrimPrefix(strings.ToLower(host), "www.")
		label := h
		if i := strings.Index(h, "."); i > 0 {
			label = h[:i]
		}
		hs := squash(h)
		if p == hs || p == squash(label) || strings.HasPrefix(p, squash(label)) && len(p) < len(label)+8 && len(label) >= 3 {
			return true
		}
	}
	return false
}

// ---- byline ----

var (
	reByPrefix = regexp.MustCompile(`(?i)^\s*((written|analysis|opinion|commentary|review|story|text|words|report|reporting|reported|photos?|compiled|edited)\s+)?(by|from|von|par|por|di|door|av)\s*:?\s+`)
	// "Text: Jane Doe" / "Автор: …": a label with a colon before the names.
	reByLabel = regexp.MustCompile(`(?i)^\s*(text|words|author|authors|autor|autores|auteur|auteurs|autore|autori|texto|testo|tekst|текст|автор|авторы)\s*:\s*`)
	reAgency  = regexp.MustCompile(`(?i)^(reuters|afp|ap|upi|dpa|ians|pti|ani|efe|ansa|xinhua|bloomberg|tass|kyodo|yonhap|bernama|aap|cp|sapa|apa)$`)
	reSentEnd = regexp.MustCompile(`(\p{Ll}{2})\.\s+`)
	reNotName = regexp.MustCompile(`(?i)\b(staff|updated|published|posted|editor|editors|editorial|team|desk|news|service|reporter|reporters|correspondent|contributor|contributing|writer|writers|associated press|press|wire|agency|agencies|newsroom|admin|administrator|guest|opinion|columnist|photographer|photos?|video|min(ute)?s?|read|ago|am|pm|gmt|utc|est|edt|pst|pdt|cet|bst|today|yesterday|follow|twitter|email|facebook|more|view|all|posts|articles|share|comments?|image|credit|copyright|http|www|about|the|media|network|online|magazine|newspaper|blog|international|business|digital|group|project|foundation|institute|center|centre|council|association|university|union|society|committee|department|ministry|company|corporation|technology|coalition|alliance|initiative|programme|program|topic|topics|category|tags?)\b|\d|@|https?:|\.[a-z]{2,}\b|[|/\\<>{}\[\]#=+*():]`)
	// \b is ASCII-only in RE2, so role words in other scripts need
	// letter boundaries of their own ("Гость" is a guest commenter).
	reNotNameIntl = regexp.MustCompile(`(?i)(^|\P{L})(гость|редакция|редакции|корреспондент|автор|администратор|invitado|redacción|redaktion|rédaction|redazione|redactie|gast|invité|ospite)(\P{L}|$)`)
	reNameSplit   = regexp.MustCompile(`\s*(,|;|\b(?i:and)\b|&|\bund\b|\bet\b|\by\b|\be\b|\ben\b|\bog\b|\boch\b| \| |·|•)\s*`)
)

// cleanByline reduces a raw byline to people's names joined as "A, B and C".
func cleanByline(raw []string) string {
	var names []string
	seen := map[string]bool{}
	for _, r := range raw {
		r = collapseSpace(html.UnescapeString(r))
		if m := reMailName.FindStringSubmatch(r); m != nil {
			// RSS style "desk@example.com (Jane Doe)".
			r = m[1]
		}
		if r == "" || strings.HasPrefix(strings.ToLower(r), "http") {
			continue
		}
		r = reByPrefix.ReplaceAllString(reByLabel.ReplaceAllString(r, ""), "")
		// "Jane Doe. Agency Name": a full stop after a lower-case
		// word (not an initial) separates names too.
		r = reSentEnd.ReplaceAllString(r, "$1, ")
		// "Jane Doe, Staff Writer" / "Jane Doe - Reuters": the tail is
		// a role or an organisation, dropped by the name filter below.
		for _, part := range reNameSplit.Split(r, -1) {
			part = strings.Trim(part, " .:-–—()")
			part = reByPrefix.ReplaceAllString(part, "")
			part = reHonorific.ReplaceAllString(part, "")
			if reReviewer.MatchString(part) || hasAcronym(part) || reVendor.MatchString(part) {
				// "Medically reviewed by …" is not the author; "ACLU
				// Speech" is an organisation after the person.
				continue
			}
			if !isPersonName(part) || reAgency.MatchString(part) {
				continue
			}
			key := strings.ToLower(part)
			if seen[key] {
				continue
			}
			seen[key] = true
			names = append(names, part)
		}
	}
	// Next to real names, a single word is almost always an outlet
	// ("Jane Doe and Futurism"), not a mononymous author.
	multi := false
	for _, n := range names {
		if strings.Contains(n, " ") {
			multi = true
		}
	}
	if multi {
		kept := names[:0]
		for _, n := range names {
			if strings.Contains(n, " ") {
				kept = append(kept, n)
			}
		}
		names = kept
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

var (
	reMailName  = regexp.MustCompile(`^\S+@\S+\s*\(([^()@]+)\)$`)
	reHonorific = regexp.MustCompile(`^(Dr|Prof|Mr|Mrs|Ms|Mx|Sir|Dame)\.?\s+`)
	// Ad and recommendation vendors whose widgets carry "author" classes.
	reVendor   = regexp.MustCompile(`(?i)^(outbrain|taboola|revcontent|zergnet|mgid|disqus|sharethrough|nativo|adblade|yieldmo|teads|plista|ligatus)$`)
	reReviewer = regexp.MustCompile(`(?i)^(medically |fact[- ])?(reviewed|checked|edited|illustrated|photographed)\b`)
)

// hasAcronym reports a word of two to six capitals in a name of several
// words ("ACLU Speech"), the mark of an organisation; a name written all in
// capitals ("TOM KRISHER") is not one.
func hasAcronym(s string) bool {
	words := strings.Fields(s)
	if len(words) < 2 || strings.ToUpper(s) == s {
		return false
	}
	for _, w := range words {
		w = strings.Trim(w, ".,")
		if n := runeLen(w); n >= 2 && n <= 6 && strings.ToUpper(w) == w && strings.ToLower(w) != w && !strings.Contains(w, ".") {
			return true
		}
	}
	return false
}

func isPersonName(s string) bool {
	if s == "" || runeLen(s) > 50 || reNotName.MatchString(s) || reNotNameIntl.MatchString(s) {
		return false
	}
	words := strings.Fields(s)
	if len(words) < 1 || len(words) > 5 {
		return false
	}
	initials := 0
	for _, w := range words {
		if runeLen(strings.TrimRight(w, ".")) == 1 {
			initials++
		}
	}
	if initials == len(words) {
		// "J J", "A. B.": initials from a photo credit name no one.
		return false
	}
	if len(words) == 1 {
		// A lone word is a name only if it is not an all-caps acronym
		// (agency names such as AP, AFP, CNN).
		w := words[0]
		if strings.ToUpper(w) == w && strings.ToLower(w) != w {
			// A lone word in capitals is an agency, station or handle
			// (AP, AFP, KWCHCIK), not a person.
			return false
		}
		if runeLen(w) < 3 {
			return false
		}
	}
	upper := 0
	for _, w := range words {
		r := []rune(w)[0]
		if r >= 'A' && r <= 'Z' || r > 127 && strings.ToUpper(string(r)) == string(r) && strings.ToLower(string(r)) != string(r) {
			upper++
		} else if r > 127 && strings.ToUpper(string(r)) == strings.ToLower(string(r)) {
			upper++ // scripts without case
		}
	}
	// Allow lower-case particles such as "van", "de", "bin".
	return upper*2 >= len(words) && upper >= 1
}

// ---- dates ----

var reURLDate = regexp.MustCompile(`/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?:/|-|$)|/((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])/`)

func dateFromURL(u string) time.Time {
	m := reURLDate.FindStringSubmatch(u)
	if m == nil {
		return time.Time{}
	}
	y, mo, d := m[1], m[2], m[3]
	if y == "" {
		y, mo, d = m[4], m[5], m[6]
	}
	t, err := time.Parse("2006-1-2", y+"-"+strings.TrimPrefix(mo, "0")+"-"+strings.TrimPrefix(d, "0"))
	if err != nil {
		return time.Time{}
	}
	return t
}

var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 Z0700",
	"2006-01-02 15:04:05 -07:00",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/01/02 15:04:05",
	"2006/01/02",
	"20060102T150405Z0700",
	"20060102150405",
	"20060102",
}

var humanLayouts = []string{
	time.RFC1123Z,
	time.RFC1123,
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 02 Jan 2006 15:04 -0700",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 2006 15:04:05 MST-0700",
	"Mon Jan 2 2006 15:04:05 MST",
	"Mon Jan 2 15:04:05 -0700 2006",
	"January 2, 2006 3:04 PM MST",
	"January 2, 2006 3:04 PM",
	"January 2, 2006 3:04PM",
	"January 2, 2006, 3:04 PM",
	"January 2, 2006",
	"Jan 2, 2006 3:04 PM MST",
	"Jan 2, 2006 3:04 PM",
	"Jan 2, 2006",
	"2 January 2006 15:04",
	"2 January 2006",
	"2 Jan 2006 15:04",
	"2 Jan 2006",
	"Monday, January 2, 2006",
	"Monday, 2 January 2006",
	"02.01.2006 15:04",
	"02.01.2006",
	"2.1.2006",
}

// tzAbbrev maps common news-site time zone abbreviations to offsets, since
// time.Parse gives unknown abbreviations a zero offset.
var tzAbbrev = map[string]int{
	"UTC": 0, "GMT": 0, "Z": 0, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
	"EST": -5, "EDT": -4, "ET": -5, "CST": -6, "CDT": -5, "CT": -6, "MST": -7, "MDT": -6,
	"MT": -7, "PST": -8, "PDT": -7, "PT": -8, "IST": 5, "JST": 9, "KST": 9, "AEST": 10,
	"AEDT": 11, "HKT": 8, "SGT": 8, "MSK": 3,
}

var (
	reOrdinal   = regexp.MustCompile(`(\d)(st|nd|rd|th)\b`)
	reTZSuffix  = regexp.MustCompile(`\s+\(?([A-Z]{1,4})\)?$`)
	reAMPM      = regexp.MustCompile(`(?i)\s*([ap])\.?m\b\.?`)
	reMonthAbbr = regexp.MustCompile(`\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.`)
	reDateLead  = regexp.MustCompile(`(?i)^(published|posted|updated|last updated|created|date|on)\s*:?\s*`)
)

// parseDate understands ISO 8601 variants and the common English formats
// news pages print. The zero time means "not a date".
func parseDate(s string) time.Time {
	s = collapseSpace(s)
	if s == "" || runeLen(s) > 80 {
		return time.Time{}
	}
	s = reDateLead.ReplaceAllString(s, "")
	for _, l := range isoLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return sane(t)
		}
	}
	// Human formats: normalise ordinals, "Sept.", "a.m." and time zones.
	h := reOrdinal.ReplaceAllString(s, "$1")
	h = strings.ReplaceAll(h, " at ", " ")
	h = strings.ReplaceAll(h, "Sept", "Sep")
	h = reMonthAbbr.ReplaceAllString(h, "$1")
	h = reAMPM.ReplaceAllStringFunc(h, func(m string) string {
		if strings.ContainsAny(strings.ToLower(m), "a") {
			return " AM"
		}
		return " PM"
	})
	h = strings.TrimSpace(strings.Trim(h, "|,"))
	offset, hasTZ := 0, false
	if m := reTZSuffix.FindStringSubmatch(h); m != nil {
		if off, ok := tzAbbrev[m[1]]; ok {
			offset, hasTZ = off, true
			h = strings.TrimSpace(h[:len(h)-len(m[0])])
		}
	}
	h = strings.TrimSpace(strings.TrimRight(h, ","))
	for _, l := range humanLayouts {
		t, err := time.Parse(l, h)
		if err != nil {
			continue
		}
		if hasTZ {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.FixedZone(tzName(offset), offset*3600))
		}
		return sane(t)
	}
	return time.Time{}
}

func tzName(offset int) string {
	if offset == 0 {
		return "UTC"
	}
	return ""
}

// sane rejects dates no news page can have.
func sane(t time.Time) time.Time {
	if t.Year() < 1990 || t.Year() > 2100 {
		return time.Time{}
	}
	return t
}

// ---- URLs ----

func resolveURL(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if !u.IsAbs() {
		if strings.HasPrefix(ref, "//") {
			return "https:" + ref
		}
		return ""
	}
	return u.String()
}

func normLang(l string) string {
	l = strings.TrimSpace(l)
	if i := strings.IndexAny(l, ",; "); i >= 0 {
		l = l[:i]
	}
	l = strings.ReplaceAll(l, "_", "-")
	if len(l) > 35 {
		return ""
	}
	return l
}

// ---- publisher ----

// Hosting platforms name themselves in og:site_name and JSON-LD publisher;
// the publication is the blog or newsletter hosted there.
var platformNames = map[string]bool{
	"blogger": true, "blogspot": true, "medium": true, "wordpress": true, "wordpresscom": true, "substack": true,
	"tumblr": true, "ghost": true, "wix": true, "squarespace": true, "weebly": true, "hosted": true, "livejournal": true,
	"typepad": true, "hashnode": true, "devto": true, "notion": true,
}

func isPlatform(s string) bool { return platformNames[squash(s)] }

// siteName picks the publication's name: og:site_name, JSON-LD publisher,
// application-name, the site part of <title>, then the host; a tagline
// after the name is cut and a hosting platform is skipped.
func siteName(m *pageMeta, host string) string {
	urlHost := ""
	for i, v := range []string{m.get("og:site_name"), m.ld.publisher, m.get("application-name"), m.get("twitter:app:name:iphone")} {
		v = collapseSpace(html.UnescapeString(v))
		if v == "" || isPlatform(v) {
			continue
		}
		if strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
			// Some sites put their home page URL in og:site_name; a
			// name given elsewhere is better.
			if u, err := url.Parse(v); err == nil && u.Hostname() != "" && urlHost == "" {
				urlHost = strings.TrimPrefix(u.Hostname(), "www.")
			}
			continue
		}
		if runeLen(v) > 80 || i >= 2 && (strings.EqualFold(v, collapseSpace(m.title)) || titleIsValue(m.title, v)) {
			// application-name holding the page title, not a name.
			continue
		}
		if strings.HasPrefix(v, "@") {
			continue
		}
		return cutTagline(v, host)
	}
	if urlHost != "" {
		return urlHost
	}
	if s := titleSite(m.title, firstNonEmpty(append(m.h1s, m.firstH1)...), host); s != "" {
		return strings.TrimPrefix(s, "www.")
	}
	return strings.TrimPrefix(host, "www.")
}

func titleIsValue(title, v string) bool {
	t := collapseSpace(html.UnescapeString(title))
	return t != "" && runeLen(v) > 30 && strings.HasPrefix(t, v)
}

// cutTagline keeps "Name" of "Name - Víte, co se právě děje" or
// "Name | F1 | Indy | MotoGP": the first part when it names the site
// (matches the host) or what follows reads as a slogan or a list of topics.
func cutTagline(v, host string) string {
	for _, sep := range []string{" - ", " – ", " — ", " | ", " : "} {
		i := strings.Index(v, sep)
		if i <= 0 {
			continue
		}
		head, tail := strings.TrimSpace(v[:i]), strings.TrimSpace(v[i+len(sep):])
		if head == "" || tail == "" {
			continue
		}
		if siteLike(head, "", host) || siteLike(tail, "", host) || taglineLike(tail) || strings.Count(v, sep) >= 2 {
			return head
		}
	}
	return v
}

// taglineLike: a slogan has lower-case words or ends a sentence.
func taglineLike(s string) bool {
	words := strings.Fields(s)
	if len(words) < 3 {
		return false
	}
	lower := 0
	for _, w := range words {
		r := []rune(w)[0]
		if r >= 'a' && r <= 'z' || r > 127 && strings.ToLower(string(r)) == string(r) && strings.ToUpper(string(r)) != string(r) {
			lower++
		}
	}
	return lower*2 >= len(words) || strings.ContainsAny(s[len(s)-1:], ".!?")
}

// titleSite is the site part of "<headline> | Site" (or "Site: headline"),
// skipping hosting platforms and "by Author" parts.
func titleSite(title, h1, host string) string {
	title = collapseSpace(html.UnescapeString(title))
	if title == "" {
		return ""
	}
	var parts []string
	rest := title
	for {
		best, bl := -1, 0
		for _, sep := range titleSeps {
			if i := strings.Index(rest, sep); i >= 0 && (best < 0 || i < best) {
				best, bl = i, len(sep)
			}
		}
		if best < 0 {
			parts = append(parts, strings.TrimSpace(rest))
			break
		}
		parts = append(parts, strings.TrimSpace(rest[:best]))
		rest = rest[best+bl:]
	}
	if len(parts) < 2 {
		// "Blog Name: Post title" as Blogger writes it, when the part
		// after the colon is the heading.
		if i := strings.Index(title, ": "); i > 0 && h1 != "" && strings.EqualFold(strings.TrimSpace(title[i+2:]), h1) && runeLen(title[:i]) <= 40 {
			return strings.TrimSpace(title[:i])
		}
		return ""
	}
	account := ""
	for i := len(parts) - 1; i >= 1; i-- {
		p := parts[i]
		if strings.HasPrefix(strings.ToLower(p), "by ") {
			if account == "" {
				account = strings.TrimSpace(p[3:])
			}
			continue
		}
		if p == "" || isPlatform(p) || runeLen(p) > 40 || taglineLike(p) {
			continue
		}
		if strings.EqualFold(p, h1) {
			continue
		}
		return p
	}
	if account != "" && isPlatform(parts[len(parts)-1]) {
		// "Post | by Account | Medium": a blog on the platform is its
		// account.
		return account
	}
	if h1 != "" && strings.EqualFold(parts[len(parts)-1], h1) && runeLen(parts[0]) <= 40 && !isPlatform(parts[0]) {
		return parts[0]
	}
	return ""
}

// titleSegment reports whether h is one separated part of <title> but not
// its first: a section or site name ("Headline - Allergy Health Center").
func titleSegment(h, title string) bool {
	title = collapseSpace(html.UnescapeString(title))
	h = collapseSpace(h)
	if h == "" || title == "" || strings.EqualFold(h, title) {
		return false
	}
	for _, sep := range titleSeps {
		if strings.Contains(title, sep+h+sep) || strings.HasSuffix(title, sep+h) {
			return true
		}
	}
	return false
}

// storyHeading reports whether the article's <h1> should replace the title
// taken from metadata: it tells a different story (neither contains the
// other), reads as a headline, and is not the site, a section, or a
// segment of <title> other than the headline.
func storyHeading(h1, metaTitle, site, publisher, host, title string) bool {
	nh, nt := squash(h1), squash(metaTitle)
	if nh == "" || nh == nt || strings.Contains(nt, nh) || strings.Contains(nh, nt) {
		return false
	}
	if siteLike(h1, site, host) || publisher != "" && siteLike(h1, publisher, "") || titleSegment(h1, title) {
		return false
	}
	words := strings.Fields(h1)
	if runeLen(h1) > 200 {
		return false
	}
	if len(words) < 4 && runeLen(h1) < 20 {
		return false
	}
	return true
}
