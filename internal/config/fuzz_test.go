package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParseSources checks that no sources file makes the parser panic, and
// that it either accepts a file whose every source passes the same checks
// the admin forms use, or rejects it with a *ValidationError that names at
// least one problem.
func FuzzParseSources(f *testing.F) {
	if b, err := os.ReadFile("../../sources.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("sections: [A]\nsources:\n  - name: x\n    url: https://example.com/feed\n    section: A\n"))
	f.Add([]byte("sources:\n  - {name: a, url: 'http://[::1', interval: 1x}\n  - {name: a, url: ftp://x}\n"))
	f.Add([]byte("defaults: {interval: 2d}\nsources: []\n---\nsources: []\n"))
	f.Add([]byte("sources:\n  - name: p\n    url: https://example.com/\n    type: page\n    links: 'h2 >>> a'\n    include: ['(']\n"))
	f.Add([]byte("&a [*a, *a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := ParseSources(data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error %v is not a ValidationError with problems", err)
			}
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error message")
			}
			return
		}
		sections := map[string]bool{}
		for _, s := range sf.Sections {
			sections[s] = true
		}
		for _, s := range sf.Sources {
			if ps := CheckSource(s, sections); len(ps) > 0 {
				t.Fatalf("accepted source %q fails CheckSource: %v", s.Name, ps)
			}
		}
	})
}
