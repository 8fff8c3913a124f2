package sourcesfile

import (
	"bytes"
	"strings"
)

// maxDiffEdits bounds the line diff. An edit from the UI changes a handful
// of lines; past this many changes the file was rewritten wholesale and
// only the unchanged head and tail keep their blank lines.
const maxDiffEdits = 2000

// restoreLayout puts the blank lines of orig back into out (orig after a
// round trip through yaml.v3, which drops them and writes one space before
// every line comment). Non-blank lines are matched with a line diff; a
// matched line gets the blank lines it had before it in orig, and its
// original spacing before a comment. lineComments are the line comments
// in the tree: only a line ending in one of them is compared with its
// comment spacing ignored, so a change inside a quoted value containing
// " #" is never mistaken for spacing.
func restoreLayout(orig, out []byte, lineComments map[string]bool) []byte {
	if len(orig) == 0 || len(out) == 0 {
		return out
	}
	a, aBlank, aTrail := nonBlank(orig)
	b, bBlank, bTrail := nonBlank(out)
	ka, kb := keys(a, lineComments), keys(b, lineComments)
	match := matchLines(ka, kb)
	var buf bytes.Buffer
	buf.Grow(len(out) + len(orig)/10)
	for j, line := range b {
		n := bBlank[j]
		if i := match[j]; i >= 0 && aBlank[i] > n {
			n = aBlank[i]
		}
		for ; n > 0; n-- {
			buf.WriteByte('\n')
		}
		if i := match[j]; i >= 0 {
			// Equal but for comment spacing: keep the person's.
			line = a[i]
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
	}
	trail := max(aTrail, bTrail)
	if len(b) > 0 && len(a) > 0 && match[len(b)-1] != len(a)-1 {
		trail = bTrail
	}
	for ; trail > 0; trail-- {
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// keys returns the lines with the spacing before a known line comment
// normalised to one space.
func keys(lines []string, lineComments map[string]bool) []string {
	if len(lineComments) == 0 {
		return lines
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l
		for at := strings.Index(l, "#"); at > 0; {
			if c := l[at:]; lineComments[c] && (l[at-1] == ' ' || l[at-1] == '\t') {
				out[i] = strings.TrimRight(l[:at], " \t") + " " + c
				break
			}
			next := strings.Index(l[at+1:], "#")
			if next < 0 {
				break
			}
			at += 1 + next
		}
	}
	return out
}

// nonBlank splits text into its non-blank lines, the number of blank lines
// before each, and the number of blank lines at the end.
func nonBlank(text []byte) (lines []string, blanksBefore []int, trailing int) {
	s := strings.TrimSuffix(string(text), "\n")
	pending := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == "" {
			pending++
			continue
		}
		lines = append(lines, l)
		blanksBefore = append(blanksBefore, pending)
		pending = 0
	}
	return lines, blanksBefore, pending
}

// matchLines returns, for each line of b, the index of the line of a it
// corresponds to in a shortest edit script, or -1 for inserted lines.
func matchLines(a, b []string) []int {
	m := make([]int, len(b))
	for j := range m {
		m[j] = -1
	}
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		m[pre] = pre
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		m[len(b)-1-suf] = len(a) - 1 - suf
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	for _, p := range myers(ma, mb) {
		m[pre+p[1]] = pre + p[0]
	}
	return m
}

// myers is the greedy O((N+M)D) diff of Myers (1986). It returns matched
// index pairs (i in a, j in b), or nil when more than maxDiffEdits edits
// are needed. The trace keeps only the diagonals each round could reach,
// so memory is O(D²).
func myers(a, b []string) [][2]int {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return nil
	}
	limit := min(n+m, maxDiffEdits)
	off := limit + 1
	v := make([]int, 2*limit+3)
	var trace [][]int
	for d := 0; d <= limit; d++ {
		trace = append(trace, append([]int(nil), v[off-d-1:off+d+2]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(a, b, trace, d)
			}
		}
	}
	return nil
}

func backtrack(a, b []string, trace [][]int, depth int) [][2]int {
	var pairs [][2]int
	x, y := len(a), len(b)
	for d := depth; d > 0; d-- {
		vd := trace[d]
		at := func(k int) int { return vd[k+d+1] }
		k := x - y
		prevK := k - 1
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			prevK = k + 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x, y = x-1, y-1
			pairs = append(pairs, [2]int{x, y})
		}
		x, y = prevX, prevY
	}
	for x > 0 && y > 0 {
		x, y = x-1, y-1
		pairs = append(pairs, [2]int{x, y})
	}
	return pairs
}
