package story

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

func item(url, title, lead, byline string) *model.Item {
	e := model.Extraction{URL: url, Title: title, Lead: lead, Byline: byline,
		Published: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	return model.NewItem(e, "test", "", e.Published)
}

func TestPrintRoundTrip(t *testing.T) {
	r := newResolver(t)
	for id, it := range r.written {
		p := Fingerprint(it)
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != Size {
			t.Fatalf("%s: %d bytes, want %d", id, len(b), Size)
		}
		q, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if q != p {
			t.Fatalf("%s: decoded print differs:\n%+v\n%+v", id, p, q)
		}
		if m := Compare(p, q); !m.Same || m.Reason != SameURL {
			t.Fatalf("%s: a print is not the same story as itself: %+v", id, m)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	good, _ := Fingerprint(item("https://example.com/a", "Council approves budget after late debate",
		"The city council approved a budget of $2 billion for next year after a debate that ran past midnight on Tuesday.", "")).MarshalBinary()
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"other version", mut(func(b []byte) []byte { b[0] = Version + 1; return b })},
		{"short", good[:Size-1]},
		{"long", append(append([]byte(nil), good...), 0)},
		{"unknown flag", mut(func(b []byte) []byte { b[1] |= 0x80; return b })},
		{"unknown agency", mut(func(b []byte) []byte { b[2] = byte(maxAgency); return b })},
		{"value in empty slot", mut(func(b []byte) []byte { o := Size - 3; b[o], b[o+1], b[o+2] = 0, 0, 7; return b })},
	} {
		if _, err := Decode(tc.b); err == nil {
			t.Errorf("%s: decoded without error", tc.name)
		}
	}
	b := mut(func(b []byte) []byte { b[0] = Version + 1; return b })
	if _, err := Decode(b); !errors.Is(err, ErrVersion) {
		t.Errorf("other version: %v, want ErrVersion", err)
	}
}

func TestAgencyDetection(t *testing.T) {
	for _, tc := range []struct {
		byline, lead, body string
		want               Agency
	}{
		{"", "WASHINGTON (AP) — The Senate voted on Tuesday to pass the bill.", "", AP},
		{"", "LONDON, June 18 (Reuters) - The Bank of England raised rates.", "", Reuters},
		{"", "Oct 6 (Reuters) - A ransomware attack disrupted systems.", "", Reuters},
		{"", "(Reuters) - A ransomware attack disrupted systems.", "", Reuters},
		{"", "Lima, 20 ago (EFE).- Un sismo de magnitud 5,8 sacudió Perú.", "", EFE},
		{"", "Berlin (dpa) - Das Bundeskabinett hat am Mittwoch beschlossen.", "", DPA},
		{"By JOHN SMITH Associated Press", "The Senate voted on Tuesday.", "", AP},
		{"The Canadian Press", "Environment Canada issued statements.", "", CanadianPress},
		{"AFP - Agence France Presse", "A strong earthquake struck.", "", AFP},
		{"Jane Doe", "The council met on Tuesday.", "The meeting ran late. The Associated Press contributed to this report.", AP},
		{"Jane Doe", "Shares rose.", "Shares rose 6%. (Reporting by A B in Bengaluru; Editing by C D)", Reuters},
		{"Jane Doe", "Apple (AAPL) shares rose on Tuesday.", "", NoAgency},
		{"Apple Newsroom", "APPLE PARK — Apple today announced a new phone.", "", NoAgency},
	} {
		lead, dl := stripDateline(tc.lead)
		if got := detectAgency(tc.byline, tc.lead, tc.body, dl); got != tc.want {
			t.Errorf("byline %q lead %q: agency %v, want %v (lead after dateline %q)", tc.byline, tc.lead, got, tc.want, lead)
		}
	}
}

func TestFoldingAndTokens(t *testing.T) {
	a := tokenize("Zero-Day-LÜCKE im „Internet Explorer“ – 147.000 Euro, ﬁnal", 0)
	b := tokenize("zero day lucke im internet explorer 147000 euro final", 0)
	if len(a) != len(b) {
		t.Fatalf("%d tokens vs %d", len(a), len(b))
	}
	for i := range a {
		if a[i].folded != b[i].folded {
			t.Errorf("token %d: %q vs %q", i, a[i].folded, b[i].folded)
		}
	}
	if cjk := tokenize("九州北部に線状降水帯", 0); len(cjk) != 10 {
		t.Errorf("CJK text gave %d tokens, want one a character (10)", len(cjk))
	}
}

func TestCompareRules(t *testing.T) {
	lead := "A wind-driven wildfire tore through brushy hills north of Ventura on Tuesday, forcing more than 8,000 people to flee their homes as firefighters struggled to keep the flames from reaching neighborhoods."
	orig := item("https://apnews.com/a1", "Wildfire forces thousands to flee in Southern California", "VENTURA, Calif. (AP) — "+lead, "Associated Press")
	for _, tc := range []struct {
		name   string
		it     *model.Item
		same   bool
		reason Reason
	}{
		{"same URL with tracking", item("https://apnews.com/a1?utm_source=x", "Another headline entirely here", "Nothing in common with the other text at all, not one word of it is shared.", ""), true, SameURL},
		{"re-headlined carry without dateline", item("https://ktla.com/b", "Flames race toward Ventura neighborhoods", lead, "Associated Press"), true, NearDuplicate},
		{"other county, same template", item("https://apnews.com/a2", "Wildfire forces thousands to flee in Southern California",
			"OJAI, Calif. (AP) — A wind-driven wildfire tore through brushy hills north of Ojai on Tuesday, forcing more than 8,000 people to flee their homes as firefighters struggled to keep the flames from reaching neighborhoods.", "Associated Press"), false, Different},
		{"unrelated", item("https://example.com/c", "Council approves budget after late debate",
			"The city council approved a budget of $2 billion for next year after a debate that ran past midnight on Tuesday.", ""), false, Different},
	} {
		m := Compare(Fingerprint(orig), Fingerprint(tc.it))
		if m.Same != tc.same || m.Reason != tc.reason {
			t.Errorf("%s: got %+v, want same=%v %v", tc.name, m, tc.same, tc.reason)
		}
		if m.Differs < 0 || m.Differs > 1 || m.Score < 0 || m.Score > 1 {
			t.Errorf("%s: score %v differs %v out of [0,1]", tc.name, m.Score, m.Differs)
		}
	}
	edited := *orig
	edited.Title, edited.Lead = "Our desk's own headline", "A curator's rewrite of the lead, in words of the desk's own choosing."
	if Fingerprint(&edited) != Fingerprint(orig) {
		t.Error("a curator's edit changed the print; it should stay with the other outlets' copies")
	}
	later := *orig
	later.URL, later.CanonicalURL = "https://apnews.com/a3", ""
	later.Published = orig.Published.AddDate(0, 0, 30)
	later.FetchedAt = later.Published
	if m := Compare(Fingerprint(orig), Fingerprint(&later)); m.Same {
		t.Errorf("a copy 30 days later is grouped: %+v", m)
	}
	if m := Compare(Print{}, Print{}); m.Same {
		t.Errorf("empty prints are the same story: %+v", m)
	}
}

func TestKeysAndIndex(t *testing.T) {
	r := newResolver(t)
	idx := NewIndex()
	for id, it := range r.written {
		p := Fingerprint(it)
		keys := Keys(p)
		if len(keys) == 0 || len(keys) > 1+leadBands+headParts {
			t.Fatalf("%s: %d keys", id, len(keys))
		}
		for _, k := range keys {
			if want := map[byte]int{keyURL: 9, keyLead: 4, keyHeadline: 4}[k[0]]; len(k) != want {
				t.Fatalf("%s: key %x is %d bytes, want %d for its kind", id, k, len(k), want)
			}
		}
		idx.Add(id, p)
	}
	if Keys(Print{}) != nil {
		t.Error("an empty print has keys")
	}
	p := Fingerprint(r.written["fire-ktla"])
	if id, m, ok := idx.Best(p); !ok || id != "fire-ktla" || m.Reason != SameURL {
		t.Fatalf("Best of an indexed print: %s %+v %v", id, m, ok)
	}
	idx.Remove("fire-ktla")
	id, m, ok := idx.Best(p)
	if !ok || id[:5] != "fire-" || m.Reason == SameURL {
		t.Fatalf("after removing it, Best is %s %+v %v, want another copy of the fire story", id, m, ok)
	}
	for _, c := range idx.Candidates(p) {
		if c.ID == "fire-ktla" {
			t.Fatal("a removed print is still a candidate")
		}
	}
	n := idx.Len()
	idx.Add("fire-help", Fingerprint(r.written["fire-help"])) // replace, not add
	if idx.Len() != n {
		t.Fatalf("re-adding an id changed the count from %d to %d", n, idx.Len())
	}
}

// TestIndexConcurrent adds, looks up and removes from several goroutines
// at once (run with -race).
func TestIndexConcurrent(t *testing.T) {
	r := newResolver(t)
	idx := NewIndex()
	var prints []Print
	for _, it := range r.written {
		prints = append(prints, Fingerprint(it))
	}
	done := make(chan bool)
	for g := range 4 {
		go func() {
			for i, p := range prints {
				id := fmt.Sprintf("%d-%d", g, i)
				idx.Add(id, p)
				idx.Best(p)
				if i%3 == 0 {
					idx.Remove(id)
				}
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
	want := 4 * (len(prints) - (len(prints)+2)/3)
	if idx.Len() != want {
		t.Fatalf("%d prints indexed, want %d", idx.Len(), want)
	}
}

// FuzzDecode checks that decoding never panics, that whatever decodes
// encodes back to the same bytes, and that Compare and Keys accept it.
func FuzzDecode(f *testing.F) {
	r := newResolver(f)
	for _, it := range r.written {
		b, _ := Fingerprint(it).MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{Version})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			return
		}
		out, _ := p.MarshalBinary()
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", b, out)
		}
		_ = Compare(p, p)
		_ = Keys(p)
	})
}

// FuzzFingerprint checks that any text gives a print that encodes,
// decodes to itself and is the same story as itself.
func FuzzFingerprint(f *testing.F) {
	r := newResolver(f)
	for _, it := range r.written {
		f.Add(it.Title, it.Lead, it.Byline, it.URL)
	}
	f.Add("", "", "", "")
	f.Add("x", "(AP) —", "AP", "not a url")
	f.Fuzz(func(t *testing.T, title, lead, byline, url string) {
		it := item(url, title, lead, byline)
		p := Fingerprint(it)
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		q, err := Decode(b)
		if err != nil {
			t.Fatalf("a fresh print does not decode: %v", err)
		}
		if q != p {
			t.Fatal("decoded print differs")
		}
		if !p.Empty() && p.flags&flagURL != 0 && !Compare(p, p).Same {
			t.Fatalf("not the same story as itself: %+v", Compare(p, p))
		}
		// Without its URL, a print with a lead must still match itself by
		// text: no template conflict with itself, similarity 1.
		q = p
		q.flags &^= flagURL
		if q.flags&flagLead != 0 {
			if m := Compare(q, q); !m.Same || m.Score != 1 || m.Differs != 0 {
				t.Fatalf("text alone not the same story as itself: %+v", m)
			}
		}
	})
}

// BenchmarkGroup measures grouping one new item: fingerprint, candidate
// lookup by Keys and Compare with every candidate, against an index of
// 1,000 and 100,000 stored items. Report the 100,000 figure as a ratio to
// the 1,000 one. cpu-ns/op is the process's CPU time (garbage collection
// included) per item, steadier than ns/op on a shared machine.
func BenchmarkGroup(b *testing.B) {
	r := newResolver(b)
	g := newGenerator(r.written)
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("stored=%d", n), func(b *testing.B) {
			idx := NewIndex()
			for i := range n {
				idx.Add(fmt.Sprint(i), Fingerprint(g.item(i)))
			}
			probes := make([]*model.Item, 512)
			cands := 0
			for i := range probes {
				probes[i] = g.item(n + i)
				cands += len(idx.Candidates(Fingerprint(probes[i])))
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := processCPU()
			n := 0
			for i := 0; b.Loop(); i++ {
				idx.Best(Fingerprint(probes[i%len(probes)]))
				n++
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(n), "cpu-ns/op")
			b.ReportMetric(float64(cands)/float64(len(probes)), "candidates/op")
		})
	}
}

// generator makes stored items for the benchmark: headlines and leads of
// words drawn from the written items' vocabulary (frequent words more
// often), names among them, one in ten a copy of an earlier item under
// another URL, one in ten a template of a written item with other names
// and figures. Deterministic, so runs compare.
type generator struct {
	words   []string
	written []*model.Item
}

func newGenerator(items map[string]*model.Item) *generator {
	g := &generator{}
	for _, it := range items {
		g.written = append(g.written, it)
		g.words = append(g.words, strings.Fields(it.Title+" "+it.Lead)...) // repeats keep the frequencies
	}
	sort.Strings(g.words)
	sort.Slice(g.written, func(i, j int) bool { return g.written[i].URL < g.written[j].URL })
	return g
}

func (g *generator) item(i int) *model.Item {
	rng := rand.New(rand.NewPCG(uint64(i), 7))
	switch {
	case i%10 == 5 && i > 100:
		src := g.item(i - 1 - rng.IntN(100)) // a copy of a recent story, another outlet
		src.URL = fmt.Sprintf("https://copy%d.example/%d", i%40, i)
		src.CanonicalURL, src.Title = "", "Copy: "+src.Title
		return src
	case i%10 == 7:
		src := g.written[rng.IntN(len(g.written))]
		lead := strings.ReplaceAll(src.Lead, "County", fmt.Sprintf("County %d", i))
		return g.make(i, src.Title, fmt.Sprintf("%s %d %s", g.words[rng.IntN(len(g.words))], i, lead))
	}
	var title, lead []string
	for range 8 + rng.IntN(6) {
		title = append(title, g.words[rng.IntN(len(g.words))])
	}
	for range 30 + rng.IntN(40) {
		lead = append(lead, g.words[rng.IntN(len(g.words))])
	}
	return g.make(i, strings.Join(title, " "), strings.Join(lead, " "))
}

func (g *generator) make(i int, title, lead string) *model.Item {
	e := model.Extraction{URL: fmt.Sprintf("https://news%d.example/story/%d", i%300, i), Title: title, Lead: lead,
		Published: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)}
	return model.NewItem(e, "bench", "", e.Published)
}
