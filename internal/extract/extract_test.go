package extract

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readPage(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pages", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestExtractHandwrittenPages(t *testing.T) {
	tests := []struct {
		name, file, url string
		want            Article
		wantPub         string
	}{
		{
			// JSON-LD @graph with two Person authors, relative canonical
			// and image, a dateline lead, and every kind of furniture:
			// cookie banner, nav, share bar, caption, newsletter box, ad
			// label, related list, footer.
			name: "json-ld", file: "jsonld.html", url: "https://ledger.example/world/kabul-floods?utm=x",
			want: Article{
				URL:          "https://ledger.example/world/kabul-floods?utm=x",
				CanonicalURL: "https://ledger.example/world/2024/03/05/kabul-floods",
				Title:        "Floodwaters recede in Kabul as aid convoys arrive",
				Byline:       "Amina Rahimi and Tom O'Neill",
				SiteName:     "The Daily Ledger",
				Lead: "KABUL — Floodwaters that swept through the Afghan capital over the weekend began to recede on Tuesday, and the first aid convoys reached the worst-hit districts, officials said.\n\n" +
					"More than 3,000 homes were damaged, according to the city's disaster management office, which said the toll could rise as crews reached outlying villages.",
				Body: "KABUL — Floodwaters that swept through the Afghan capital over the weekend began to recede on Tuesday, and the first aid convoys reached the worst-hit districts, officials said.\n\n" +
					"More than 3,000 homes were damaged, according to the city's disaster management office, which said the toll could rise as crews reached outlying villages.\n\n" +
					"\"We have not seen rain like this in thirty years,\" said Gul Ahmad, a shopkeeper whose store was flooded to the ceiling. \"Everything is gone.\"\n\n" +
					"Roads cut off\n\n" +
					"The main highway to the north remained closed on Tuesday after a bridge collapsed, forcing trucks carrying flour, blankets and medicine to take a longer route through the mountains.\n\n" +
					"Aid agencies warned that standing water could spread disease, and called for clean water and sanitation supplies to be flown in.",
				Language: "en-US",
				Image:    "https://ledger.example/img/kabul-floods.jpg",
			},
			wantPub: "2024-03-05T08:30:00+04:30",
		},
		{
			// Meta tags only, windows-1252 declared in <meta http-equiv>,
			// og:title with the site suffix, a caption div before the
			// first paragraph, tags and "more stories" after the body.
			name: "meta-only", file: "metaonly.html", url: "https://gazette.example/news/cafe-rent?src=rss",
			want: Article{
				URL:          "https://gazette.example/news/cafe-rent?src=rss",
				CanonicalURL: "https://gazette.example/news/cafe-rent",
				Title:        "Café owners fight rent rise",
				Byline:       "Jane Roe",
				SiteName:     "Riverside Gazette",
				Lead: "The owners of the Café René on Market Street say a 40% rent rise will force them to close after more than thirty years of trading in the town centre.\n\n" +
					"Marie-Thérèse Dubois, who opened the café with her husband in 1987, said the landlord’s offer left them “no choice at all”. She has started a petition that has gathered 2,000 signatures in a week.",
				Body: "The owners of the Café René on Market Street say a 40% rent rise will force them to close after more than thirty years of trading in the town centre.\n\n" +
					"Marie-Thérèse Dubois, who opened the café with her husband in 1987, said the landlord’s offer left them “no choice at all”. She has started a petition that has gathered 2,000 signatures in a week.\n\n" +
					"The landlord, a property company based in London, did not respond to requests for comment.\n\n" +
					"Councillor Ahmed Patel said the council would look at whether business rate relief could help independent shops facing steep increases.",
				Language: "en-GB",
			},
			wantPub: "2023-11-20T14:05:00Z",
		},
		{
			// Neither: only <title>, <h1>, a "By A, B and C" line, the
			// date in the URL and <br>-separated paragraphs in a div.
			name: "neither", file: "plain.html", url: "https://www.northportherald.example/local/2022/06/13/cycle-lanes",
			want: Article{
				URL:          "https://www.northportherald.example/local/2022/06/13/cycle-lanes",
				CanonicalURL: "https://www.northportherald.example/local/2022/06/13/cycle-lanes",
				Title:        "Council approves new cycle lanes on Harbour Road",
				Byline:       "Priya Shah, Leo Martin and Ana Costa",
				SiteName:     "Northport Herald", // the <title> suffix, before the bare host
				Lead: "NORTHPORT — The city council voted 7-2 on Monday night to build protected cycle lanes along Harbour Road, ending a two-year fight over the busy waterfront route.\n\n" +
					"The plan removes 140 parking spaces and narrows the road to one lane in each direction between the ferry terminal and the old customs house.",
				Body: "NORTHPORT — The city council voted 7-2 on Monday night to build protected cycle lanes along Harbour Road, ending a two-year fight over the busy waterfront route.\n\n" +
					"The plan removes 140 parking spaces and narrows the road to one lane in each direction between the ferry terminal and the old customs house.\n\n" +
					"Supporters, many of whom arrived at the meeting by bike, cheered the vote. Business owners who had opposed the plan said they would ask the council to phase in the changes.\n\n" +
					"Construction is expected to start in the spring and take about six months.",
			},
			wantPub: "2022-06-13T00:00:00Z",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Extract(readPage(t, tc.file), Options{URL: tc.url})
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.Published = mustTime(t, tc.wantPub)
			assertArticle(t, got, &want)
		})
	}
}

func assertArticle(t *testing.T, got, want *Article) {
	t.Helper()
	check := func(field, g, w string) {
		t.Helper()
		if g != w {
			t.Errorf("%s:\n got %q\nwant %q", field, g, w)
		}
	}
	check("URL", got.URL, want.URL)
	check("CanonicalURL", got.CanonicalURL, want.CanonicalURL)
	check("Title", got.Title, want.Title)
	check("Byline", got.Byline, want.Byline)
	check("SiteName", got.SiteName, want.SiteName)
	check("Lead", got.Lead, want.Lead)
	check("Body", got.Body, want.Body)
	check("Language", got.Language, want.Language)
	check("Image", got.Image, want.Image)
	if !got.Published.Equal(want.Published) || got.Published.Format(time.RFC3339) != want.Published.Format(time.RFC3339) {
		t.Errorf("Published: got %s, want %s", got.Published.Format(time.RFC3339), want.Published.Format(time.RFC3339))
	}
}

func TestExtractNoArticle(t *testing.T) {
	inputs := map[string]string{
		"empty":     "",
		"garbage":   "\x00\x01\xff\xfe<<<>>>&&&;;",
		"nav only":  `<html><body><nav><a href="/">Home</a> <a href="/a">A</a></nav><ul><li><a href="/1">One story</a></li><li><a href="/2">Another story</a></li></ul></body></html>`,
		"home page": `<html><head><title>Example News</title></head><body><div class="teasers">` + strings.Repeat(`<div class="teaser"><h2><a href="/x">A headline about something that happened today</a></h2></div>`, 30) + `</div></body></html>`,
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			a, err := Extract([]byte(in), Options{URL: "https://news.example/"})
			if err != nil {
				t.Fatalf("err = %v, want nil", err)
			}
			if a == nil {
				t.Fatal("nil article")
			}
			if a.Body != "" || a.Lead != "" {
				t.Errorf("want empty body and lead, got body %q lead %q", a.Body, a.Lead)
			}
			if a.URL != "https://news.example/" || a.SiteName != "news.example" {
				t.Errorf("metadata fallbacks lost: url %q site %q", a.URL, a.SiteName)
			}
		})
	}
}

func TestExtractBrokenHTML(t *testing.T) {
	// Unclosed tags, stray end tags and a paragraph split by a bare
	// table: the parser's error recovery must still yield the story.
	in := `<html><body><div class="post"><p>The first paragraph of the story is long enough to count, with a comma, and another comma, and more words to pass the threshold.
<p>The second paragraph is unclosed too, and it also carries enough words, commas, and sentences to be scored as text.</b></i>
<p>A third one follows <em>with <strong>nested</em> inline</strong> tags left open and still more words so that the container wins.
</div></span></body>`
	a, err := Extract([]byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"The first paragraph", "The second paragraph", "A third one follows with nested inline tags"} {
		if !strings.Contains(a.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, a.Body)
		}
	}
	if got := strings.Count(a.Body, "\n\n"); got != 2 {
		t.Errorf("want 3 paragraphs, got %d separators in %q", got, a.Body)
	}
}

func TestArticleJSON(t *testing.T) {
	a := Article{URL: "u", Title: "T", Published: time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", -5*3600))}
	b, err := a.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"published":"2024-01-02T03:04:05-05:00"`, `"url":"u"`, `"title":"T"`, `"canonical_url":""`, `"body":""`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON %s lacks %s", s, want)
		}
	}
	if strings.Contains(s, `"image"`) || strings.Contains(s, "Published") {
		t.Errorf("JSON %s has an empty image or a Go field name", s)
	}
	var back Article
	if err := back.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if !back.Published.Equal(a.Published) || back.Title != "T" {
		t.Errorf("round trip: got %+v", back)
	}
	zero, _ := Article{}.MarshalJSON()
	if !strings.Contains(string(zero), `"published":""`) {
		t.Errorf("zero time should marshal as empty string: %s", zero)
	}
}

func TestExtractConcurrent(t *testing.T) {
	pages := [][]byte{readPage(t, "jsonld.html"), readPage(t, "metaonly.html"), readPage(t, "plain.html")}
	want := make([]string, len(pages))
	for i, p := range pages {
		a, _ := Extract(p, Options{})
		want[i] = a.Body
	}
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func(g int) {
			for i := range 5 {
				p := (g + i) % len(pages)
				a, err := Extract(pages[p], Options{})
				if err == nil && a.Body != want[p] {
					err = errorString("body differs under concurrency")
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}(g)
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestExtractLargePage(t *testing.T) {
	// About 5 MB: a story buried in a page bloated with navigation,
	// inline data and repeated teasers, as seen on big portals.
	var b strings.Builder
	b.WriteString(`<html><head><title>Big page</title><script>`)
	b.WriteString(strings.Repeat("var x = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';\n", 20000))
	b.WriteString(`</script></head><body><nav>`)
	for i := range 5000 {
		b.WriteString(`<li><a href="/section/`)
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(`">Section link</a></li>`)
	}
	b.WriteString(`</nav><article><p>NEW YORK — The large page test paragraph opens the story, with commas, clauses, and enough words to be the lead.</p>`)
	for range 300 {
		b.WriteString(`<p>Another paragraph of the story, with a comma or two, keeps the container heavy so it wins the scoring by a wide margin.</p>`)
	}
	b.WriteString(`</article><div class="teasers">`)
	for b.Len() < 5<<20 {
		b.WriteString(`<div class="teaser"><a href="/t"><span>Teaser headline for another story</span></a></div>`)
	}
	b.WriteString(`</div></body></html>`)
	page := []byte(b.String())

	a, err := Extract(page, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Lead, "NEW YORK — The large page test paragraph") {
		t.Errorf("lead = %q", a.Lead)
	}
	if n := strings.Count(a.Body, "\n\n") + 1; n != 301 {
		t.Errorf("body has %d paragraphs, want 301", n)
	}
}
