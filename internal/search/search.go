package search

import (
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Order is the order of results.
type Order int

const (
	// Newest is descending ref, newest item first.
	Newest Order = iota
	// Relevance ranks the RelevanceWindow newest matches by BM25 over the
	// fields (headline weighted highest) and returns them best first.
	Relevance
)

// Result limits.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
	// RelevanceWindow bounds the matches that relevance order ranks: the
	// newest this many that the caller's filters accept. Ranking every
	// match of a common word at a million items would load and score tens
	// of thousands of docs; on a news desk the best of the newest 500
	// (a day or two of a common word) is what a reader means, and scoring
	// one costs about 20 µs of CPU, so the window stays near 10 ms.
	RelevanceWindow = 500
	// MaxPrefixTerms bounds the words one prefix may expand to.
	MaxPrefixTerms = 4096
)

// ErrTooBroad means a prefix matches more than MaxPrefixTerms words.
var ErrTooBroad = fmt.Errorf("search: the prefix matches more than %d words; type more of the word", MaxPrefixTerms)

// ctxEvery is how many postings are stepped over between checks of ctx.
const ctxEvery = 256

// Query is one search.
type Query struct {
	Text  string // the query syntax of Parse
	Order Order
	Limit int // results wanted; 0 means DefaultLimit, capped at MaxLimit
	// Offset skips results first. With Relevance it pages within the
	// RelevanceWindow, so an offset past it gives nothing.
	Offset int
	// Before, when not 0, keeps only refs below it: the keyset cursor for
	// the next page newest first is the last ref of this one, and the
	// search starts there instead of walking the pages before it.
	Before uint64
}

// LoadFunc gives the stored doc of a candidate ref and whether the caller's
// own filters (status, section, source, date…) accept it. Search calls it
// for every candidate the index yields, newest first, until it has enough.
type LoadFunc func(ref uint64) (doc Doc, ok bool, err error)

// Search returns the refs that match q and that load accepts, in q.Order.
// It reads within tx (a read transaction will do) and checks ctx every few
// hundred postings, returning ctx's error when it is done.
func Search(ctx context.Context, tx *bolt.Tx, q Query, load LoadFunc) ([]uint64, error) {
	p, err := Parse(q.Text)
	if err != nil {
		return nil, err
	}
	return SearchParsed(ctx, tx, p, q, load)
}

// SearchParsed is Search for a query already parsed (q.Text is ignored).
func SearchParsed(ctx context.Context, tx *bolt.Tx, p Parsed, q Query, load LoadFunc) ([]uint64, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	offset := max(q.Offset, 0)
	// A Parsed built by hand may hold an empty clause; Parse never does.
	p = Parsed{Clauses: slices.DeleteFunc(slices.Clone(p.Clauses), func(c Clause) bool { return len(c.Terms) == 0 })}
	b := tx.Bucket(bucketPostings)
	if b == nil {
		return nil, nil
	}
	if s := ReadStats(tx); s.Version != Version {
		return nil, ErrVersion
	}
	s := &searcher{ctx: ctx, b: b}
	var pos, neg []postings
	verify := false
	for _, c := range p.Clauses {
		if c.Phrase() {
			verify = true
		}
		if c.Not {
			if c.Phrase() {
				continue // checked on the doc
			}
			it, err := s.clauseIter(c)
			if err != nil {
				return nil, err
			}
			if it != nil {
				neg = append(neg, it)
			}
			continue
		}
		it, err := s.clauseIter(c)
		if err != nil {
			return nil, err
		}
		if it == nil {
			return nil, nil // a required word is in no doc
		}
		pos = append(pos, it)
	}
	if len(pos) == 0 {
		return nil, ErrNoTerms
	}
	var and postings = &andIter{its: pos}
	if len(pos) == 1 {
		and = pos[0]
	}

	want := offset + limit
	if q.Order == Relevance {
		want = RelevanceWindow
	}
	var refs []uint64
	var docs []*docMatch
	var window []string
	tk := newTokenizer()
	target := ^uint64(0)
	if q.Before > 0 {
		target = q.Before - 1
	}
	for len(refs) < want {
		if err := and.seekLE(target); err != nil {
			return nil, err
		}
		if !and.valid() {
			break
		}
		ref := and.cur()
		if ref == 0 {
			target = 0 // the last possible ref; the loop ends after it
		} else {
			target = ref - 1
		}
		if err := s.tick(1); err != nil {
			return nil, err
		}
		excluded := false
		for _, n := range neg {
			if err := n.seekLE(ref); err != nil {
				return nil, err
			}
			if n.valid() && n.cur() == ref {
				excluded = true
				break
			}
		}
		if !excluded {
			doc, ok, err := load(ref)
			if err != nil {
				return nil, fmt.Errorf("search: load %d: %w", ref, err)
			}
			if ok {
				var dm *docMatch
				switch {
				case verify:
					dm, window = tk.match(doc, p, window)
				case q.Order == Relevance:
					var ok bool
					if dm, ok = quickCounts(doc, p); !ok {
						dm, window = tk.match(doc, p, window)
					}
				}
				if !verify || dm.matches(p) {
					refs = append(refs, ref)
					docs = append(docs, dm)
				}
			}
		}
		if ref == 0 {
			break
		}
	}
	if q.Order == Relevance {
		refs = s.rank(p, refs, docs)
	}
	if offset >= len(refs) {
		return nil, nil
	}
	return refs[offset:min(len(refs), offset+limit)], nil
}

type searcher struct {
	ctx   context.Context
	b     *bolt.Bucket
	steps int
}

// tick counts work and checks ctx every ctxEvery steps.
func (s *searcher) tick(n int) error {
	s.steps += n
	if s.steps >= ctxEvery {
		s.steps = 0
		if err := s.ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// clauseIter is the postings of every term of a clause (a phrase's terms
// are intersected here and their order checked on the doc). nil means some
// term is in no doc.
func (s *searcher) clauseIter(c Clause) (postings, error) {
	var its []postings
	seen := map[string]bool{}
	for i, term := range c.Terms {
		if c.Prefix && i == len(c.Terms)-1 {
			u, err := s.prefixIter(term)
			if err != nil || u == nil {
				return nil, err
			}
			its = append(its, u)
			continue
		}
		if seen[term] {
			continue
		}
		seen[term] = true
		it := s.termIter(term)
		if it == nil {
			return nil, nil
		}
		its = append(its, it)
	}
	if len(its) == 1 {
		return its[0], nil
	}
	return &andIter{its: its}, nil
}

// termIter is the postings of one term, or nil when no doc has it.
func (s *searcher) termIter(term string) *termIter {
	prefix := termPrefix(term)
	c := s.b.Cursor()
	k, _ := c.Seek(prefix)
	if k == nil || !hasPrefixChunk(k, prefix) {
		return nil
	}
	return &termIter{s: s, c: c, prefix: prefix}
}

// prefixIter is the union of every term that starts with p.
func (s *searcher) prefixIter(p string) (postings, error) {
	c := s.b.Cursor()
	u := &unionIter{}
	for k, _ := c.Seek([]byte(p)); k != nil && strings.HasPrefix(string(k), p); {
		if err := s.tick(1); err != nil {
			return nil, err
		}
		i := len(k) - 9
		if i < 0 || k[i] != 0 {
			k, _ = c.Next()
			continue
		}
		if len(u.its) == MaxPrefixTerms {
			return nil, ErrTooBroad
		}
		term := string(k[:i])
		u.its = append(u.its, &termIter{s: s, c: s.b.Cursor(), prefix: termPrefix(term)})
		k, _ = c.Seek(append([]byte(term), 1))
	}
	switch len(u.its) {
	case 0:
		return nil, nil
	case 1:
		return u.its[0], nil
	}
	return u, nil
}

// postings walks a sorted set of refs from the newest down. seekLE moves to
// the largest ref <= target; targets only ever decrease.
type postings interface {
	seekLE(target uint64) error
	valid() bool
	cur() uint64
}

type termIter struct {
	s       *searcher
	c       *bolt.Cursor
	prefix  []byte
	refs    []uint64 // the current chunk, ascending
	i       int
	started bool
	done    bool
}

func (t *termIter) valid() bool { return t.started && !t.done }
func (t *termIter) cur() uint64 { return t.refs[t.i] }

func (t *termIter) seekLE(target uint64) error {
	if t.done {
		return nil
	}
	if t.started {
		if t.refs[t.i] <= target {
			return nil
		}
		if target >= t.refs[0] {
			t.i = sort.Search(t.i, func(j int) bool { return t.refs[j] > target }) - 1
			return nil
		}
		// The chunk just before is usually the one: try it before a seek.
		k, v := t.c.Prev()
		if k == nil || !hasPrefixChunk(k, t.prefix) {
			t.done = true
			return nil
		}
		if binary.BigEndian.Uint64(k[len(t.prefix):]) <= target {
			return t.load(k, v, target)
		}
	}
	t.started = true
	var k, v []byte
	if target == ^uint64(0) {
		k, _ = t.c.Seek(append(slices.Clone(t.prefix[:len(t.prefix)-1]), 1))
	} else {
		k, _ = t.c.Seek(chunkKey(t.prefix, target+1))
	}
	if k == nil {
		k, v = t.c.Last()
	} else {
		k, v = t.c.Prev()
	}
	if k == nil || !hasPrefixChunk(k, t.prefix) {
		t.done = true
		return nil
	}
	return t.load(k, v, target)
}

// load decodes the chunk at k, whose first ref is <= target, and moves to
// its largest ref <= target.
func (t *termIter) load(k, v []byte, target uint64) error {
	t.started = true
	var ok bool
	t.refs, ok = decodeChunk(t.refs[:0], binary.BigEndian.Uint64(k[len(t.prefix):]), v)
	if !ok {
		return fmt.Errorf("search: term %q: corrupt chunk", t.prefix[:len(t.prefix)-1])
	}
	if err := t.s.tick(len(t.refs)); err != nil {
		return err
	}
	t.i = sort.Search(len(t.refs), func(j int) bool { return t.refs[j] > target }) - 1
	return nil
}

// andIter is the intersection of its iterators (leapfrog: each one skips to
// the others' current ref, so a rare term drives a common one's seeks).
type andIter struct {
	its []postings
	ref uint64
	ok  bool
}

func (a *andIter) valid() bool { return a.ok }
func (a *andIter) cur() uint64 { return a.ref }

func (a *andIter) seekLE(target uint64) error {
	for {
		agree := true
		for _, it := range a.its {
			if err := it.seekLE(target); err != nil {
				return err
			}
			if !it.valid() {
				a.ok = false
				return nil
			}
			if c := it.cur(); c < target {
				target = c
				agree = false
			}
		}
		if agree {
			a.ref, a.ok = target, true
			return nil
		}
	}
}

// unionIter merges the postings of a prefix's terms, newest first, with a
// max-heap on each term's current ref.
type unionIter struct {
	its     []*termIter
	h       iterHeap
	started bool
}

func (u *unionIter) valid() bool { return len(u.h) > 0 }
func (u *unionIter) cur() uint64 { return u.h[0].cur() }

func (u *unionIter) seekLE(target uint64) error {
	if !u.started {
		u.started = true
		for _, it := range u.its {
			if err := it.seekLE(target); err != nil {
				return err
			}
			if it.valid() {
				u.h = append(u.h, it)
			}
		}
		heap.Init(&u.h)
		return nil
	}
	for len(u.h) > 0 && u.h[0].cur() > target {
		top := u.h[0]
		if err := top.seekLE(target); err != nil {
			return err
		}
		if top.valid() {
			heap.Fix(&u.h, 0)
		} else {
			heap.Pop(&u.h)
		}
	}
	return nil
}

type iterHeap []*termIter

func (h iterHeap) Len() int           { return len(h) }
func (h iterHeap) Less(i, j int) bool { return h[i].cur() > h[j].cur() }
func (h iterHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *iterHeap) Push(x any)        { *h = append(*h, x.(*termIter)) }
func (h *iterHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// docMatch is what one pass over a loaded doc's terms finds: how often
// each clause occurs in each field (a phrase only in order and adjacent,
// within one field) and each field's length in terms. It is computed while
// tokenizing, without keeping the terms, since it runs for every candidate
// of a phrase and for the whole relevance window.
type docMatch struct {
	counts  [][]int // [clause][field]
	lens    []int
	weights []float64
}

func (t *tokenizer) match(d Doc, p Parsed, window []string) (*docMatch, []string) {
	dm := &docMatch{counts: make([][]int, len(p.Clauses))}
	maxLen := 1
	for _, c := range p.Clauses {
		maxLen = max(maxLen, len(c.Terms))
	}
	field := 0
	d.fields(func(text string, w float64) {
		for i := range dm.counts {
			dm.counts[i] = append(dm.counts[i], 0)
		}
		window = window[:0]
		n := 0
		t.tokenize(text, func(term string, seq bool) {
			if !seq {
				return
			}
			n++
			if len(window) == maxLen {
				copy(window, window[1:])
				window = window[:maxLen-1]
			}
			window = append(window, term)
			for i, c := range p.Clauses {
				if endsWith(window, c) {
					dm.counts[i][field]++
				}
			}
		})
		dm.lens = append(dm.lens, n)
		dm.weights = append(dm.weights, w)
		field++
	})
	return dm, window
}

// quickCounts is match for scoring alone, for a query of single words
// over a doc whose text is ASCII: occurrences are found as substrings at
// word boundaries of the lower-cased text, ten times faster than
// tokenizing. It can differ from the tokenizer in corners ("U.S." is not
// "us" here), which moves a score a little but never what matches: the
// index decides that. ok is false when it does not apply.
func quickCounts(d Doc, p Parsed) (*docMatch, bool) {
	for _, c := range p.Clauses {
		if c.Phrase() || !isASCII(c.Terms[0]) {
			return nil, false
		}
	}
	dm := &docMatch{counts: make([][]int, len(p.Clauses))}
	ok := true
	var buf []byte
	d.fields(func(text string, w float64) {
		if !ok || !isASCII(text) {
			ok = false
			return
		}
		buf = append(buf[:0], text...)
		words, prev := 0, false
		for i, c := range buf {
			if c >= 'A' && c <= 'Z' {
				buf[i] = c + 'a' - 'A'
			}
			word := isWordByte(c)
			if word && !prev {
				words++
			}
			prev = word
		}
		lower := string(buf)
		for i, c := range p.Clauses {
			n := 0
			for from := 0; ; {
				j := strings.Index(lower[from:], c.Terms[0])
				if j < 0 {
					break
				}
				at, end := from+j, from+j+len(c.Terms[0])
				if (at == 0 || !isWordByte(lower[at-1])) && (c.Prefix || end == len(lower) || !isWordByte(lower[end])) {
					n++
				}
				from = at + 1
			}
			dm.counts[i] = append(dm.counts[i], n)
		}
		dm.lens = append(dm.lens, words)
		dm.weights = append(dm.weights, w)
	})
	return dm, ok
}

// endsWith reports whether the window's last terms are the clause's.
func endsWith(window []string, c Clause) bool {
	off := len(window) - len(c.Terms)
	if off < 0 {
		return false
	}
	for j := len(c.Terms) - 1; j >= 0; j-- {
		got, term := window[off+j], c.Terms[j]
		if c.Prefix && j == len(c.Terms)-1 {
			if !strings.HasPrefix(got, term) {
				return false
			}
		} else if got != term {
			return false
		}
	}
	return true
}

// matches checks what the index cannot: that phrases are in order within
// one field, and that no excluded phrase is there.
func (dm *docMatch) matches(p Parsed) bool {
	for i, c := range p.Clauses {
		if !c.Phrase() {
			continue
		}
		found := slices.ContainsFunc(dm.counts[i], func(n int) bool { return n > 0 })
		if found == c.Not {
			return false
		}
	}
	return true
}

// BM25 parameters and the typical field lengths (in terms) that field
// lengths are normalised against.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

var typicalLen = []float64{12, 100, 3, 3, 2} // headline, lead, byline, publisher, source; tags after

// rank orders refs by BM25F over the docs' fields, newest first among ties.
func (s *searcher) rank(p Parsed, refs []uint64, docs []*docMatch) []uint64 {
	n := float64(max(ReadStats(s.b.Tx()).Docs, 1))
	idf := make([]float64, len(p.Clauses))
	for i, c := range p.Clauses {
		if c.Not {
			continue
		}
		df := n
		for j, term := range c.Terms {
			var d float64
			if c.Prefix && j == len(c.Terms)-1 {
				d = s.prefixCount(term, n)
			} else {
				d = float64(s.count(term))
			}
			df = min(df, d)
		}
		idf[i] = math.Log(1 + (n-df+0.5)/(df+0.5))
	}
	scores := make([]float64, len(refs))
	for k, dm := range docs {
		var score float64
		for i, c := range p.Clauses {
			if c.Not {
				continue
			}
			var wtf float64
			for f, n := range dm.counts[i] {
				if n == 0 {
					continue
				}
				typ := 2.0
				if f < len(typicalLen) {
					typ = typicalLen[f]
				}
				wtf += dm.weights[f] * float64(n) / (1 - bm25B + bm25B*float64(dm.lens[f])/typ)
			}
			score += idf[i] * wtf * (bm25K1 + 1) / (wtf + bm25K1)
		}
		scores[k] = score
	}
	idx := make([]int, len(refs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		if scores[idx[a]] != scores[idx[b]] {
			return scores[idx[a]] > scores[idx[b]]
		}
		return refs[idx[a]] > refs[idx[b]]
	})
	out := make([]uint64, len(refs))
	for i, j := range idx {
		out[i] = refs[j]
	}
	return out
}

// count is a term's document frequency, read off its chunks.
func (s *searcher) count(term string) int {
	prefix := termPrefix(term)
	c := s.b.Cursor()
	n := 0
	for k, v := c.Seek(prefix); k != nil && hasPrefixChunk(k, prefix); k, v = c.Next() {
		// One ref in the key, then one per uvarint after the span;
		// each uvarint ends in a byte below 0x80.
		n++
		for _, b := range v {
			if b < 0x80 {
				n++
			}
		}
	}
	return n
}

// prefixCount estimates the docs a prefix matches: the sum of its first 64
// words' counts (a prefix with more words is taken as common).
func (s *searcher) prefixCount(p string, n float64) float64 {
	c := s.b.Cursor()
	total, words := 0.0, 0
	for k, _ := c.Seek([]byte(p)); k != nil && strings.HasPrefix(string(k), p); {
		i := len(k) - 9
		if i < 0 || k[i] != 0 {
			k, _ = c.Next()
			continue
		}
		if words++; words > 64 {
			return n / 10
		}
		term := string(k[:i])
		total += float64(s.count(term))
		k, _ = c.Seek(append([]byte(term), 1))
	}
	return min(total, n)
}
