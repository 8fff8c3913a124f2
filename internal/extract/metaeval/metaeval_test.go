package metaeval

import (
	"testing"
	"time"
)

func TestScore(t *testing.T) {
	ny := time.FixedZone("", -5*3600)
	l := Label{
		Headline: "‘We had some issues,’ exec says", Byline: []string{"Jane Doe", "Tom O'Neill"},
		Published: "2019-11-19T23:30:00-05:00", Publisher: "The Wall Street Journal", PublisherAlso: []string{"WSJ"},
		Lead: "Gaming used to be so simple.", LeadAlso: []string{"A standfirst."},
	}
	tests := []struct {
		name string
		p    Prediction
		want Result
	}{
		{"all right, other punctuation and case", Prediction{
			Headline: "'We had some issues,' exec says", Byline: "Tom O’Neill and JANE DOE",
			Published: time.Date(2019, 11, 19, 23, 30, 0, 0, ny), Publisher: "wsj", Lead: "Gaming used to be so simple. We'd buy a game.",
		}, Result{true, true, true, true, true}},
		{"UTC day differs, one name missing, platform, standfirst variant", Prediction{
			Headline: "We had some issues", Byline: "Jane Doe",
			Published: time.Date(2019, 11, 20, 4, 30, 0, 0, time.UTC), Publisher: "Medium", Lead: "A standfirst. Then the story.",
		}, Result{false, false, false, false, true}},
		{"nothing", Prediction{}, Result{false, false, false, false, false}},
	}
	for _, tt := range tests {
		if got := Score(l, tt.p); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	empty := Label{Headline: "x", Byline: nil, Published: "", Publisher: "x", Lead: ""}
	if got := Score(empty, Prediction{Headline: "x", Publisher: "x"}); got != (Result{true, true, true, true, true}) {
		t.Errorf("a page labelled with no byline, date or lead counts when none is predicted: %v", got)
	}
	if got := Score(empty, Prediction{Headline: "x", Publisher: "x", Byline: "Reuters", Published: time.Now(), Lead: "Text."}); got[1] || got[2] || got[4] {
		t.Errorf("predicting what the page does not have is wrong: %v", got)
	}
}

func TestTotals(t *testing.T) {
	var tot Totals
	tot.Add(Result{true, true, false, true, false})
	tot.Add(Result{true, false, false, true, true})
	if tot.Share(0) != 1 || tot.Share(1) != 0.5 || tot.Share(2) != 0 || tot.Mean() != 0.6 {
		t.Errorf("shares %v %v %v mean %v", tot.Share(0), tot.Share(1), tot.Share(2), tot.Mean())
	}
}
