package extract

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Content extraction runs in three stages on the parsed tree:
//
//  1. clean: drop elements that never carry story text (scripts, forms
//     controls, navigation, hidden nodes) and, on the first attempt, blocks
//     whose class/id says they are boilerplate;
//  2. score: a readability-style pass that credits every paragraph's text to
//     its ancestors and picks the best container plus its related siblings;
//  3. emit: a precision pass that walks the container(s), skips boilerplate
//     sub-blocks (share bars, captions, related links, newsletter boxes) and
//     filters the resulting paragraphs one by one.
//
// As in readability, a too-short result is retried with fewer cleaning rules,
// since aggressive class/id stripping occasionally removes the story itself.

type flags uint8

const (
	flagStripUnlikely flags = 1 << iota
	flagWeightClasses
	flagCleanConditionally
)

var (
	// Class/id hints that a block is page furniture, not the story.
	reUnlikely = regexp.MustCompile(`-ad-|ai2html|banner|breadcrumb|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote|cookie|consent|newsletter|outbrain|taboola|recirc|promo|subscribe`)
	// Class/id hints that override reUnlikely: the block may hold the story.
	reMaybe    = regexp.MustCompile(`and|article|body|column|content|main|shadow|story|entry|post-`)
	rePositive = regexp.MustCompile(`article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story|paragraph|prose`)
	reNegative = regexp.MustCompile(`-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|foot|footer|footnote|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|tool|widget|newsletter|signup|caption|credit|byline|author|dateline|timestamp|recirc|taboola|most-popular|trending|read-more|more-stories|subscribe`)
	// Class/id hints for sub-blocks of a story container that are not story
	// text. Applied only to blocks that are small next to the container.
	reBoilerBlock = regexp.MustCompile(`(^|[^a-z])(ad|ads|advert|advertisement|adslot|adunit|dfp|share|sharing|social|sociallinks|newsletter|signup|sign-up|subscribe|subscription|related|recirc|recommend|recommended|promo|sponsor|sponsored|caption|credit|credits|byline|author|authors|dateline|timestamp|date|time|published|updated|meta|tags|tag-list|topics|breadcrumb|breadcrumbs|toolbar|tools|print|comments?|disqus|outbrain|taboola|more|read-more|readmore|most-popular|popular|trending|nav|navigation|menu|sidebar|rail|widget|inline-cta|cta|embed|video|player|gallery|slideshow|photo|image|img|figure|media|copyright|disclaimer|correction|bio|author-bio|hidden|visually-hidden|sr-only|screen-reader|skip|modal|overlay|cookie|consent|paywall|offer|upsell|banner|footer|header|title|headline|kicker|eyebrow|label)([^a-z]|$)`)
	rePunctEnd    = regexp.MustCompile(`[.!?。！？…"”’»)]\s*$`)
)

// stripAlways are elements whose content is never story text.
var stripAlways = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Iframe: true, atom.Svg: true, atom.Math: true, atom.Canvas: true,
	atom.Object: true, atom.Embed: true, atom.Video: true, atom.Audio: true,
	atom.Source: true, atom.Button: true, atom.Input: true, atom.Select: true,
	atom.Textarea: true, atom.Option: true, atom.Link: true, atom.Meta: true,
	atom.Head: true, atom.Nav: true, atom.Aside: true, atom.Footer: true,
	atom.Dialog: true, atom.Menu: true, atom.Img: true, atom.Picture: true,
	atom.Figcaption: true, atom.Label: true, atom.Map: true, atom.Area: true,
}

var unlikelyRoles = map[string]bool{
	"menu": true, "menubar": true, "complementary": true, "navigation": true,
	"alert": true, "alertdialog": true, "dialog": true, "banner": true,
	"contentinfo": true, "search": true,
}

func isHidden(n *html.Node) bool {
	if hasAttr(n, "hidden") || attr(n, "aria-hidden") == "true" {
		return true
	}
	if c := attr(n, "class"); strings.Contains(c, "collapse") && hasClass(c, "collapse") && !hasClass(c, "show") && !hasClass(c, "in") {
		// Bootstrap's collapsed panel: hidden until a button opens it.
		return true
	}
	if st := attr(n, "style"); st != "" {
		st = strings.ToLower(strings.ReplaceAll(st, " ", ""))
		if strings.Contains(st, "display:none") || strings.Contains(st, "visibility:hidden") {
			return true
		}
	}
	return false
}

// clean removes non-content elements from the tree.
func clean(root *html.Node, f flags) {
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; {
			next := c.NextSibling
			switch c.Type {
			case html.CommentNode, html.DoctypeNode:
				n.RemoveChild(c)
			case html.ElementNode:
				if dropElement(c, f) {
					n.RemoveChild(c)
				} else {
					walk(c)
				}
			}
			c = next
		}
	}
	walk(root)
}

func dropElement(n *html.Node, f flags) bool {
	if stripAlways[n.DataAtom] {
		return true
	}
	if n.DataAtom == atom.Header {
		// Page and article headers hold the headline, kicker, byline and
		// share bar, all of which are metadata, not body text. A few CMSs
		// misuse <header> as a wrapper of the whole story, so keep one that
		// holds several paragraphs.
		return countTag(n, atom.P, 3) < 3
	}
	if n.DataAtom == atom.Html || n.DataAtom == atom.Body {
		return false
	}
	if isHidden(n) {
		return true
	}
	if r := attr(n, "role"); r != "" && unlikelyRoles[r] {
		return true
	}
	if f&flagStripUnlikely != 0 && n.DataAtom != atom.Article && n.DataAtom != atom.Main && n.DataAtom != atom.A {
		if ci := classID(n); ci != "" && reUnlikely.MatchString(ci) && !reMaybe.MatchString(ci) && !hasAncestor(n, atom.Table) && !quoteWrapper(n) {
			return true
		}
	}
	return false
}

// countTag counts descendants with tag a, stopping at limit.
func countTag(n *html.Node, a atom.Atom, limit int) int {
	count := 0
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil && count < limit; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if c.DataAtom == a {
				count++
			}
			walk(c)
		}
	}
	walk(n)
	return count
}

func hasAncestor(n *html.Node, a atom.Atom) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.DataAtom == a {
			return true
		}
	}
	return false
}

// stats holds text measures of a subtree; lengths are in runes after white
// space collapsing.
type stats struct {
	text, link, commas int
	paras              int // <p> descendants
	anchors            int // <a> descendants
}

// measure fills st for every element below root in one post-order pass.
func measure(root *html.Node, st map[*html.Node]*stats) *stats {
	s := &stats{}
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			l, commas := textMeasure(c.Data)
			s.text += l
			s.commas += commas
		case html.ElementNode:
			cs := measure(c, st)
			s.text += cs.text
			s.commas += cs.commas
			s.paras += cs.paras
			s.anchors += cs.anchors
			if c.DataAtom == atom.A {
				s.link += cs.text
				s.anchors++
			} else {
				s.link += cs.link
			}
			if c.DataAtom == atom.P {
				s.paras++
			}
		}
	}
	st[root] = s
	return s
}

// textMeasure returns the collapsed length of a text node (each white-space
// run counts as one character) and its number of commas.
func textMeasure(s string) (int, int) {
	n, commas := 0, 0
	space := true
	for _, r := range s {
		if isSpace(r) {
			if !space {
				n++
			}
			space = true
			continue
		}
		space = false
		n++
		switch r {
		case ',', '，', '、', '،':
			commas++
		}
	}
	return n, commas
}

func linkDensity(s *stats) float64 {
	if s == nil || s.text == 0 {
		return 0
	}
	return float64(s.link) / float64(s.text)
}

func classWeight(n *html.Node, f flags) float64 {
	if f&flagWeightClasses == 0 {
		return 0
	}
	w := 0.0
	if c := strings.ToLower(attr(n, "class")); c != "" {
		if reNegative.MatchString(c) {
			w -= 25
		}
		if rePositive.MatchString(c) {
			w += 25
		}
	}
	if id := strings.ToLower(attr(n, "id")); id != "" {
		if reNegative.MatchString(id) {
			w -= 25
		}
		if rePositive.MatchString(id) {
			w += 25
		}
	}
	return w
}

func tagScore(a atom.Atom) float64 {
	switch a {
	case atom.Div, atom.Article, atom.Section, atom.Main:
		return 5
	case atom.Pre, atom.Td, atom.Blockquote:
		return 3
	case atom.Address, atom.Ol, atom.Ul, atom.Dl, atom.Dd, atom.Dt, atom.Li, atom.Form:
		return -3
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Th:
		return -5
	}
	return 0
}

type scorer struct {
	f      flags
	st     map[*html.Node]*stats
	scores map[*html.Node]float64
	order  []*html.Node // scored nodes in first-touched order, for determinism
}

func (s *scorer) init(n *html.Node) {
	if _, ok := s.scores[n]; ok {
		return
	}
	s.scores[n] = tagScore(n.DataAtom) + classWeight(n, s.f)
	s.order = append(s.order, n)
}

// hasBlockChild reports whether n has an element child that starts a block.
func hasBlockChild(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && isBlock(c.DataAtom) {
			return true
		}
	}
	return false
}

// inlineText measures the text of n's direct inline content: text nodes and
// non-block children, skipping block children.
func (s *scorer) inlineText(n *html.Node) (length, commas int) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			l, cm := textMeasure(c.Data)
			length += l
			commas += cm
		case html.ElementNode:
			if !isBlock(c.DataAtom) {
				if cs := s.st[c]; cs != nil {
					length += cs.text
					commas += cs.commas
				}
			}
		}
	}
	return
}

// score credits every paragraph-like block to its ancestors.
func (s *scorer) score(root *html.Node) {
	defer func() {
		if len(s.order) == 0 && !hasBlockChild(root) {
			// A bare text document: the body itself is the paragraph.
			if st := s.st[root]; st != nil {
				s.creditFrom(root, 0, st.text, st.commas)
			}
		}
	}()
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			switch c.DataAtom {
			case atom.P, atom.Pre, atom.Td, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
				cs := s.st[c]
				s.credit(c, cs.text, cs.commas)
				if c.DataAtom == atom.Td {
					walk(c)
				}
				continue
			case atom.Div, atom.Section, atom.Article, atom.Main, atom.Span, atom.Font, atom.Center, atom.Blockquote, 0:
				if !hasBlockChild(c) {
					cs := s.st[c]
					if c.DataAtom == atom.Span || c.DataAtom == atom.Font || c.DataAtom == 0 {
						// Inline wrappers only count when their parent
						// is not already being credited as a block.
						if isBlock(n.DataAtom) && !hasBlockChild(n) {
							continue
						}
					}
					s.credit(c, cs.text, cs.commas)
					continue
				}
				// Mixed content: text runs directly inside a block
				// container are paragraphs whose parent is the container.
				if l, cm := s.inlineText(c); l >= 25 {
					s.creditFrom(c, 0, l, cm)
				}
			}
			walk(c)
		}
	}
	walk(root)
}

func (s *scorer) credit(p *html.Node, length, commas int) {
	if p.Parent == nil {
		return
	}
	s.creditFrom(p.Parent, 0, length, commas)
}

// creditFrom adds a paragraph's score to anc and up to four more ancestors,
// decaying with distance as readability does.
func (s *scorer) creditFrom(anc *html.Node, _ int, length, commas int) {
	if length < 25 {
		return
	}
	score := 1 + float64(commas) + min(float64(length/100), 3)
	level := 0
	for a := anc; a != nil && a.Type == html.ElementNode && level < 5; a = a.Parent {
		if a.DataAtom == atom.Html {
			break
		}
		s.init(a)
		div := 1.0
		switch {
		case level == 1:
			div = 2
		case level > 1:
			div = float64(level * 3)
		}
		s.scores[a] += score / div
		level++
	}
}

func (s *scorer) final(n *html.Node) float64 {
	return s.scores[n] * (1 - linkDensity(s.st[n]))
}

// pick returns the chosen content nodes in document order.
func (s *scorer) pick(body *html.Node) []*html.Node {
	const nTop = 5
	var top []*html.Node
	for _, n := range s.order {
		fs := s.final(n)
		for i := 0; i <= len(top) && i < nTop; i++ {
			if i == len(top) || fs > s.final(top[i]) {
				top = append(top, nil)
				copy(top[i+1:], top[i:])
				top[i] = n
				break
			}
		}
		if len(top) > nTop {
			top = top[:nTop]
		}
	}
	if len(top) == 0 {
		// Nothing looked like a paragraph: no article on this page.
		return nil
	}
	if top[0] == body {
		return []*html.Node{body}
	}
	best := top[0]
	bestScore := s.final(best)

	// When several near-best candidates share an ancestor, the story is
	// split into sibling blocks and the ancestor is the real container.
	var alts []*html.Node
	for _, t := range top[1:] {
		if s.final(t) >= 0.75*bestScore {
			alts = append(alts, t)
		}
	}
	if len(alts) >= 3 {
		for p := best.Parent; p != nil && p != body && p.DataAtom != atom.Html; p = p.Parent {
			contains := 0
			for _, a := range alts {
				if isAncestor(p, a) {
					contains++
				}
			}
			if contains >= 3 {
				best = p
				break
			}
		}
	}
	if _, ok := s.scores[best]; !ok {
		s.init(best)
	}

	// Climb while the parent scores better; readability's heuristic for
	// containers whose paragraphs sit one level deeper than expected.
	last := s.final(best)
	threshold := last / 3
	for p := best.Parent; p != nil && p != body && p.DataAtom != atom.Html; p = p.Parent {
		ps, ok := s.scores[p]
		if !ok {
			continue
		}
		fs := ps * (1 - linkDensity(s.st[p]))
		if fs < threshold {
			break
		}
		if fs > last {
			best = p
			break
		}
		last = fs
	}
	for best.Parent != nil && best.Parent != body && best.Parent.DataAtom != atom.Html && onlyElementChild(best) {
		best = best.Parent
	}

	// Siblings that score well, or look like story paragraphs, belong to
	// the story too (split containers, paragraphs outside the main div).
	parent := best.Parent
	if parent == nil {
		return []*html.Node{best}
	}
	bestScore = s.final(best)
	thr := max(10, bestScore*0.2)
	bestClass := attr(best, "class")
	if twins := s.twins(best, thr); len(twins) > 0 {
		// The story is chunked into same-class blocks under different
		// parents (grid rows with ads between them): keep every chunk
		// that scores, in document order, and nothing between them.
		return twins
	}
	var out []*html.Node
	for c := parent.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		if c == best {
			out = append(out, c)
			continue
		}
		bonus := 0.0
		if bestClass != "" && attr(c, "class") == bestClass {
			bonus = bestScore * 0.2
			if cs := s.st[c]; cs != nil && cs.paras >= 3 && cs.text >= 300 && linkDensity(cs) < 0.2 {
				// A same-class sibling whose paragraphs sit too deep
				// to be credited to it (the first chunk of a story
				// wrapped differently) is still part of the story.
				out = append(out, c)
				continue
			}
		}
		if sc, ok := s.scores[c]; ok && sc*(1-linkDensity(s.st[c]))+bonus >= thr {
			out = append(out, c)
			continue
		}
		if c.DataAtom == atom.P {
			cs := s.st[c]
			ld := linkDensity(cs)
			if cs.text > 80 && ld < 0.25 {
				out = append(out, c)
			} else if cs.text > 0 && cs.text <= 80 && ld == 0 && rePunctEnd.MatchString(nodeText(c)) {
				out = append(out, c)
			}
		}
	}
	return out
}

func onlyElementChild(n *html.Node) bool {
	for c := n.Parent.FirstChild; c != nil; c = c.NextSibling {
		if c != n && c.Type == html.ElementNode {
			return false
		}
		if c.Type == html.TextNode && strings.TrimSpace(c.Data) != "" {
			return false
		}
	}
	return true
}

func isAncestor(a, n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p == a {
			return true
		}
	}
	return false
}

func findBody(root *html.Node) *html.Node {
	var found *html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil && found == nil; c = c.NextSibling {
			if c.Type == html.ElementNode {
				if c.DataAtom == atom.Body {
					found = c
					return
				}
				walk(c)
			}
		}
	}
	walk(root)
	if found == nil {
		return root
	}
	return found
}

// twins returns best and the scored elements elsewhere on the page that share
// its tag and class and score at least thr, in document order, when there
// are any; the story is then split into chunks that readability's sibling
// pass cannot see because their parents differ. Only chunks within a few
// levels of best count, so that a same-class block in another part of the
// page (a second story teaser) is not pulled in.
func (s *scorer) twins(best *html.Node, thr float64) []*html.Node {
	const maxUp = 2
	class := attr(best, "class")
	if class == "" {
		return nil
	}
	top := best
	for i := 0; i < maxUp && top.DataAtom != atom.Article && top.Parent != nil && top.Parent.Type == html.ElementNode && top.Parent.DataAtom != atom.Body && top.Parent.DataAtom != atom.Html; i++ {
		// Never leave the <article> holding best: a same-class block
		// beyond it belongs to another story.
		top = top.Parent
	}
	found := false
	for _, n := range s.order {
		if n == best || n.DataAtom != best.DataAtom || attr(n, "class") != class || n.Parent == best.Parent {
			continue
		}
		if s.final(n) < thr || !isAncestor(top, n) || isAncestor(best, n) || isAncestor(n, best) {
			continue
		}
		found = true
		break
	}
	if !found {
		return nil
	}
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if c == best || (c.DataAtom == best.DataAtom && attr(c, "class") == class && s.final(c) >= thr) {
				out = append(out, c)
				continue
			}
			walk(c)
		}
	}
	walk(top)
	return out
}

// hasClass reports whether the class attribute value c has the token name.
func hasClass(c, name string) bool {
	for _, f := range strings.Fields(c) {
		if f == name {
			return true
		}
	}
	return false
}

// quoteWrapper reports an element (a "social-embed" box) that is little
// more than a blockquote of real text: an embedded post the story quotes.
func quoteWrapper(n *html.Node) bool {
	var q *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		for c := n.FirstChild; c != nil && q == nil; c = c.NextSibling {
			if c.Type == html.ElementNode {
				if c.DataAtom == atom.Blockquote {
					q = c
					return
				}
				find(c)
			}
		}
	}
	if n.DataAtom != atom.Blockquote {
		find(n)
	}
	if q == nil {
		return false
	}
	ql := runeLen(nodeText(q))
	return ql >= 60 && 10*ql >= 8*runeLen(nodeText(n))
}
