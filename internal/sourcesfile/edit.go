package sourcesfile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/clipsheet/clipsheet/internal/config"
)

// Errors the edit operations return; callers map them to 404 and 409.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrInUse    = errors.New("in use")
)

// Key orders as written by people and by the README; new keys are placed
// accordingly.
var (
	sourceKeyOrder   = []string{"name", "url", "type", "section", "interval", "enabled", "links", "include", "exclude", "extract"}
	selectorKeyOrder = []string{"title", "byline", "body", "lead", "published", "remove"}
)

// sourceNodes returns the source list's nodes.
func (d *Doc) sourceNodes() ([]*yaml.Node, error) {
	seq, err := d.topSeq("sources")
	if err != nil {
		return nil, err
	}
	return seq.Content, nil
}

// findSource returns the index of the source named name (case-insensitive,
// as the duplicate check is), or -1.
func (d *Doc) findSource(name string) (int, error) {
	nodes, err := d.sourceNodes()
	if err != nil {
		return -1, err
	}
	for i, n := range nodes {
		if v := lookup(n, "name"); v != nil && sameName(v.Value, name) {
			return i, nil
		}
	}
	return -1, nil
}

func sameName(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// AddSource appends src after the last source of its section, so a file
// grouped by section stays grouped; without one it goes at the end.
func (d *Doc) AddSource(src config.Source) error {
	i, err := d.findSource(src.Name)
	if err != nil {
		return err
	}
	if i >= 0 {
		return fmt.Errorf("source %q: %w", src.Name, ErrExists)
	}
	seq, err := d.topSeq("sources")
	if err != nil {
		return err
	}
	at := len(seq.Content)
	if src.Section != "" {
		for j, n := range seq.Content {
			if v := lookup(n, "section"); v != nil && v.Value == src.Section {
				at = j + 1
			}
		}
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	mergeSource(n, src)
	// Sources on one flow line are unreadable; the list goes block style.
	seq.Style &^= yaml.FlowStyle
	seq.Content = append(seq.Content[:at], append([]*yaml.Node{n}, seq.Content[at:]...)...)
	return nil
}

// UpdateSource replaces the source named oldName with src. Keys keep their
// place and comments; keys src leaves empty are removed.
func (d *Doc) UpdateSource(oldName string, src config.Source) error {
	i, err := d.findSource(oldName)
	if err != nil {
		return err
	}
	if i < 0 {
		return fmt.Errorf("source %q: %w", oldName, ErrNotFound)
	}
	if !sameName(oldName, src.Name) {
		if j, _ := d.findSource(src.Name); j >= 0 {
			return fmt.Errorf("source %q: %w", src.Name, ErrExists)
		}
	}
	nodes, _ := d.sourceNodes()
	if nodes[i].Kind != yaml.MappingNode {
		return fmt.Errorf("source %q is not a mapping (line %d)", oldName, nodes[i].Line)
	}
	mergeSource(nodes[i], src)
	return nil
}

// DeleteSource removes a source. Its head comment (often a group heading
// such as "# --- Cyber ---") moves to the next source.
func (d *Doc) DeleteSource(name string) error {
	i, err := d.findSource(name)
	if err != nil {
		return err
	}
	if i < 0 {
		return fmt.Errorf("source %q: %w", name, ErrNotFound)
	}
	seq, _ := d.topSeq("sources")
	gone := seq.Content[i]
	if gone.HeadComment != "" && i+1 < len(seq.Content) {
		next := seq.Content[i+1]
		next.HeadComment = joinComments(gone.HeadComment, next.HeadComment)
	}
	seq.Content = append(seq.Content[:i], seq.Content[i+1:]...)
	return nil
}

// mergeSource writes src into the mapping m key by key.
func mergeSource(m *yaml.Node, src config.Source) {
	vals := map[string]*yaml.Node{
		"name":     scalarOrNil(strings.TrimSpace(src.Name)),
		"url":      scalarOrNil(strings.TrimSpace(src.URL)),
		"type":     scalarOrNil(src.Type),
		"section":  scalarOrNil(src.Section),
		"interval": scalarOrNil(src.Interval.String()),
		"links":    scalarOrNil(src.Links),
		"include":  listOrNil(src.Include),
		"exclude":  listOrNil(src.Exclude),
	}
	if src.Enabled != nil {
		vals["enabled"] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(*src.Enabled)}
	}
	for _, key := range sourceKeyOrder {
		if key == "extract" {
			mergeExtract(m, src.Extract)
			continue
		}
		setOrDelete(m, key, vals[key], sourceKeyOrder)
	}
}

func mergeExtract(m *yaml.Node, x *config.Selectors) {
	if x == nil || isEmptySelectors(*x) {
		deleteKey(m, "extract")
		return
	}
	em := lookup(m, "extract")
	if em == nil || em.Kind != yaml.MappingNode {
		em = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		setKey(m, "extract", em, sourceKeyOrder)
	}
	vals := map[string]*yaml.Node{
		"title":     scalarOrNil(x.Title),
		"byline":    scalarOrNil(x.Byline),
		"body":      scalarOrNil(x.Body),
		"lead":      scalarOrNil(x.Lead),
		"published": scalarOrNil(x.Published),
		"remove":    listOrNil(x.Remove),
	}
	for _, key := range selectorKeyOrder {
		setOrDelete(em, key, vals[key], selectorKeyOrder)
	}
}

func isEmptySelectors(x config.Selectors) bool {
	return x.Title == "" && x.Byline == "" && x.Body == "" && x.Lead == "" && x.Published == "" && len(x.Remove) == 0
}

// setOrDelete sets key to val, or removes it when val is nil. An existing
// value that means the same keeps its node (and so its quoting, flow style
// and comments); a changed scalar keeps its style unless the new text
// cannot be written in it.
func setOrDelete(m *yaml.Node, key string, val *yaml.Node, order []string) {
	if val == nil {
		deleteKey(m, key)
		return
	}
	old := lookup(m, key)
	if old == nil {
		setKey(m, key, val, order)
		return
	}
	switch {
	case old.Kind == yaml.ScalarNode && val.Kind == yaml.ScalarNode:
		if sameScalar(key, old.Value, val.Value) {
			return
		}
		old.Value, old.Tag = val.Value, val.Tag
		if old.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			// Block styles suit prose, not a URL or selector. Plain style
			// (0) lets the encoder quote whatever needs quoting; quoted
			// styles can hold any single-line text.
			old.Style = 0
		}
	case old.Kind == yaml.SequenceNode && val.Kind == yaml.SequenceNode:
		old.Content = reuseItems(old.Content, val.Content)
	default:
		// Kind changed (say a scalar where a list belongs): replace, but
		// keep the key's comments, which live on the key node.
		setKey(m, key, val, order)
	}
}

// sameScalar treats "15m" and "900s" as the same interval, so saving a form
// does not rewrite a value the person did not change.
func sameScalar(key, a, b string) bool {
	if a == b {
		return true
	}
	if key == "interval" {
		da, errA := config.ParseDuration(a)
		db, errB := config.ParseDuration(b)
		return errA == nil && errB == nil && da == db
	}
	return false
}

// reuseItems keeps the nodes of list entries that did not change.
func reuseItems(old, fresh []*yaml.Node) []*yaml.Node {
	out := make([]*yaml.Node, len(fresh))
	for i, f := range fresh {
		out[i] = f
		for _, o := range old {
			if o.Kind == yaml.ScalarNode && o.Value == f.Value {
				out[i] = o
				break
			}
		}
	}
	return out
}

func scalarOrNil(v string) *yaml.Node {
	if v == "" {
		return nil
	}
	return str(v)
}

// listOrNil writes short lists (the usual case: a pattern or two) in flow
// style, as the shipped file does.
func listOrNil(vs []string) *yaml.Node {
	var items []*yaml.Node
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			items = append(items, str(v))
		}
	}
	if len(items) == 0 {
		return nil
	}
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle, Content: items}
}

// Section edits.

// sectionIndex returns the index of a section (exact match: section names
// are labels people chose), or -1.
func sectionIndex(seq *yaml.Node, name string) int {
	for i, n := range seq.Content {
		if n.Value == name {
			return i
		}
	}
	return -1
}

// AddSection appends a section.
func (d *Doc) AddSection(name string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return errors.New("section name is required")
	}
	seq, err := d.topSeq("sections")
	if err != nil {
		return err
	}
	for _, n := range seq.Content {
		if strings.EqualFold(n.Value, name) {
			return fmt.Errorf("section %q: %w", name, ErrExists)
		}
	}
	seq.Content = append(seq.Content, str(name))
	return nil
}

// RenameSection renames a section and moves every source in it.
func (d *Doc) RenameSection(old, name string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return errors.New("section name is required")
	}
	seq, err := d.topSeq("sections")
	if err != nil {
		return err
	}
	i := sectionIndex(seq, old)
	if i < 0 {
		return fmt.Errorf("section %q: %w", old, ErrNotFound)
	}
	for j, n := range seq.Content {
		if j != i && strings.EqualFold(n.Value, name) {
			return fmt.Errorf("section %q: %w", name, ErrExists)
		}
	}
	seq.Content[i].Value = name
	seq.Content[i].Style = 0
	nodes, err := d.sourceNodes()
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if v := lookup(n, "section"); v != nil && v.Value == old {
			v.Value = name
			v.Style = 0
		}
	}
	return nil
}

// MoveSection puts a section at position to (0-based, clamped).
func (d *Doc) MoveSection(name string, to int) error {
	seq, err := d.topSeq("sections")
	if err != nil {
		return err
	}
	i := sectionIndex(seq, name)
	if i < 0 {
		return fmt.Errorf("section %q: %w", name, ErrNotFound)
	}
	to = max(0, min(to, len(seq.Content)-1))
	n := seq.Content[i]
	rest := append(append([]*yaml.Node{}, seq.Content[:i]...), seq.Content[i+1:]...)
	seq.Content = append(rest[:to], append([]*yaml.Node{n}, rest[to:]...)...)
	return nil
}

// DeleteSection removes a section no source uses.
func (d *Doc) DeleteSection(name string) error {
	seq, err := d.topSeq("sections")
	if err != nil {
		return err
	}
	i := sectionIndex(seq, name)
	if i < 0 {
		return fmt.Errorf("section %q: %w", name, ErrNotFound)
	}
	nodes, err := d.sourceNodes()
	if err != nil {
		return err
	}
	used := 0
	for _, n := range nodes {
		if v := lookup(n, "section"); v != nil && v.Value == name {
			used++
		}
	}
	if used > 0 {
		return fmt.Errorf("section %q has %d source(s); move or delete them first: %w", name, used, ErrInUse)
	}
	gone := seq.Content[i]
	if gone.HeadComment != "" && i+1 < len(seq.Content) {
		seq.Content[i+1].HeadComment = joinComments(gone.HeadComment, seq.Content[i+1].HeadComment)
	}
	seq.Content = append(seq.Content[:i], seq.Content[i+1:]...)
	return nil
}
