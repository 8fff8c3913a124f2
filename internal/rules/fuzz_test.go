package rules

import (
	"testing"
	"unicode/utf8"

	"github.com/clipsheet/clipsheet/internal/model"
)

// FuzzMatch feeds arbitrary patterns and texts to the pattern compiler and
// the matcher: neither may panic, and a keyword or phrase pattern always
// matches its own text (the word splitting of pattern and text agree).
func FuzzMatch(f *testing.F) {
	for _, s := range [][3]string{
		{KindKeyword, "fire", "Fire at mill"},
		{KindPhrase, "city council", "The City Council"},
		{KindRegexp, `^breaking\b`, "Breaking news"},
		{KindKeyword, "火灾", "东京发生火灾"},
		{KindKeyword, "straße", "STRASSE"},
		{KindRegexp, "(", ""},
		{KindPhrase, ",,", "x"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, kind, pattern, text string) {
		m, err := compile(kind, pattern)
		if err != nil {
			return
		}
		tx := newText(&model.Item{Title: text, Lead: pattern})
		tx.match(m, []string{FieldHeadline})
		if kind == KindRegexp || !utf8.ValidString(pattern) {
			return
		}
		if !tx.match(m, []string{FieldLead}) {
			t.Errorf("%s pattern %q does not match itself", kind, pattern)
		}
	})
}
