package sourcesfile

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
)

var update = flag.Bool("update", false, "rewrite golden files")

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file:\n%s", name, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the lines that differ, enough to see what went wrong.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString(fmt.Sprintf("line %d:\n  want: %s\n  got:  %s\n", i+1, wl, gl))
		}
	}
	return b.String()
}

func TestRoundTripIsExact(t *testing.T) {
	for _, name := range []string{"sources.yaml", "handwritten.yaml"} {
		orig := readTestdata(t, name)
		d, err := Parse(orig)
		if err != nil {
			t.Fatal(err)
		}
		out, err := d.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, orig) {
			t.Errorf("%s: unedited round trip changed the file:\n%s", name, lineDiff(string(orig), string(out)))
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestEditsKeepCommentsAndOrder applies one of each edit to the shipped
// sources.yaml and compares the result with a reviewed golden file: every
// comment, blank line, key order, quoting and flow list not touched by an
// edit must come through unchanged.
func TestEditsKeepCommentsAndOrder(t *testing.T) {
	d, err := Parse(readTestdata(t, "sources.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Fix a selector and slow down a page source that has a comment
	// inside it and a flow-style include list.
	must(d.UpdateSource("DHS — Press Releases", config.Source{
		Name: "DHS — Press Releases", URL: "https://www.dhs.gov/news-releases/press-releases", Type: "page",
		Links: ".usa-collection__heading a", Include: []string{`/news/\d{4}/`}, Section: "Terrorism & security",
		Interval: config.Duration(2 * time.Hour),
	}))
	// Disable a feed and give it selector overrides.
	must(d.UpdateSource("NPR — News", config.Source{
		Name: "NPR — News", URL: "https://feeds.npr.org/1001/rss.xml", Type: "feed", Section: "Top stories",
		Enabled: ptr(false), Extract: &config.Selectors{Byline: ".byline__name", Remove: []string{".ad", "aside"}},
	}))
	// Same values written differently must not change the file.
	must(d.UpdateSource("BBC News — World", config.Source{
		Name: "BBC News — World", URL: "https://feeds.bbci.co.uk/news/world/rss.xml", Type: "feed", Section: "Top stories",
		Interval: config.Duration(900 * time.Second),
	}))
	// A new source joins the end of its section's group.
	must(d.AddSource(config.Source{Name: "The Record", URL: "https://therecord.media/feed", Type: "feed", Section: "Cyber", Interval: config.Duration(time.Hour)}))
	// Deleting the first source of a group keeps the group's heading.
	must(d.DeleteSource("CISA — Cybersecurity Advisories"))
	// Sections: rename (moves sources), add, reorder.
	must(d.RenameSection("Cyber", "Cyber & infrastructure"))
	must(d.AddSection("Elections"))
	must(d.MoveSection("Public health", 1))
	out, err := d.Bytes()
	must(err)
	if _, err := config.ParseSources(out); err != nil {
		t.Fatalf("edited file does not validate: %v", err)
	}
	golden(t, "edited.yaml", out)
}

func TestEditErrors(t *testing.T) {
	d, err := Parse(readTestdata(t, "sources.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"add existing name (case-insensitive)", d.AddSource(config.Source{Name: "krebs on security", URL: "https://x.example/feed"}), ErrExists},
		{"update missing", d.UpdateSource("Nope", config.Source{Name: "Nope"}), ErrNotFound},
		{"rename onto another source", d.UpdateSource("CISA — News", config.Source{Name: "Krebs on Security", URL: "https://x.example"}), ErrExists},
		{"delete missing", d.DeleteSource("Nope"), ErrNotFound},
		{"section exists", d.AddSection("cyber"), ErrExists},
		{"rename section onto another", d.RenameSection("Cyber", "Top stories"), ErrExists},
		{"delete used section", d.DeleteSection("Cyber"), ErrInUse},
		{"move missing section", d.MoveSection("Nope", 0), ErrNotFound},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.err, c.want)
		}
	}
}

func TestEmptyFileGetsSkeleton(t *testing.T) {
	d, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AddSection("News"); err != nil {
		t.Fatal(err)
	}
	if err := d.AddSource(config.Source{Name: "A", URL: "https://a.example/feed", Type: "feed", Section: "News"}); err != nil {
		t.Fatal(err)
	}
	out, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	want := "sections:\n  - News\nsources:\n  - name: A\n    url: https://a.example/feed\n    type: feed\n    section: News\n"
	if string(out) != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}

func TestEmptyFlowListsBecomeBlockLists(t *testing.T) {
	d, err := Parse([]byte("# mine\nsections: []\nsources: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AddSection("Local"); err != nil {
		t.Fatal(err)
	}
	if err := d.AddSource(config.Source{Name: "A", URL: "https://a.example/feed", Section: "Local"}); err != nil {
		t.Fatal(err)
	}
	out, _ := d.Bytes()
	want := "# mine\nsections:\n  - Local\nsources:\n  - name: A\n    url: https://a.example/feed\n    section: Local\n"
	if string(out) != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}

func TestDeleteSectionMovesItsComment(t *testing.T) {
	in := "sections:\n  # main\n  - A\n  - B\nsources: []\n"
	d, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteSection("A"); err != nil {
		t.Fatal(err)
	}
	out, _ := d.Bytes()
	if !strings.Contains(string(out), "# main\n  - B") {
		t.Errorf("comment lost:\n%s", out)
	}
}
