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
	"reflect"
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
		return nil, &ValidationError{Problems: []Problem{syntaxProblem(data, err)}}
	}
	if top := mapping(&root); top == nil || (top.Kind == yaml.ScalarNode && top.Tag == "!!null") {
		return nil, &ValidationError{Problems: []Problem{{Message: "file is empty"}}}
	}
	v := &validator{}
	// A second document would be silently ignored, and with it whatever
	// the author meant to add there.
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		sp := syntaxProblem(data, err)
		v.add(sp.Line, "", "%s", sp.Message)
	default:
		v.add(next.Line, "", "a second YAML document starts here; sources.yaml holds exactly one")
	}
	v.checkKeys(&root)
	f := v.decode(&root)
	v.checkSemantics(&root, f)
	if len(v.problems) > 0 {
		return nil, v.err()
	}
	return f, nil
}

// decode fills the file key by key rather than with one Decode call, so a
// value of the wrong type is reported with the source and key it belongs
// to, every such value is reported, and f.Sources stays aligned with the
// YAML sequence (a failed entry leaves a zero Source in its place).
func (v *validator) decode(root *yaml.Node) *SourcesFile {
	f := &SourcesFile{}
	top := mapping(root)
	if top == nil || top.Kind != yaml.MappingNode {
		return f
	}
	if d := lookup(top, "defaults"); d != nil && d.Kind == yaml.MappingNode {
		v.decodeMapping(d, reflect.ValueOf(&f.Defaults).Elem(), "defaults")
	}
	if secs := lookup(top, "sections"); secs != nil && !isNull(secs) {
		if secs.Kind != yaml.SequenceNode {
			v.add(secs.Line, "sections", "sections must be a list of section names, e.g. [Top stories, Cyber]")
		} else {
			for i, n := range secs.Content {
				if n.Kind != yaml.ScalarNode {
					v.add(n.Line, "sections", "sections: entry %d must be a section name, not %s", i+1, kindName(n))
					continue
				}
				f.Sections = append(f.Sections, n.Value)
			}
		}
	}
	if srcs := lookup(top, "sources"); srcs != nil && !isNull(srcs) {
		if srcs.Kind != yaml.SequenceNode {
			v.add(srcs.Line, "sources", "sources must be a list, each entry starting with \"- name:\"")
			return f
		}
		f.Sources = make([]Source, len(srcs.Content))
		for i, n := range srcs.Content {
			if n.Kind == yaml.MappingNode { // anything else was reported by checkKeys
				v.decodeMapping(n, reflect.ValueOf(&f.Sources[i]).Elem(), sourceWhere(n, i))
			}
		}
	}
	return f
}

// decodeMapping decodes each known key of m into the field of dst (a
// struct) with that yaml name; unknown keys were reported by checkKeys.
func (v *validator) decodeMapping(m *yaml.Node, dst reflect.Value, where string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, val := m.Content[i], m.Content[i+1]
		field, ok := fieldByYAMLName(dst, key.Value)
		if !ok || isNull(val) {
			continue
		}
		at := where + ": " + key.Value
		if t := field.Type(); t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
			if val.Kind != yaml.MappingNode {
				continue // reported by checkKeys
			}
			field.Set(reflect.New(t.Elem()))
			v.decodeMapping(val, field.Elem(), where+" extract")
			continue
		}
		if err := val.Decode(field.Addr().Interface()); err != nil {
			v.add(val.Line, key.Value, "%s: %s", at, typeMessage(field.Type(), val, err))
			if v.undecoded == nil {
				v.undecoded = map[string]bool{}
			}
			v.undecoded[undecodedKey(val.Line, key.Value)] = true
			continue
		}
		// Zero means "not set" in the struct, so an explicit 0s would
		// silently fall back to the default instead of being refused.
		if d, isDur := field.Interface().(Duration); isDur && d == 0 {
			v.add(val.Line, key.Value, "%s %s is below the minimum of %s", at, val.Value, Duration(MinInterval))
		}
	}
}

func fieldByYAMLName(st reflect.Value, name string) (reflect.Value, bool) {
	t := st.Type()
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag == name {
			return st.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// typeMessage says what a key wants instead of yaml's "cannot unmarshal
// !!seq into string".
func typeMessage(t reflect.Type, n *yaml.Node, err error) string {
	if t == reflect.TypeOf(Duration(0)) {
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			return linePrefixRe.ReplaceAllString(te.Errors[0], "")
		}
		return err.Error()
	}
	got := kindName(n)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "must be a single text value, not " + got
	case reflect.Bool:
		return "must be true or false, not " + got
	case reflect.Slice:
		return "must be a list of text values, e.g. [\"a\", \"b\"], not " + got
	}
	return linePrefixRe.ReplaceAllString(err.Error(), "")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("%q", n.Value)
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// sourceWhere names a source entry in messages: by name when it has one.
func sourceWhere(n *yaml.Node, i int) string {
	if name := lookup(n, "name"); name != nil && name.Kind == yaml.ScalarNode && name.Value != "" {
		return fmt.Sprintf("source %q", name.Value)
	}
	return fmt.Sprintf("source %d", i+1)
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

var yamlPrefixRe = regexp.MustCompile(`^yaml: (line \d+: )?`)

// syntaxProblem reports a YAML syntax error at the line where it is. yaml.v3
// numbers some parser errors from 0 and others by where the enclosing
// collection began, so the line is found by parsing ever longer prefixes of
// the file: the first prefix that fails with the same complaint ends on the
// offending line. yaml's own line is the fallback.
func syntaxProblem(data []byte, err error) Problem {
	msg := yamlPrefixRe.ReplaceAllString(err.Error(), "")
	p := Problem{Line: yamlErrLine(err), Message: "invalid YAML: " + msg}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 5000 {
		return p
	}
	// yaml's line is never past the real one, so the scan starts there.
	start := max(p.Line-1, 0)
	end := 0
	for _, l := range lines[:start] {
		end += len(l)
	}
	for i := start; i < len(lines); i++ {
		end += len(lines[i])
		var n yaml.Node
		perr := yaml.NewDecoder(bytes.NewReader(data[:end])).Decode(&n)
		if perr != nil && !errors.Is(perr, io.EOF) && yamlPrefixRe.ReplaceAllString(perr.Error(), "") == msg {
			p.Line = i + 1
			break
		}
	}
	return p
}

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
	// undecoded holds "line/field" of values that had the wrong type, so
	// the semantic checks do not add "name is required" on top.
	undecoded map[string]bool
}

func undecodedKey(line int, field string) string { return fmt.Sprintf("%d/%s", line, field) }

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
			where := sourceWhere(s, i)
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
		v.add(line(lookup(lookup(top, "defaults"), "interval")), "interval", "defaults: interval %s is below the minimum of %s", d, Duration(MinInterval))
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
		if sn == nil || sn.Kind != yaml.MappingNode {
			continue // reported by checkKeys
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
			if v.undecoded[undecodedKey(at(p.Field), p.Field)] {
				continue
			}
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
		if len(known) == 0 {
			add("section", "unknown section %q: the file lists no sections; add it under \"sections:\"", s.Section)
		} else {
			add("section", "unknown section %q (known: %s)", s.Section, strings.Join(known, ", "))
		}
	}
	if s.Interval != 0 && time.Duration(s.Interval) < MinInterval {
		add("interval", "interval %s is below the minimum of %s", s.Interval, Duration(MinInterval))
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
