package web

import (
	"html"
	"html/template"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
)

// richPolicy is what survives of HTML taken from a feed (an entry summary
// can end up as the lead): text formatting and http(s) links, nothing that
// runs, loads or styles. Links get rel="nofollow noreferrer", so the
// story's site learns nothing of the briefing; sanitizeRich adds noopener.
func richPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "b", "strong", "i", "em", "q", "blockquote", "ul", "ol", "li", "cite", "abbr", "sub", "sup")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https")
	p.AllowRelativeURLs(false)
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	return p
}

// policyRel is the only rel attribute richPolicy output can hold: feeds
// cannot set rel (it is not allowed), the policy adds exactly this, and in
// text a double quote is always escaped, so the string marks a link.
const (
	policyRel = ` rel="nofollow noreferrer"`
	outRel    = ` rel="nofollow noopener noreferrer"`
)

// sanitizeRich runs richPolicy and gives every kept link the same rel as
// our own outbound links. bluemonday adds noopener only together with
// target="_blank"; modern browsers imply it from noreferrer, older ones
// do not.
func (s *Server) sanitizeRich(v string) string {
	return strings.ReplaceAll(s.rich.Sanitize(v), policyRel, outRel)
}

// markupRe spots text that carries HTML tags or entities.
var markupRe = regexp.MustCompile(`<\s*/?\s*[a-zA-Z!][^>]*>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);`)

// leadHTML renders an excerpt. Plain text (the usual case: extraction
// yields text) becomes escaped paragraphs; text with markup, as some feed
// summaries have, goes through the sanitiser instead of being shown as
// tags or, worse, trusted.
func (s *Server) leadHTML(lead string) template.HTML {
	if markupRe.MatchString(lead) {
		// #nosec: the policy output is safe HTML by construction.
		return template.HTML(`<div class="lead">` + s.sanitizeRich(lead) + `</div>`)
	}
	var b strings.Builder
	for _, p := range paragraphs(lead) {
		b.WriteString(`<p class="lead">`)
		b.WriteString(html.EscapeString(p))
		b.WriteString("</p>")
	}
	return template.HTML(b.String())
}

// plainText strips any markup and decodes entities, for places that take
// text only (feed summaries, titles).
func (s *Server) plainText(v string) string {
	if !markupRe.MatchString(v) {
		return v
	}
	return strings.TrimSpace(html.UnescapeString(s.plain.Sanitize(v)))
}
