package search

import (
	"os"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestZZBreakdown(t *testing.T) {
	db, err := bolt.Open(os.Getenv("ZZDB"), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Skip(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPostings)
		var keys, kb, vb, single, terms, postings, hapax int
		var last string
		var lastN int
		b.ForEach(func(k, v []byte) error {
			keys++
			kb += len(k)
			vb += len(v)
			if len(v) == 0 {
				single++
			}
			n := 1
			for _, c := range v {
				if c < 0x80 {
					n++
				}
			}
			postings += n
			if term := string(k[:len(k)-9]); term != last {
				if lastN == 1 {
					hapax++
				}
				terms++
				last = term
				lastN = 0
			}
			lastN += n
			return nil
		})
		s := b.Stats()
		t.Logf("keys %d terms %d hapax %d single %d postings %d keybytes %d valbytes %d leafinuse %d leafalloc %d branchalloc %d depth %d leafpages %d", keys, terms, hapax, single, postings, kb, vb, s.LeafInuse, s.LeafAlloc, s.BranchAlloc, s.Depth, s.LeafPageN)
		return nil
	})
}
