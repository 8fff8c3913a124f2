package fetch

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/rules"
)

// TestRulesAppliedBeforeStoring: the store's rules act on new items as
// they are stored (section, tag, priority, rejection, each with its Why
// line); a rule that no longer compiles is skipped and a store that cannot
// list rules loses no items.
func TestRulesAppliedBeforeStoring(t *testing.T) {
	site := newNewsSite(t, []testEntry{
		{Path: "/news/fire-at-mill", Title: "a"},
		{Path: "/news/fire-sale", Title: "b"},
		{Path: "/news/council", Title: "c"},
	})
	f, st := newTestFetcher(t, testConfig())
	ctx := context.Background()
	five := 5
	for _, r := range []rules.Rule{
		{Name: "Fire words", Include: "fire", Actions: rules.Actions{Section: "Fire", Tags: []string{"fire"}, Priority: &five}, Enabled: true},
		{Name: "No sales", Kind: rules.KindPhrase, Include: "fire sale", Actions: rules.Actions{Status: rules.ActionReject}, Enabled: true},
		{Name: "Off", Include: "council", Actions: rules.Actions{Status: rules.ActionReject}},
		{Name: "Broken", Kind: rules.KindRegexp, Include: "(", Actions: rules.Actions{Tags: []string{"x"}}, Enabled: true},
	} {
		r.Normalize()
		if _, err := st.PutRule(ctx, r, 0); err != nil {
			t.Fatal(err)
		}
	}
	f.UseRules(st.ListRules)
	r := resultFor(t, f.PollOnce(ctx, sourcesFile(feedSource("gazette", site.URL+"/feed.xml"))), "gazette")
	if r.Err != nil || r.NewItems != 3 {
		t.Fatalf("result %+v", r)
	}
	byURL := map[string]*model.Item{}
	for _, it := range listItems(t, st, "gazette") {
		byURL[it.URL] = it
	}
	mill, sale, council := byURL[site.URL+"/news/fire-at-mill"], byURL[site.URL+"/news/fire-sale"], byURL[site.URL+"/news/council"]
	if mill == nil || sale == nil || council == nil {
		t.Fatalf("items: %v", byURL)
	}
	if mill.Section != "Fire" || mill.Priority != 5 || !slices.Equal(mill.Tags, []string{"fire"}) || mill.Status != model.StatusQueued ||
		!slices.Equal(mill.Why, []string{"rule Fire words: section Fire, tagged fire, priority 5"}) {
		t.Errorf("mill: section %q priority %d tags %q status %s why %q", mill.Section, mill.Priority, mill.Tags, mill.Status, mill.Why)
	}
	if sale.Status != model.StatusRejected || sale.DecidedBy != "rule:No sales" || len(sale.Why) != 2 || sale.Why[1] != "rule No sales: rejected" {
		t.Errorf("sale: status %s by %q why %q", sale.Status, sale.DecidedBy, sale.Why)
	}
	if council.Status != model.StatusQueued || council.Section != "Top" || len(council.Why) != 0 {
		t.Errorf("council (disabled rule only): status %s section %q why %q", council.Status, council.Section, council.Why)
	}

	// A store that cannot list rules: items still arrive, untouched.
	site2 := newNewsSite(t, []testEntry{{Path: "/news/fire-two", Title: "d"}})
	f.UseRules(func(context.Context) ([]rules.Rule, error) { return nil, errors.New("disk on fire") })
	r = resultFor(t, f.PollOnce(ctx, sourcesFile(feedSource("other", site2.URL+"/feed.xml"))), "other")
	if r.Err != nil || r.NewItems != 1 {
		t.Fatalf("result without rules %+v", r)
	}
	if it := listItems(t, st, "other")[0]; it.Section != "Top" || len(it.Why) != 0 {
		t.Errorf("item stored without rules: section %q why %q", it.Section, it.Why)
	}
}
