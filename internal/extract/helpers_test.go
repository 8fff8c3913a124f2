package extract

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

func mustEncode(t *testing.T, s string, tr transform.Transformer) []byte {
	t.Helper()
	b, _, err := transform.Bytes(tr, []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeHTML(t *testing.T) {
	const jp = "日本語のニュース記事です。"
	const zh = "这是一篇中文新闻报道，内容很长。"
	sjis := mustEncode(t, jp, japanese.ShiftJIS.NewEncoder())
	gb := mustEncode(t, zh, simplifiedchinese.GBK.NewEncoder())
	utf16 := mustEncode(t, "<p>Grüße</p>", unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder())
	tests := []struct {
		name, ctype string
		raw         []byte
		want        string
	}{
		{"utf-8 undeclared", "", []byte("<p>Grüße</p>"), "Grüße"},
		{"header charset", "text/html; charset=ISO-8859-1", []byte("<p>Gr\xfc\xdfe</p>"), "Grüße"},
		{"header beats meta", `text/html;charset="windows-1252"`, []byte("<meta charset=\"utf-8\"><p>caf\xe9 \x93quoted\x94</p>"), "café “quoted”"},
		{"meta charset", "", []byte("<meta charset=\"windows-1252\"><p>caf\xe9</p>"), "café"},
		{"meta http-equiv shift_jis", "", append([]byte(`<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"><p>`), sjis...), jp},
		{"header gb2312", "text/html; charset=gb2312", append([]byte("<p>"), gb...), zh},
		{"utf-16 BOM", "text/html; charset=iso-8859-1", utf16, "Grüße"},
		{"utf-8 BOM beats header", "text/html; charset=windows-1252", []byte("\xef\xbb\xbf<p>Grüße</p>"), "Grüße"},
		{"undeclared windows-1252", "", []byte("<p>na\xefve caf\xe9 \x96 done</p>"), "naïve café – done"},
		{"undeclared shift_jis", "", append([]byte("<p>"), sjis...), jp},
		{"undeclared gbk", "", append([]byte("<p>"), gb...), zh},
		{"meta says utf-8 but bytes are latin-1", "", []byte("<meta charset=\"utf-8\"><p>caf\xe9 cr\xe8me</p>"), "café crème"},
		{"unknown header charset falls through", "text/html; charset=x-bogus", []byte("<p>Grüße</p>"), "Grüße"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeHTML(tc.raw, tc.ctype)
			if !strings.Contains(got, tc.want) {
				t.Errorf("decoded %q, want it to contain %q", got, tc.want)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2019-11-19T08:00:00-05:00", "2019-11-19T08:00:00-05:00"},
		{"2019-11-19T13:00:00Z", "2019-11-19T13:00:00Z"},
		{"2019-11-19T13:00:00.000Z", "2019-11-19T13:00:00Z"},
		{"2019-11-19T08:00:00+0530", "2019-11-19T08:00:00+05:30"},
		{"2019-11-19T08:00-0500", "2019-11-19T08:00:00-05:00"},
		{"2019-11-19 08:00:00", "2019-11-19T08:00:00Z"},
		{"2019-11-19", "2019-11-19T00:00:00Z"},
		{"Tue, 19 Nov 2019 08:00:00 +0100", "2019-11-19T08:00:00+01:00"},
		{"Tue Nov 19 2019 03:05:46 GMT+0000", "2019-11-19T03:05:46Z"},
		{"November 19, 2019", "2019-11-19T00:00:00Z"},
		{"Nov. 19, 2019 8:05 p.m. ET", "2019-11-19T20:05:00-05:00"},
		{"Updated: Sept. 3rd, 2019 at 9:30 AM PDT", "2019-09-03T09:30:00-07:00"},
		{"19 November 2019", "2019-11-19T00:00:00Z"},
		{"Published 19.11.2019 14:30", "2019-11-19T14:30:00Z"},
	}
	for _, tc := range tests {
		got := parseDate(tc.in)
		if got.IsZero() {
			t.Errorf("parseDate(%q) failed", tc.in)
			continue
		}
		if s := got.Format(time.RFC3339); s != tc.want {
			t.Errorf("parseDate(%q) = %s, want %s", tc.in, s, tc.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "Staff", "12345", "1066-10-14", "Page 3 of 7"} {
		if got := parseDate(bad); !got.IsZero() {
			t.Errorf("parseDate(%q) = %s, want zero", bad, got)
		}
	}
}

func TestDateFromURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://x.example/2019/11/19/story":       "2019-11-19",
		"https://x.example/news/2019-1-9-story":    "2019-01-09",
		"https://x.example/a/20191119/story.html":  "2019-11-19",
		"https://x.example/story-id-11574168580":   "",
		"https://x.example/2019/13/45/not-a-date/": "",
	} {
		got := dateFromURL(in)
		s := ""
		if !got.IsZero() {
			s = got.Format("2006-01-02")
		}
		if s != want {
			t.Errorf("dateFromURL(%q) = %q, want %q", in, s, want)
		}
	}
}

func TestCleanByline(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"By Jane Doe"}, "Jane Doe"},
		{[]string{"BY JANE DOE AND JOHN ROE"}, "JANE DOE and JOHN ROE"},
		{[]string{"By A. Smith, B. Jones and C. Brown"}, "A. Smith, B. Jones and C. Brown"},
		{[]string{"Jane Doe", "John Roe", "Jane Doe"}, "Jane Doe and John Roe"},
		{[]string{"By Jane Doe, Staff Writer"}, "Jane Doe"},
		{[]string{"Jane Doe | Reuters"}, "Jane Doe"},
		{[]string{"Analysis by Chris Smith"}, "Chris Smith"},
		{[]string{"Jane Doe and Futurism"}, "Jane Doe"},
		{[]string{"Updated 9:14 AM"}, ""},
		{[]string{"Staff"}, ""},
		{[]string{"AP"}, ""},
		{[]string{"November 19, 2019"}, ""},
		{[]string{"https://www.facebook.com/janedoe"}, ""},
		{[]string{"Ludwig van Beethoven"}, "Ludwig van Beethoven"},
		{[]string{"Николай Петров"}, "Николай Петров"},
		{[]string{"Гость"}, ""},
		{[]string{"Текст: Венера Ерофеева"}, "Венера Ерофеева"},
		{[]string{"Text: Jane Doe"}, "Jane Doe"},
		{[]string{"Редакция"}, ""},
		{[]string{"Redacción"}, ""},
		{[]string{"Jane Gastón"}, "Jane Gastón"},
	}
	for _, tc := range tests {
		if got := cleanByline(tc.in); got != tc.want {
			t.Errorf("cleanByline(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCleanTitle(t *testing.T) {
	tests := []struct{ title, site, host, h1, want string }{
		{"Big story - The Daily Ledger", "The Daily Ledger", "ledger.example", "", "Big story"},
		{"Big story | Ledger", "The Daily Ledger", "ledger.example", "", "Big story"},
		{"Ledger: Big story", "", "ledger.example", "", "Ledger: Big story"},
		{"Opinion | Big story", "", "", "Big story", "Big story"},
		{"Review - The Hobbit returns", "Film Weekly", "films.example", "", "Review - The Hobbit returns"},
		{"THE LEDGER — Big story", "The Ledger", "", "", "Big story"},
	}
	for _, tc := range tests {
		if got := cleanTitle(tc.title, tc.site, tc.host, tc.h1); got != tc.want {
			t.Errorf("cleanTitle(%q) = %q, want %q", tc.title, got, tc.want)
		}
	}
}

func TestCutLead(t *testing.T) {
	long := "The first sentence is here. The second sentence, which mentions Mr. Smith and the U.S. economy, continues for a while. The third sentence goes past the limit for sure."
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"Short lead.", 600, "Short lead."},
		{long, 120, "The first sentence is here. The second sentence, which mentions Mr. Smith and the U.S. economy, continues for a while."},
		{long, 40, "The first sentence is here."},
		{"No sentence end anywhere in this rather long line of words", 30, "No sentence end anywhere in…"},
		{"He said “it is over.” Then he left the room and did not come back at all.", 40, "He said “it is over.”"},
		{"東京で地震があった。被害は確認されていない。詳しい情報は後で。", 15, "東京で地震があった。"},
	}
	for _, tc := range tests {
		got := cutLead(tc.in, tc.max)
		if got != tc.want {
			t.Errorf("cutLead(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		if n := runeLen(got); n > tc.max+1 {
			t.Errorf("cutLead(%q, %d) has %d runes", tc.in, tc.max, n)
		}
	}
}

func TestLeadSkipsNonLeadParagraphs(t *testing.T) {
	page := `<html><body><article>
<p>By Jane Doe</p>
<p>Updated November 19, 2019 at 9:30 AM</p>
<p>Correction: An earlier version of this story misstated the date of the vote.</p>
<p>Sign up for our newsletter to get the best stories every morning in your inbox.</p>
<p>Photo: Residents gather outside the town hall on Monday evening. (AP Photo/John Roe)</p>
<p>WASHINGTON — The Senate passed the bill on Tuesday after a long night of debate, sending it to the president, who is expected to sign it this week.</p>
<p>The measure, which had stalled for months, would fund the government through September and includes money for disaster relief, border security and health programs.</p>
<p>Republicans and Democrats both claimed victory after the vote, and leaders said they hoped the deal would set a pattern for the spending fights to come.</p>
</article></body></html>`
	a, err := Extract([]byte(page), Options{MaxLeadChars: 200})
	if err != nil {
		t.Fatal(err)
	}
	want := "WASHINGTON — The Senate passed the bill on Tuesday after a long night of debate, sending it to the president, who is expected to sign it this week."
	if a.Lead != want {
		t.Errorf("lead = %q\nwant %q", a.Lead, want)
	}
	if a.Byline != "Jane Doe" {
		t.Errorf("byline = %q", a.Byline)
	}
}

func TestLeadFromHTML(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{`<p><img src="x.jpg"></p><p>The council voted on Monday to close the pool. Residents were not happy.</p><p><a href="/x">Read more</a></p>`, 0,
			"The council voted on Monday to close the pool. Residents were not happy."},
		{`&lt;p&gt;Escaped &amp;amp; twice.&lt;/p&gt;`, 0, "Escaped & twice."},
		{`<figure><img src=a><figcaption>A caption</figcaption></figure>Plain text lead. Second sentence here.`, 20, "Plain text lead."},
		{`<p>First paragraph.</p><p>Second paragraph.</p><p>The post Hello appeared first on Example Blog.</p>`, 0, "First paragraph.\n\nSecond paragraph."},
		{"", 0, ""},
		{"<script>alert(1)</script><style>p{}</style>", 0, ""},
	}
	for _, tc := range tests {
		if got := LeadFromHTML(tc.in, tc.max); got != tc.want {
			t.Errorf("LeadFromHTML(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestSelectorsOverride(t *testing.T) {
	page := readPage(t, "plain.html")
	sel := &Selectors{
		Title:     "h1",
		Byline:    "#main > div:first-of-type",
		Body:      ".text",
		Lead:      "#main > p:first-of-type",
		Published: "h1",
		Remove:    []string{".sidebar", "#gdpr"},
	}
	if err := sel.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := Extract(page, Options{URL: "https://northport.example/local/cycle-lanes", Selectors: sel})
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "Council approves new cycle lanes on Harbour Road" {
		t.Errorf("title = %q", a.Title)
	}
	if a.Byline != "Priya Shah, Leo Martin and Ana Costa" {
		t.Errorf("byline = %q", a.Byline)
	}
	if a.Lead != "Read more: New ferry timetable announced" {
		t.Errorf("lead selector ignored: %q", a.Lead)
	}
	if !a.Published.IsZero() {
		t.Errorf("published from a selector without a date should stay empty, got %s", a.Published)
	}
	if !strings.HasPrefix(a.Body, "NORTHPORT — The city council voted") || !strings.HasSuffix(a.Body, "take about six months.") {
		t.Errorf("body selector ignored: %q", a.Body)
	}

	// Remove runs before the automatic extraction too.
	a, err = Extract(readPage(t, "jsonld.html"), Options{Selectors: &Selectors{Remove: []string{"h2", ".story-body p:first-of-type"}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(a.Body, "KABUL") || strings.Contains(a.Body, "Roads cut off") {
		t.Errorf("removed elements still in body: %q", a.Body)
	}
	if !strings.HasPrefix(a.Lead, "More than 3,000 homes") {
		t.Errorf("lead = %q", a.Lead)
	}

	// A selector that matches nothing falls back to the heuristics.
	a, err = Extract(readPage(t, "jsonld.html"), Options{Selectors: &Selectors{Body: ".no-such-class", Title: "#nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "Floodwaters recede in Kabul as aid convoys arrive" || !strings.HasPrefix(a.Body, "KABUL") {
		t.Errorf("fallback failed: title %q body %.40q", a.Title, a.Body)
	}

	bad := &Selectors{Body: "div[[", Remove: []string{"ok", ":nth-child("}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "body") {
		t.Errorf("Validate = %v, want an error naming the body selector", err)
	}
	if _, err := Extract(page, Options{Selectors: bad}); err != nil {
		t.Errorf("invalid selectors must be ignored by Extract, got %v", err)
	}
}

func TestPublishedSelector(t *testing.T) {
	page := []byte(`<html><body><article><span class="when" data-x="1">Posted March 3, 2021 at 4:15 PM EST</span>` +
		strings.Repeat(`<p>Paragraph text that is long enough, with commas, to be picked as the story body by the scorer.</p>`, 8) + `</article></body></html>`)
	a, err := Extract(page, Options{Selectors: &Selectors{Published: ".when"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Published.Format(time.RFC3339); got != "2021-03-03T16:15:00-05:00" {
		t.Errorf("published = %s", got)
	}
}

func TestFlattenDeep(t *testing.T) {
	page := strings.Repeat("<div>", 3000) + "<p>Deep text, with commas, that is long enough to be counted as a paragraph by the scorer.</p>" + strings.Repeat("</div>", 3000)
	a, err := Extract([]byte(page), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.Body, "Deep text") {
		t.Errorf("deeply nested text lost: %q", a.Body)
	}
}

// Selector overrides read the page as parsed (after Remove only), so they can
// point at elements that the boilerplate cleaning would drop.
func TestSelectorsSeeUncleanedPage(t *testing.T) {
	story := strings.Repeat(`<p>Paragraph text that is long enough, with commas, to be picked as the story body by the scorer.</p>`, 8)
	page := []byte(`<html><body><header><h1>Harbour plan</h1><div class="by">By Jo Bloggs</div></header>` +
		`<article><aside class="standfirst"><p>The summary the editors wrote for this story.</p></aside>` + story +
		`<footer class="meta"><time>March 3, 2021 4:15 PM EST</time></footer></article></body></html>`)
	for _, tc := range []struct {
		name string
		sel  Selectors
	}{
		{"auto body", Selectors{Lead: "aside.standfirst p", Byline: "header .by", Published: "footer time"}},
		{"body selector", Selectors{Body: "article", Lead: "aside.standfirst p", Byline: "header .by", Published: "footer time"}},
		{"body selector without match", Selectors{Body: ".nothing", Lead: "aside.standfirst p", Byline: "header .by", Published: "footer time"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Extract(page, Options{Selectors: &tc.sel})
			if err != nil {
				t.Fatal(err)
			}
			if a.Lead != "The summary the editors wrote for this story." {
				t.Errorf("lead = %q", a.Lead)
			}
			if a.Byline != "Jo Bloggs" {
				t.Errorf("byline = %q", a.Byline)
			}
			if got := a.Published.Format(time.RFC3339); got != "2021-03-03T16:15:00-05:00" {
				t.Errorf("published = %s", got)
			}
			if !strings.HasPrefix(a.Body, "Paragraph text that is long enough") || strings.Contains(a.Body, "summary the editors") {
				t.Errorf("body = %.80q", a.Body)
			}
		})
	}
}

// A story chunked into same-class blocks under different grid rows, with
// ads and a rail between them, is kept whole and in order.
func TestSplitStoryChunks(t *testing.T) {
	para := func(i int) string {
		return fmt.Sprintf(`<p>Chunk paragraph %d has enough words, commas, and length to be scored as a real story paragraph here.</p>`, i)
	}
	chunk := func(from, to int) string {
		var b strings.Builder
		b.WriteString(`<div class="row"><div class="story-body chunk">`)
		for i := from; i < to; i++ {
			b.WriteString(para(i))
		}
		b.WriteString(`</div><div class="rail"><p>Rail teaser that is not part of the story at all.</p></div></div>`)
		return b.String()
	}
	page := `<html><body><article><h1>Title</h1><div class="chunks">` + chunk(0, 8) +
		`<div class="ad-slot">Advertisement</div>` + chunk(8, 12) + `<div class="ad-slot">Advertisement</div>` + chunk(12, 15) +
		`</div></article><div class="more"><div class="row"><div class="story-body chunk">` + para(99) + para(98) + para(97) + `</div></div></div></body></html>`
	a, err := Extract([]byte(page), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(a.Body, "\n\n")
	if len(got) != 15 {
		t.Fatalf("got %d paragraphs, want 15:\n%s", len(got), a.Body)
	}
	for i, p := range got {
		if !strings.HasPrefix(p, fmt.Sprintf("Chunk paragraph %d ", i)) {
			t.Errorf("paragraph %d = %q", i, p)
		}
	}
}

func TestKeepParaBareURL(t *testing.T) {
	tests := []struct {
		p    para
		want bool
	}{
		{para{text: "http://amzn.to/2iJFhRj", links: 22}, true},
		{para{text: "https://example.org/report.pdf", links: 30}, true},
		{para{text: "Home Sports Politics", links: 20}, false},
		{para{text: "Read the report at example.org", links: 30}, false},
		{para{text: "[Engadget]", links: 8, anchors: 1}, true},
		{para{text: "Australian-born Assange faces a charge of conspiracy to commit computer intrusion in the US.", links: 62, anchors: 1}, true},
		{para{text: "Subscribe to our newsletter for more.", links: 30, anchors: 1}, false},
		{para{text: "[Engadget]", links: 8, anchors: 1, item: true}, false},
		{para{text: "[Home] [World]", links: 9, anchors: 2}, false},
		{para{text: "(full results here)", links: 4, anchors: 1}, true},
		{para{text: "The Swedish investigation had been shelved in 2017 but was re-opened earlier this year following his eviction from the embassy.", links: 68, anchors: 1}, true},
		{para{text: "The Swedish investigation had been shelved in 2017 but was re-opened earlier this year following his eviction from the embassy.", links: 68, anchors: 2}, false},
		{para{text: "— The Senate (@Senate) October 9, 2018", links: 16, quote: true}, true},
		{para{text: "— The Senate (@Senate) October 9, 2018", links: 16}, false},
	}
	for _, tc := range tests {
		if got := keepPara(tc.p, ""); got != tc.want {
			t.Errorf("keepPara(%q) = %v, want %v", tc.p.text, got, tc.want)
		}
	}
}

// A results table inside the story is kept one row per line, even when its
// rows carry class names that look like page furniture elsewhere.
func TestDataTableRows(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<html><body><article><h1>Standings</h1>`)
	b.WriteString(strings.Repeat(`<p>The championship standings after the final race of the season, with points, wins, and poles for every driver.</p>`, 3))
	b.WriteString(`<table class="standings"><tr class="colhead"><td>Pos.</td><td>Driver</td><td>Points</td></tr>`)
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&b, `<tr class="oddrow player-2020-%d"><td class="date">%d</td><td>Driver Number%d</td><td>%d</td></tr>`, i, i, i, 5000-i*10)
	}
	b.WriteString(`</table><p>Only the first twelve drivers contest the title in the final ten races of the season.</p></article></body></html>`)
	a, err := Extract([]byte(b.String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\n\nPos. Driver Points\n\n", "\n\n1 Driver Number1 4990\n\n", "\n\n12 Driver Number12 4880\n\n"} {
		if !strings.Contains(a.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, a.Body)
		}
	}
}

// A list-style post: each item is a linked headline and a sentence of its
// own. The items are story text; a menu in the same container is not.
func TestLinkedListItems(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<html><body><article><h1>Ten things</h1><p>Here is the tech news you need to know this Tuesday, in brief, with links to the full stories.</p><ul>`)
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&b, `<li><strong><a href="/s%d">Item %d is a linked headline that runs long enough to outweigh the rest of the item text</a>.</strong> Item %d then has a sentence of its own, which explains, briefly, what happened and why.</li>`, i, i, i)
	}
	b.WriteString(`</ul><p>That is all for today, and we will be back tomorrow with more of the news you need.</p><p><a href="/a">Home</a> <a href="/b">World</a> <a href="/c">Business</a></p></article></body></html>`)
	a, err := Extract([]byte(b.String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 6; i++ {
		if want := fmt.Sprintf("Item %d then has a sentence of its own", i); !strings.Contains(a.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, a.Body)
		}
	}
	if strings.Contains(a.Body, "Business") {
		t.Errorf("menu kept:\n%s", a.Body)
	}
}

// The first chunk of a story whose paragraphs sit deeper than the others
// (and so are not credited to its wrapper) is kept with its same-class
// siblings.
func TestDeepFirstChunk(t *testing.T) {
	p := func(s string, n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, `<p>%s paragraph %d is long enough, with commas, to count as a paragraph of the story.</p>`, s, i)
		}
		return b.String()
	}
	page := `<html><body><div class="post"><div class="intro">Kicker and headline</div>` +
		`<div class="content-chunk"><div class="a"><div class="b"><div class="c"><div class="d"><div class="e"><div class="f">` + p("First", 4) + `</div></div></div></div></div></div></div>` +
		`<div class="content-chunk">` + p("Second", 8) + `</div><div class="content-chunk">` + p("Third", 6) + `</div></div></body></html>`
	a, err := Extract([]byte(page), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Body, "First paragraph 0 ") || !strings.HasSuffix(a.Body, "Third paragraph 5 is long enough, with commas, to count as a paragraph of the story.") {
		t.Errorf("body = %q", a.Body)
	}
}

func TestKeepParaAdvertLabel(t *testing.T) {
	for _, s := range []string{"Advert", "ADVERT", "Advertisement", "Image 1 of 5", "Photo 12/30", "Slide 3 of 9",
		"Iklan", "Anzeige", "Publicité", "Like Loading...", "You may also like...", "DON'T MISS", "This slideshow requires JavaScript."} {
		if keepPara(para{text: s}, "") {
			t.Errorf("keepPara(%q) = true, want false", s)
		}
	}
	for _, s := range []string{
		"There's plenty more where that came from. Sign up for The Water Coolest today to get the free daily newsletter delivered to your inbox daily.",
		"Start your day with the Opening Bell. Subscribe to the newsletter here.",
	} {
		if keepPara(para{text: s}, "") {
			t.Errorf("promo %q kept", s)
		}
	}
	for _, s := range []string{"The paper's newsletter team grew to 40 people last year, the company said.", "If you just want Disney+, you can sign up for a free 7-day trial.",
		"Advertisers left the platform in droves.", "Loading the trucks took all night.", "Don't miss the point: prices rose."} {
		if !keepPara(para{text: s}, "") {
			t.Errorf("sentence %q was dropped", s)
		}
	}
}

// An embedded post the story quotes is kept even though its wrapper's class
// looks like furniture; a comment that merely contains a quote is not.
func TestEmbeddedQuoteKept(t *testing.T) {
	story := strings.Repeat(`<p>Paragraph text that is long enough, with commas, to be picked as the story body by the scorer.</p>`, 6)
	page := `<html><body><article><h1>T</h1>` + story +
		`<div class="video-container"><blockquote class="twitter-tweet"><p>Interesting to see the capture running at an unstable frame rate tonight, while the other one holds steady. <a href="https://t.co/x">pic.twitter.com/x</a></p></blockquote></div>` +
		story + `<div class="social-media-embed"><blockquote class="twitter-tweet"><p>Yes this is real and yes the state spent nearly half a million dollars on it: <a href="https://t.co/y">https://t.co/y</a></p>— Someone (@someone) <a href="https://twitter.com/someone/status/1">November 18, 2019</a></blockquote></div>` +
		story + `<div class="share-tools"><a href="/s">Share</a> <a href="/t">Tweet</a></div></article></body></html>`
	a, err := Extract([]byte(page), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.Body, "Interesting to see the capture") || !strings.Contains(a.Body, "Yes this is real") || !strings.Contains(a.Body, "— Someone (@someone) November 18, 2019") {
		t.Errorf("embedded quote dropped:\n%s", a.Body)
	}
	if strings.Contains(a.Body, "Tweet") {
		t.Errorf("share bar kept:\n%s", a.Body)
	}
}

func TestCollapsedPanelHidden(t *testing.T) {
	story := strings.Repeat(`<p>Paragraph text that is long enough, with commas, to be picked as the story body by the scorer.</p>`, 6)
	page := `<html><body><article><h1>T</h1>` + story +
		`<div class="collapse" id="letter"><p>A fundraising letter that only shows after a click, long enough to count as a paragraph.</p></div>` +
		`<div class="collapse show"><p>An open panel whose text is visible on the page, long enough to count as a paragraph.</p></div>` +
		`</article></body></html>`
	a, err := Extract([]byte(page), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(a.Body, "fundraising letter") || !strings.Contains(a.Body, "An open panel") {
		t.Errorf("body = %s", a.Body)
	}
	for _, tc := range []struct {
		class string
		want  bool
	}{{"collapse", true}, {"x collapse y", true}, {"collapse show", false}, {"collapse in", false}, {"collapsed", false}, {"navbar-collapse", false}} {
		n := &html.Node{Type: html.ElementNode, Data: "div", Attr: []html.Attribute{{Key: "class", Val: tc.class}}}
		if got := isHidden(n); got != tc.want {
			t.Errorf("isHidden(class=%q) = %v, want %v", tc.class, got, tc.want)
		}
	}
}

// A story whose paragraphs each sit in their own card keeps a paragraph
// with one citation link, but not a card of links.
func TestCardWithCitationLink(t *testing.T) {
	card := func(s string) string {
		return `<div class="card collection-item"><div class="card-content">` + s + `</div></div>`
	}
	var b strings.Builder
	b.WriteString(`<html><body><div class="collection">`)
	for i := 0; i < 10; i++ {
		b.WriteString(card(fmt.Sprintf(`<p>Card paragraph %d of the story is long enough, with commas, to count as story text.</p>`, i)))
	}
	b.WriteString(card(`<p>The discovery was announced in an article published Monday in the <a href="/n">journal Nature Astronomy</a>.</p>`))
	b.WriteString(card(`<p><a href="/a">More news</a> and <a href="/b">more weather</a> for you.</p>`))
	b.WriteString(`</div></body></html>`)
	a, err := Extract([]byte(b.String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.Body, "journal Nature Astronomy.") || strings.Contains(a.Body, "more weather") {
		t.Errorf("body = %s", a.Body)
	}
}

func TestDropModifiers(t *testing.T) {
	for in, want := range map[string]string{
		"mv-create-card mv-recipe-card mv-create-has-image": "mv-create-card mv-recipe-card",
		"card has-video with-caption":                       "card",
		"no-comments":                                       "no-comments",
		"image-credit":                                      "image-credit",
	} {
		if got := dropModifiers(in); got != want {
			t.Errorf("dropModifiers(%q) = %q, want %q", in, got, want)
		}
	}
}

// A recipe card inside a post is kept although one of its classes says it
// has an image.
func TestCardWithImageModifierKept(t *testing.T) {
	story := strings.Repeat(`<p>Paragraph text that is long enough, with commas, to be picked as the story body by the scorer.</p>`, 12)
	page := `<html><body><article><h1>T</h1>` + story +
		`<section class="recipe-card recipe-card-has-image"><h3>Ingredients</h3><ul><li>8-9 ripe pears, cored and peeled</li><li>1 lemon, or about 1/4 cup lemon juice</li></ul></section>` +
		`<div class="image-credit">Photo by Someone</div></article></body></html>`
	a, err := Extract([]byte(page), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.Body, "8-9 ripe pears") || strings.Contains(a.Body, "Photo by") {
		t.Errorf("body = %s", a.Body)
	}
}

// Story text that the page wraps in a "paywall" block (visible in the
// markup, gated by script) is story text; a small paywall prompt is not.
func TestPaywalledTextKept(t *testing.T) {
	p := func(s string, n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, `<p>%s paragraph %d is long enough, with commas, to count as a paragraph of the story.</p>`, s, i)
		}
		return b.String()
	}
	page := `<html><body><article><h1>T</h1><div class="article-body">` + p("Free", 7) + `<div class="paywall">` + p("Gated", 8) + `</div>` +
		`<div class="paywall-prompt"><p>Subscribe now to keep reading.</p></div></div></article></body></html>`
	a, err := Extract([]byte(page), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.Body, "Gated paragraph 7") || strings.Contains(a.Body, "Subscribe now") {
		t.Errorf("body = %s", a.Body)
	}
}

// An h1 before the story text is the repeated headline; h1s after story
// text are the section headings of a CMS that misuses them.
func TestSectionH1(t *testing.T) {
	story := strings.Repeat(`<p>Paragraph text that is long enough, with commas, to be picked as the story body by the scorer, and then some more words for length, because a real paragraph of a story runs on for a while.</p>`, 4)
	page := `<html><head><title>Site</title></head><body><div class="post"><h1>The Diet Explained</h1>` + story +
		`<h1>The second phase</h1>` + story + `</div></body></html>`
	a, err := Extract([]byte(page), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(a.Body, "The Diet Explained") || !strings.Contains(a.Body, "\n\nThe second phase\n\n") {
		t.Errorf("body = %s", a.Body)
	}
}

func TestTimestampLine(t *testing.T) {
	for s, want := range map[string]bool{
		"segunda-feira, 22 de janeiro de 2018 às 0:13": true,
		"Mittwoch, 20.11.2019, 14:05 Uhr":              true,
		"22/04/2018 Interlagos":                        false,
		"The vote is set for 10:30 on May 3, 2020.":    false,
		"1 Kyle Busch 5040 5 1 17 27":                  false,
	} {
		if got := timestampLine(s, runeLen(s)); got != want {
			t.Errorf("timestampLine(%q) = %v, want %v", s, got, want)
		}
	}
	// A schedule table keeps its rows.
	if !keepPara(para{text: "17/02/2019 Daytona 14:30", table: true}, "") {
		t.Error("schedule row dropped")
	}
}

func TestCreditCaptionNotLead(t *testing.T) {
	story := strings.Repeat(`<p>Paragraph text that is long enough, with commas, to be picked as the story body by the scorer.</p>`, 8)
	page := `<html><body><article><p>The core stage of the first rocket at the assembly facility after the installation in early November of its four engines. (credit: NASA/Jude Guidry)</p>` + story + `</article></body></html>`
	a, err := Extract([]byte(page), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Lead, "Paragraph text") {
		t.Errorf("lead = %q", a.Lead)
	}
	if strings.Contains(a.Body, "credit: NASA") {
		t.Errorf("caption kept in body: %q", a.Body)
	}
}
