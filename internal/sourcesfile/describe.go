package sourcesfile

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/clipsheet/clipsheet/internal/config"
)

// maxNamed bounds how many names one part of a description lists.
const maxNamed = 10

// Describe says in one line what changed between two lists, for the audit
// log entry of a hand edit: sources added, removed and changed (by name),
// sections added and removed or reordered, the default interval. A file
// whose edit changed nothing that is in force (comments, layout) is
// "no change to sources or sections".
func Describe(before, after *config.SourcesFile) string {
	if before == nil {
		before = &config.SourcesFile{}
	}
	if after == nil {
		after = &config.SourcesFile{}
	}
	var parts []string
	old := map[string]config.Source{}
	for _, s := range before.Sources {
		old[s.Name] = s
	}
	var added, changed []string
	seen := map[string]bool{}
	for _, s := range after.Sources {
		seen[s.Name] = true
		prev, ok := old[s.Name]
		switch {
		case !ok:
			added = append(added, s.Name)
		case !reflect.DeepEqual(prev, s):
			changed = append(changed, s.Name)
		}
	}
	var removed []string
	for _, s := range before.Sources {
		if !seen[s.Name] {
			removed = append(removed, s.Name)
		}
	}
	parts = appendNamed(parts, "sources added", added)
	parts = appendNamed(parts, "removed", removed)
	parts = appendNamed(parts, "changed", changed)
	secAdded, secRemoved := setDiff(after.Sections, before.Sections), setDiff(before.Sections, after.Sections)
	parts = appendNamed(parts, "sections added", secAdded)
	parts = appendNamed(parts, "sections removed", secRemoved)
	if len(secAdded) == 0 && len(secRemoved) == 0 && !slices.Equal(before.Sections, after.Sections) {
		parts = append(parts, "sections reordered")
	}
	if before.Defaults != after.Defaults {
		parts = append(parts, fmt.Sprintf("default interval %s → %s", before.Defaults.Interval, after.Defaults.Interval))
	}
	if len(parts) == 0 {
		return "no change to sources or sections"
	}
	return strings.Join(parts, "; ")
}

func appendNamed(parts []string, label string, names []string) []string {
	if len(names) == 0 {
		return parts
	}
	shown := names
	if len(shown) > maxNamed {
		shown = shown[:maxNamed]
	}
	quoted := make([]string, len(shown))
	for i, n := range shown {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	text := strings.Join(quoted, ", ")
	if more := len(names) - len(shown); more > 0 {
		text += fmt.Sprintf(" and %d more", more)
	}
	return append(parts, fmt.Sprintf("%s %d: %s", label, len(names), text))
}

// setDiff lists the entries of a that are not in b, in a's order.
func setDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
