package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/text/unicode/norm"
)

// maxTermBytes caps an indexed term so that a pasted URL or a run of
// digits cannot make a huge bbolt key; the query side truncates the same way,
// so a long word still finds itself.
const maxTermBytes = 64

// tokenizer turns text into index terms. It reuses a buffer, so each
// Add/Remove/Search makes its own.
type tokenizer struct {
	run []rune // the current CJK run, bigrammed when it ends
}

func newTokenizer() *tokenizer {
	return &tokenizer{}
}

// emitFunc receives the terms of a text in order. seq is false for the extra
// unigram that closes each CJK run: it is indexed so that a one-character
// query finds the run's last character, but it is no part of the word
// sequence that phrases are matched against.
type emitFunc func(term string, seq bool)

// tokenize splits text at Unicode word boundaries (UAX #29) after NFKC, so
// full-width Latin and half-width Katakana read as their ordinary forms.
// Words are case folded and stripped of Latin/Greek/Cyrillic diacritics;
// apostrophes split a word ("Biden's" is "biden", "s"; "l'État" is "l",
// "etat") because a reader searching "biden" means the possessive too.
// Han, Hiragana, Katakana and Hangul have no spaces (Korean has particles
// glued to words), so their runs are indexed as overlapping bigrams.
func (t *tokenizer) tokenize(text string, emit emitFunc) {
	if !isASCII(text) {
		text = norm.NFKC.String(text)
	}
	t.run = t.run[:0]
	// Whitespace-separated fields that are pure ASCII (most of a news
	// text) take a segmenter that gives UAX #29's words for ASCII
	// (FuzzASCIIWords holds it to uniseg) at a fraction of the cost.
	for text != "" {
		i := 0
		for i < len(text) && isSpaceByte(text[i]) {
			i++
		}
		j := i
		ascii := true
		for j < len(text) && !isSpaceByte(text[j]) {
			if text[j] >= utf8.RuneSelf {
				ascii = false
			}
			j++
		}
		field := text[i:j]
		text = text[j:]
		if field == "" {
			continue
		}
		t.flushRun(emit) // whitespace ends a CJK run
		if ascii {
			asciiWords(field, func(w string) { t.word(w, emit) })
			continue
		}
		t.unicodeWords(field, emit)
	}
	t.flushRun(emit)
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// asciiWords calls fn with the UAX #29 words of an ASCII text that contain
// a letter or digit: runs of [A-Za-z0-9_], joined across one ':', '.' or
// '\” between letters (WB6, WB7) and one ',', ';', '.' or '\” between
// digits (WB11, WB12).
func asciiWords(s string, fn func(w string)) {
	i := 0
	for i < len(s) {
		if !isWordByte(s[i]) {
			i++
			continue
		}
		start := i
		alnum := false
		for {
			for i < len(s) && isWordByte(s[i]) {
				alnum = alnum || s[i] != '_'
				i++
			}
			if i+1 < len(s) && i > start {
				prev, c, next := s[i-1], s[i], s[i+1]
				if isLetterByte(prev) && isLetterByte(next) && (c == ':' || c == '.' || c == '\'') ||
					isDigitByte(prev) && isDigitByte(next) && (c == ',' || c == ';' || c == '.' || c == '\'') {
					i++
					continue
				}
			}
			break
		}
		if alnum {
			fn(s[start:i])
		}
	}
}

func isWordByte(c byte) bool   { return isLetterByte(c) || isDigitByte(c) || c == '_' }
func isLetterByte(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigitByte(c byte) bool  { return c >= '0' && c <= '9' }

// unicodeWords segments a field that has non-ASCII text with uniseg.
func (t *tokenizer) unicodeWords(text string, emit emitFunc) {
	state := -1
	for len(text) > 0 {
		var w string
		w, text, state = uniseg.FirstWordInString(text, state)
		r, _ := utf8.DecodeRuneInString(w)
		if isCJK(r) {
			for _, r := range w {
				if isCJK(r) {
					t.run = append(t.run, r)
				}
			}
			continue
		}
		t.flushRun(emit)
		if !hasAlnum(w) {
			continue
		}
		t.word(w, emit)
	}
}

// word emits one UAX #29 word, split at apostrophes.
func (t *tokenizer) word(w string, emit emitFunc) {
	if !strings.ContainsAny(w, "'’") {
		if term := t.normWord(w); term != "" {
			emit(term, true)
		}
		return
	}
	for _, part := range strings.FieldsFunc(w, func(r rune) bool { return r == '\'' || r == '’' }) {
		if term := t.normWord(part); term != "" {
			emit(term, true)
		}
	}
}

func (t *tokenizer) flushRun(emit emitFunc) {
	run := t.run
	switch {
	case len(run) == 0:
		return
	case len(run) == 1:
		emit(string(run), true)
	default:
		for i := 0; i+1 < len(run); i++ {
			emit(string(run[i:i+2]), true)
		}
		emit(string(run[len(run)-1:]), false)
	}
	t.run = t.run[:0]
}

// normWord folds case and diacritics. Periods inside a word of letters go
// ("U.S." and "US" are one term); between digits they stay ("3.5").
func (t *tokenizer) normWord(w string) string {
	if isASCII(w) {
		hasDigit, clean := false, true
		for i := 0; i < len(w); i++ {
			c := w[i]
			hasDigit = hasDigit || (c >= '0' && c <= '9')
			clean = clean && !(c >= 'A' && c <= 'Z') && c != '.' && c >= 0x20 && c != 0x7f
		}
		if clean {
			return truncate(w) // the common case: no copy
		}
		var b strings.Builder
		b.Grow(len(w))
		for i := 0; i < len(w); i++ {
			c := w[i]
			switch {
			case c >= 'A' && c <= 'Z':
				b.WriteByte(c + 'a' - 'A')
			case c == '.' && !hasDigit:
			case c < 0x20 || c == 0x7f:
			default:
				b.WriteByte(c)
			}
		}
		return truncate(b.String())
	}
	s := norm.NFD.String(strings.Map(foldCase, w))
	hasDigit := strings.ContainsFunc(s, unicode.IsDigit)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case isFoldedMark(r):
		case r == '.' && !hasDigit:
		case unicode.IsControl(r):
		default:
			if f, ok := letterFolds[r]; ok {
				b.WriteString(f)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return truncate(norm.NFC.String(b.String()))
}

// foldCase maps a letter to the lower case of its upper case, which folds
// σ/ς/Σ together and, unlike x/text's cases.Fold, is idempotent for
// Cherokee (found by FuzzTokenize).
func foldCase(r rune) rune {
	return unicode.ToLower(unicode.ToUpper(r))
}

// letterFolds are Latin letters that carry a "diacritic" NFD does not split
// off; a reader types them as their base letters.
var letterFolds = map[rune]string{
	'ß': "ss", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th", 'æ': "ae", 'œ': "oe", 'ı': "i", 'ħ': "h",
}

// isFoldedMark reports the combining marks that are diacritics over
// alphabetic letters. Marks of other scripts (Devanagari vowel signs, the
// Japanese voicing marks) change the letter, so they stay.
func isFoldedMark(r rune) bool {
	return (r >= 0x0300 && r <= 0x036F) || (r >= 0x1AB0 && r <= 0x1AFF) ||
		(r >= 0x1DC0 && r <= 0x1DFF) || (r >= 0x20D0 && r <= 0x20FF) ||
		(r >= 0xFE20 && r <= 0xFE2F)
}

func isCJK(r rune) bool {
	if r < 0x1100 {
		return false
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r) || r == 'ー'
}

func hasAlnum(w string) bool {
	for _, r := range w {
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func truncate(s string) string {
	if len(s) <= maxTermBytes {
		return s
	}
	i := maxTermBytes
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
