// Package sourcesfile edits sources.yaml the way a careful person would: it
// changes the YAML node tree in place so comments, key order and quoting of
// everything it does not touch survive, writes the file atomically, refuses
// to overwrite a version it did not read (content hash), watches the file
// for hand edits and feeds good ones to config.Live, and converts the list
// to and from OPML. It knows nothing about HTTP.
package sourcesfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// Doc is a parsed sources.yaml kept as a YAML node tree. Edits change the
// tree; Bytes encodes it again.
type Doc struct {
	root *yaml.Node // the document node
	orig []byte
}

// Parse reads YAML into a node tree. It checks syntax and the top-level
// shape only; the rules of the sources file are checked on the result of an
// edit, by config.ParseSources.
func Parse(data []byte) (*Doc, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&root)
	switch {
	case errors.Is(err, io.EOF):
		// An empty file is a valid start: build the skeleton.
		root = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	case err != nil:
		return nil, fmt.Errorf("parse sources file: %w", err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("parse sources file: top level must be a mapping with defaults, sections and sources")
	}
	return &Doc{root: &root, orig: data}, nil
}

// Bytes encodes the edited tree. yaml.v3 drops blank lines, which people
// use to group sources, and respaces line comments, so both are restored
// wherever the lines are unchanged from the text the Doc was parsed from.
func (d *Doc) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(d.root); err != nil {
		return nil, fmt.Errorf("encode sources file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode sources file: %w", err)
	}
	comments := map[string]bool{}
	collectLineComments(d.root, comments)
	return restoreLayout(d.orig, buf.Bytes(), comments), nil
}

func collectLineComments(n *yaml.Node, into map[string]bool) {
	if n.LineComment != "" {
		into[n.LineComment] = true
	}
	for _, c := range n.Content {
		collectLineComments(c, into)
	}
}

func (d *Doc) top() *yaml.Node { return d.root.Content[0] }

// topSeq returns the sequence under a top-level key, creating the key (at
// its canonical place) when absent.
func (d *Doc) topSeq(key string) (*yaml.Node, error) {
	top := d.top()
	if v := lookup(top, key); v != nil {
		if v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || v.Value == "") {
			// "sources:" with nothing after it.
			v.Kind, v.Tag, v.Value = yaml.SequenceNode, "!!seq", ""
		}
		if v.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("%s must be a list (line %d)", key, v.Line)
		}
		if len(v.Content) == 0 {
			// "sources: []" starts a list that is written in block style
			// once it has entries, like the rest of the file.
			v.Style &^= yaml.FlowStyle
		}
		return v, nil
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	setKey(top, key, seq, []string{"defaults", "sections", "sources"})
	return seq, nil
}

// lookup returns the value node of key in a mapping node, nil if absent.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if i := keyIndex(m, key); i >= 0 {
		return m.Content[i+1]
	}
	return nil
}

func keyIndex(m *yaml.Node, key string) int {
	if m == nil || m.Kind != yaml.MappingNode {
		return -1
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// setKey replaces key's value, or inserts key after the last present key
// that comes before it in order, so new keys land where a person would put
// them rather than at the end.
func setKey(m *yaml.Node, key string, val *yaml.Node, order []string) {
	if i := keyIndex(m, key); i >= 0 {
		m.Content[i+1] = val
		return
	}
	at := 0
	for _, k := range order {
		if k == key {
			break
		}
		if i := keyIndex(m, k); i >= 0 && i+2 > at {
			at = i + 2
		}
	}
	// Keys unknown to order stay first; that is rare (the validator
	// rejects unknown keys) and harmless.
	kn := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
	m.Content = append(m.Content[:at], append([]*yaml.Node{kn, val}, m.Content[at:]...)...)
}

// deleteKey removes key from a mapping. A comment above the key moves to
// the next key so explanations are not lost silently.
func deleteKey(m *yaml.Node, key string) {
	i := keyIndex(m, key)
	if i < 0 {
		return
	}
	if hc := m.Content[i].HeadComment; hc != "" && i+2 < len(m.Content) {
		next := m.Content[i+2]
		next.HeadComment = joinComments(hc, next.HeadComment)
	}
	m.Content = append(m.Content[:i], m.Content[i+2:]...)
}

func joinComments(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n" + b
}

func str(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}
