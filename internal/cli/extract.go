package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/extract"
	"github.com/clipsheet/clipsheet/internal/fetch"
	"github.com/clipsheet/clipsheet/internal/fetch/httpx"
)

// Extract implements "clipsheet extract": run the article extractor on
// files or URLs and print the result. One input failing does not stop the
// others; the exit code is 1 if any failed and 2 on a usage error.
func Extract(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("extract", "extract [flags] FILE|URL...", stderr)
	jsonOut := fs.Bool("json", false, "print one JSON object per input (JSON lines) with the keys url, canonical_url, title, byline, published, site_name, lead, body")
	baseURL := fs.String("base-url", "", "page URL for file inputs: base for relative links, date in URL, site name")
	maxChars := fs.Int("max-chars", 0, "maximum lead length in characters (default: the setting excerpt.max_chars, 600)")
	source := fs.String("source", "", "apply this source's extract selectors from the sources file")
	settingsPath := fs.String("settings", "", "settings file (default clipsheet.yaml if present; env CLIPSHEET_SETTINGS)")
	var set multiFlag
	fs.Var(&set, "set", "override a setting, e.g. --set excerpt.max_chars=900 (repeatable)")
	sourcesPath := fs.String("config", "", "sources file for --source (default: the setting sources, sources.yaml)")
	allowPrivate := fs.Bool("allow-private", false, "allow fetching loopback and private addresses (setting: fetch.allow_private)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: clipsheet extract [flags] FILE|URL...

Extracts headline, byline, publication time, site name, lead and body from
article pages. FILE is an .html or .html.gz file; URL is fetched with the
fetcher's guarded client and settings (fetch.timeout, fetch.max_body_bytes,
fetch.user_agent; loopback and private addresses only with fetch.allow_private).
With --json, every input gives one line, in input order; an input that could
not be read or fetched gives a line with an "error" key instead.

flags:
`)
		fs.PrintDefaults()
	}
	inputs, code, done := parseInterspersed(fs, args)
	if done {
		return code
	}
	if len(inputs) == 0 {
		fmt.Fprintln(stderr, "clipsheet extract: no input; give one or more files or URLs")
		fs.Usage()
		return 2
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["max-chars"] && *maxChars <= 0 {
		fmt.Fprintln(stderr, "clipsheet extract: --max-chars must be positive")
		return 2
	}
	// The lead is cut as the service would cut it: excerpt.max_chars from
	// clipsheet.yaml or CLIPSHEET_EXCERPT_MAX_CHARS unless --max-chars says.
	settings, err := (&envFlags{settingsPath: *settingsPath, sources: *sourcesPath, allowPrivate: *allowPrivate, set: set, fs: fs}).load(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "clipsheet extract:", err)
		return 2
	}
	if !given["max-chars"] {
		*maxChars = settings.Settings.Excerpt.MaxChars
	}
	if *baseURL != "" && !isHTTPURL(*baseURL) {
		fmt.Fprintf(stderr, "clipsheet extract: --base-url %q: want an absolute http(s) URL\n", *baseURL)
		return 2
	}
	var sel *extract.Selectors
	if *source != "" {
		s, err := sourceSelectors(settings.Settings.Sources, *source)
		if err != nil {
			fmt.Fprintln(stderr, "clipsheet extract:", err)
			return 2
		}
		sel = s
	} else if given["config"] {
		fmt.Fprintln(stderr, "clipsheet extract: --config needs --source")
		return 2
	}

	client := httpx.New(fetch.HTTPConfig(settings.Settings.Fetch))
	defer client.Close()
	failed := false
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for i, in := range inputs {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "clipsheet extract: interrupted")
			return 1
		}
		a, err := extractInput(ctx, client, in, *baseURL, *maxChars, sel)
		if err != nil {
			fmt.Fprintf(stderr, "clipsheet extract: %s: %v\n", in, err)
			failed = true
			if *jsonOut {
				if err := writeErrorJSON(enc, in, err); err != nil {
					fmt.Fprintf(stderr, "clipsheet extract: %s: %v\n", in, err)
					return 1
				}
			}
			continue
		}
		if *jsonOut {
			if err := writeArticleJSON(enc, a); err != nil {
				fmt.Fprintf(stderr, "clipsheet extract: %s: %v\n", in, err)
				return 1
			}
			continue
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		writeSummary(stdout, in, a)
	}
	if failed {
		return 1
	}
	return 0
}

// parseInterspersed lets flags follow inputs ("extract page.html --json"),
// which the flag package alone stops parsing at.
func parseInterspersed(fs *flag.FlagSet, args []string) (inputs []string, code int, done bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, 0, true
			}
			return nil, 2, true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return inputs, 0, false
		}
		if rest[0] == "--" {
			return append(inputs, rest[1:]...), 0, false
		}
		inputs = append(inputs, rest[0])
		args = rest[1:]
	}
}

func isHTTPURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

func sourceSelectors(path, name string) (*extract.Selectors, error) {
	f, err := config.LoadSources(path)
	if err != nil {
		return nil, fmt.Errorf("--source %s: %w", name, err)
	}
	s, ok := f.Find(name)
	if !ok {
		return nil, fmt.Errorf("--source %s: no such source in %s", name, path)
	}
	if s.Extract == nil {
		return &extract.Selectors{}, nil
	}
	sel := &extract.Selectors{
		Title:     s.Extract.Title,
		Byline:    s.Extract.Byline,
		Body:      s.Extract.Body,
		Lead:      s.Extract.Lead,
		Published: s.Extract.Published,
		Remove:    s.Extract.Remove,
	}
	if err := sel.Validate(); err != nil {
		return nil, fmt.Errorf("--source %s: %w", name, err)
	}
	return sel, nil
}

// extractInput reads or fetches one input and extracts it.
func extractInput(ctx context.Context, client *httpx.Client, in, baseURL string, maxChars int, sel *extract.Selectors) (*extract.Article, error) {
	raw, opts, err := loadInput(ctx, client, in, baseURL)
	if err != nil {
		return nil, err
	}
	opts.MaxLeadChars = maxChars
	opts.Selectors = sel
	return extract.Extract(raw, opts)
}

func loadInput(ctx context.Context, client *httpx.Client, in, baseURL string) ([]byte, extract.Options, error) {
	if isHTTPURL(in) {
		return fetchPage(ctx, client, in)
	}
	raw, err := os.ReadFile(in)
	if err != nil {
		return nil, extract.Options{}, fmt.Errorf("read: %w", err)
	}
	// Saved pages are often gzipped under any name; the magic bytes tell.
	if strings.HasSuffix(strings.ToLower(in), ".gz") || bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, extract.Options{}, fmt.Errorf("gunzip: %w", err)
		}
		raw, err = io.ReadAll(io.LimitReader(zr, 64<<20))
		if err != nil {
			return nil, extract.Options{}, fmt.Errorf("gunzip: %w", err)
		}
	}
	return raw, extract.Options{URL: baseURL}, nil
}

func fetchPage(ctx context.Context, client *httpx.Client, u string) ([]byte, extract.Options, error) {
	resp, err := client.Get(ctx, httpx.Request{URL: u, Accept: httpx.AcceptHTML})
	if err != nil {
		return nil, extract.Options{}, fmt.Errorf("fetch: %w", err)
	}
	return resp.Body, extract.Options{URL: resp.URL, ContentType: resp.ContentType()}, nil
}

// articleLine is one line of `extract --json`: exactly the documented keys,
// in this order, so scripts can rely on the shape.
type articleLine struct {
	URL          string `json:"url"`
	CanonicalURL string `json:"canonical_url"`
	Title        string `json:"title"`
	Byline       string `json:"byline"`
	Published    string `json:"published"` // RFC 3339, "" when unknown
	SiteName     string `json:"site_name"`
	Lead         string `json:"lead"`
	Body         string `json:"body"`
	// Error is set, and the rest empty, for an input that failed; it keeps
	// the lines in step with the inputs.
	Error string `json:"error,omitempty"`
}

func writeArticleJSON(enc *json.Encoder, a *extract.Article) error {
	line := articleLine{URL: a.URL, CanonicalURL: a.CanonicalURL, Title: a.Title, Byline: a.Byline,
		SiteName: a.SiteName, Lead: a.Lead, Body: a.Body}
	if !a.Published.IsZero() {
		line.Published = a.Published.Format(time.RFC3339)
	}
	if err := enc.Encode(line); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return nil
}

func writeErrorJSON(enc *json.Encoder, in string, failure error) error {
	line := articleLine{Error: failure.Error()}
	if isHTTPURL(in) {
		line.URL = in
	}
	if err := enc.Encode(line); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return nil
}

func writeSummary(w io.Writer, in string, a *extract.Article) {
	pub := ""
	if !a.Published.IsZero() {
		pub = a.Published.Format(time.RFC3339)
	}
	fmt.Fprintf(w, "== %s\n", in)
	row := func(k, v string) {
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(w, "%-10s %s\n", k+":", v)
	}
	row("Title", a.Title)
	row("Byline", a.Byline)
	row("Published", pub)
	row("Site", a.SiteName)
	row("URL", a.CanonicalURL)
	row("Language", a.Language)
	row("Image", a.Image)
	if a.Body == "" {
		row("Lead", "")
		fmt.Fprintln(w, "Body:      (no article found on this page)")
		return
	}
	row("Lead", strings.ReplaceAll(a.Lead, "\n\n", " ¶ "))
	paras := strings.Count(a.Body, "\n\n") + 1
	fmt.Fprintf(w, "%-10s %d paragraphs, %d words\n", "Body:", paras, len(strings.Fields(a.Body)))
}
