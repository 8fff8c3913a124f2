package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/search"
)

// Retention is what the store keeps of items that were never approved.
// Approved items are kept whole: they are what the desk published.
type Retention struct {
	// DropBodiesAfter drops the body of a queued or rejected item fetched
	// longer ago than this (its head, and so every list, stays). 0 keeps.
	DropBodiesAfter time.Duration
	// PruneAfter deletes queued and rejected items fetched longer ago than
	// this. Their links are remembered, so a feed that still lists one does
	// not bring it back. 0 keeps.
	PruneAfter time.Duration
}

// PruneReport says what a Prune did.
type PruneReport struct {
	Bodies int // bodies dropped
	Items  int // items deleted
}

var (
	keyPruneItemsFrom  = []byte("prune_items_from")
	keyPruneBodiesFrom = []byte("prune_bodies_from")
)

// pruneBatch is how many heads one write transaction of a sweep examines:
// small enough that the fetcher and the curators are never held up long.
const pruneBatch = 500

// Prune applies r as of now, and drops story prints past their week. Each rule sweeps the heads in reference
// (arrival) order from where its last sweep stopped, so a run costs what
// came of age since the last, not what the store holds.
func (s *Bolt) Prune(ctx context.Context, now time.Time, r Retention) (PruneReport, error) {
	var rep PruneReport
	// Story prints are of use for a week whatever the retention.
	if _, err := s.expireStoryPrints(ctx, now.Add(-storyWindow)); err != nil {
		return rep, fmt.Errorf("expire story prints: %w", err)
	}
	if r.PruneAfter > 0 {
		n, err := s.sweep(ctx, keyPruneItemsFrom, now.Add(-r.PruneAfter), func(tx *bolt.Tx, ref []byte, it *model.Item) (bool, error) {
			if it.Status == model.StatusApproved {
				return false, nil
			}
			return true, s.deleteItemTx(tx, it, ref)
		})
		rep.Items = n
		if err != nil {
			return rep, fmt.Errorf("prune items: %w", err)
		}
	}
	if r.DropBodiesAfter > 0 {
		n, err := s.sweep(ctx, keyPruneBodiesFrom, now.Add(-r.DropBodiesAfter), func(tx *bolt.Tx, ref []byte, it *model.Item) (bool, error) {
			if it.Status == model.StatusApproved {
				return false, nil
			}
			if err := s.codec.decodeText(tx.Bucket(bucketTexts).Get(ref), it); err != nil {
				return false, fmt.Errorf("item %s: %w", it.ID, err)
			}
			if it.Body == "" && it.Original.Body == "" {
				return false, nil
			}
			it.Body, it.Original.Body = "", ""
			text, err := s.codec.encodeText(it)
			if err != nil {
				return false, err
			}
			return true, tx.Bucket(bucketTexts).Put(ref, text)
		})
		rep.Bodies = n
		if err != nil {
			return rep, fmt.Errorf("drop bodies: %w", err)
		}
	}
	return rep, nil
}

// sweep walks heads from the reference stored under mark, in batches of
// one write transaction each, and calls act for each item fetched before
// cutoff. References follow fetch times only roughly (arrivalSlack), so it
// stops once heads are newer than cutoff by more than that, and the stored
// mark never passes an item it left for being too young: the next sweep
// starts there.
func (s *Bolt) sweep(ctx context.Context, mark []byte, cutoff time.Time, act func(*bolt.Tx, []byte, *model.Item) (bool, error)) (int, error) {
	acted := 0
	var pos, young []byte // where this run goes on; the first item left for being too young
	for started := false; ; started = true {
		if err := ctx.Err(); err != nil {
			return acted, err
		}
		done := false
		err := s.update(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if !started {
				pos = append([]byte(nil), meta.Get(mark)...)
			}
			type due struct {
				ref []byte
				it  *model.Item
			}
			var dues []due
			c := tx.Bucket(bucketHeads).Cursor()
			k, v := c.First()
			if len(pos) > 0 {
				k, v = c.Seek(pos)
			}
			for n := 0; ; n++ {
				if k == nil {
					done = true
					// Next time, start after the last reference there is.
					pos = binary.BigEndian.AppendUint64(nil, tx.Bucket(bucketHeads).Sequence()+1)
					break
				}
				if n == pruneBatch {
					pos = append([]byte(nil), k...)
					break
				}
				_, at, err := arrivalFields(v)
				if err != nil {
					return fmt.Errorf("decode item record %x: %w", k, err)
				}
				if !at.Before(cutoff) {
					if at.After(cutoff.Add(arrivalSlack)) {
						done = true
						pos = append([]byte(nil), k...)
						break
					}
					if young == nil {
						young = append([]byte(nil), k...)
					}
				} else {
					it, err := s.headAt(tx, k)
					if err != nil {
						return err
					}
					dues = append(dues, due{append([]byte(nil), k...), it})
				}
				k, v = c.Next()
			}
			// Acted on after the walk: bbolt forbids changing a bucket
			// under a cursor.
			for _, d := range dues {
				ok, err := act(tx, d.ref, d.it)
				if err != nil {
					return err
				}
				if ok {
					acted++
				}
			}
			if young != nil {
				return meta.Put(mark, young)
			}
			return meta.Put(mark, pos)
		})
		if err != nil || done {
			return acted, err
		}
	}
}

// deleteItemTx removes an item, its index entries and records, and
// remembers its link as seen.
func (s *Bolt) deleteItemTx(tx *bolt.Tx, it *model.Item, ref []byte) error {
	if err := deleteIndex(tx, it, ref); err != nil {
		return err
	}
	if err := search.Remove(tx, refNum(ref), searchDoc(it)); err != nil {
		return err
	}
	if err := rememberSeen(tx, it.ID); err != nil {
		return err
	}
	return deleteRecords(tx, it.ID, ref)
}
