package extract

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

var (
	// Paragraphs that may be story text but never make a good lead.
	reNotLead = regexp.MustCompile(`(?i)^(correction|clarification|editor'?s note|update|updated|note|disclosure|disclaimer|this (article|story|post|content) (was|has been|is|contains|first)|(an earlier|a previous) version of this|sign up|subscribe|get (our|the)|join (our|the)|follow (us|@)|listen to|watch|read more|click|download|advertisement|(photo|image|video|graphic|illustration)s?\b|related|more:|see also|warning:|trigger warning)|(appeared first on|has been compensated|(is|was) sponsored by|#ad\b|affiliate (link|commission)|is a (registered )?trademark|all rights reserved|newsletter|sign up (here|now|for)|subscribe (now|today|here))`)
	// Sentence-ending abbreviations that are not sentence ends.
	abbrevs = map[string]bool{
		"mr": true, "mrs": true, "ms": true, "dr": true, "st": true, "jr": true, "sr": true,
		"gov": true, "sen": true, "rep": true, "gen": true, "lt": true, "col": true, "sgt": true,
		"capt": true, "prof": true, "inc": true, "corp": true, "co": true, "ltd": true, "vs": true,
		"no": true, "jan": true, "feb": true, "mar": true, "apr": true, "aug": true, "sep": true,
		"sept": true, "oct": true, "nov": true, "dec": true, "mt": true, "ft": true, "rev": true,
		"u.s": true, "u.k": true, "e.g": true, "i.e": true, "etc": true, "approx": true, "dept": true,
		"est": true, "fig": true, "hon": true, "messrs": true, "mx": true, "pres": true, "supt": true,
	}
)

// leadOK reports whether a body paragraph can open the lead.
func leadOK(p para) bool {
	if p.heading || p.item {
		return false
	}
	l := runeLen(p.text)
	if l < 40 {
		return false
	}
	if reNotLead.MatchString(p.text) || reCaptionish.MatchString(p.text) {
		return false
	}
	if l < 150 && (reDateLine.MatchString(p.text) || reBylineLine.MatchString(p.text)) {
		return false
	}
	// A lead is prose: it has a sentence end somewhere.
	return strings.ContainsAny(p.text, ".!?。！？۔।؟")
}

// leadFromParas builds the lead from the first suitable paragraph, adding the
// next one while the total stays short.
func leadFromParas(ps []para, maxChars int) string {
	start := -1
	for i, p := range ps {
		if leadOK(p) {
			start = i
			break
		}
		// Only look near the top: a lead found deep in the body is
		// not the story's opening.
		if i >= 8 {
			break
		}
	}
	if start < 0 {
		return listLead(ps, maxChars)
	}
	lead := ps[start].text
	if runeLen(lead) < maxChars/2 && start+1 < len(ps) && leadOK(ps[start+1]) && runeLen(lead)+2+runeLen(ps[start+1].text) <= maxChars {
		lead += "\n\n" + ps[start+1].text
	}
	return cutLead(lead, maxChars)
}

// listLead opens a story told in lists (release notes, changelogs,
// calendars) with its first item, when no paragraph could be a lead.
func listLead(ps []para, maxChars int) string {
	for i, p := range ps {
		if i >= 12 {
			break
		}
		if !p.item || p.heading {
			continue
		}
		if l := runeLen(p.text); l >= 20 && !reNotLead.MatchString(p.text) && !reCaptionish.MatchString(p.text) {
			return cutLead(p.text, maxChars)
		}
	}
	return ""
}

// cutLead shortens s to at most maxChars runes, ending at a sentence end when
// one is reasonably close to the limit, else at a word boundary with "…".
func cutLead(s string, maxChars int) string {
	if maxChars <= 0 {
		maxChars = DefaultMaxLeadChars
	}
	s = strings.TrimSpace(s)
	if runeLen(s) <= maxChars {
		return s
	}
	// Byte offset of the rune limit.
	limit, n := len(s), 0
	for i := range s {
		if n == maxChars {
			limit = i
			break
		}
		n++
	}
	cut := s[:limit]
	if end := lastSentenceEnd(cut); end > 0 && end >= len(cut)/3 {
		return strings.TrimSpace(cut[:end])
	}
	if i := strings.LastIndexFunc(cut, unicode.IsSpace); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRightFunc(cut, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) + "…"
}

// lastSentenceEnd returns the byte offset just past the last sentence end in
// s, or 0. A period ends a sentence only before white space (or the end)
// and not after a known abbreviation or a single capital initial.
func lastSentenceEnd(s string) int {
	best := 0
	for i, r := range s {
		end := i + utf8.RuneLen(r)
		switch r {
		case '。', '！', '？', '۔', '।', '؟':
			best = end
			continue
		case '.', '!', '?', '…':
		default:
			continue
		}
		// Include closing quotes and brackets.
		j := end
		for j < len(s) {
			c, sz := utf8.DecodeRuneInString(s[j:])
			if c == '"' || c == '\'' || c == '”' || c == '’' || c == ')' || c == '»' {
				j += sz
				continue
			}
			break
		}
		if j < len(s) {
			c, _ := utf8.DecodeRuneInString(s[j:])
			if !unicode.IsSpace(c) {
				continue
			}
		}
		if r == '.' && isAbbrevBefore(s[:i]) {
			continue
		}
		best = j
	}
	return best
}

func isAbbrevBefore(s string) bool {
	i := strings.LastIndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '(' || r == '"' || r == '“' })
	word := s[i+1:]
	if i >= 0 {
		_, sz := utf8.DecodeRuneInString(s[i:])
		word = s[i+sz:]
	}
	if word == "" {
		return false
	}
	if utf8.RuneCountInString(word) == 1 {
		r, _ := utf8.DecodeRuneInString(word)
		return unicode.IsUpper(r)
	}
	return abbrevs[strings.ToLower(word)]
}

// LeadFromHTML turns feed-provided HTML (an RSS description, an Atom
// summary) into a clean plain-text lead of at most maxChars runes (0 means
// 600), dropping images, captions, "read more" links and sign-up lines, and
// cutting at a sentence end.
func LeadFromHTML(fragment string, maxChars int) string {
	if maxChars <= 0 {
		maxChars = DefaultMaxLeadChars
	}
	if strings.TrimSpace(fragment) == "" {
		return ""
	}
	// Descriptions are sometimes escaped twice; one unescape turns
	// "&lt;p&gt;" back into markup the parser understands.
	if !strings.Contains(fragment, "<") && strings.Contains(fragment, "&lt;") {
		fragment = html.UnescapeString(fragment)
	}
	ctx := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(fragment), ctx)
	if err != nil {
		return ""
	}
	holder := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	for _, n := range nodes {
		holder.AppendChild(n)
	}
	paras := emitNodes([]*html.Node{holder}, 0, "")
	var kept []para
	for _, p := range paras {
		if reNotLead.MatchString(p.text) && runeLen(p.text) < 200 {
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) == 0 {
		return ""
	}
	// Feed summaries are short and already the story's opening, so the
	// lead is not required to look like a full paragraph here.
	var b strings.Builder
	for _, p := range kept {
		if b.Len() > 0 {
			if runeLen(b.String())+2+runeLen(p.text) > maxChars {
				break
			}
			b.WriteString("\n\n")
		}
		b.WriteString(p.text)
	}
	if b.Len() == 0 {
		return cutLead(kept[0].text, maxChars)
	}
	return cutLead(b.String(), maxChars)
}
