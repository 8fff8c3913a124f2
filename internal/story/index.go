package story

import "sync"

// MaxBucket bounds how many entries one key contributes to a candidate
// lookup: the newest ones. A key shared by thousands of items (a
// boilerplate shingle band) says little, and grouping matters for recent
// stories; the bound keeps a lookup's cost flat however large the store.
const MaxBucket = 512

// Index is an in-memory index of prints by their Keys, the same lookups
// the store makes in its bbolt buckets. It is safe for concurrent use.
type Index struct {
	mu      sync.RWMutex
	prints  map[string]Print
	buckets map[string][]string // key -> ids, oldest first
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{prints: make(map[string]Print), buckets: make(map[string][]string)}
}

// Len is the number of prints indexed.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.prints)
}

// Add indexes p under id, replacing what id had.
func (x *Index) Add(id string, p Print) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.prints[id]; ok {
		x.remove(id, old)
	}
	x.prints[id] = p
	for _, k := range Keys(p) {
		x.buckets[string(k)] = append(x.buckets[string(k)], id)
	}
}

// Remove drops id from the index.
func (x *Index) Remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.prints[id]; ok {
		x.remove(id, old)
		delete(x.prints, id)
	}
}

func (x *Index) remove(id string, p Print) {
	for _, k := range Keys(p) {
		ids := x.buckets[string(k)]
		for i, v := range ids {
			if v == id {
				ids = append(ids[:i], ids[i+1:]...)
				break
			}
		}
		if len(ids) == 0 {
			delete(x.buckets, string(k))
		} else {
			x.buckets[string(k)] = ids
		}
	}
}

// Candidates returns the ids sharing at least one key with p (at most
// MaxBucket newest per key), each once, with their prints.
func (x *Index) Candidates(p Print) []Candidate {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []Candidate
	seen := make(map[string]bool)
	for _, k := range Keys(p) {
		ids := x.buckets[string(k)]
		if len(ids) > MaxBucket {
			ids = ids[len(ids)-MaxBucket:]
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, Candidate{ID: id, Print: x.prints[id]})
			}
		}
	}
	return out
}

// Candidate is an indexed print found by a lookup.
type Candidate struct {
	ID    string
	Print Print
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
