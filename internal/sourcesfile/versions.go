package sourcesfile

import (
	"strings"
	"sync"
)

// maxVersions bounds the versions of the file kept in memory to show a
// conflict as a diff: each form carries the hash of the version it was
// loaded from, and forms stay open for minutes, not days.
const maxVersions = 64

// versions remembers recently read contents of the file by hash.
type versions struct {
	mu    sync.Mutex
	data  map[string][]byte
	order []string
}

func (v *versions) remember(hash string, data []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.data == nil {
		v.data = map[string][]byte{}
	}
	if _, ok := v.data[hash]; ok {
		return
	}
	v.data[hash] = data
	v.order = append(v.order, hash)
	if len(v.order) > maxVersions {
		delete(v.data, v.order[0])
		v.order = v.order[1:]
	}
}

func (v *versions) get(hash string) ([]byte, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	d, ok := v.data[hash]
	return d, ok
}

// Version returns the content of the file that had this hash, if it was
// read or written recently.
func (f *File) Version(hash string) ([]byte, bool) { return f.seen.get(hash) }

// DiffLine is one line of a line diff: Op is '-' (only in the old text),
// '+' (only in the new text) or ' ' (context); Line is its number in the
// new text (in the old one for '-').
type DiffLine struct {
	Op   byte
	Line int
	Text string
}

// contextLines is how many unchanged lines a diff shows around a change.
const contextLines = 2

// LineDiff lists the lines that differ between before and after with a
// little context, in the order of the new text, as people read diffs. Runs
// of unchanged lines between changes are left out.
func LineDiff(before, after []byte) []DiffLine {
	a, b := splitLines(before), splitLines(after)
	match := matchLines(a, b)
	var all []DiffLine
	i := 0 // next line of a not yet emitted
	for j, line := range b {
		if m := match[j]; m >= 0 {
			for ; i < m; i++ {
				all = append(all, DiffLine{Op: '-', Line: i + 1, Text: a[i]})
			}
			all = append(all, DiffLine{Op: ' ', Line: j + 1, Text: line})
			i = m + 1
			continue
		}
		// Lines replaced by this one read better before it.
		next := len(a)
		for k := j + 1; k < len(b); k++ {
			if match[k] >= 0 {
				next = match[k]
				break
			}
		}
		for ; i < next; i++ {
			all = append(all, DiffLine{Op: '-', Line: i + 1, Text: a[i]})
		}
		all = append(all, DiffLine{Op: '+', Line: j + 1, Text: line})
	}
	for ; i < len(a); i++ {
		all = append(all, DiffLine{Op: '-', Line: i + 1, Text: a[i]})
	}
	keep := make([]bool, len(all))
	for k, d := range all {
		if d.Op != ' ' {
			for x := max(0, k-contextLines); x <= min(len(all)-1, k+contextLines); x++ {
				keep[x] = true
			}
		}
	}
	var out []DiffLine
	for k, d := range all {
		if keep[k] {
			out = append(out, d)
		}
	}
	return out
}

func splitLines(text []byte) []string {
	s := strings.TrimSuffix(string(text), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
