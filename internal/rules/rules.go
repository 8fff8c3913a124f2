// Package rules decides, for a new item, what the desk's rules do to it:
// tag it, file it under a section, raise its priority, reject it, or (for a
// trusted source) approve it. Every rule that acts leaves a line in the
// item's Why, so the desk can say why an item is where it is.
//
// Order: rules are considered in the order given (the store lists them
// oldest first). A rule acts when it is enabled, its scope covers the item
// as it arrived (its source and section before any rule changed them), its
// include pattern matches (or it has none) and its exclude pattern does
// not. Effects then combine so that order matters as little as possible:
// tags add up; the last acting rule that sets a section or a priority
// wins; a rejection beats an approval, so no rule can publish what another
// rule refused.
package rules

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/clipsheet/clipsheet/internal/model"
)

// Limits keep one rule cheap to run on every new item.
const (
	MaxNameChars    = 100
	MaxPatternChars = 2000
	MaxRegexpChars  = 500
	MaxPriority     = 100
)

// Match kinds.
const (
	KindKeyword = "keyword" // single words, comma separated
	KindPhrase  = "phrase"  // runs of words, comma separated
	KindRegexp  = "regexp"  // one RE2 expression, case-insensitive
)

// Fields a rule can look at.
const (
	FieldHeadline = "headline"
	FieldLead     = "lead"
	FieldByline   = "byline"
	FieldURL      = "url"
)

// Statuses a rule can set.
const (
	ActionApprove = "approve"
	ActionReject  = "reject"
)

// Rule is one rule as stored and edited.
type Rule struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Scope is "global", "source:NAME" or "section:NAME".
	Scope   string   `json:"scope"`
	Fields  []string `json:"fields"`
	Kind    string   `json:"kind"`
	Include string   `json:"include,omitempty"`
	Exclude string   `json:"exclude,omitempty"`
	Actions Actions  `json:"actions"`
	Enabled bool     `json:"enabled"`
	// Version counts stored changes, as for items: a change based on an
	// older version is refused.
	Version int64 `json:"version"`
}

// Actions are what a rule does to an item it matches.
type Actions struct {
	Tags     []string `json:"tags,omitempty"`
	Section  string   `json:"section,omitempty"`
	Priority *int     `json:"priority,omitempty"`
	// Status is "", "approve" or "reject".
	Status string `json:"status,omitempty"`
}

// String says what the actions do, for lists: "section Fire; tag fire,
// local; priority 3; reject".
func (a Actions) String() string {
	var parts []string
	if a.Section != "" {
		parts = append(parts, "section "+a.Section)
	}
	if len(a.Tags) > 0 {
		parts = append(parts, "tag "+strings.Join(a.Tags, ", "))
	}
	if a.Priority != nil {
		parts = append(parts, fmt.Sprintf("priority %d", *a.Priority))
	}
	if a.Status != "" {
		parts = append(parts, a.Status)
	}
	return strings.Join(parts, "; ")
}

// FieldError is one problem with a rule, tied to the field it is in so a
// form can show it beside that field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// ValidationError lists everything wrong with a rule.
type ValidationError []*FieldError

func (v ValidationError) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return "invalid rule: " + strings.Join(parts, "; ")
}

// ParseScope splits a scope into its kind ("global", "source", "section")
// and name.
func ParseScope(s string) (kind, name string, err error) {
	if s == "" || s == "global" {
		return "global", "", nil
	}
	kind, name, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || (kind != "source" && kind != "section") {
		return "", "", fmt.Errorf("scope %q is not global, source:NAME or section:NAME", s)
	}
	if name == "" {
		return "", "", fmt.Errorf("scope %q names no %s", s, kind)
	}
	return kind, name, nil
}

// Normalize trims the rule's text fields and fills defaults (global scope,
// headline and lead, keyword), so what is stored is what was validated.
func (r *Rule) Normalize() {
	r.Name = strings.TrimSpace(r.Name)
	r.Scope = strings.TrimSpace(r.Scope)
	if r.Scope == "" {
		r.Scope = "global"
	}
	if kind, name, err := ParseScope(r.Scope); err == nil && kind != "global" {
		r.Scope = kind + ":" + name
	}
	if len(r.Fields) == 0 {
		r.Fields = []string{FieldHeadline, FieldLead}
	}
	for i, f := range r.Fields {
		r.Fields[i] = strings.ToLower(strings.TrimSpace(f))
	}
	slices.Sort(r.Fields)
	r.Fields = slices.Compact(r.Fields)
	r.Kind = strings.ToLower(strings.TrimSpace(r.Kind))
	if r.Kind == "" {
		r.Kind = KindKeyword
	}
	r.Include = strings.TrimSpace(r.Include)
	r.Exclude = strings.TrimSpace(r.Exclude)
	var tags []string
	for _, t := range r.Actions.Tags {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	r.Actions.Tags = tags
	r.Actions.Section = strings.TrimSpace(r.Actions.Section)
	r.Actions.Status = strings.ToLower(strings.TrimSpace(r.Actions.Status))
}

// Validate reports every problem with r (after Normalize) as a
// ValidationError, or nil.
func (r *Rule) Validate() error {
	var errs ValidationError
	add := func(field, format string, a ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)})
	}
	switch n := utf8.RuneCountInString(r.Name); {
	case n == 0:
		add("name", "a rule needs a name (it is shown in every item's \"why is this here?\")")
	case n > MaxNameChars:
		add("name", "is %d characters, at most %d", n, MaxNameChars)
	}
	scopeKind, _, err := ParseScope(r.Scope)
	if err != nil {
		add("scope", "%v", err)
	}
	if len(r.Fields) == 0 {
		add("fields", "choose at least one of headline, lead, byline, url")
	}
	for _, f := range r.Fields {
		if !slices.Contains([]string{FieldHeadline, FieldLead, FieldByline, FieldURL}, f) {
			add("fields", "unknown field %q (headline, lead, byline or url)", f)
		}
	}
	if r.Include == "" && r.Exclude == "" {
		add("include", "give an include or an exclude pattern, or both")
	}
	for _, p := range []struct{ field, pattern string }{{"include", r.Include}, {"exclude", r.Exclude}} {
		if p.pattern == "" {
			continue
		}
		if _, err := compile(r.Kind, p.pattern); err != nil {
			add(p.field, "%v", err)
		}
	}
	if len(r.Actions.Tags) > model.MaxTags {
		add("tags", "%d tags, at most %d", len(r.Actions.Tags), model.MaxTags)
	}
	for _, t := range r.Actions.Tags {
		if n := utf8.RuneCountInString(t); n > model.MaxTagChars {
			add("tags", "tag %q is %d characters, at most %d", t, n, model.MaxTagChars)
		}
	}
	if utf8.RuneCountInString(r.Actions.Section) > MaxNameChars {
		add("section", "is longer than %d characters", MaxNameChars)
	}
	if p := r.Actions.Priority; p != nil && (*p < -MaxPriority || *p > MaxPriority) {
		add("priority", "%d is outside -%d..%d", *p, MaxPriority, MaxPriority)
	}
	switch r.Actions.Status {
	case "", ActionReject:
	case ActionApprove:
		if scopeKind != "source" {
			add("status", "auto-approve is only for a trusted source: set the scope to source:NAME")
		}
	default:
		add("status", "unknown status action %q (approve or reject)", r.Actions.Status)
	}
	if len(r.Actions.Tags) == 0 && r.Actions.Section == "" && r.Actions.Priority == nil && r.Actions.Status == "" {
		add("actions", "the rule does nothing: give a tag, a section, a priority, approve or reject")
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// matcher is a compiled include or exclude pattern.
type matcher struct {
	re    *regexp.Regexp
	terms [][]string // word sequences, any of which matches
}

// errEmpty marks a pattern with nothing to match.
var errEmpty = errors.New("has no words to match")

func compile(kind, pattern string) (*matcher, error) {
	switch kind {
	case KindRegexp:
		if n := utf8.RuneCountInString(pattern); n > MaxRegexpChars {
			return nil, fmt.Errorf("regexp is %d characters, at most %d", n, MaxRegexpChars)
		}
		// Checked without the case flag first, so the error quotes the
		// expression as the user wrote it.
		if _, err := regexp.Compile(pattern); err != nil {
			return nil, fmt.Errorf("bad regexp: %w", err)
		}
		re, err := regexp.Compile("(?i)" + pattern)
		if err != nil {
			return nil, fmt.Errorf("bad regexp: %w", err)
		}
		if re.MatchString("") {
			return nil, errors.New("regexp matches an empty text, so it would match every item")
		}
		return &matcher{re: re}, nil
	case KindKeyword, KindPhrase:
		if n := utf8.RuneCountInString(pattern); n > MaxPatternChars {
			return nil, fmt.Errorf("is %d characters, at most %d", n, MaxPatternChars)
		}
		m := &matcher{}
		for _, t := range terms(pattern) {
			ws := words(t)
			if len(ws) == 0 {
				return nil, fmt.Errorf("%q %w", t, errEmpty)
			}
			if kind == KindKeyword && strings.ContainsFunc(t, isSpace) {
				return nil, fmt.Errorf("keyword %q has several words: use kind phrase, or separate keywords with commas", t)
			}
			m.terms = append(m.terms, ws)
		}
		if len(m.terms) == 0 {
			return nil, errEmpty
		}
		return m, nil
	default:
		return nil, fmt.Errorf("unknown kind %q (keyword, phrase or regexp)", kind)
	}
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' }

// text is one item's fields, split into words once for all rules.
type text struct {
	raw   map[string]string
	words map[string][]string
}

func newText(it *model.Item) *text {
	url := it.URL
	if it.CanonicalURL != "" && it.CanonicalURL != it.URL {
		url += " " + it.CanonicalURL
	}
	return &text{raw: map[string]string{FieldHeadline: it.Title, FieldLead: it.Lead, FieldByline: it.Byline, FieldURL: url},
		words: map[string][]string{}}
}

func (t *text) match(m *matcher, fields []string) bool {
	for _, f := range fields {
		if m.re != nil {
			if m.re.MatchString(t.raw[f]) {
				return true
			}
			continue
		}
		ws, ok := t.words[f]
		if !ok {
			ws = words(t.raw[f])
			t.words[f] = ws
		}
		for _, term := range m.terms {
			if containsSeq(ws, term) {
				return true
			}
		}
	}
	return false
}

// Compiled is a rule ready to run. Compile rules once per batch of items,
// not once per item.
type Compiled struct {
	Rule
	scopeKind, scopeName string
	include, exclude     *matcher
}

// Compile prepares rules for Apply, skipping disabled ones. A rule that
// does not validate (stored by an older version, say) is an error naming
// it; the others still compile.
func Compile(rs []Rule) ([]*Compiled, error) {
	var out []*Compiled
	var errs []error
	for _, r := range rs {
		if !r.Enabled {
			continue
		}
		c, err := compileRule(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %q: %w", r.Name, err))
			continue
		}
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}

func compileRule(r Rule) (*Compiled, error) {
	r.Fields = slices.Clone(r.Fields)
	r.Actions.Tags = slices.Clone(r.Actions.Tags)
	r.Normalize()
	if err := r.Validate(); err != nil {
		return nil, err
	}
	c := &Compiled{Rule: r}
	c.scopeKind, c.scopeName, _ = ParseScope(r.Scope)
	var err error
	if r.Include != "" {
		if c.include, err = compile(r.Kind, r.Include); err != nil {
			return nil, err
		}
	}
	if r.Exclude != "" {
		if c.exclude, err = compile(r.Kind, r.Exclude); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Compiled) matches(it *model.Item, t *text) bool {
	switch c.scopeKind {
	case "source":
		if it.Source != c.scopeName {
			return false
		}
	case "section":
		if it.Section != c.scopeName {
			return false
		}
	}
	if c.include != nil && !t.match(c.include, c.Fields) {
		return false
	}
	return c.exclude == nil || !t.match(c.exclude, c.Fields)
}

// Apply runs the compiled rules on a new item, in the order described in
// the package comment, and reports whether any acted. Only a queued item's
// status is changed: a decision a curator made stands. Each acting rule
// appends one line to it.Why.
func Apply(rs []*Compiled, it *model.Item) bool {
	t := newText(it)
	var acting []*Compiled
	rejected := false
	for _, c := range rs {
		if c.matches(it, t) {
			acting = append(acting, c)
			rejected = rejected || c.Actions.Status == ActionReject
		}
	}
	for _, c := range acting {
		var did []string
		a := c.Actions
		if a.Section != "" {
			it.Section = a.Section
			did = append(did, "section "+a.Section)
		}
		var added []string
		for _, tag := range a.Tags {
			if !slices.Contains(it.Tags, tag) && len(it.Tags) < model.MaxTags {
				it.Tags = append(it.Tags, tag)
				added = append(added, tag)
			}
		}
		if len(added) > 0 {
			did = append(did, "tagged "+strings.Join(added, ", "))
		}
		if a.Priority != nil {
			it.Priority = *a.Priority
			did = append(did, fmt.Sprintf("priority %d", *a.Priority))
		}
		if it.Status == model.StatusQueued {
			switch {
			case a.Status == ActionReject:
				did = append(did, "rejected")
			case a.Status == ActionApprove && rejected:
				did = append(did, "approval overruled by a rejecting rule")
			case a.Status == ActionApprove:
				did = append(did, "approved")
			}
		} else if a.Status != "" {
			did = append(did, "left "+string(it.Status)+" (decided before)")
		}
		it.Why = append(it.Why, "rule "+c.Name+": "+strings.Join(did, ", "))
	}
	// Decided last, once every rule had its say: a rejection wins.
	if it.Status == model.StatusQueued {
		for _, c := range acting {
			if (rejected && c.Actions.Status == ActionReject) || (!rejected && c.Actions.Status == ActionApprove) {
				it.Status = model.StatusApproved
				if rejected {
					it.Status = model.StatusRejected
				}
				it.DecidedBy = decidedBy(c)
				it.DecidedAt = it.FetchedAt
				break
			}
		}
	}
	return len(acting) > 0
}

// decidedBy is how a rule's decision is recorded: the audit and the desk
// show it where a curator's name would be.
func decidedBy(c *Compiled) string { return "rule:" + c.Name }

// Summary is the dry run of rules over stored items: how many they would
// act on, and where those items stand now.
type Summary struct {
	Checked  int `json:"checked"`
	Matched  int `json:"matched"`
	Approved int `json:"approved"` // of the matched, approved now
	Rejected int `json:"rejected"` // of the matched, rejected now
	Queued   int `json:"queued"`   // of the matched, queued now
	// WouldApprove and WouldReject count matched items the rules would
	// have decided, had they been queued.
	WouldApprove int `json:"would_approve"`
	WouldReject  int `json:"would_reject"`
	// Examples are the headlines of the first few matched items.
	Examples []string `json:"examples"`
}

const maxExamples = 5

// Test runs rules over copies of items (nothing is changed) and counts
// what they would have matched. The admin page shows it before a rule is
// saved ("would have matched 43, of them 5 approved").
func Test(rs []Rule, items []*model.Item) (Summary, error) {
	var cs []*Compiled
	for _, r := range rs {
		r.Enabled = true // a rule being tried out counts even if switched off
		c, err := compileRule(r)
		if err != nil {
			return Summary{}, err
		}
		cs = append(cs, c)
	}
	s := Summary{Checked: len(items), Examples: []string{}}
	for _, it := range items {
		cp := *it
		cp.Tags = slices.Clone(it.Tags)
		cp.Why = nil
		cp.Status = model.StatusQueued
		cp.DecidedBy = ""
		if !Apply(cs, &cp) {
			continue
		}
		s.Matched++
		switch it.Status {
		case model.StatusApproved:
			s.Approved++
		case model.StatusRejected:
			s.Rejected++
		default:
			s.Queued++
		}
		switch cp.Status {
		case model.StatusApproved:
			s.WouldApprove++
		case model.StatusRejected:
			s.WouldReject++
		}
		if len(s.Examples) < maxExamples {
			s.Examples = append(s.Examples, it.Title)
		}
	}
	return s, nil
}
