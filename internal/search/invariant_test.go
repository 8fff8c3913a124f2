package search

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestSearchMatchesBruteForce applies random adds, updates and removes with
// scattered refs (so postings are inserted mid-chunk, chunks split, re-key
// and empty) and checks random queries against a scan of every doc.
func TestSearchMatchesBruteForce(t *testing.T) {
	vocab := []string{"storm", "stormy", "storage", "flood", "floods", "river", "state", "of", "emergency",
		"the", "a", "government", "governor", "café", "cafe", "東京", "地震", "서울", "fire", "rescue"}
	r := rand.New(rand.NewPCG(7, 11))
	text := func(n int) string {
		var b strings.Builder
		for range n {
			// Zipf-like: early words are common.
			w := vocab[min(len(vocab)-1, int(r.ExpFloat64()*4))]
			b.WriteString(w)
			b.WriteByte(' ')
		}
		return b.String()
	}
	doc := func() Doc {
		d := Doc{Title: text(1 + r.IntN(6)), Lead: text(r.IntN(20)), Publisher: vocab[r.IntN(len(vocab))]}
		if r.IntN(3) == 0 {
			d.Tags = []string{text(2)}
		}
		return d
	}
	queries := []string{"storm", "storm*", "stor*", "flood river", `"state of emergency"`, `"of the"`,
		"cafe", "café", "govern*", "storm -flood", `emergency -"state of"`, "東京", "地", "서울 fire",
		"the -of -a", "rescue* fire storm", "absent", "floods -storm*"}

	ix := newTestIndex(t)
	var refs []uint64
	for round := range 12 {
		err := ix.db.Update(func(tx *bolt.Tx) error {
			for range 150 {
				switch op := r.IntN(10); {
				case op < 6 || len(refs) == 0:
					ref := r.Uint64N(1 << 40)
					if _, dup := ix.docs[ref]; dup {
						continue
					}
					d := doc()
					if err := Add(tx, ref, d); err != nil {
						return err
					}
					ix.docs[ref] = d
					refs = append(refs, ref)
				case op < 8:
					ref := refs[r.IntN(len(refs))]
					d := doc()
					if err := Update(tx, ref, ix.docs[ref], d); err != nil {
						return err
					}
					ix.docs[ref] = d
				default:
					i := r.IntN(len(refs))
					ref := refs[i]
					if err := Remove(tx, ref, ix.docs[ref]); err != nil {
						return err
					}
					delete(ix.docs, ref)
					refs = slices.Delete(refs, i, i+1)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if round%4 == 3 {
			ix.reopen()
		}
		for _, q := range queries {
			p, _ := Parse(q)
			want := bruteForce(ix.docs, p)
			got, err := ix.search(Query{Text: q, Limit: MaxLimit}, nil)
			if err != nil {
				t.Fatalf("round %d: %q: %v", round, q, err)
			}
			if !slices.Equal(got, want[:min(len(want), MaxLimit)]) {
				t.Fatalf("round %d: %q: index gave %d refs, scan %d\nindex %v\nscan  %v", round, q, len(got), len(want), got, want)
			}
			// A page further down is the same slice of the scan.
			got, _ = ix.search(Query{Text: q, Limit: 7, Offset: 5}, nil)
			if w := want[min(5, len(want)):min(12, len(want))]; !slices.Equal(got, w) && !(len(got) == 0 && len(w) == 0) {
				t.Fatalf("round %d: %q offset 5 limit 7 = %v, want %v", round, q, got, w)
			}
		}
	}
	if len(ix.docs) < 500 {
		t.Fatalf("only %d docs at the end; the test meant to exercise more", len(ix.docs))
	}
	t.Logf("%d docs at the end", len(ix.docs))
}

// bruteForce evaluates p over every doc by tokenizing it, newest first.
func bruteForce(docs map[uint64]Doc, p Parsed) []uint64 {
	tk := newTokenizer()
	var out []uint64
	for ref, d := range docs {
		var seqs [][]string
		all := map[string]bool{}
		d.fields(func(text string, _ float64) {
			var seq []string
			tk.tokenize(text, func(term string, isSeq bool) {
				all[term] = true
				if isSeq {
					seq = append(seq, term)
				}
			})
			seqs = append(seqs, seq)
		})
		ok := true
		for _, c := range p.Clauses {
			var has bool
			switch {
			case c.Phrase():
				for _, s := range seqs {
					has = has || phraseCount(s, c, true) > 0
				}
			case c.Prefix:
				for term := range all {
					has = has || strings.HasPrefix(term, c.Terms[0])
				}
			default:
				has = all[c.Terms[0]]
			}
			if has == c.Not {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, ref)
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// TestBuilderMatchesBruteForce: docs indexed by a Builder in several
// flushes (the second with refs older than the first's, which go in one by
// one) answer like a scan, and Add after a flush carries on.
func TestBuilderMatchesBruteForce(t *testing.T) {
	ix := newTestIndex(t)
	g := newDocGen(4)
	bd := NewBuilder()
	refs := []uint64{}
	for i := range 3000 {
		refs = append(refs, uint64(i)*5+100_000)
	}
	for i := range 300 {
		refs = append(refs, uint64(i)*3) // older than all of the above
	}
	for i, ref := range refs {
		d := benchDoc(g, i)
		bd.Add(ref, d)
		ix.docs[ref] = d
		if i == 1999 || i == 2999 || i == len(refs)-1 {
			if err := ix.db.Update(bd.Flush); err != nil {
				t.Fatal(err)
			}
		}
	}
	ix.add(1<<40, benchDoc(g, 20))
	err := ix.db.View(func(tx *bolt.Tx) error {
		if s := ReadStats(tx); s.Docs != uint64(len(ix.docs)) {
			t.Errorf("builder counted %d docs, want %d", s.Docs, len(ix.docs))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"harbor", "glacier", "harbor tsunami", `"state of emergency"`, "transp*", "the", "the of", "-harbor the"} {
		p, _ := Parse(q)
		want := bruteForce(ix.docs, p)
		got, err := ix.search(Query{Text: q, Limit: MaxLimit}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want[:min(len(want), MaxLimit)]) {
			t.Errorf("%q: builder index gave %d refs, scan %d", q, len(got), len(want))
		}
		if len(want) == 0 {
			t.Errorf("%q: the scan found nothing; the test means to compare results", q)
		}
	}
}

// phraseCount counts the clause's occurrences in a field's terms (stopping
// at the first when first is set).
func phraseCount(f []string, c Clause, first bool) int {
	n := 0
	for i := 0; i+len(c.Terms) <= len(f); i++ {
		ok := true
		for j, term := range c.Terms {
			got := f[i+j]
			if c.Prefix && j == len(c.Terms)-1 {
				ok = strings.HasPrefix(got, term)
			} else {
				ok = got == term
			}
			if !ok {
				break
			}
		}
		if ok {
			n++
			if first {
				return n
			}
		}
	}
	return n
}

// TestChunkSplice: removing any ref from an encoded chunk, by splicing
// where it can and re-encoding where it cannot, leaves the other refs.
func TestChunkSplice(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for range 2000 {
		n := 1 + r.IntN(40)
		set := map[uint64]bool{}
		for len(set) < n {
			set[1+r.Uint64N(uint64(1)<<(1+r.IntN(40)))] = true
		}
		var refs []uint64
		for ref := range set {
			refs = append(refs, ref)
		}
		slices.Sort(refs)
		v := encodeChunk(refs)
		if got, ok := decodeChunk(nil, refs[0], v); !ok || !slices.Equal(got, refs) {
			t.Fatalf("decode(encode(%v)) = %v, %v", refs, got, ok)
		}
		if last, ok := lastRef(refs[0], v); !ok || last != refs[len(refs)-1] {
			t.Fatalf("lastRef of %v = %d", refs, last)
		}
		i := r.IntN(len(refs))
		nv, done, ok := spliceOut(refs[0], v, refs[i])
		if !ok {
			t.Fatalf("spliceOut(%v, %d) says corrupt", refs, refs[i])
		}
		if (i == 0 || i == len(refs)-1) == done {
			t.Fatalf("spliceOut(%v, %d): done %v", refs, refs[i], done)
		}
		if done {
			want := slices.Delete(slices.Clone(refs), i, i+1)
			if got, ok := decodeChunk(nil, refs[0], nv); !ok || !slices.Equal(got, want) {
				t.Fatalf("splice %d out of %v = %v, want %v", refs[i], refs, got, want)
			}
		}
		// A ref not in the chunk is reported absent.
		if missing := refs[0] + 1; !set[missing] && missing < refs[len(refs)-1] {
			if nv, done, ok := spliceOut(refs[0], v, missing); !ok || !done || nv != nil {
				t.Fatalf("spliceOut(%v, absent %d) = %v, %v, %v", refs, missing, nv, done, ok)
			}
		}
	}
}
