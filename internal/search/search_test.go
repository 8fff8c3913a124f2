package search

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want string // seq terms joined by |; extra (non-seq) terms in []
	}{
		{"Flood warning for Lower Saxony", "flood|warning|for|lower|saxony"},
		{"Crème brûlée in São Paulo", "creme|brulee|in|sao|paulo"},
		{"STRASSE Straße", "strasse|strasse"},
		{"Ｆｕｌｌｗｉｄｔｈ ＡＢＣ", "fullwidth|abc"},
		{"Biden's plan, l'État", "biden|s|plan|l|etat"},
		{"Biden’s plan", "biden|s|plan"},
		{"U.S. forces and 3.5 percent", "us|forces|and|3.5|percent"},
		{"Łódź and Øresund", "lodz|and|oresund"},
		{"東京都知事", "東京|京都|都知|知事|[事]"},
		{"地震 発生", "地震|[震]|発生|[生]"},
		{"日", "日"},
		{"서울에서 화재", "서울|울에|에서|[서]|화재|[재]"},
		{"ｶﾀｶﾅ", "カタ|タカ|カナ|[ナ]"},
		{"Ελλάδα Москва", "ελλαδα|москва"},
		{"हिन्दी", "हिन्दी"},
		{"e-mail — !!! 2024", "e|mail|2024"},
		{"", ""},
	}
	tk := newTokenizer()
	for _, tt := range tests {
		var got []string
		tk.tokenize(tt.in, func(term string, seq bool) {
			if !seq {
				term = "[" + term + "]"
			}
			got = append(got, term)
		})
		if g := strings.Join(got, "|"); g != tt.want {
			t.Errorf("tokenize(%q) = %q, want %q", tt.in, g, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{`flood warning`, `flood warning`, nil},
		{`"state of emergency" Flood`, `"state of emergency" flood`, nil},
		{`gov* -sport -"red card" -tes*`, `gov* -sport -"red card" -tes*`, nil},
		{`"unclosed phrase`, `"unclosed phrase"`, nil},
		{`e-mail`, `"e mail"`, nil},
		{`東京都`, `"東京 京都"`, nil},
		{`東`, `東*`, nil},
		{`* - "" !!!`, ``, ErrNoTerms},
		{`-only -excluded`, `-only -excluded`, ErrNoTerms},
		{``, ``, ErrNoTerms},
	}
	for _, tt := range tests {
		p, err := Parse(tt.in)
		if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("Parse(%q) error %v, want %v", tt.in, err, tt.err)
		}
		if got := p.String(); got != tt.want {
			t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// testIndex is a real bbolt file with an index and the docs kept beside it
// in memory, as the store keeps its items.
type testIndex struct {
	t    testing.TB
	path string
	db   *bolt.DB
	docs map[uint64]Doc
}

func newTestIndex(t testing.TB) *testIndex {
	t.Helper()
	ix := &testIndex{t: t, path: filepath.Join(t.TempDir(), "search.db"), docs: map[uint64]Doc{}}
	ix.open()
	t.Cleanup(func() { _ = ix.db.Close() })
	return ix
}

func (ix *testIndex) open() {
	ix.t.Helper()
	db, err := bolt.Open(ix.path, 0o600, nil)
	if err != nil {
		ix.t.Fatal(err)
	}
	ix.db = db
}

func (ix *testIndex) reopen() {
	ix.t.Helper()
	if err := ix.db.Close(); err != nil {
		ix.t.Fatal(err)
	}
	ix.open()
}

func (ix *testIndex) add(ref uint64, d Doc) {
	ix.t.Helper()
	if err := ix.db.Update(func(tx *bolt.Tx) error { return Add(tx, ref, d) }); err != nil {
		ix.t.Fatal(err)
	}
	ix.docs[ref] = d
}

func (ix *testIndex) remove(ref uint64) {
	ix.t.Helper()
	d := ix.docs[ref]
	if err := ix.db.Update(func(tx *bolt.Tx) error { return Remove(tx, ref, d) }); err != nil {
		ix.t.Fatal(err)
	}
	delete(ix.docs, ref)
}

func (ix *testIndex) update(ref uint64, d Doc) {
	ix.t.Helper()
	old := ix.docs[ref]
	if err := ix.db.Update(func(tx *bolt.Tx) error { return Update(tx, ref, old, d) }); err != nil {
		ix.t.Fatal(err)
	}
	ix.docs[ref] = d
}

func (ix *testIndex) search(q Query, accept func(uint64) bool) ([]uint64, error) {
	var out []uint64
	err := ix.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = Search(context.Background(), tx, q, func(ref uint64) (Doc, bool, error) {
			d, ok := ix.docs[ref]
			if !ok {
				return Doc{}, false, fmt.Errorf("ref %d is indexed but not stored", ref)
			}
			return d, accept == nil || accept(ref), nil
		})
		return err
	})
	return out, err
}

func (ix *testIndex) want(q string, want ...uint64) {
	ix.t.Helper()
	got, err := ix.search(Query{Text: q}, nil)
	if err != nil {
		ix.t.Fatalf("search %q: %v", q, err)
	}
	if !slices.Equal(got, want) {
		ix.t.Errorf("search %q = %v, want %v", q, got, want)
	}
}

var fixtureDocs = map[uint64]Doc{
	1: {Title: "Flood warning for the Elbe", Lead: "Heavy rain raised the river overnight.", Byline: "Anna Schmidt", Publisher: "Der Spiegel", Tags: []string{"weather"}},
	2: {Title: "State of emergency declared after floods", Lead: "The governor declared a state of emergency on Monday.", Byline: "By John O'Neil", Publisher: "Reuters"},
	3: {Title: "Emergency services on strike", Lead: "The state government said talks continue.", Publisher: "BBC News", Tags: []string{"public health"}},
	4: {Title: "Crème de la crème: São Paulo's cafés", Lead: "Café culture in Brazil.", Publisher: "Folha de São Paulo"},
	5: {Title: "東京都で地震", Lead: "気象庁によると、東京都で震度4の地震がありました。", Publisher: "NHK"},
	6: {Title: "서울에서 화재 발생", Lead: "소방당국은 서울 시내에서 화재가 발생했다고 밝혔다.", Publisher: "연합뉴스"},
	7: {Title: "Government shutdown looms", Lead: "Governors warn of cuts to emergency funding.", Byline: "Maria Gómez", Publisher: "AP"},
	8: {Title: "Cyber attack on hospital", Lead: "Ransomware hit the hospital's systems.", Publisher: "The Record", Tags: []string{"cyber", "ransomware"}},
}

func fixtureIndex(t *testing.T) *testIndex {
	ix := newTestIndex(t)
	for ref := uint64(1); ref <= uint64(len(fixtureDocs)); ref++ {
		ix.add(ref, fixtureDocs[ref])
	}
	return ix
}

func TestSearchFixtures(t *testing.T) {
	ix := fixtureIndex(t)
	tests := []struct {
		q    string
		want []uint64
	}{
		{"flood", []uint64{1}},
		{"floods", []uint64{2}},
		{"FLOOD Warning", []uint64{1}},
		{"emergency", []uint64{7, 3, 2}},
		{"emergency state", []uint64{3, 2}},   // AND: both words, anywhere
		{`"state of emergency"`, []uint64{2}}, // phrase: in order, adjacent
		{`"emergency state"`, nil},            // no doc has them in this order
		{`emergency -strike`, []uint64{7, 2}}, // exclusion
		{`emergency -"state of emergency"`, []uint64{7, 3}},
		{"gov*", []uint64{7, 3, 2}}, // government, governors, governor
		{"govern* -shut*", []uint64{3, 2}},
		{"sao paulo", []uint64{4}}, // diacritics folded
		{"São PAULO", []uint64{4}},
		{"creme", []uint64{4}},
		{"cafe", []uint64{4}},
		{"gomez", []uint64{7}},           // byline
		{"spiegel", []uint64{1}},         // publisher
		{`"public health"`, []uint64{3}}, // tag
		{"ransomware", []uint64{8}},      // tag and lead
		{"hospital", []uint64{8}},        // "hospital's"
		{"o'neil", []uint64{2}},
		{"東京", []uint64{5}},  // CJK bigram
		{"東京都", []uint64{5}}, // CJK phrase of bigrams
		{"地震", []uint64{5}},
		{"震", []uint64{5}},  // one character: found inside a run
		{"京都", []uint64{5}}, // a bigram inside a run (documented)
		{"서울", []uint64{6}}, // Korean word with a particle
		{"화재", []uint64{6}},
		{"nothing", nil},
		{"flood nothing", nil},
	}
	for _, tt := range tests {
		ix.want(tt.q, tt.want...)
	}
}

func TestSearchAddRemoveUpdateReopen(t *testing.T) {
	ix := fixtureIndex(t)
	ix.want("emergency", 7, 3, 2)
	ix.remove(3)
	ix.want("emergency", 7, 2)
	ix.want("strike")
	ix.update(7, Doc{Title: "Budget agreed", Lead: "No shutdown after all.", Publisher: "AP"})
	ix.want("emergency", 2)
	ix.want("budget", 7)
	ix.want("shutdown", 7)
	ix.want("looms")
	ix.add(9, Doc{Title: "Emergency drill", Publisher: "Local"})
	ix.reopen()
	ix.want("emergency", 9, 2)
	ix.want("budget", 7)
	ix.want("strike")
	err := ix.db.View(func(tx *bolt.Tx) error {
		if s := ReadStats(tx); s.Docs != 8 || s.Version != Version {
			t.Errorf("stats after 8 adds, 1 remove, 1 add: %+v", s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Removing every doc leaves no posting behind.
	for _, ref := range maps(ix.docs) {
		ix.remove(ref)
	}
	err = ix.db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bucketPostings).Stats().KeyN; n != 0 {
			t.Errorf("%d posting chunks left after every doc was removed", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ix.want("emergency")
}

func maps(m map[uint64]Doc) []uint64 {
	var out []uint64
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSearchOrderOffsetLimitFilter(t *testing.T) {
	ix := newTestIndex(t)
	// Refs out of order, and many of them, so postings span chunks.
	r := rand.New(rand.NewPCG(1, 2))
	var all []uint64
	for _, i := range r.Perm(3000) {
		ref := uint64(i)*7 + 1
		title := "storm report"
		if i%3 == 0 {
			title = "storm storm storm warning"
		}
		ix.add(ref, Doc{Title: title, Lead: fmt.Sprintf("item %d", i)})
		all = append(all, ref)
	}
	slices.Sort(all)
	slices.Reverse(all)
	got, err := ix.search(Query{Text: "storm", Limit: 20, Offset: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, all[100:120]) {
		t.Errorf("storm offset 100 limit 20 = %v, want %v", got, all[100:120])
	}
	got, _ = ix.search(Query{Text: "storm", Limit: 5000}, nil)
	if len(got) != MaxLimit {
		t.Errorf("limit 5000 gave %d results, want the cap %d", len(got), MaxLimit)
	}
	got, _ = ix.search(Query{Text: "storm", Offset: 2990}, nil)
	if !slices.Equal(got, all[2990:]) {
		t.Errorf("last page = %v, want %v", got, all[2990:])
	}
	// Keyset paging: each page starts below the last ref of the one before
	// and the pages join up to the whole list.
	var paged []uint64
	for before := uint64(0); ; {
		page, err := ix.search(Query{Text: "storm", Limit: 700, Before: before}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		before = page[len(page)-1]
	}
	if !slices.Equal(paged, all) {
		t.Errorf("keyset pages joined give %d refs, want all %d in order", len(paged), len(all))
	}
	// The caller's filter: only refs divisible by 2.
	got, _ = ix.search(Query{Text: "storm", Limit: 10}, func(ref uint64) bool { return ref%2 == 0 })
	var want []uint64
	for _, ref := range all {
		if ref%2 == 0 && len(want) < 10 {
			want = append(want, ref)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("filtered = %v, want %v", got, want)
	}
	// Relevance: the headline that says "storm" three times ranks first,
	// newest first among equals.
	got, _ = ix.search(Query{Text: "storm", Order: Relevance, Limit: 3}, nil)
	for _, ref := range got {
		if !strings.Contains(ix.docs[ref].Title, "warning") {
			t.Errorf("relevance put %d (%q) in the top 3", ref, ix.docs[ref].Title)
		}
	}
	if !slices.IsSortedFunc(got, func(a, b uint64) int { return int(b) - int(a) }) {
		t.Errorf("equal scores not newest first: %v", got)
	}
}

func TestSearchRelevanceTitleOverLead(t *testing.T) {
	ix := newTestIndex(t)
	ix.add(1, Doc{Title: "Wildfire spreads in California", Lead: "Crews fight the wildfire."})
	ix.add(2, Doc{Title: "Markets close higher", Lead: "Traders shrugged off news of a wildfire."})
	ix.add(3, Doc{Title: "Weather", Lead: "Sunny."})
	got, err := ix.search(Query{Text: "wildfire", Order: Relevance}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []uint64{1, 2}) {
		t.Errorf("relevance = %v, want the headline match 1 before the newer lead match 2", got)
	}
	ix.want("wildfire", 2, 1)
}

func TestSearchCancel(t *testing.T) {
	ix := newTestIndex(t)
	err := ix.db.Update(func(tx *bolt.Tx) error {
		for ref := uint64(1); ref <= 5000; ref++ {
			if err := Add(tx, ref, Doc{Title: "common words only"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	loads := 0
	err = ix.db.View(func(tx *bolt.Tx) error {
		_, err := Search(ctx, tx, Query{Text: "common"}, func(uint64) (Doc, bool, error) {
			loads++
			if loads == 10 {
				cancel()
			}
			return Doc{}, false, nil // the filter rejects all: a long search
		})
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("search after cancel returned %v, want context.Canceled", err)
	}
	if loads > 10+ctxEvery {
		t.Errorf("search loaded %d docs after cancel, want at most %d", loads, 10+ctxEvery)
	}
}

func TestSearchEmptyFileAndErrors(t *testing.T) {
	ix := newTestIndex(t)
	ix.want("anything") // no index yet: nothing, no error
	if _, err := ix.search(Query{Text: "-only"}, nil); !errors.Is(err, ErrNoTerms) {
		t.Errorf("only an exclusion: %v, want ErrNoTerms", err)
	}
	for i := range 20 {
		ix.add(uint64(i+1), Doc{Title: fmt.Sprintf("x%05d", i)})
	}
	err := ix.db.View(func(tx *bolt.Tx) error {
		_, err := SearchParsed(context.Background(), tx, Parsed{Clauses: []Clause{{Terms: []string{"x"}, Prefix: true}}}, Query{}, func(uint64) (Doc, bool, error) {
			return Doc{}, true, nil
		})
		return err
	})
	if err != nil {
		t.Errorf("prefix over 20 words: %v", err)
	}
	// A file whose index has another format says so instead of answering wrong.
	err = ix.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyVersion, be64(Version+1)) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.search(Query{Text: "x00001"}, nil); !errors.Is(err, ErrVersion) {
		t.Errorf("search of another format: %v, want ErrVersion", err)
	}
	err = ix.db.Update(func(tx *bolt.Tx) error { return Add(tx, 99, Doc{Title: "y"}) })
	if !errors.Is(err, ErrVersion) {
		t.Errorf("add to another format: %v, want ErrVersion", err)
	}
	err = ix.db.Update(func(tx *bolt.Tx) error {
		if err := Drop(tx); err != nil {
			return err
		}
		return Add(tx, 1, Doc{Title: "rebuilt"})
	})
	if err != nil {
		t.Fatal(err)
	}
	ix.docs = map[uint64]Doc{1: {Title: "rebuilt"}}
	ix.want("rebuilt", 1)
	ix.want("x00001")
}

// TestQuickCountsAgree: the fast scoring pass counts what the tokenizer
// counts on ordinary ASCII text.
func TestQuickCountsAgree(t *testing.T) {
	g := newDocGen(8)
	tk := newTokenizer()
	for _, q := range []string{"harbor", "the of", "transp*", "glacier -the", "times"} {
		p, _ := Parse(q)
		for i := range 300 {
			d := benchDoc(g, i)
			fast, ok := quickCounts(d, p)
			if !ok {
				t.Fatalf("quickCounts does not apply to %q on ASCII doc %d", q, i)
			}
			slow, _ := tk.match(d, p, nil)
			if !slices.EqualFunc(fast.counts, slow.counts, slices.Equal) || !slices.Equal(fast.lens, slow.lens) {
				t.Fatalf("%q doc %d: quick counts %v lens %v, tokenizer %v lens %v", q, i, fast.counts, fast.lens, slow.counts, slow.lens)
			}
		}
	}
	if _, ok := quickCounts(Doc{Title: "Café"}, Parsed{Clauses: []Clause{{Terms: []string{"cafe"}}}}); ok {
		t.Error("quickCounts applied to non-ASCII text")
	}
}
