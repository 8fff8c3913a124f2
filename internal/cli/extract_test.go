package cli

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"github.com/clipsheet/clipsheet/internal/testcorpus"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const extractTestPage = `<html lang="en"><head><title>Harbour bridge reopens - Northport Herald</title>
<meta property="og:site_name" content="Northport Herald">
<meta name="author" content="Priya Shah">
<meta property="article:published_time" content="2024-05-02T09:30:00+01:00">
<link rel="canonical" href="/local/bridge-reopens"></head>
<body><nav><a href="/">Home</a></nav><article><h1>Harbour bridge reopens</h1>
<div class="story-meta">Posted in Local</div>
<p>NORTHPORT — The harbour bridge reopened on Thursday morning after eight months of repairs, ending long detours for thousands of commuters.</p>
<p>Engineers replaced the corroded steel cables and resurfaced the deck, the city said, adding that the work came in under budget.</p>
<p>A ribbon-cutting ceremony is planned for Saturday, with the mayor and the engineers who led the project expected to attend.</p>
<div class="sponsored-box">Sponsored: buy a boat</div>
</article></body></html>`

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func runExtract(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Extract(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExtractCommandJSON(t *testing.T) {
	dir := t.TempDir()
	html := writeFile(t, dir, "story.html", []byte(extractTestPage))
	gzPath := writeFile(t, dir, "story.html.gz", gzipBytes(t, []byte(extractTestPage)))
	gzNoSuffix := writeFile(t, dir, "saved-page", gzipBytes(t, []byte(extractTestPage)))

	// Flags after inputs are accepted too.
	code, out, errOut := runExtract(t, "--json", "--base-url", "https://herald.example/local/2024/05/02/x", html, gzPath, gzNoSuffix, "--max-chars", "80")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	lines := 0
	for sc.Scan() {
		lines++
		var got map[string]string
		if err := json.Unmarshal(sc.Bytes(), &got); err != nil {
			t.Fatalf("line %d is not a JSON object of strings: %v\n%s", lines, err, sc.Text())
		}
		want := map[string]string{
			"url":           "https://herald.example/local/2024/05/02/x",
			"canonical_url": "https://herald.example/local/bridge-reopens",
			"title":         "Harbour bridge reopens",
			"byline":        "Priya Shah",
			"published":     "2024-05-02T09:30:00+01:00",
			"site_name":     "Northport Herald",
			// --max-chars 80 cuts the first paragraph at a word.
			"lead": "NORTHPORT — The harbour bridge reopened on Thursday morning after eight months…",
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("line %d: %s = %q, want %q", lines, k, got[k], v)
			}
		}
		if !strings.HasPrefix(got["body"], "NORTHPORT — The harbour bridge") || strings.Count(got["body"], "\n\n") != 2 || strings.Contains(got["body"], "Sponsored") {
			t.Errorf("line %d: body = %q", lines, got["body"])
		}
		if keys := jsonKeys(t, sc.Bytes()); keys != "url canonical_url title byline published site_name lead body" {
			t.Errorf("line %d: keys %q, want exactly url canonical_url title byline published site_name lead body in that order", lines, keys)
		}
	}
	if lines != 3 {
		t.Errorf("got %d JSON lines, want 3", lines)
	}
}

// jsonKeys lists the keys of a JSON object in the order they are written.
func jsonKeys(t *testing.T, line []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", line)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return strings.Join(keys, " ")
}

// The lead is as long as the setting excerpt.max_chars says (file, then
// environment), unless --max-chars overrides it.
func TestExtractCommandFollowsExcerptSetting(t *testing.T) {
	dir := t.TempDir()
	html := writeFile(t, dir, "story.html", []byte(extractTestPage))
	settings := writeFile(t, dir, "clipsheet.yaml", []byte("excerpt:\n  max_chars: 60\n"))
	lead := func(args ...string) string {
		t.Helper()
		code, out, errOut := runExtract(t, append([]string{"--json", html}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		return got["lead"]
	}
	full := lead()
	if !strings.Contains(full, "\n\nEngineers replaced") {
		t.Fatalf("default lead should carry two paragraphs: %q", full)
	}
	fromFile := lead("--settings", settings)
	if n := len([]rune(fromFile)); n > 60 || n < 30 || !strings.HasPrefix(full, strings.TrimSuffix(fromFile, "…")) {
		t.Errorf("settings file max_chars 60: lead %q (%d chars)", fromFile, n)
	}
	t.Setenv("CLIPSHEET_EXCERPT_MAX_CHARS", "150")
	fromEnv := lead("--settings", settings)
	if n := len([]rune(fromEnv)); n > 150 || n <= 60 {
		t.Errorf("environment max_chars 150 over the file's 60: lead %q (%d chars)", fromEnv, n)
	}
	if got := lead("--settings", settings, "--max-chars", "2000"); got != full {
		t.Errorf("--max-chars over the environment: %q", got)
	}
	if got := lead("--set", "excerpt.max_chars=2000"); got != full {
		t.Errorf("--set over the environment: %q", got)
	}
	t.Setenv("CLIPSHEET_EXCERPT_MAX_CHARS", "lots")
	if code, _, errOut := runExtract(t, html); code != 2 || !strings.Contains(errOut, "excerpt.max_chars") {
		t.Errorf("bad setting: exit %d, %s", code, errOut)
	}
}

func TestExtractCommandSummaryAndErrors(t *testing.T) {
	dir := t.TempDir()
	html := writeFile(t, dir, "story.html", []byte(extractTestPage))
	empty := writeFile(t, dir, "empty.html", []byte("<html><body><nav><a href=/>Home</a></nav></body></html>"))
	badGz := writeFile(t, dir, "bad.html.gz", []byte("not gzip"))
	missing := filepath.Join(dir, "missing.html")

	code, out, errOut := runExtract(t, html, missing, badGz, empty)
	if code != 1 {
		t.Errorf("exit %d, want 1 when some inputs fail", code)
	}
	for _, want := range []string{"== " + html, "Title:     Harbour bridge reopens", "Byline:    Priya Shah", "Published: 2024-05-02T09:30:00+01:00", "Body:      3 paragraphs", "== " + empty, "(no article found on this page)"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{"missing.html: read:", "bad.html.gz: gunzip:"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestExtractCommandURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/latin1":
			w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
			page := strings.Replace(extractTestPage, "Harbour bridge reopens</h1>", "Caf\xe9 bridge reopens</h1>", 1)
			page = strings.Replace(page, "<title>Harbour bridge reopens", "<title>Caf\xe9 bridge reopens", 1)
			_, _ = w.Write([]byte(page))
		case "/huge":
			w.Header().Set("Content-Type", "text/html")
			chunk := bytes.Repeat([]byte("<p>x</p>"), 1<<16)
			for range 21 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	// Without fetch.allow_private the guarded client refuses loopback,
	// and every input still gets its line, in order.
	code, out, errOut := runExtract(t, "--json", srv.URL+"/latin1", srv.URL+"/gone")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 1 || len(lines) != 2 {
		t.Fatalf("private address: exit %d, %d lines: %q", code, len(lines), out)
	}
	for i, want := range []string{srv.URL + "/latin1", srv.URL + "/gone"} {
		var got map[string]string
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Fatalf("bad JSON %q: %v", lines[i], err)
		}
		if got["url"] != want || !strings.Contains(got["error"], "refusing to fetch private address 127.0.0.1") || got["title"] != "" {
			t.Errorf("line %d: %v", i, got)
		}
	}
	if !strings.Contains(errOut, "fetch.allow_private") {
		t.Errorf("stderr should say which setting allows it: %s", errOut)
	}

	code, out, errOut = runExtract(t, "--json", "--allow-private", srv.URL+"/latin1", srv.URL+"/gone", srv.URL+"/huge")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want one JSON line per input, got %q", out)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	if got["title"] != "Café bridge reopens" || got["url"] != srv.URL+"/latin1" || got["canonical_url"] != srv.URL+"/local/bridge-reopens" || got["error"] != "" {
		t.Errorf("URL input: %v", got)
	}
	if !strings.Contains(lines[1], `"error":"fetch: HTTP 404`) || !strings.Contains(lines[2], "exceeds the limit of 10485760 bytes") {
		t.Errorf("error lines: %q", lines[1:])
	}
	if !strings.Contains(errOut, "/gone: fetch: HTTP 404") || !strings.Contains(errOut, "/huge: fetch: response exceeds the limit") {
		t.Errorf("stderr: %s", errOut)
	}
	// fetch.max_body_bytes applies here as in the fetcher.
	if code, out, _ := runExtract(t, "--json", "--allow-private", "--set", "fetch.max_body_bytes=300", srv.URL+"/latin1"); code != 1 || !strings.Contains(out, "exceeds the limit of 300 bytes") {
		t.Errorf("max_body_bytes 300: exit %d, %s", code, out)
	}
}

func TestExtractCommandSource(t *testing.T) {
	dir := t.TempDir()
	html := writeFile(t, dir, "story.html", []byte(extractTestPage))
	sources := writeFile(t, dir, "sources.yaml", []byte(`sources:
  - name: herald
    url: https://herald.example/feed.xml
    extract:
      title: ".story-meta"
      remove: ["p:first-of-type"]
`))
	code, out, errOut := runExtract(t, "--json", "--config", sources, "--source", "herald", html)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got["title"] != "Posted in Local" {
		t.Errorf("title selector not applied: %q", got["title"])
	}
	if strings.Contains(got["body"], "NORTHPORT") || !strings.HasPrefix(got["lead"], "Engineers replaced") {
		t.Errorf("remove selector not applied: lead %q", got["lead"])
	}

	if code, _, errOut := runExtract(t, "--config", sources, "--source", "nope", html); code != 2 || !strings.Contains(errOut, "no such source") {
		t.Errorf("unknown source: exit %d, stderr %s", code, errOut)
	}
}

func TestExtractCommandUsage(t *testing.T) {
	if code, _, errOut := runExtract(t); code != 2 || !strings.Contains(errOut, "no input") {
		t.Errorf("no args: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runExtract(t, "--help"); code != 0 || !strings.Contains(errOut, "-max-chars") {
		t.Errorf("--help: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := runExtract(t, "--max-chars", "0", "x.html"); code != 2 {
		t.Errorf("--max-chars 0: exit %d, want 2", code)
	}
	if code, _, _ := runExtract(t, "--base-url", "not-a-url", "x.html"); code != 2 {
		t.Errorf("bad --base-url: exit %d, want 2", code)
	}
	if code, _, _ := runExtract(t, "--bogus"); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
}

func TestExtractCommandCorpus(t *testing.T) {
	dir := testcorpus.Dir(t, "article-extraction-benchmark/html")
	if testing.Short() {
		t.Skip("corpus run skipped in -short mode")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.html.gz"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no pages in %s: %v", dir, err)
	}
	code, out, errOut := runExtract(t, append([]string{"--json"}, files...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(files) {
		t.Errorf("%d JSON lines for %d files", len(lines), len(files))
	}
	withBody := 0
	for _, line := range lines {
		var got map[string]string
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatal(err)
		}
		if got["body"] != "" {
			withBody++
		}
	}
	if withBody < len(files)-2 {
		t.Errorf("only %d of %d corpus pages produced a body", withBody, len(files))
	}
}

// TestExtractCommandRefusesSiteLocal: the extract command's client is the
// fetcher's guarded one, so IPv6 site-local (fec0::/10) is refused before
// any connection is tried.
func TestExtractCommandRefusesSiteLocal(t *testing.T) {
	code, out, _ := runExtract(t, "--json", "--set", "fetch.connect_timeout=2s", "http://[fec0::1]:8080/story", "http://[::ffff:10.0.0.1]/")
	if code != 1 || strings.Count(out, "refusing to fetch private address") != 2 || !strings.Contains(out, "fec0::1 (site-local;") {
		t.Errorf("exit %d, want both inputs refused by the guard: %s", code, out)
	}
}
