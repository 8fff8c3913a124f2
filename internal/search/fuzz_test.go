package search

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

var fuzzSeeds = []string{
	"Flood warning for Lower Saxony",
	`"state of emergency" gov* -sport -"red card"`,
	"Crème brûlée, São Paulo's cafés; Łódź, Straße",
	"東京都で震度4の地震 서울에서 화재 ｶﾀｶﾅ",
	"U.S. 3.5% e-mail don’t — ‘quoted’ \"x",
	"-* \"\" - * ** -\"",
	"\x00\xff\xfe invalid \u200b\u0301 zero-width",
	strings.Repeat("a", 200) + " " + strings.Repeat("語", 50),
}

// FuzzTokenize: every term is valid UTF-8, non-empty, short enough for a
// key, free of the key separator, and a term read back as text is itself.
func FuzzTokenize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tk := newTokenizer()
		var terms []string
		tk.tokenize(text, func(term string, seq bool) {
			if term == "" || len(term) > maxTermBytes || !utf8.ValidString(term) || strings.IndexByte(term, 0) >= 0 {
				t.Fatalf("tokenize(%q) gave bad term %q", text, term)
			}
			if seq {
				terms = append(terms, term)
			}
		})
		for _, term := range terms {
			var again []string
			tk.tokenize(term, func(t string, seq bool) {
				if seq {
					again = append(again, t)
				}
			})
			if !slices.Equal(again, []string{term}) {
				t.Fatalf("term %q of %q tokenizes to %q", term, text, again)
			}
		}
	})
}

// FuzzParse: any text parses without panic into bounded clauses of valid
// terms, and an error only when nothing positive is left.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := Parse(text)
		if len(p.Clauses) > maxClauses {
			t.Fatalf("Parse(%q) gave %d clauses", text, len(p.Clauses))
		}
		positive := false
		for _, c := range p.Clauses {
			if len(c.Terms) == 0 {
				t.Fatalf("Parse(%q) gave an empty clause", text)
			}
			for _, term := range c.Terms {
				if term == "" || len(term) > maxTermBytes || !utf8.ValidString(term) || strings.IndexByte(term, 0) >= 0 {
					t.Fatalf("Parse(%q) gave bad term %q", text, term)
				}
			}
			positive = positive || !c.Not
		}
		if (err == nil) != positive {
			t.Fatalf("Parse(%q) error %v with positive clauses %v", text, err, positive)
		}
	})
}

// FuzzASCIIWords holds the ASCII fast path to uniseg: for any ASCII text
// both give the same words (those with a letter or digit).
func FuzzASCIIWords(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Add("a:b a.b a'b 1,2 1;2 1.2 1'2 a_b _a_ a..b 1,,2 a.1 1.a x:1")
	f.Fuzz(func(t *testing.T, text string) {
		b := []byte(text)
		for i := range b {
			b[i] &= 0x7f
		}
		text = string(b)
		var want, got []string
		state := -1
		for rest := text; rest != ""; {
			var w string
			w, rest, state = uniseg.FirstWordInString(rest, state)
			if hasAlnum(w) {
				want = append(want, w)
			}
		}
		for _, field := range strings.FieldsFunc(text, func(r rune) bool { return r < utf8.RuneSelf && isSpaceByte(byte(r)) }) {
			asciiWords(field, func(w string) { got = append(got, w) })
		}
		if !slices.Equal(got, want) {
			t.Fatalf("ASCII words of %q: fast path %q, uniseg %q", text, got, want)
		}
	})
}
