package story

import (
	"hash/maphash"
	"slices"
	"sync"
)

// MaxBucket bounds how many entries one key contributes to a candidate
// lookup: the newest ones. A key shared by thousands of items (a
// boilerplate shingle band) says little, and grouping matters for recent
// stories; the bound keeps a lookup's cost flat however large the store.
const MaxBucket = 512

// Index is an in-memory index of prints by their Keys, the same lookups
// the store makes in its bbolt buckets. It is safe for concurrent use.
type Index struct {
	mu      sync.RWMutex
	seed    maphash.Seed
	ids     map[string]int32 // id -> slot in entries
	entries []entry          // by slot; a removed one has an empty id
	free    []int32          // slots to reuse
	buckets map[uint64][]int32
}

type entry struct {
	id    string
	print Print
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{seed: maphash.MakeSeed(), ids: make(map[string]int32), buckets: make(map[uint64][]int32)}
}

// Len is the number of prints indexed.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.ids)
}

// bucketKey hashes an index key: the buckets are keyed by a 64-bit hash
// rather than the bytes, which keeps a large index light for the garbage
// collector. Two keys colliding only add candidates, never lose one.
func (x *Index) bucketKey(k []byte) uint64 { return maphash.Bytes(x.seed, k) }

// Add indexes p under id, replacing what id had.
func (x *Index) Add(id string, p Print) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if s, ok := x.ids[id]; ok {
		x.remove(s)
	}
	var s int32
	if n := len(x.free); n > 0 {
		s, x.free = x.free[n-1], x.free[:n-1]
		x.entries[s] = entry{id, p}
	} else {
		s = int32(len(x.entries))
		x.entries = append(x.entries, entry{id, p})
	}
	x.ids[id] = s
	for _, k := range Keys(p) {
		bk := x.bucketKey(k)
		x.buckets[bk] = append(x.buckets[bk], s)
	}
}

// Remove drops id from the index.
func (x *Index) Remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if s, ok := x.ids[id]; ok {
		x.remove(s)
	}
}

func (x *Index) remove(s int32) {
	e := x.entries[s]
	for _, k := range Keys(e.print) {
		bk := x.bucketKey(k)
		ids := x.buckets[bk]
		if i := slices.Index(ids, s); i >= 0 {
			ids = slices.Delete(ids, i, i+1)
		}
		if len(ids) == 0 {
			delete(x.buckets, bk)
		} else {
			x.buckets[bk] = ids
		}
	}
	delete(x.ids, e.id)
	x.entries[s] = entry{}
	x.free = append(x.free, s)
}

// Candidate is an indexed print found by a lookup.
type Candidate struct {
	ID    string
	Print Print
}

// Candidates returns the ids sharing at least one key with p (at most
// MaxBucket newest per key), each once, with their prints.
func (x *Index) Candidates(p Print) []Candidate {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var slots []int32
	for _, k := range Keys(p) {
		ids := x.buckets[x.bucketKey(k)]
		if len(ids) > MaxBucket {
			ids = ids[len(ids)-MaxBucket:]
		}
		slots = append(slots, ids...)
	}
	slices.Sort(slots)
	slots = slices.Compact(slots)
	out := make([]Candidate, len(slots))
	for i, s := range slots {
		out[i] = Candidate{ID: x.entries[s].id, Print: x.entries[s].print}
	}
	return out
}

// Best compares p with its candidates and returns the most similar one
// that is the same story; ok is false when none is.
func (x *Index) Best(p Print) (id string, m Match, ok bool) {
	for _, c := range x.Candidates(p) {
		cm := Compare(p, c.Print)
		if cm.Same && (!ok || better(cm, m)) {
			id, m, ok = c.ID, cm, true
		}
	}
	return id, m, ok
}

func better(a, b Match) bool {
	if (a.Reason == SameURL) != (b.Reason == SameURL) {
		return a.Reason == SameURL
	}
	return a.Score > b.Score
}
