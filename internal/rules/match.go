package rules

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
)

// words splits s into case-folded words: runs of letters, digits and
// combining marks. Han, Hiragana, Katakana and Hangul characters are words
// of their own, since those scripts do not separate words by spaces; a
// pattern in them is then matched as a run of characters, which is what a
// reader of those scripts expects from a keyword.
func words(s string) []string {
	if s == "" {
		return nil
	}
	// Fold before splitting: folding can change a character's length
	// (ß -> ss), and the split must see the folded text.
	s = cases.Fold().String(s)
	var out []string
	start := -1
	for i, r := range s {
		switch {
		case ideographic(r):
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			out = append(out, string(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r):
			if start < 0 {
				start = i
			}
		default:
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

func ideographic(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// containsSeq reports whether the word sequence needle occurs in hay as
// consecutive words: "fire" matches "Fire at mill" but not "firefighters".
func containsSeq(hay, needle []string) bool {
	if len(needle) == 0 || len(needle) > len(hay) {
		return false
	}
outer:
	for i := 0; i+len(needle) <= len(hay); i++ {
		for j, w := range needle {
			if hay[i+j] != w {
				continue outer
			}
		}
		return true
	}
	return false
}

// terms splits a keyword or phrase pattern into its alternatives: commas or
// new lines separate them.
func terms(pattern string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(pattern, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
