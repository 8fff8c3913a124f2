package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/fetch"
	"github.com/clipsheet/clipsheet/internal/model"
)

// Fetch polls the sources: once with --once (printing a summary per
// source), else on their schedules until interrupted. Source failures are
// reported, not fatal: the exit code is non-zero only when settings or
// sources.yaml are invalid or the store cannot be opened.
func Fetch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fetch", "fetch [--once] [--source NAME]... [--json] [flags]", stderr)
	env := addEnvFlags(fs)
	once := fs.Bool("once", false, "poll every enabled source once, print a summary and exit")
	asJSON := fs.Bool("json", false, "with --once: print one JSON object per source")
	var only multiFlag
	fs.Var(&only, "source", "poll only this source (repeatable; with --once)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "clipsheet fetch: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if len(only) > 0 && !*once {
		fmt.Fprintln(stderr, "clipsheet fetch: --source needs --once")
		return 2
	}
	e, err := env.load(stderr)
	if err != nil {
		return fail(stderr, err)
	}
	if !*once {
		live, err := config.NewLive(e.Settings.Sources)
		if err != nil {
			return failSources(stderr, e.Settings.Sources, err)
		}
		st, err := e.OpenStore()
		if err != nil {
			return fail(stderr, err)
		}
		defer st.Close()
		f := fetch.New(st, e.Settings.Fetch, e.Settings.Excerpt.MaxChars, e.Logger)
		f.UseRules(st.ListRules)
		defer f.Close()
		fmt.Fprintf(stdout, "clipsheet: polling the sources in %s until interrupted\n", e.Settings.Sources)
		if err := f.Run(ctx, live.Current); err != nil && !errors.Is(err, context.Canceled) {
			return fail(stderr, err)
		}
		return 0
	}
	sources, err := e.LoadSources()
	if err != nil {
		return failSources(stderr, e.Settings.Sources, err)
	}
	if len(only) > 0 {
		picked := *sources
		picked.Sources = nil
		for _, name := range only {
			s, ok := sources.Find(name)
			if !ok {
				return fail(stderr, fmt.Errorf("no source named %q in %s", name, e.Settings.Sources))
			}
			picked.Sources = append(picked.Sources, *s)
		}
		sources = &picked
	}
	st, err := e.OpenStore()
	if err != nil {
		return fail(stderr, err)
	}
	defer st.Close()
	f := fetch.New(st, e.Settings.Fetch, e.Settings.Excerpt.MaxChars, e.Logger)
	f.UseRules(st.ListRules)
	defer f.Close()
	start := time.Now()
	results := f.PollOnce(ctx, sources)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		for _, r := range results {
			enc.Encode(resultJSON(r))
		}
		return 0
	}
	printResults(stdout, results, time.Since(start))
	return 0
}

type resultLine struct {
	Source      string  `json:"source"`
	NewItems    int     `json:"new_items"`
	Entries     int     `json:"entries"`
	Status      int     `json:"status,omitempty"`
	NotModified bool    `json:"not_modified,omitempty"`
	Seconds     float64 `json:"seconds"`
	MovedTo     string  `json:"moved_to,omitempty"`
	Error       string  `json:"error,omitempty"`
}

func resultJSON(r fetch.Result) resultLine {
	l := resultLine{Source: r.Source, NewItems: r.NewItems, Entries: r.Entries, Status: r.Status,
		NotModified: r.NotModified, Seconds: r.Duration.Seconds(), MovedTo: r.MovedTo}
	if r.Err != nil {
		l.Error = r.Err.Error()
	}
	return l
}

func printResults(w io.Writer, results []fetch.Result, took time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tRESULT\tNEW\tENTRIES\tTIME\tDETAIL")
	newTotal, failed := 0, 0
	for _, r := range results {
		result, detail := "ok", ""
		switch {
		case r.Err != nil:
			result, detail = "FAILED", r.Err.Error()
			failed++
		case r.NotModified:
			result = "not modified"
		}
		if r.Status != 0 && r.Err == nil {
			result += fmt.Sprintf(" (%d)", r.Status)
		}
		if r.MovedTo != "" {
			detail = strings.TrimSpace(detail + " moved permanently to " + r.MovedTo + " (polled there; update sources.yaml)")
		}
		newTotal += r.NewItems
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", r.Source, result, r.NewItems, r.Entries, r.Duration.Round(time.Millisecond), truncate(detail, 160))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d sources polled in %s: %d new items, %d failed\n", len(results), took.Round(time.Millisecond), newTotal, failed)
}

// statusLine is one source's health for `sources status --json`.
type statusLine struct {
	*model.SourceState
	Configured bool   `json:"configured"`
	Enabled    bool   `json:"enabled"`
	Healthy    bool   `json:"healthy"`
	Section    string `json:"section,omitempty"`
}

// SourcesStatus prints each source's fetch health: configured sources in
// file order (never-polled ones too), then stored states of sources no
// longer configured.
func SourcesStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sources status", "sources status [--json] [flags]", stderr)
	env := addEnvFlags(fs)
	asJSON := fs.Bool("json", false, "print one JSON object per source")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	e, err := env.load(stderr)
	if err != nil {
		return fail(stderr, err)
	}
	sources, srcErr := e.LoadSources()
	if srcErr != nil {
		fmt.Fprintf(stderr, "clipsheet: warning: %v (showing stored states only)\n", srcErr)
		sources = &config.SourcesFile{}
	}
	st, closeStore, err := e.openReader(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer closeStore()
	states, err := st.ListSourceStates(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	byName := map[string]*model.SourceState{}
	for _, s := range states {
		byName[s.Name] = s
	}
	var lines []statusLine
	for _, src := range sources.Sources {
		s := byName[src.Name]
		delete(byName, src.Name)
		if s == nil {
			s = &model.SourceState{Name: src.Name, URL: src.URL}
		}
		lines = append(lines, statusLine{SourceState: s, Configured: true, Enabled: src.IsEnabled(), Section: src.Section,
			Healthy: s.LastError == "" && !s.LastSuccess.IsZero()})
	}
	var rest []string
	for name := range byName {
		rest = append(rest, name)
	}
	sort.Strings(rest)
	for _, name := range rest {
		s := byName[name]
		lines = append(lines, statusLine{SourceState: s, Healthy: s.LastError == "" && !s.LastSuccess.IsZero()})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		for _, l := range lines {
			if err := enc.Encode(l); err != nil {
				return fail(stderr, err)
			}
		}
		return 0
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tHEALTH\tLAST SUCCESS\tLAST ATTEMPT\tHTTP\tFAILS\tITEMS\tNEW\tNEXT POLL\tLAST ERROR")
	unhealthy := 0
	for _, l := range lines {
		health := "ok"
		switch {
		case !l.Configured:
			health = "removed"
		case !l.Enabled:
			health = "disabled"
		case l.LastAttempt.IsZero():
			health = "never polled"
		case l.LastError != "":
			health = "FAILING"
			unhealthy++
		}
		// The table is read by people: a plain sentence, as on the sources
		// page; --json keeps the error as recorded for scripts.
		detail := fetch.ExplainText(l.LastError)
		if l.MovedTo != "" {
			detail = strings.TrimSpace(detail + " moved permanently to " + l.MovedTo + " (polled there; update sources.yaml)")
		}
		status := ""
		if l.HTTPStatus != 0 {
			status = fmt.Sprint(l.HTTPStatus)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", l.Name, health, ago(now, l.LastSuccess), ago(now, l.LastAttempt),
			status, l.ConsecutiveFailures, l.ItemsFound, l.LastNewItems, ago(now, l.NextPoll), truncate(detail, 120))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d sources, %d failing\n", len(lines), unhealthy)
	return 0
}

// ago renders a time relative to now: "5m ago", "in 12m", "-" when unknown.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		s = fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		s = fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// SourcesDiscover finds the feeds a page offers, or proposes a page source.
func SourcesDiscover(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sources discover", "sources discover [--json] [flags] URL", stderr)
	env := addEnvFlags(fs)
	asJSON := fs.Bool("json", false, "print the discovery as JSON")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	pageURL := fs.Arg(0)
	if !strings.Contains(pageURL, "://") {
		pageURL = "https://" + pageURL
	}
	e, err := env.load(stderr)
	if err != nil {
		return fail(stderr, err)
	}
	// Discovery stores nothing; the fetcher only needs a store for polls.
	f := fetch.New(nil, e.Settings.Fetch, e.Settings.Excerpt.MaxChars, e.Logger)
	defer f.Close()
	d, err := f.Discover(ctx, pageURL)
	if err != nil {
		return fail(stderr, err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(d); err != nil {
			return fail(stderr, err)
		}
		return 0
	}
	fmt.Fprintf(stdout, "%s", d.URL)
	if d.Title != "" {
		fmt.Fprintf(stdout, " (%s)", d.Title)
	}
	fmt.Fprintln(stdout)
	working := 0
	for _, ff := range d.Feeds {
		if ff.Error != "" {
			fmt.Fprintf(stdout, "  broken feed  %s: %s\n", ff.URL, ff.Error)
			continue
		}
		working++
		fmt.Fprintf(stdout, "  feed  %s\n        %s, %d entries, %q (found via %s)\n", ff.URL, ff.Format, ff.Entries, ff.Title, ff.Via)
	}
	if working > 0 {
		best := d.Feeds[0]
		for _, ff := range d.Feeds {
			if ff.Error == "" {
				best = ff
				break
			}
		}
		fmt.Fprintf(stdout, "\nsources.yaml entry:\n  - name: %s\n    url: %s\n", yamlName(best.Title, d.Title), best.URL)
		return 0
	}
	if d.Page == nil {
		fmt.Fprintln(stdout, "no feed found, and no list of article links recognised on the page")
		return 0
	}
	fmt.Fprintf(stdout, "no feed found; the page lists %d article links matching %q, e.g.\n", d.Page.Matches, d.Page.Links)
	for _, s := range d.Page.Samples {
		fmt.Fprintf(stdout, "  %s\n", s)
	}
	fmt.Fprintf(stdout, "\nsources.yaml entry:\n  - name: %s\n    url: %s\n    type: page\n    links: %q\n", yamlName(d.Title, ""), d.URL, d.Page.Links)
	return 0
}

// yamlName makes a quoted source name from a title.
func yamlName(titles ...string) string {
	for _, t := range titles {
		if t = strings.TrimSpace(t); t != "" {
			return fmt.Sprintf("%q", truncate(t, 60))
		}
	}
	return `"New source"`
}
