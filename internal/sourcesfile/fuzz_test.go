package sourcesfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseOPML checks that no subscription list makes the OPML reader
// panic, and that every feed it returns has a feed URL to import.
func FuzzParseOPML(f *testing.F) {
	if paths, err := filepath.Glob("../../testdata/opml/*"); err == nil {
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><opml version="2.0"><body><outline text="Caf` + "\xe9" + `"><outline type="rss" text="A" xmlUrl="https://example.com/a"/></outline><outline xmlUrl="/rel" category="/x/y"/></body></opml>`))
	f.Add([]byte(`<opml><body><outline><outline><outline xmlUrl="https://example.com/deep"/></outline></outline></body></opml>`))
	f.Add([]byte(`<opml><body><outline xmlUrl=""/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		feeds, err := ParseOPML(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, fd := range feeds {
			if fd.XMLURL == "" {
				t.Fatalf("feed %+v has no feed URL", fd)
			}
		}
	})
}
