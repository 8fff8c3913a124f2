package rules

import (
	"fmt"
	"testing"

	"github.com/clipsheet/clipsheet/internal/model"
)

// BenchmarkApply is what rules cost each new item: one keyword rule (the
// baseline) against 100 rules of all kinds, so the report is the ratio of
// the two in one run.
func BenchmarkApply(b *testing.B) {
	lead := "A wind-driven wildfire tore through brushy hills north of Ventura on Tuesday, forcing more than 8,000 people to flee their homes as firefighters struggled to keep the flames from reaching neighborhoods along the coast."
	for _, n := range []int{1, 100} {
		var rs []Rule
		for i := range n {
			r := Rule{Name: fmt.Sprintf("r%d", i), Include: fmt.Sprintf("word%d, fire", i), Actions: Actions{Tags: []string{"t"}}, Enabled: true}
			switch i % 3 {
			case 1:
				r.Kind, r.Include = KindPhrase, fmt.Sprintf("city council %d, brushy hills", i)
			case 2:
				r.Kind, r.Include = KindRegexp, fmt.Sprintf(`\bword%d\b|wildfire`, i)
			}
			rs = append(rs, r)
		}
		cs, err := Compile(rs)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			for b.Loop() {
				it := &model.Item{Title: "Wind-driven wildfire forces thousands to flee in Southern California", Lead: lead,
					URL: "https://apnews.com/article/wildfire-ventura", Byline: "Associated Press", Status: model.StatusQueued}
				Apply(cs, it)
			}
		})
	}
}
