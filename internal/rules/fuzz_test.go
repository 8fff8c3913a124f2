package rules

import (
	"encoding/json"
	"errors"
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

// FuzzRuleJSON: any rule a client can send either fails validation with a
// ValidationError or compiles and runs on an item without panicking.
func FuzzRuleJSON(f *testing.F) {
	f.Add([]byte(`{"name":"Fire","include":"fire","actions":{"tags":["fire"]}}`))
	f.Add([]byte(`{"name":"x","scope":"source:AP","kind":"regexp","include":"^ap\\b","actions":{"status":"approve"}}`))
	f.Add([]byte(`{"name":"x","fields":["url","byline"],"kind":"phrase","exclude":"fire sale","actions":{"priority":3}}`))
	f.Add([]byte(`{"name":"","scope":"section:","fields":["body"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Rule
		if json.Unmarshal(data, &r) != nil {
			return
		}
		r.Normalize()
		err := r.Validate()
		if err != nil {
			var ve ValidationError
			if !errors.As(err, &ve) || len(ve) == 0 {
				t.Fatalf("Validate error %v is no ValidationError", err)
			}
			return
		}
		r.Enabled = true
		cs, err := Compile([]Rule{r})
		if err != nil || len(cs) != 1 {
			t.Fatalf("a valid rule does not compile: %v", err)
		}
		it := &model.Item{Title: r.Include, Lead: r.Exclude, URL: "https://example.org/" + r.Name, Source: "AP", Status: model.StatusQueued}
		Apply(cs, it)
	})
}
