package search

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Query limits, so that one search cannot ask for unbounded work.
const (
	maxQueryBytes = 1024 // longer text is cut (at a rune boundary)
	maxClauses    = 32   // words, phrases and prefixes counted together
)

// ErrNoTerms means the query has nothing to look for: it is empty, only
// punctuation, or only exclusions.
var ErrNoTerms = errors.New("search: the query has no words to look for")

// Clause is one part of a parsed query: a word, a "quoted phrase" or a
// prefix*, each possibly excluded with a leading minus.
type Clause struct {
	// Terms are the clause's index terms in order. A word that the
	// tokenizer splits ("e-mail", "don't", a CJK word) has several and is
	// matched as a phrase, like a quoted one.
	Terms  []string
	Prefix bool // the last term is a prefix (word*)
	Not    bool // the clause excludes
}

// Phrase reports whether the clause needs its terms adjacent and in order.
func (c Clause) Phrase() bool { return len(c.Terms) > 1 }

// Parsed is a query after parsing: every positive clause must match and no
// excluded one may.
type Parsed struct {
	Clauses []Clause
}

// Parse reads query syntax: words (all must match), "quoted phrases",
// prefix* and -exclusion (-word, -"phrase", -prefix*). Words are folded as
// the index folds them. Syntax it cannot make sense of is read as words:
// an unclosed quote runs to the end, a lone * or - is ignored. It returns
// ErrNoTerms when nothing is left to look for.
func Parse(text string) (Parsed, error) {
	if len(text) > maxQueryBytes {
		text = truncateAt(text, maxQueryBytes)
	}
	tk := newTokenizer()
	var p Parsed
	for text != "" && len(p.Clauses) < maxClauses {
		text = strings.TrimLeftFunc(text, unicode.IsSpace)
		if text == "" {
			break
		}
		not := false
		if text[0] == '-' {
			not = true
			text = text[1:]
		}
		var raw string
		quoted := false
		if text != "" && text[0] == '"' {
			quoted = true
			end := strings.IndexByte(text[1:], '"')
			if end < 0 {
				raw, text = text[1:], ""
			} else {
				raw, text = text[1:1+end], text[2+end:]
			}
		} else {
			end := strings.IndexFunc(text, unicode.IsSpace)
			if end < 0 {
				end = len(text)
			}
			raw, text = text[:end], text[end:]
		}
		prefix := false
		if !quoted && strings.HasSuffix(raw, "*") {
			prefix = true
			raw = strings.TrimRight(raw, "*")
		}
		var terms []string
		tk.tokenize(raw, func(term string, seq bool) {
			if seq {
				terms = append(terms, term)
			}
		})
		if len(terms) == 0 {
			continue
		}
		if prefix && !endsInWordChar(raw) {
			prefix = false
		}
		// One CJK character is indexed only where it starts a bigram or
		// ends a run, so it is looked up as a prefix to find it anywhere.
		if r, n := utf8.DecodeRuneInString(terms[0]); len(terms) == 1 && n == len(terms[0]) && isCJK(r) {
			prefix = true
		}
		p.Clauses = append(p.Clauses, Clause{Terms: terms, Prefix: prefix, Not: not})
	}
	for _, c := range p.Clauses {
		if !c.Not {
			return p, nil
		}
	}
	return p, ErrNoTerms
}

// String writes the parsed query back in its syntax, with folded terms.
func (p Parsed) String() string {
	var b strings.Builder
	for i, c := range p.Clauses {
		if i > 0 {
			b.WriteByte(' ')
		}
		if c.Not {
			b.WriteByte('-')
		}
		if len(c.Terms) > 1 {
			b.WriteByte('"')
		}
		b.WriteString(strings.Join(c.Terms, " "))
		if len(c.Terms) > 1 {
			b.WriteByte('"')
		}
		if c.Prefix {
			b.WriteByte('*')
		}
	}
	return b.String()
}

func endsInWordChar(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

func truncateAt(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
