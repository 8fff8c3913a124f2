package model

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on an item's short text fields. The desk refuses edits over them
// (curate) and the fetcher cuts what a feed or page supplies to them, so no
// one field can blow up the briefing and its public feeds.
const (
	MaxTitleChars  = 400
	MaxBylineChars = 200
	MaxTagChars    = 50
	MaxTags        = 20
)

// ClampLine shortens a one-line text to at most max characters (runes),
// cutting at the last word boundary that fits and marking the cut with
// "…". A text without a boundary in reach is cut mid-word.
func ClampLine(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	runes := []rune(s)
	keep := runes[:max-1] // room for the ellipsis
	cut := len(keep)
	if !boundary(runes[cut]) {
		for cut > 0 && !boundary(keep[cut-1]) {
			cut--
		}
	}
	out := strings.TrimRightFunc(string(keep[:cut]), boundary)
	if out == "" {
		out = string(keep)
	}
	return out + "…"
}

func boundary(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == ';' }
