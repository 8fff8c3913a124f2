// Package config reads the two configuration files: sources.yaml (sections and
// sources, the single source of truth the admin UI edits) and the optional
// clipsheet.yaml (settings of the service itself).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"
	"gopkg.in/yaml.v3"
)

// Source types.
const (
	TypeFeed = "feed"
	TypePage = "page"
)

// DefaultInterval is used when neither the source nor defaults set one.
const DefaultInterval = 30 * time.Minute

// MinInterval keeps a typo such as "1s" from hammering a publisher.
const MinInterval = time.Minute

// SourcesFile is the parsed sources.yaml.
type SourcesFile struct {
	Defaults Defaults `yaml:"defaults" json:"defaults"`
	Sections []string `yaml:"sections" json:"sections"`
	Sources  []Source `yaml:"sources" json:"sources"`
}

// Defaults apply to every source that does not set its own value.
type Defaults struct {
	Interval Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
}

// Source is one outlet: a feed, or a web page whose article links are scraped.
type Source struct {
	Name     string     `yaml:"name" json:"name"`
	URL      string     `yaml:"url" json:"url"`
	Type     string     `yaml:"type,omitempty" json:"type,omitempty"`
	Section  string     `yaml:"section,omitempty" json:"section,omitempty"`
	Interval Duration   `yaml:"interval,omitempty" json:"interval,omitempty"`
	Enabled  *bool      `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	Links    string     `yaml:"links,omitempty" json:"links,omitempty"`
	Include  []string   `yaml:"include,omitempty" json:"include,omitempty"`
	Exclude  []string   `yaml:"exclude,omitempty" json:"exclude,omitempty"`
	Extract  *Selectors `yaml:"extract,omitempty" json:"extract,omitempty"`
}

// Selectors are per-source CSS overrides for sites the heuristics get wrong.
type Selectors struct {
	Title     string   `yaml:"title,omitempty" json:"title,omitempty"`
	Byline    string   `yaml:"byline,omitempty" json:"byline,omitempty"`
	Body      string   `yaml:"body,omitempty" json:"body,omitempty"`
	Lead      string   `yaml:"lead,omitempty" json:"lead,omitempty"`
	Published string   `yaml:"published,omitempty" json:"published,omitempty"`
	Remove    []string `yaml:"remove,omitempty" json:"remove,omitempty"`
}

// IsEnabled reports whether the source should be polled (default true).
func (s Source) IsEnabled() bool { return s.Enabled == nil || *s.Enabled }

// KindOrDefault returns the source type, feed when unset.
func (s Source) KindOrDefault() string {
	if s.Type == "" {
		return TypeFeed
	}
	return s.Type
}

// EffectiveInterval returns the source's poll interval after defaults.
func (f *SourcesFile) EffectiveInterval(s Source) time.Duration {
	if s.Interval > 0 {
		return time.Duration(s.Interval)
	}
	if f.Defaults.Interval > 0 {
		return time.Duration(f.Defaults.Interval)
	}
	return DefaultInterval
}

// Find returns the source with the given name.
func (f *SourcesFile) Find(name string) (*Source, bool) {
	for i := range f.Sources {
		if f.Sources[i].Name == name {
			return &f.Sources[i], true
		}
	}
	return nil, false
}

// Duration is a time.Duration written as "15m" in YAML and JSON.
type Duration time.Duration

// UnmarshalYAML parses Go duration syntax, plus "d" for days.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		// A TypeError lets the decoder carry on and report every problem.
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the short form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalText writes the short form (used by JSON).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses the short form (used by JSON).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func (d Duration) String() string {
	if d == 0 {
		return ""
	}
	s := time.Duration(d).String()
	// "30m0s" reads worse than "30m" in a hand-edited file.
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ParseDuration accepts Go durations ("90s", "1h30m") and whole days ("2d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") {
		var days int
		if _, err := fmt.Sscanf(s, "%dd", &days); err == nil && fmt.Sprintf("%dd", days) == s {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 15m, 1h, 2d)", s)
	}
	return v, nil
}

// Problem is one validation finding, with the line it refers to (0 if none).
type Problem struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return p.Message
}

// ValidationError lists every problem found in a sources file.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.String()
	}
	return strings.Join(msgs, "; ")
}

// LoadSources reads and validates a sources file.
func LoadSources(path string) (*SourcesFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sources: %w", err)
	}
	f, err := ParseSources(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// ParseSources parses and validates sources.yaml content. On validation
// failure the error is a *ValidationError listing every problem with its line.
func ParseSources(data []byte) (*SourcesFile, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ValidationError{Problems: []Problem{{Message: "file is empty"}}}
		}
		return nil, &ValidationError{Problems: []Problem{{Line: yamlErrLine(err), Message: "invalid YAML: " + err.Error()}}}
	}
	v := &validator{}
	v.checkKeys(&root)
	var f SourcesFile
	if err := root.Decode(&f); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			v.add(0, "", "%s", err.Error())
			return nil, v.err()
		}
		for _, m := range te.Errors {
			v.add(yamlErrLine(errors.New(m)), "", "%s", linePrefixRe.ReplaceAllString(m, ""))
		}
	}
	v.checkSemantics(&root, &f)
	if len(v.problems) > 0 {
		return nil, v.err()
	}
	return &f, nil
}

// Validate checks an in-memory file (as built by the admin UI or API) with
// the same rules as ParseSources.
func (f *SourcesFile) Validate() error {
	data, err := yaml.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode sources: %w", err)
	}
	_, err = ParseSources(data)
	return err
}

var (
	lineRe       = regexp.MustCompile(`line (\d+)`)
	linePrefixRe = regexp.MustCompile(`^line \d+: `)
)

func yamlErrLine(err error) int {
	m := lineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscanf(m[1], "%d", &n)
	return n
}

type validator struct {
	problems []Problem
}

func (v *validator) add(line int, field, format string, args ...any) {
	v.problems = append(v.problems, Problem{Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	sort.SliceStable(v.problems, func(i, j int) bool { return v.problems[i].Line < v.problems[j].Line })
	return &ValidationError{Problems: v.problems}
}

var (
	topKeys       = []string{"defaults", "sections", "sources"}
	defaultsKeys  = []string{"interval"}
	sourceKeys    = []string{"name", "url", "type", "section", "interval", "enabled", "links", "include", "exclude", "extract"}
	selectorsKeys = []string{"title", "byline", "body", "lead", "published", "remove"}
)

func mapping(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

// lookup returns the value node of key in a mapping node.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func (v *validator) checkMapKeys(m *yaml.Node, where string, allowed []string) {
	if m == nil {
		return
	}
	if m.Kind != yaml.MappingNode {
		v.add(m.Line, where, "%s must be a mapping", where)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if seen[k.Value] {
			v.add(k.Line, where, "%s: key %q given twice", where, k.Value)
		}
		seen[k.Value] = true
		if !contains(allowed, k.Value) {
			v.add(k.Line, where, "%s: unknown key %q (known: %s)", where, k.Value, strings.Join(allowed, ", "))
		}
	}
}

func (v *validator) checkKeys(root *yaml.Node) {
	top := mapping(root)
	if top == nil || top.Kind != yaml.MappingNode {
		line := 0
		if top != nil {
			line = top.Line
		}
		v.add(line, "", "top level must be a mapping with defaults, sections and sources")
		return
	}
	v.checkMapKeys(top, "top level", topKeys)
	v.checkMapKeys(lookup(top, "defaults"), "defaults", defaultsKeys)
	if srcs := lookup(top, "sources"); srcs != nil && srcs.Kind == yaml.SequenceNode {
		for i, s := range srcs.Content {
			where := fmt.Sprintf("source %d", i+1)
			if n := lookup(s, "name"); n != nil && n.Value != "" {
				where = fmt.Sprintf("source %q", n.Value)
			}
			v.checkMapKeys(s, where, sourceKeys)
			v.checkMapKeys(lookup(s, "extract"), where+" extract", selectorsKeys)
		}
	}
}

func (v *validator) checkSemantics(root *yaml.Node, f *SourcesFile) {
	top := mapping(root)
	if top == nil || top.Kind != yaml.MappingNode {
		return
	}
	line := func(n *yaml.Node) int {
		if n == nil {
			return 0
		}
		return n.Line
	}
	if d := f.Defaults.Interval; d != 0 && time.Duration(d) < MinInterval {
		v.add(line(lookup(lookup(top, "defaults"), "interval")), "interval", "defaults: interval %s is below the minimum of %s", d, MinInterval)
	}
	sections := map[string]bool{}
	if secNode := lookup(top, "sections"); secNode != nil {
		for i, s := range f.Sections {
			ln := line(secNode)
			if i < len(secNode.Content) {
				ln = secNode.Content[i].Line
			}
			switch {
			case strings.TrimSpace(s) == "":
				v.add(ln, "sections", "sections: empty section name")
			case sections[s]:
				v.add(ln, "sections", "sections: %q listed twice", s)
			}
			sections[s] = true
		}
	}
	srcNodes := lookup(top, "sources")
	names := map[string]int{}
	urls := map[string]int{}
	for i, s := range f.Sources {
		var sn *yaml.Node
		if srcNodes != nil && i < len(srcNodes.Content) {
			sn = srcNodes.Content[i]
		}
		at := func(key string) int {
			if n := lookup(sn, key); n != nil {
				return n.Line
			}
			return line(sn)
		}
		where := fmt.Sprintf("source %d", i+1)
		if s.Name != "" {
			where = fmt.Sprintf("source %q", s.Name)
		}
		for _, p := range CheckSource(s, sections) {
			v.add(at(p.Field), p.Field, "%s: %s", where, p.Message)
		}
		if s.Name != "" {
			key := strings.ToLower(strings.TrimSpace(s.Name))
			if first, dup := names[key]; dup {
				v.add(at("name"), "name", "%s: duplicate name (first used on line %d)", where, first)
			} else {
				names[key] = at("name")
			}
		}
		if s.URL != "" {
			key := NormalizeSourceURL(s.URL)
			if first, dup := urls[key]; dup {
				v.add(at("url"), "url", "%s: duplicate url %s (first used on line %d)", where, s.URL, first)
			} else {
				urls[key] = at("url")
			}
		}
	}
}

// CheckSource applies the per-source rules (everything but duplicates) and
// returns problems keyed by field, so forms can show them beside the input.
// sections lists the known sections; nil skips the section check.
func CheckSource(s Source, sections map[string]bool) []Problem {
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(s.Name) == "" {
		add("name", "name is required")
	}
	if s.URL == "" {
		add("url", "url is required")
	} else if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("url", "url %q must be an absolute http or https URL", s.URL)
	}
	switch s.Type {
	case "", TypeFeed:
		if s.Links != "" {
			add("links", "links is only for type: page")
		}
	case TypePage:
		if s.Links == "" {
			add("links", "type page needs a links selector (e.g. \"h2 a\")")
		}
	default:
		add("type", "unknown type %q (use feed or page)", s.Type)
	}
	if s.Section != "" && sections != nil && !sections[s.Section] {
		known := make([]string, 0, len(sections))
		for k := range sections {
			known = append(known, k)
		}
		sort.Strings(known)
		add("section", "unknown section %q (known: %s)", s.Section, strings.Join(known, ", "))
	}
	if s.Interval != 0 && time.Duration(s.Interval) < MinInterval {
		add("interval", "interval %s is below the minimum of %s", s.Interval, MinInterval)
	}
	if s.Links != "" {
		if err := checkSelector(s.Links); err != nil {
			add("links", "links: %v", err)
		}
	}
	for _, field := range []struct {
		name string
		pats []string
	}{{"include", s.Include}, {"exclude", s.Exclude}} {
		for _, p := range field.pats {
			if _, err := regexp.Compile(p); err != nil {
				add(field.name, "%s pattern %q: %v", field.name, p, err)
			}
		}
	}
	if x := s.Extract; x != nil {
		for _, sel := range []struct{ name, v string }{
			{"title", x.Title}, {"byline", x.Byline}, {"body", x.Body}, {"lead", x.Lead}, {"published", x.Published},
		} {
			if sel.v == "" {
				continue
			}
			if err := checkSelector(sel.v); err != nil {
				add("extract", "extract %s: %v", sel.name, err)
			}
		}
		for _, r := range x.Remove {
			if err := checkSelector(r); err != nil {
				add("extract", "extract remove: %v", err)
			}
		}
	}
	return ps
}

func checkSelector(sel string) error {
	if _, err := cascadia.ParseGroup(sel); err != nil {
		return fmt.Errorf("invalid CSS selector %q: %v", sel, err)
	}
	return nil
}

// NormalizeSourceURL gives the form used to detect duplicate sources: case-
// insensitive scheme and host, no trailing slash, no fragment.
func NormalizeSourceURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return raw
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Fragment = ""
	if u.Scheme == "https" {
		// http and https of the same feed are the same source.
		u.Scheme = "http"
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
