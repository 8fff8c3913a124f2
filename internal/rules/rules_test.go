package rules

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

func item(source, section, title, lead string) *model.Item {
	return &model.Item{ID: title, Source: source, Section: section, Title: title, Lead: lead,
		URL:    "https://example.org/news/" + strings.ReplaceAll(strings.ToLower(title), " ", "-"),
		Byline: "Ann Smith", Status: model.StatusQueued, FetchedAt: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
}

func prio(n int) *int { return &n }

func TestMatchWordsAndPhrases(t *testing.T) {
	cases := []struct {
		name, kind, pattern, text string
		want                      bool
	}{
		{"keyword whole word", KindKeyword, "fire", "Fire at the old mill", true},
		{"keyword not a substring", KindKeyword, "fire", "Firefighters praised", false},
		{"keyword not inside word", KindKeyword, "art", "Start of the season", false},
		{"keyword case-insensitive", KindKeyword, "FIRE", "a fire broke out", true},
		{"keyword list any", KindKeyword, "flood, storm", "Storm warning issued", true},
		{"keyword list none", KindKeyword, "flood, storm", "Sunny all week", false},
		{"keyword accented", KindKeyword, "élection", "Résultats de l'ÉLECTION", true},
		{"keyword case folding ß", KindKeyword, "straße", "STRASSE gesperrt", true},
		{"keyword punctuation", KindKeyword, "covid", "(COVID-19) figures", true},
		{"keyword digits", KindKeyword, "19", "COVID-19 figures", true},
		{"keyword cyrillic", KindKeyword, "пожар", "Крупный пожар в центре", true},
		{"keyword cjk run", KindKeyword, "火灾", "东京发生火灾三人受伤", true},
		{"keyword cjk absent", KindKeyword, "地震", "东京发生火灾三人受伤", false},
		{"phrase consecutive", KindPhrase, "city council", "The City Council met", true},
		{"phrase across punctuation", KindPhrase, "city council", "city, council", true},
		{"phrase not consecutive", KindPhrase, "city council", "city budget council", false},
		{"phrase not prefix", KindPhrase, "city council", "city councillors", false},
		{"regexp", KindRegexp, `\bfire(s|fighters?)?\b`, "Firefighters praised", true},
		{"regexp case-insensitive", KindRegexp, `^breaking:`, "BREAKING: news", true},
		{"regexp no match", KindRegexp, `^breaking:`, "not breaking: news", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := compile(c.kind, c.pattern)
			if err != nil {
				t.Fatal(err)
			}
			tx := newText(&model.Item{Title: c.text})
			if got := tx.match(m, []string{FieldHeadline}); got != c.want {
				t.Errorf("%s %q on %q = %v, want %v", c.kind, c.pattern, c.text, got, c.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := Rule{Name: "Fire", Include: "fire", Actions: Actions{Section: "Fire"}}
	cases := []struct {
		name   string
		edit   func(*Rule)
		field  string
		substr string
	}{
		{"no name", func(r *Rule) { r.Name = " " }, "name", "needs a name"},
		{"long name", func(r *Rule) { r.Name = strings.Repeat("x", MaxNameChars+1) }, "name", "at most"},
		{"bad scope", func(r *Rule) { r.Scope = "feed:x" }, "scope", "not global, source:NAME or section:NAME"},
		{"scope without name", func(r *Rule) { r.Scope = "source:" }, "scope", "names no source"},
		{"unknown field", func(r *Rule) { r.Fields = []string{"body"} }, "fields", `unknown field "body"`},
		{"no pattern", func(r *Rule) { r.Include = "" }, "include", "include or an exclude"},
		{"bad regexp", func(r *Rule) { r.Kind, r.Include = KindRegexp, "fire(" }, "include", "bad regexp: error parsing regexp: missing closing ): `fire(`"},
		{"regexp matches empty", func(r *Rule) { r.Kind, r.Include = KindRegexp, "x*" }, "include", "every item"},
		{"long regexp", func(r *Rule) { r.Kind, r.Include = KindRegexp, strings.Repeat("a", MaxRegexpChars+1) }, "include", "at most"},
		{"keyword with spaces", func(r *Rule) { r.Include = "city council" }, "include", "kind phrase"},
		{"pattern of punctuation", func(r *Rule) { r.Exclude = "--" }, "exclude", "no words"},
		{"unknown kind", func(r *Rule) { r.Kind = "glob" }, "include", `unknown kind "glob"`},
		{"no action", func(r *Rule) { r.Actions = Actions{} }, "actions", "does nothing"},
		{"global approve", func(r *Rule) { r.Actions.Status = ActionApprove }, "status", "trusted source"},
		{"unknown status", func(r *Rule) { r.Actions.Status = "publish" }, "status", "unknown status"},
		{"priority range", func(r *Rule) { r.Actions.Priority = prio(1000) }, "priority", "outside"},
		{"long tag", func(r *Rule) { r.Actions.Tags = []string{strings.Repeat("t", model.MaxTagChars+1)} }, "tags", "at most"},
	}
	good := ok
	good.Normalize()
	if err := good.Validate(); err != nil {
		t.Fatalf("valid rule refused: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ok
			r.Actions.Tags = slices.Clone(ok.Actions.Tags)
			c.edit(&r)
			r.Normalize()
			err := r.Validate()
			var ve ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a ValidationError", err)
			}
			for _, fe := range ve {
				if fe.Field == c.field && strings.Contains(fe.Msg, c.substr) {
					return
				}
			}
			t.Errorf("Validate = %v, want %s: ...%s...", err, c.field, c.substr)
		})
	}
}

func TestNormalizeDefaults(t *testing.T) {
	r := Rule{Name: " x ", Scope: " source: Wire ", Fields: []string{"Lead", "headline", "lead"}, Actions: Actions{Tags: []string{" a ", "a", ""}}}
	r.Normalize()
	if r.Name != "x" || r.Scope != "source:Wire" || r.Kind != KindKeyword ||
		!slices.Equal(r.Fields, []string{"headline", "lead"}) || !slices.Equal(r.Actions.Tags, []string{"a"}) {
		t.Errorf("normalized: %+v", r)
	}
	r = Rule{}
	r.Normalize()
	if r.Scope != "global" || !slices.Equal(r.Fields, []string{"headline", "lead"}) {
		t.Errorf("defaults: %+v", r)
	}
}

func compiled(t *testing.T, rs ...Rule) []*Compiled {
	t.Helper()
	for i := range rs {
		rs[i].Enabled = true
		rs[i].Normalize()
	}
	cs, err := Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestApply(t *testing.T) {
	fire := Rule{Name: "Fire words", Include: "fire, blaze", Actions: Actions{Section: "Fire", Tags: []string{"fire"}, Priority: prio(5)}}
	noSales := Rule{Name: "No sales", Kind: KindPhrase, Include: "fire sale", Actions: Actions{Status: ActionReject}}
	trusted := Rule{Name: "Trusted wire", Scope: "source:Wire", Include: "police", Actions: Actions{Status: ActionApprove}}
	localOnly := Rule{Name: "Local sport", Scope: "section:Sport", Exclude: "football", Fields: []string{"headline"}, Actions: Actions{Tags: []string{"other-sport"}}}
	byURL := Rule{Name: "Opinion URL", Fields: []string{"url"}, Include: "opinion", Actions: Actions{Priority: prio(-3)}}

	cases := []struct {
		name     string
		rules    []Rule
		it       *model.Item
		changed  bool
		status   model.Status
		section  string
		tags     []string
		priority int
		why      []string
	}{
		{"no match", []Rule{fire}, item("Post", "News", "Council meets", "Budget talks"), false,
			model.StatusQueued, "News", nil, 0, nil},
		{"section tag priority", []Rule{fire}, item("Post", "News", "Blaze at mill", ""), true,
			model.StatusQueued, "Fire", []string{"fire"}, 5, []string{"rule Fire words: section Fire, tagged fire, priority 5"}},
		{"match in lead", []Rule{fire}, item("Post", "News", "Mill closed", "after a fire overnight"), true,
			model.StatusQueued, "Fire", []string{"fire"}, 5, []string{"rule Fire words: section Fire, tagged fire, priority 5"}},
		{"reject", []Rule{fire, noSales}, item("Post", "News", "Fire sale at the mall", ""), true,
			model.StatusRejected, "Fire", []string{"fire"}, 5,
			[]string{"rule Fire words: section Fire, tagged fire, priority 5", "rule No sales: rejected"}},
		{"approve trusted source", []Rule{trusted}, item("Wire", "News", "Police appeal", ""), true,
			model.StatusApproved, "News", nil, 0, []string{"rule Trusted wire: approved"}},
		{"approve scope other source", []Rule{trusted}, item("Blog", "News", "Police appeal", ""), false,
			model.StatusQueued, "News", nil, 0, nil},
		{"reject beats approve whatever the order", []Rule{noSales, trusted, fire},
			item("Wire", "News", "Police probe fire sale", ""), true, model.StatusRejected, "Fire", []string{"fire"}, 5,
			[]string{"rule No sales: rejected", "rule Trusted wire: approval overruled by a rejecting rule",
				"rule Fire words: section Fire, tagged fire, priority 5"}},
		{"exclude only, in scope", []Rule{localOnly}, item("Post", "Sport", "Rowing club wins", ""), true,
			model.StatusQueued, "Sport", []string{"other-sport"}, 0, []string{"rule Local sport: tagged other-sport"}},
		{"exclude only, excluded", []Rule{localOnly}, item("Post", "Sport", "Football final", ""), false,
			model.StatusQueued, "Sport", nil, 0, nil},
		{"section scope uses arrival section", []Rule{fire, localOnly}, item("Post", "Sport", "Blaze at stadium", ""), true,
			model.StatusQueued, "Fire", []string{"fire", "other-sport"}, 5,
			[]string{"rule Fire words: section Fire, tagged fire, priority 5", "rule Local sport: tagged other-sport"}},
		{"url field", []Rule{byURL}, &model.Item{Title: "Why we are right", URL: "https://example.org/Opinion/123", Status: model.StatusQueued}, true,
			model.StatusQueued, "", nil, -3, []string{"rule Opinion URL: priority -3"}},
		{"decided item keeps its status", []Rule{noSales},
			func() *model.Item {
				it := item("Post", "News", "Fire sale", "")
				it.Status = model.StatusApproved
				return it
			}(), true,
			model.StatusApproved, "News", nil, 0, []string{"rule No sales: left approved (decided before)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := slices.Clone(c.rules)
			for i := range rs {
				rs[i].Actions.Tags = slices.Clone(rs[i].Actions.Tags)
			}
			changed := Apply(compiled(t, rs...), c.it)
			if changed != c.changed || c.it.Status != c.status || c.it.Section != c.section ||
				!slices.Equal(c.it.Tags, c.tags) || c.it.Priority != c.priority || !slices.Equal(c.it.Why, c.why) {
				t.Errorf("got changed=%v status=%s section=%q tags=%q priority=%d why=%q\nwant changed=%v status=%s section=%q tags=%q priority=%d why=%q",
					changed, c.it.Status, c.it.Section, c.it.Tags, c.it.Priority, c.it.Why,
					c.changed, c.status, c.section, c.tags, c.priority, c.why)
			}
			if c.it.Status != model.StatusQueued && c.status != model.StatusApproved && !strings.HasPrefix(c.it.DecidedBy, "rule:") && c.name != "decided item keeps its status" {
				t.Errorf("decided by %q, want the rule", c.it.DecidedBy)
			}
		})
	}
}

func TestCompileSkipsDisabledAndReportsBad(t *testing.T) {
	good := Rule{Name: "a", Include: "x", Actions: Actions{Tags: []string{"x"}}, Enabled: true}
	off := good
	off.Name, off.Enabled = "off", false
	bad := Rule{Name: "bad", Kind: KindRegexp, Include: "(", Actions: Actions{Tags: []string{"x"}}, Enabled: true}
	cs, err := Compile([]Rule{good, off, bad})
	if len(cs) != 1 || cs[0].Name != "a" {
		t.Errorf("compiled %d rules, want only a", len(cs))
	}
	if err == nil || !strings.Contains(err.Error(), `rule "bad"`) {
		t.Errorf("err = %v, want one naming rule bad", err)
	}
}

func TestTestSummary(t *testing.T) {
	items := []*model.Item{
		item("Post", "News", "Fire at mill", ""),
		item("Post", "News", "Blaze downtown", ""),
		item("Post", "News", "Fire sale", ""),
		item("Post", "News", "Council budget", ""),
	}
	items[1].Status = model.StatusApproved
	items[2].Status = model.StatusRejected
	before := *items[0]
	r := Rule{Name: "Fire", Include: "fire, blaze", Actions: Actions{Status: ActionReject}}
	r.Normalize()
	s, err := Test([]Rule{r}, items)
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Checked: 4, Matched: 3, Approved: 1, Rejected: 1, Queued: 1, WouldReject: 3,
		Examples: []string{"Fire at mill", "Blaze downtown", "Fire sale"}}
	if s.Checked != want.Checked || s.Matched != want.Matched || s.Approved != want.Approved || s.Rejected != want.Rejected ||
		s.Queued != want.Queued || s.WouldReject != want.WouldReject || !slices.Equal(s.Examples, want.Examples) {
		t.Errorf("summary = %+v, want %+v", s, want)
	}
	if items[0].Status != before.Status || len(items[0].Why) != 0 {
		t.Errorf("Test changed the item: %+v", items[0])
	}
	bad := Rule{Name: "bad", Kind: KindRegexp, Include: "(", Actions: Actions{Tags: []string{"x"}}}
	if _, err := Test([]Rule{bad}, items); err == nil {
		t.Error("Test of an invalid rule gave no error")
	}
}

func TestActionsString(t *testing.T) {
	a := Actions{Section: "Fire", Tags: []string{"fire", "local"}, Priority: prio(-2), Status: ActionReject}
	if got := a.String(); got != "section Fire; tag fire, local; priority -2; reject" {
		t.Errorf("String = %q", got)
	}
	if got := (Actions{}).String(); got != "" {
		t.Errorf("empty String = %q", got)
	}
}
