package extract

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/extract/metaeval"
	"github.com/clipsheet/clipsheet/internal/testcorpus"
)

// Per-field shares on the labelled metadata set, set just under the figures
// achieved when the rules were written (see bench/README.md), so that a
// regression in any field fails. Written pages always run; the benchmark's
// pages run when ../shared is there.
var (
	writtenFloor = [5]float64{0.97, 1.0, 1.0, 0.97, 1.0}        // 0.981 1 1 0.981 1 achieved on 54 pages
	sharedFloor  = [5]float64{0.99, 0.955, 0.983, 0.972, 0.955} // 0.994 0.961 0.989 0.978 0.961 achieved; one page is 0.0055
)

func predict(t *testing.T, b []byte, url string) metaeval.Prediction {
	t.Helper()
	a, err := Extract(b, Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return metaeval.Prediction{Headline: a.Title, Byline: a.Byline, Published: a.Published, Publisher: a.SiteName, Lead: a.Lead}
}

func TestMetadataLabelsWritten(t *testing.T) {
	labels, err := metaeval.LoadLabels(filepath.Join("testdata", "meta"))
	if err != nil {
		t.Fatal(err)
	}
	var tot metaeval.Totals
	for _, l := range labels {
		if !strings.HasPrefix(l.Page, "local:") {
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata", "meta", "pages", strings.TrimPrefix(l.Page, "local:")))
		if err != nil {
			t.Fatal(err)
		}
		res := metaeval.Score(l, predict(t, b, l.URL))
		tot.Add(res)
		for i, ok := range res {
			if !ok && !knownGap[l.Page+" "+metaeval.Fields[i]] {
				t.Errorf("%s: %s wrong (%s)", l.Page, metaeval.Fields[i], l.Notes)
			}
		}
	}
	if tot.N < 54 {
		t.Fatalf("only %d written pages labelled", tot.N)
	}
	checkFloor(t, "written", &tot, writtenFloor)
}

// knownGap lists the labelled fields the rules do not get yet, each with
// its reason; anything else wrong on a written page fails the test.
var knownGap = map[string]bool{
	// "Release Miniflux 2.1.1 · miniflux/v2" contains the <h1>
	// "Miniflux 2.1.1": a title that contains the heading is taken as the
	// same story, decorated; telling decoration from a longer headline
	// needs more than this page shows.
	"local:feed-github-release.html headline": true,
	// "TJRS - Notícias": with no headline in <title>, which part is the
	// site is a guess; the last part is taken, as in "Headline | Site".
	"local:feed-pt-court-news.html publisher": true,
}

func TestMetadataLabelsShared(t *testing.T) {
	corpus, err := testcorpus.Find("article-extraction-benchmark")
	if err != nil {
		t.Skipf("the shared pages are not here: %v", err)
	}
	labels, err := metaeval.LoadLabels(filepath.Join("testdata", "meta"))
	if err != nil {
		t.Fatal(err)
	}
	var tot metaeval.Totals
	for _, l := range labels {
		if !strings.HasPrefix(l.Page, "shared:") {
			continue
		}
		b := readGz(t, filepath.Join(corpus, "html", strings.TrimPrefix(l.Page, "shared:")+".html.gz"))
		tot.Add(metaeval.Score(l, predict(t, b, l.URL)))
	}
	if tot.N != 181 {
		t.Fatalf("%d shared pages labelled, want 181", tot.N)
	}
	checkFloor(t, "shared", &tot, sharedFloor)
}

func checkFloor(t *testing.T, set string, tot *metaeval.Totals, floor [5]float64) {
	t.Helper()
	for i, f := range metaeval.Fields {
		if got := tot.Share(i); got < floor[i] {
			t.Errorf("%s set: %s %.3f, below the floor %.3f", set, f, got, floor[i])
		}
	}
}

func TestDateFromText(t *testing.T) {
	tests := []struct{ in, lang, want string }{
		{"Published March 3, 2020", "en", "2020-03-03T00:00"},
		{"Nov. 19, 2019, 9:02 AM", "en", "2019-11-19T09:02"},
		{"November 19, 2019, 07:47 PM EST", "en", "2019-11-19T19:47"},
		{"3.4.2020 14:20", "cs", "2020-04-03T14:20"},
		{"Publikováno 3. 4. 2020", "cs", "2020-04-03T00:00"},
		{"| 5. März 2020, 11:30 Uhr", "de", "2020-03-05T11:30"},
		{"Publié le 12 mars 2020 à 08h45", "fr", "2020-03-12T08:45"},
		{"3 de abril de 2020", "es", "2020-04-03T00:00"},
		{"· 21 settembre 2020", "it", "2020-09-21T00:00"},
		{"Текст: Венера Ерофеева · 24 сентября 2018", "ru", "2018-09-24T00:00"},
		{"05/10/2018 - Publicado por: Claudia", "pt-BR", "2018-10-05T00:00"},
		{"11/05/2018", "en", "2018-11-05T00:00"},
		{"2021-11-03", "en", "2021-11-03T00:00"},
		{"18 NOV 2019", "en", "2019-11-18T00:00"},
		{"Posted: Fri 6:45 PM, Feb 16, 2018", "en", "2018-02-16T00:00"},
		{"31.4.2020", "cs", ""},       // no such day
		{"Chapter 3, 2020", "en", ""}, // not a month
		{"about 12 people", "en", ""},
	}
	for _, tt := range tests {
		got := dateFromText(tt.in, tt.lang)
		s := ""
		if !got.IsZero() {
			s = got.Format("2006-01-02T15:04")
		}
		if s != tt.want {
			t.Errorf("dateFromText(%q, %q) = %q, want %q", tt.in, tt.lang, s, tt.want)
		}
	}
}

func TestPublisherRules(t *testing.T) {
	tests := []struct{ in, host, want string }{
		{"Zprávy dne - Víte, co se právě děje", "zpravyden.example", "Zprávy dne"},
		{"Autoracing | F1 | Indy | MotoGP | StockCar | NASCAR", "autoracing.com.br", "Autoracing"},
		{"LinkNaija | Nigeria's popular news platform", "linknaija.com", "LinkNaija"},
		{"Remember 80/90 - Memorabilia anni 80/90", "remember8090.it", "Remember 80/90"},
		{"NBC 5 Dallas-Fort Worth", "nbcdfw.com", "NBC 5 Dallas-Fort Worth"},
		{"The Jerusalem Post | JPost.com", "jpost.com", "The Jerusalem Post"},
	}
	for _, tt := range tests {
		if got := cutTagline(tt.in, tt.host); got != tt.want {
			t.Errorf("cutTagline(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	titles := []struct{ title, h1, host, want string }{
		{"Bridge closed for two weeks of repairs - The Daily Planet", "Bridge closed for two weeks of repairs", "dailyplanet.example", "The Daily Planet"},
		{"Cleaning census tables | by Aisha Bello | The Data Desk | Medium", "Cleaning census tables", "medium.example", "The Data Desk"},
		{"River Birds: The kingfisher nest at the weir", "The kingfisher nest at the weir", "x.example", "River Birds"},
		{"Диета Аткинса (14 дней) - потеря веса до 10 кг. Отзывы", "", "vse-diety.com", ""},
		{"A headline with no site", "A headline with no site", "x.example", ""},
	}
	for _, tt := range titles {
		if got := titleSite(tt.title, tt.h1, tt.host); got != tt.want {
			t.Errorf("titleSite(%q) = %q, want %q", tt.title, got, tt.want)
		}
	}
	for _, p := range []string{"Blogger", "Medium", "WordPress.com", "Substack"} {
		if !isPlatform(p) {
			t.Errorf("%s is a hosting platform", p)
		}
	}
}

func TestBylineRules(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Jane Doe and ACLU Speech", "Jane Doe"},
		{"Photo: J J", ""},
		{"Dr. Priya Raman, Medically reviewed by Tom Wu, MD", "Priya Raman"},
		{"redazione@ilgiornale.example (Angela Leucci)", "Angela Leucci"},
		{"Kevin Johnson and ACME Foundation", "Kevin Johnson"},
		{"Topic: Hardware", ""},
		{"By TOM KRISHER, AP Auto Writer", "TOM KRISHER"},
		{"Outbrain", ""},
	}
	for _, tt := range tests {
		if got := cleanByline([]string{tt.in}); got != tt.want {
			t.Errorf("cleanByline(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	prefixes := []struct {
		p  string
		ok bool
	}{{"", true}, {"April 2, 2019 ·", true}, {"Posted", true}, {"Reporting", false}, {"News provided", false}, {"Crafted with", false}, {"the bill was introduced", false}}
	for _, tt := range prefixes {
		if got := byPrefixOK(tt.p, "en"); got != tt.ok {
			t.Errorf("byPrefixOK(%q) = %v, want %v", tt.p, got, tt.ok)
		}
	}
}

func TestHeadlineRules(t *testing.T) {
	tests := []struct {
		h1, meta, site, pub, title string
		want                       bool
	}{
		// social title vs the article's own h1
		{"Council approves $4.2 million for road repairs", "You won't believe what the council did", "Northern Herald", "", "", true},
		// the h1 is the site ...
		{"The Wall Street JournalOpinion", "Is Football Violence a Crime?", "WSJ", "Wall Street Journal", "", false},
		// ... a section named in <title> ...
		{"Allergy Health Center", "Pollen season starts early", "Wellness Daily", "", "Pollen season starts early - Allergy Health Center - Wellness Daily", false},
		// ... or too short to be a headline
		{"Games", "Daily Deals: More Black Friday Deals Are Live", "IGN", "", "", false},
		// the same story, trimmed
		{"Sweden drops Assange rape investigation", "Sweden drops Assange rape investigation | BBC", "BBC News", "", "", false},
	}
	for _, tt := range tests {
		if got := storyHeading(tt.h1, tt.meta, tt.site, tt.pub, "", tt.title); got != tt.want {
			t.Errorf("storyHeading(%q, %q) = %v, want %v", tt.h1, tt.meta, got, tt.want)
		}
	}
}

func TestPublishedKeepsOffsetNotModified(t *testing.T) {
	page := []byte(`<html><head><meta property="article:modified_time" content="2021-08-16T01:10:00-07:00">
<meta property="article:published_time" content="2021-08-15T22:48:00-07:00"></head><body><h1>Quake shakes the coast late Sunday</h1>
<time class="updated" datetime="2021-08-16T01:10:00-07:00">Updated</time><p>A magnitude 5.1 earthquake shook the coast at 10:41 p.m. Sunday, officials said.</p></body></html>`)
	a, err := Extract(page, Options{URL: "https://x.example/q"})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Published.Format(time.RFC3339); got != "2021-08-15T22:48:00-07:00" {
		t.Errorf("published %s, want the published time in its own offset", got)
	}
}
