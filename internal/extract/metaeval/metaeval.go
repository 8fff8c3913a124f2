// Package metaeval scores extracted article metadata (headline, byline,
// published date, publisher, lead) against hand-made labels. The bench
// module uses it to compare Clipsheet with its peers, and the extract tests
// use it to hold the achieved figures.
//
// Match rules, per field (each page scores 0 or 1):
//   - headline: equal after normalising (lower case, letters and digits only,
//     so quotes, dashes and spacing do not count);
//   - byline: the same set of names, each normalised the same way; names
//     are split on ",", ";", "&" and " and "; a page labelled with no person
//     counts only when nothing is predicted;
//   - published: the same calendar day, read in the offset each side carries
//     (a label "2019-11-19T23:30:00-05:00" wants the 19th, not the 20th in UTC);
//     a page labelled with no date counts only when none is predicted;
//   - publisher: equal after normalising and dropping a leading "the", to the
//     label or one of its accepted variants (publisher_also);
//   - lead: the predicted lead starts with the labelled first sentence (or an
//     accepted variant, lead_also), compared on its first 60 normalised
//     characters; a page labelled with no lead counts only when none is given.
package metaeval

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"
)

// Label is one labelled page.
type Label struct {
	Page          string   `json:"page"` // "shared:<corpus id>" or "local:<file under pages/>"
	URL           string   `json:"url"`
	Headline      string   `json:"headline"`
	Byline        []string `json:"byline"`
	Published     string   `json:"published"` // RFC 3339, or a date "2006-01-02", or a local time without offset; "" for none
	Publisher     string   `json:"publisher"`
	PublisherAlso []string `json:"publisher_also,omitempty"`
	Lead          string   `json:"lead"`
	LeadAlso      []string `json:"lead_also,omitempty"`
	Notes         string   `json:"notes"`
	Set           string   `json:"-"` // the labels file's name without .json
}

// Prediction is what one system extracted from a page.
type Prediction struct {
	Headline, Byline, Publisher, Lead string
	Published                         time.Time // zero: none
}

// Fields names the scored fields in table order.
var Fields = []string{"headline", "byline", "published", "publisher", "lead"}

// Result holds one page's 0/1 score per field, in Fields order.
type Result [5]bool

// LoadLabels reads every *.json file in dir (each a JSON array of Label),
// sorted by file name.
func LoadLabels(dir string) ([]Label, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("metaeval: list labels: %w", err)
	}
	sort.Strings(files)
	var all []Label
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("metaeval: read labels: %w", err)
		}
		var ls []Label
		if err := json.Unmarshal(b, &ls); err != nil {
			return nil, fmt.Errorf("metaeval: parse %s: %w", f, err)
		}
		for i := range ls {
			if ls[i].Page == "" {
				return nil, fmt.Errorf("metaeval: %s entry %d: no page", f, i)
			}
			ls[i].Set = strings.TrimSuffix(filepath.Base(f), ".json")
		}
		all = append(all, ls...)
	}
	return all, nil
}

// Score compares one prediction with its label.
func Score(l Label, p Prediction) Result {
	return Result{
		norm(p.Headline) != "" && norm(p.Headline) == norm(l.Headline),
		bylineMatch(l.Byline, p.Byline),
		dateMatch(l.Published, p.Published),
		publisherMatch(l, p.Publisher),
		leadMatch(l, p.Lead),
	}
}

// Totals adds up results field by field.
type Totals struct {
	N       int
	Correct [5]int
}

// Add counts one page.
func (t *Totals) Add(r Result) {
	t.N++
	for i, ok := range r {
		if ok {
			t.Correct[i]++
		}
	}
}

// Share is the fraction of pages right on field i.
func (t *Totals) Share(i int) float64 {
	if t.N == 0 {
		return 0
	}
	return float64(t.Correct[i]) / float64(t.N)
}

// Mean is the average of the five field shares.
func (t *Totals) Mean() float64 {
	s := 0.0
	for i := range Fields {
		s += t.Share(i)
	}
	return s / float64(len(Fields))
}

func norm(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// SplitNames splits a byline string into names.
func SplitNames(s string) []string {
	s = strings.NewReplacer(";", ",", "&", ",", " and ", ",", " AND ", ",").Replace(s)
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func bylineMatch(want []string, got string) bool {
	g := map[string]bool{}
	for _, n := range SplitNames(got) {
		if k := norm(n); k != "" {
			g[k] = true
		}
	}
	w := map[string]bool{}
	for _, n := range want {
		if k := norm(n); k != "" {
			w[k] = true
		}
	}
	if len(g) != len(w) {
		return false
	}
	for k := range w {
		if !g[k] {
			return false
		}
	}
	return true
}

// LabelDay is the calendar day a published label names, "" for none.
func LabelDay(s string) string {
	s = strings.TrimSpace(s)
	if len(s) < 10 {
		return ""
	}
	return s[:10]
}

func dateMatch(want string, got time.Time) bool {
	day := LabelDay(want)
	if day == "" {
		return got.IsZero()
	}
	return !got.IsZero() && got.Format("2006-01-02") == day
}

func publisherMatch(l Label, got string) bool {
	g := normPublisher(got)
	if g == "" {
		return false
	}
	for _, w := range append([]string{l.Publisher}, l.PublisherAlso...) {
		if normPublisher(w) == g {
			return true
		}
	}
	return false
}

func normPublisher(s string) string {
	s = strings.TrimSpace(strings.ToLower(s))
	s = strings.TrimPrefix(s, "the ")
	return norm(s)
}

func leadMatch(l Label, got string) bool {
	if l.Lead == "" {
		return strings.TrimSpace(got) == ""
	}
	g := norm(got)
	for _, w := range append([]string{l.Lead}, l.LeadAlso...) {
		nw := []rune(norm(w))
		if len(nw) > 60 {
			nw = nw[:60]
		}
		if len(nw) > 0 && strings.HasPrefix(g, string(nw)) {
			return true
		}
	}
	return false
}
