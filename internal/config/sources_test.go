package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRepoSourcesFileIsValid(t *testing.T) {
	f, err := LoadSources("../../sources.yaml")
	if err != nil {
		t.Fatalf("repo sources.yaml: %v", err)
	}
	if n := len(f.Sources); n < 8 || n > 15 {
		t.Errorf("repo sources.yaml has %d sources, want 8-15", n)
	}
	for _, s := range f.Sources {
		if s.Section == "" {
			t.Errorf("source %q has no section", s.Name)
		}
	}
}

func TestParseSourcesProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings, each with its line prefix
		not  []string // substrings that must not appear
	}{
		{
			name: "unknown keys at every level",
			yaml: `defaults: {interval: 30m, colour: red}
sections: [A]
sauces: []
sources:
  - name: X
    url: https://example.com/feed
    sectoin: A
    extract:
      titel: h1
`,
			want: []string{`line 1: defaults: unknown key "colour"`, `line 3: top level: unknown key "sauces"`, `line 7: source "X": unknown key "sectoin"`, `line 9: source "X" extract: unknown key "titel"`},
		},
		{
			name: "bad url, type, section, duration",
			yaml: `sections: [A]
sources:
  - name: One
    url: ftp://example.com/feed
    type: podcast
    section: B
  - name: Two
    url: https://example.com/two
    interval: soon
`,
			want: []string{`line 4: source "One": url "ftp://example.com/feed" must be an absolute http or https URL`, `line 5: source "One": unknown type "podcast"`, `line 6: source "One": unknown section "B"`, `line 9:`, `invalid duration "soon"`},
		},
		{
			name: "duplicates",
			yaml: `sections: [A, A]
sources:
  - name: Feed
    url: https://example.com/feed/
  - name: feed
    url: http://EXAMPLE.com/feed
`,
			want: []string{`line 1: sections: "A" listed twice`, `line 5: source "feed": duplicate name (first used on line 3)`, `line 6: source "feed": duplicate url http://EXAMPLE.com/feed (first used on line 4)`},
		},
		{
			name: "page source needs links, selectors and patterns must compile",
			yaml: `sources:
  - name: P
    url: https://example.com/news
    type: page
  - name: Q
    url: https://example.com/q
    type: page
    links: "h2 >> a["
    include: ["(unclosed"]
    extract: {body: "div[", remove: ["::bad"]}
  - name: R
    url: https://example.com/r
    interval: 5s
`,
			want: []string{`line 2: source "P": type page needs a links selector`, `line 8: source "Q": links: invalid CSS selector`, `line 9: source "Q": include pattern "(unclosed"`, `line 10: source "Q": extract body: invalid CSS selector`, `extract remove: invalid CSS selector "::bad"`, `line 13: source "R": interval 5s is below the minimum`},
		},
		{
			name: "not yaml",
			yaml: "sources:\n  - name: [unclosed\n",
			want: []string{"invalid YAML"},
		},
		{
			name: "values of the wrong type, and later sources keep their lines",
			yaml: `sections: [A]
sources:
  - name: [X, Y]
    url: https://example.com/x
    enabled: maybe
  - https://example.com/plain-string
  - name: Z
    url: https://example.com/z
    type: rss
    include: notalist
`,
			want: []string{`line 3: source 1: name: must be a single text value, not a list`, `line 5: source 1: enabled: must be true or false, not "maybe"`,
				`line 6: source 2 must be a mapping`, `line 9: source "Z": unknown type "rss"`, `line 10: source "Z": include: must be a list`},
			not: []string{"name is required", "cannot unmarshal"},
		},
		{
			name: "sections and sources of the wrong shape",
			yaml: "sections: Top stories\nsources:\n  name: A\n",
			want: []string{`line 1: sections must be a list`, `line 3: sources must be a list`},
		},
		{
			name: "explicit zero intervals are refused, not taken as unset",
			yaml: "defaults: {interval: 0s}\nsources:\n  - name: A\n    url: https://example.com/a\n    interval: 0m\n",
			want: []string{`line 1: defaults: interval 0s is below the minimum of 1m`, `line 5: source "A": interval 0m is below the minimum of 1m`},
		},
		{
			name: "a second document is not silently ignored",
			yaml: "sources:\n  - name: A\n    url: https://example.com/a\n---\nsources: []\n",
			want: []string{`a second YAML document starts here`},
		},
		{
			// yaml.v3 itself says line 1 for both of these.
			name: "unclosed list: the line it opens on",
			yaml: "sections: [A]\nsources: [x\n",
			want: []string{"line 2: invalid YAML: did not find expected ',' or ']'"},
			not:  []string{"line 1:"},
		},
		{
			name: "list item inside a mapping: its own line",
			yaml: "sections: [A]\n- name: A\n",
			want: []string{"line 2: invalid YAML: did not find expected key"},
		},
		{
			name: "section but no sections list",
			yaml: "sources:\n  - name: A\n    url: https://example.com/a\n    section: Cyber\n",
			want: []string{`line 4: source "A": unknown section "Cyber": the file lists no sections`},
		},
		{
			name: "comments only",
			yaml: "# nothing yet\n",
			want: []string{"file is empty"},
		},
		{
			name: "syntax error has its line",
			yaml: "sections: [A]\nsources:\n  - name: A\n     url: https://example.com/a\n",
			want: []string{"line 4: invalid YAML"},
		},
		{
			name: "missing name and url",
			yaml: "sources:\n  - type: feed\n",
			want: []string{`line 2: source 1: name is required`, `url is required`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSources([]byte(tt.yaml))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError, got %v", err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nlacks %q", msg, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(msg, w) {
					t.Errorf("error %q\nshould not say %q", msg, w)
				}
			}
			for _, p := range ve.Problems {
				if p.Line == 0 && p.Message != "file is empty" {
					t.Errorf("problem without a line: %q", p.Message)
				}
			}
		})
	}
}

func TestParseSourcesGood(t *testing.T) {
	f, err := ParseSources([]byte(`defaults: {interval: 45m}
sections: [Top stories]
sources:
  - name: A
    url: https://example.com/a.xml
    section: Top stories
  - name: B
    url: https://example.com/b
    type: page
    links: "h2 a"
    interval: 2d
    enabled: false
    extract: {title: "h1.headline", remove: [".share"]}
`))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.Find("A")
	b, _ := f.Find("B")
	if got := f.EffectiveInterval(*a); got != 45*time.Minute {
		t.Errorf("A interval %v", got)
	}
	if got := f.EffectiveInterval(*b); got != 48*time.Hour {
		t.Errorf("B interval %v", got)
	}
	if !a.IsEnabled() || b.IsEnabled() {
		t.Errorf("enabled flags wrong: %v %v", a.IsEnabled(), b.IsEnabled())
	}
	if a.KindOrDefault() != TypeFeed || b.Extract.Title != "h1.headline" || b.Extract.Remove[0] != ".share" {
		t.Errorf("fields not decoded: %+v %+v", a, b.Extract)
	}
	if err := f.Validate(); err != nil {
		t.Errorf("round trip validate: %v", err)
	}
}

func TestLiveKeepsLastGoodList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sources.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("sources:\n  - name: A\n    url: https://example.com/a\n")
	l, err := NewLive(path)
	if err != nil {
		t.Fatal(err)
	}
	write("sources:\n  - name: A\n    url: nope\n")
	if err := l.Reload(); err == nil {
		t.Fatal("reload of invalid file succeeded")
	}
	if l.LastError() == nil || l.Current().Sources[0].URL != "https://example.com/a" {
		t.Fatalf("last good list not kept: %+v, err %v", l.Current().Sources, l.LastError())
	}
	write("sources:\n  - name: B\n    url: https://example.com/b\n")
	if err := l.Reload(); err != nil || l.Current().Sources[0].Name != "B" || l.LastError() != nil {
		t.Fatalf("good reload: %v %+v", err, l.Current())
	}
}
