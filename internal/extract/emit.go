package extract

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// para is one paragraph of output text with what the filters need to judge it.
type para struct {
	text    string
	links   int  // runes inside <a>
	anchors int  // <a> elements
	heading bool // h1–h6
	item    bool // inside <li>
	quote   bool // inside <blockquote>
	table   bool // inside <table>
}

type emitter struct {
	f       flags
	st      map[*html.Node]*stats
	total   int // text length of all chosen containers
	paras   []para
	buf     strings.Builder
	links   int
	anchors int
	inLink  int
	heading int
	item    int
	quote   int
	table   int
	story   bool // a paragraph of story length has been emitted
}

func (e *emitter) flush() {
	t := collapseSpace(e.buf.String())
	e.buf.Reset()
	links, anchors := e.links, e.anchors
	e.links, e.anchors = 0, 0
	if t == "" {
		return
	}
	if !e.story && links == 0 && len(t) >= 150 {
		e.story = true
	}
	e.paras = append(e.paras, para{text: t, links: links, anchors: anchors, heading: e.heading > 0, item: e.item > 0, quote: e.quote > 0, table: e.table > 0})
}

func (e *emitter) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		e.buf.WriteString(n.Data)
		if e.inLink > 0 {
			l, _ := textMeasure(n.Data)
			e.links += l
		}
		return
	case html.ElementNode, html.DocumentNode:
	default:
		return
	}
	if n.Type == html.ElementNode {
		if n.DataAtom == atom.Br {
			e.flush()
			return
		}
		if n.DataAtom == atom.Hr {
			e.flush()
			return
		}
		if e.skip(n) {
			// A skipped inline element still separates words.
			e.buf.WriteByte(' ')
			return
		}
	}
	block := n.Type == html.ElementNode && isBlock(n.DataAtom)
	if (n.DataAtom == atom.Td || n.DataAtom == atom.Th) && !hasBlockChild(n) && e.st[n] != nil && e.st[n].text <= 100 {
		// Short cells of a data table: one row is one line of text.
		// (Long cells are layout tables holding the story itself.)
		block = false
		e.buf.WriteByte(' ')
		defer e.buf.WriteByte(' ')
	}
	if block {
		e.flush()
	}
	switch {
	case n.DataAtom == atom.A:
		e.inLink++
		e.anchors++
		defer func() { e.inLink-- }()
	case isHeading(n.DataAtom):
		e.heading++
		defer func() { e.heading-- }()
	case n.DataAtom == atom.Li || n.DataAtom == atom.Dd || n.DataAtom == atom.Dt:
		e.item++
		defer func() { e.item-- }()
	case n.DataAtom == atom.Blockquote:
		e.quote++
		defer func() { e.quote-- }()
	case n.DataAtom == atom.Table:
		e.table++
		defer func() { e.table-- }()
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		e.walk(c)
	}
	if block {
		e.flush()
	} else if n.Type == html.ElementNode && n.DataAtom == 0 {
		// Unknown (custom) elements are usually block-level widgets.
		e.buf.WriteByte(' ')
	}
}

// linkRun reports whether n is the innermost inline element holding a run
// of at least three links and almost no other text.
func (e *emitter) linkRun(n *html.Node) bool {
	is := func(n *html.Node) bool {
		s := e.st[n]
		return s != nil && n.Type == html.ElementNode && !isBlock(n.DataAtom) && n.DataAtom != atom.A && s.anchors >= 3 && linkDensity(s) > 0.85
	}
	if !is(n) {
		return false
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if is(c) {
			return false
		}
	}
	return true
}

// holdsQuote reports a block (an embed or social-media wrapper) that is
// little more than a quotation of real text, such as an embedded post the
// story quotes.
func (e *emitter) holdsQuote(n *html.Node) bool {
	if n.DataAtom == atom.Blockquote {
		return false
	}
	var q *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		for c := n.FirstChild; c != nil && q == nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if c.DataAtom == atom.Blockquote {
				q = c
				return
			}
			find(c)
		}
	}
	find(n)
	if q == nil {
		return false
	}
	s, ns := e.st[q], e.st[n]
	// The quotation must be the block: a comment or a teaser that quotes
	// something is still a comment or a teaser.
	return s != nil && ns != nil && s.text-s.link >= 60 && 10*s.text >= 8*ns.text
}

// dropModifiers removes class tokens that describe what a block contains
// ("has-image", "card-has-image", "with-video"), not what it is:
// a story card with an image is not an image.
func dropModifiers(ci string) string {
	if !strings.Contains(ci, "has-") && !strings.Contains(ci, "with-") {
		return ci
	}
	f := strings.Fields(ci)
	out := f[:0]
	for _, t := range f {
		if strings.HasPrefix(t, "has-") || strings.Contains(t, "-has-") || strings.HasPrefix(t, "with-") || strings.Contains(t, "-with-") {
			continue
		}
		out = append(out, t)
	}
	return strings.Join(out, " ")
}

// inTableBody reports table parts whose class names describe the data
// ("player-17", "date", "time" columns), not page furniture.
func inTableBody(a atom.Atom) bool {
	switch a {
	case atom.Tbody, atom.Thead, atom.Tfoot, atom.Tr, atom.Td, atom.Th:
		return true
	}
	return false
}

// skip decides whether a sub-block of the story container is boilerplate.
func (e *emitter) skip(n *html.Node) bool {
	s := e.st[n]
	if s == nil {
		return false
	}
	switch n.DataAtom {
	case atom.Figure:
		// Figures hold images, captions and credits; rarely a pull
		// quote or embedded text worth keeping.
		return s.paras < 2
	case atom.H1:
		// The headline is metadata, and an h1 inside the body is
		// usually a repeated title; but a container whose h1s follow
		// story text uses them as section headings.
		return !e.story
	}
	if e.linkRun(n) {
		// A run of links inside running text is a hover card or an
		// inline "related" widget, never prose.
		return true
	}
	if e.holdsQuote(n) {
		// An embedded post the story quotes, whatever its wrapper is
		// called.
		return false
	}
	if ci := classID(n); ci != "" && !inTableBody(n.DataAtom) && reBoilerBlock.MatchString(ci) && !reMaybe.MatchString(ci) && reBoilerBlock.MatchString(dropModifiers(ci)) {
		// Small next to the story: share bars, captions, bylines,
		// related boxes. A large block with such a class is more likely
		// a wrapper with an unlucky name.
		if float64(s.text) < 0.25*float64(e.total) || s.text < 200 {
			return true
		}
	}
	if e.f&flagCleanConditionally == 0 {
		return false
	}
	switch n.DataAtom {
	case atom.Div, atom.Section, atom.Ul, atom.Ol, atom.Table, atom.Form, atom.Dl, 0:
	default:
		return false
	}
	if s.text == 0 {
		return true
	}
	w := classWeight(n, e.f)
	if w < 0 && float64(s.text) < 0.25*float64(e.total) {
		return true
	}
	if s.commas >= 10 {
		return false
	}
	ld := linkDensity(s)
	if ((w < 25 && ld > 0.2) || (w >= 25 && ld > 0.5)) && !(s.anchors == 1 && ld <= 0.5 && s.text-s.link >= 50) {
		// One link inside a sentence or two is a citation, not a
		// link list.
		return true
	}
	if n.DataAtom != atom.Ul && n.DataAtom != atom.Ol {
		if li := countTag(n, atom.Li, 1000); li > 0 && li > s.paras+1 && ld > 0.1 {
			return true
		}
	}
	return false
}

var (
	// Short lines that are page furniture wherever they appear.
	reBoilerLine = regexp.MustCompile(`(?i)^(advertisement|advertising|advert|anzeige|werbung|publicidad|publicité|pubblicità|publicidade|reklama|iklan|(like )?loading\.*|you (may|might) (also )?like.*|don'?t miss:?|this slideshow requires javascript\.?|(image|photo|picture|slide) \d+( of |\s*/\s*)\d+|sponsored( content)?|ad|ads|story continues below( advertisement)?|continue reading( below| the main story)?|read more|read more:?.*|more:|related:?.*|recommended:?.*|see also:?.*|also read:?.*|watch:.*|listen:.*|share( this( article| story)?)?( on .*)?|share via.*|tweet|email|print|comments?|\d+ comments?|(click|tap) here.*|sign up.*|subscribe.*|follow us.*|follow .* on (twitter|facebook|instagram).*|image( source)?:.*|photo:.*|photograph:.*|credit:.*|(image|photo|picture) (copyright|credit).*|getty images|copyright .*|© .*|all rights reserved.*|\(?ap photo.*|\(?reuters.*photo.*|skip (to|advertisement).*|back to top|loading\.*|previous|next|close|menu|search|log ?in|sign in|register|newsletter.*|get (our|the) .*newsletter.*|this (article|story) (was|has been) (updated|corrected).*|correction:.*|updated:.*|published:.*|posted:?.*|last updated.*|first published.*|(updated|published|posted|modified)( on| at)?\s.{0,50})$`)
	// A link printed as its own address is a reference the author typed
	// into the text, not navigation.
	reBareURL    = regexp.MustCompile(`^https?://[^\s]+$`)
	reBracketed  = regexp.MustCompile(`^(\[[^\[\]]{1,80}\]|\([^()]{1,80}\))$`)
	reYear       = regexp.MustCompile(`(^|\D)(19|20)\d\d(\D|$)`)
	reClock      = regexp.MustCompile(`(^|\D)\d{1,2}[:h]\d\d(\D|$)`)
	reCreditTail = regexp.MustCompile(`(?i)` + reCreditEnd)
	rePromoAsk   = regexp.MustCompile(`(?i)\b(sign up|subscribe)\b`)
	rePromoWhat  = regexp.MustCompile(`(?i)\b(newsletters?|inbox)\b`)
	reBylineLine = regexp.MustCompile(`^(By|BY|by)\s+\p{Lu}[^.!?]{0,80}$`)
	reDateLine   = regexp.MustCompile(`(?i)^(updated|published|posted|last (updated|modified)|modified|created|date)?:?\s*((mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?((jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(st|nd|rd|th)?,?\s+\d{4}|\d{1,2}(st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+\d{4}|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})([,\s|•·-]+(at\s+)?\d{1,2}[:.]\d{2}(\s*[ap]\.?m\.?)?(\s*[A-Z]{2,4})?)?[\s|•·-]*(updated.*)?$`)
	reCaptionish = regexp.MustCompile(`(?i)(\(|\[)?(photo|image|picture|illustration|graphic|video|file photo)s?( by| credit| courtesy)?\s*[:/]|` + reCreditEnd + `|(getty images|shutterstock|associated press|afp|reuters|ap photo|epa|istock)\s*\)?$`)
)

// reCreditEnd is a photo credit closing a caption: "… (credit: NASA)".
const reCreditEnd = `[(\[](photo |image )?(credit|courtesy)s?:?\s[^)\]]{1,60}[)\]]$`

// keepPara decides whether an emitted paragraph is story text.
func keepPara(p para, title string) bool {
	l := runeLen(p.text)
	if l == 0 {
		return false
	}
	if title != "" && strings.EqualFold(p.text, title) {
		return false
	}
	if !hasWordChar(p.text) {
		// Separators left behind by removed spans: ",", "|", "·".
		return false
	}
	ld := float64(p.links) / float64(l)
	if ld > 0.5 && !(p.quote && l > 100) && !reBareURL.MatchString(p.text) && !linkedSentence(p, l) {
		return false
	}
	if last := p.text[len(p.text)-1]; (last == ')' || last == ']') && reCreditTail.MatchString(p.text) {
		// A caption of any length.
		return false
	}
	if l <= 300 && rePromoAsk.MatchString(p.text) && rePromoWhat.MatchString(p.text) {
		// "Sign up for X today to get the free daily newsletter
		// delivered to your inbox."
		return false
	}
	if l <= 120 {
		if reBoilerLine.MatchString(p.text) || reDateLine.MatchString(p.text) || reBylineLine.MatchString(p.text) || (!p.table && timestampLine(p.text, l)) {
			return false
		}
		if reCaptionish.MatchString(p.text) {
			return false
		}
		if ld > 0.25 && !rePunctEnd.MatchString(p.text) && !reBareURL.MatchString(p.text) && !p.quote && !linkedSentence(p, l) {
			// (In a quotation such a line is its attribution:
			// "— Name (@handle) November 4, 2019".)
			return false
		}
	}
	return true
}

// linkedSentence reports a paragraph or list item that is a sentence with
// one long link in it ("… was re-opened <a>earlier this year following his
// eviction</a>.") or a linked headline followed by a sentence of its own (a
// list-style post): prose, not a menu or a list of related links.
func linkedSentence(p para, l int) bool {
	if p.anchors == 1 && !p.item && reBracketed.MatchString(p.text) {
		// A bracketed source or pointer after a paragraph:
		// "[The Verge]", "(Graphic: Global assets - here)".
		return true
	}
	return p.anchors == 1 && l-p.links >= 25 && rePunctEnd.MatchString(p.text)
}

// timestampLine reports a short line that is a date with a time of day in
// any language ("segunda-feira, 22 de janeiro de 2018 às 0:13",
// "Mittwoch, 20.11.2019, 14:05 Uhr"): a publication stamp, not prose.
func timestampLine(s string, l int) bool {
	if l > 60 || strings.Count(s, " ") > 8 || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return false
	}
	return reYear.MatchString(s) && reClock.MatchString(s)
}

func hasWordChar(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			return true
		}
	}
	return false
}
