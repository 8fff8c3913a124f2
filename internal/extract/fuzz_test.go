package extract

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzExtract checks that no input makes Extract panic, fail, or return
// malformed text. Seeds: the handwritten pages here plus
// testdata/fuzz/FuzzExtract (earlier crashers and odd markup).
func FuzzExtract(f *testing.F) {
	for _, name := range []string{"jsonld.html", "metaonly.html", "plain.html"} {
		f.Add(readPage(f, name), "text/html", "https://example.com/2020/01/02/story")
	}
	f.Add([]byte("<p>"+strings.Repeat("<div>", 2000)+"deep"), "", "")
	f.Add([]byte(`<script type="application/ld+json">{"@graph":[{"@type":"NewsArticle","author":[{"name":"A B"},"C D",null,1],"datePublished":["2020-01-01"]}]}</script>`), "text/html; charset=utf-8", "http://x/")
	f.Add([]byte("\xff\xfe<\x00p\x00>\x00"), "", "")
	f.Add([]byte("<meta charset=shift_jis><p>\x82\xa0\x82\xa2</p>"), "text/html; charset=bogus", "::not a url")
	f.Fuzz(func(t *testing.T, page []byte, contentType, pageURL string) {
		a, err := Extract(page, Options{URL: pageURL, ContentType: contentType, MaxLeadChars: 200, Selectors: &Selectors{Remove: []string{".ad", "[["}, Lead: "p:first-child"}})
		if err != nil {
			t.Fatalf("Extract error: %v", err)
		}
		if a == nil {
			t.Fatal("nil article")
		}
		for name, s := range map[string]string{"title": a.Title, "byline": a.Byline, "lead": a.Lead, "body": a.Body} {
			if !utf8.ValidString(s) {
				t.Errorf("%s is not valid UTF-8: %q", name, s)
			}
		}
		if n := utf8.RuneCountInString(a.Lead); n > 201 { // +1 for the "…"
			t.Errorf("lead has %d runes, max 200", n)
		}
		if _, err := a.MarshalJSON(); err != nil {
			t.Errorf("MarshalJSON: %v", err)
		}
	})
}

// FuzzLeadFromHTML covers the feed-description path.
func FuzzLeadFromHTML(f *testing.F) {
	f.Add("<p>Hello <b>world</b>. This is a lead.</p><p>Read more</p>", 50)
	f.Add("&lt;p&gt;escaped &amp;amp; twice&lt;/p&gt;", 0)
	f.Add("<img src=x><figure><figcaption>Caption</figcaption></figure>Text only", 10)
	f.Fuzz(func(t *testing.T, frag string, max int) {
		if max > 5000 || max < -5 {
			return
		}
		out := LeadFromHTML(frag, max)
		if !utf8.ValidString(out) {
			t.Errorf("invalid UTF-8: %q", out)
		}
		limit := max
		if limit <= 0 {
			limit = DefaultMaxLeadChars
		}
		if n := utf8.RuneCountInString(out); n > limit+1 {
			t.Errorf("lead has %d runes, max %d", n, limit)
		}
	})
}

// FuzzDateFromText covers the visible-date parser: no panic, and a date it
// returns is a real calendar day in the accepted years whose year is
// written in the input.
func FuzzDateFromText(f *testing.F) {
	for _, s := range []string{"Published March 3, 2020", "3.4.2020 14:20", "5. März 2020, 11:30 Uhr", "Publié le 12 mars 2020 à 08h45",
		"3 de abril de 2020", "17. januára 2021 19:27", "11/05/2018", "2021-11-03", "31.4.2020", "99/99/2020 99:99 pm"} {
		f.Add(s, "en")
		f.Add(s, "sk")
	}
	f.Fuzz(func(t *testing.T, s, lang string) {
		d := dateFromText(s, lang)
		if d.IsZero() {
			return
		}
		if d.Year() < 1990 || d.Year() > 2100 {
			t.Fatalf("year %d from %q", d.Year(), s)
		}
		if !strings.Contains(s, d.Format("2006")) {
			t.Fatalf("%v: year not in %q", d, s)
		}
		if d.Hour() > 23 || d.Minute() > 59 {
			t.Fatalf("time %v from %q", d, s)
		}
	})
}
