package extract

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"github.com/clipsheet/clipsheet/internal/testcorpus"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current extractor (then check every diff by eye)")

// goldenPages are corpus pages whose metadata and lead were checked by hand
// against the page and the corpus' reference body. They cover JSON-LD and
// meta-only sites, wire stories, blogs and non-English pages.
var goldenPages = []string{
	"042bb7b5fedab6eac7db576522b89b93904c237d344bcbe14a6a5ab7f7335856", // WSJ, paywalled teaser
	"04a6711caa7c687592777718866e781e976e0fe684faebe8b3cedcef8cd0ea34", // NYT opinion
	"05844573ca7e1fba714d715bb11ca08c26e25328999c74a1cb3bc8a0e4399f0f", // AP story on a Hearst site
	"06ee193d",
	"08f79376",
	"098bb3e9",
	"0e014df6",
	"156770d6",
	"16c30add",
	"1ace8c85",
	"232a43fb",
	"264dc3ae",
	"3c6d3381",
	"432362af",
	"5fa3154e",
	"70cb2d5b",
	"785affa2",
	"7a457a4f",
	"85439e26",
	"8e3efab5",
	"a078b365",
	"c7e39ac4",
	"e4c6a3b4",
	"ef4e67b6",
	"f5c90a6d",
}

type golden struct {
	ID        string `json:"id"`
	URL       string `json:"url"`
	Title     string `json:"title"`
	Byline    string `json:"byline"`
	Published string `json:"published"`
	Lead      string `json:"lead"`
}

func TestGoldenCorpus(t *testing.T) {
	corpus := testcorpus.Dir(t, "article-extraction-benchmark")
	var truth map[string]struct {
		URL string `json:"url"`
	}
	raw, err := os.ReadFile(filepath.Join(corpus, "ground-truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range goldenPages {
		id := findID(t, truth, prefix)
		t.Run(id[:8], func(t *testing.T) {
			page := readGz(t, filepath.Join(corpus, "html", id+".html.gz"))
			a, err := Extract(page, Options{URL: truth[id].URL})
			if err != nil {
				t.Fatal(err)
			}
			got := golden{ID: id, URL: truth[id].URL, Title: a.Title, Byline: a.Byline, Lead: a.Lead}
			if !a.Published.IsZero() {
				got.Published = a.Published.Format(time.RFC3339)
			}
			path := filepath.Join("testdata", "golden", id[:8]+".json")
			if *update {
				b, _ := json.MarshalIndent(got, "", "  ")
				if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGoldenCorpus -update)", err)
			}
			var want golden
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("mismatch for %s\n got %+v\nwant %+v", want.URL, got, want)
			}
		})
	}
}

func findID(t *testing.T, truth map[string]struct {
	URL string `json:"url"`
}, prefix string) string {
	t.Helper()
	var found string
	for id := range truth {
		if len(id) >= len(prefix) && id[:len(prefix)] == prefix {
			if found != "" {
				t.Fatalf("prefix %s is ambiguous", prefix)
			}
			found = id
		}
	}
	if found == "" {
		t.Fatalf("no corpus page with id prefix %s", prefix)
	}
	return found
}

func readGz(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
