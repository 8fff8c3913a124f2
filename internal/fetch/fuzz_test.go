package fetch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/clipsheet/clipsheet/internal/testcorpus"
)

// FuzzParseFeed checks that no document makes the feed parser panic, and
// that what it accepts is safe to store: every story link is an absolute
// http(s) URL (never javascript: or a relative path) and every text field
// is valid UTF-8. Seeds: a few real feeds of the shared corpus, when it is
// beside the repository, and small hand-made documents.
func FuzzParseFeed(f *testing.F) {
	for _, name := range []string{"atom-daringfireball.atom", "atom-golem-feedcreator.xml"} {
		path, err := testcorpus.Find(filepath.Join("feeds", name))
		if err != nil {
			continue
		}
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b, "application/atom+xml", "https://example.com/feed")
		}
	}
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>T</title><item><title>Caf`+"\xe9"+`</title><link>/a/1</link><author>x@y.z (Jane Doe)</author></item><item><link>javascript:alert(1)</link><guid>https://example.com/g</guid></item></channel></rss>`), "", "https://example.com/rss")
	f.Add([]byte(`<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://example.com/b/"><entry><title type="html">&lt;b&gt;x&lt;/b&gt;</title><link href="rel"/><updated>2020-01-01T00:00:00Z</updated></entry></feed>`), "application/atom+xml", "https://example.com/atom")
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"1","url":"https://example.com/j","content_html":"<p>x</p>","authors":[{"name":"A"}]}]}`), "application/feed+json", "https://example.com/j.json")
	f.Add([]byte("\xef\xbb\xbf<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\"><item><link>https://example.com/r</link></item></rdf:RDF>"), "text/xml", "https://example.com/rdf")
	f.Add([]byte("<html><body>not a feed</body></html>"), "text/html", "https://example.com/")
	f.Fuzz(func(t *testing.T, body []byte, contentType, docURL string) {
		pf, err := parseFeed(body, contentType, docURL)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for _, s := range []string{pf.Title, pf.Language, pf.Format} {
			if !utf8.ValidString(s) {
				t.Fatalf("feed field is not UTF-8: %q", s)
			}
		}
		for _, e := range pf.Entries {
			if e.Link != "" && !isHTTPURL(e.Link) {
				t.Fatalf("entry link %q is not an absolute http(s) URL", e.Link)
			}
			for _, s := range []string{e.Title, e.Byline} {
				if !utf8.ValidString(s) {
					t.Fatalf("entry field is not UTF-8: %q", s)
				}
			}
		}
	})
}
