package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/search"
)

// The fetcher's own records live in a bucket created on first write, so
// older files need no migration.
var bucketSeen = []byte("fetch_seen")

// PollWrite is everything one poll of a source writes: new items, the IDs of
// the links it handled (so later polls skip them even when the stored item
// got another ID from the page's canonical URL, or was deleted by a
// curator), and the source's new state.
type PollWrite struct {
	Items   []*model.Item
	SeenIDs []string
	State   *model.SourceState
	// BeforeState, if set, is called inside the transaction with the number
	// of items actually created, before State is encoded, so the stored
	// counters reflect what was stored rather than what was predicted.
	BeforeState func(created int)
}

// WritePolls stores several polls in one transaction (one fsync), which is
// what lets thousands of sources be polled per second. Items whose ID
// exists already are skipped, as in AddItem.
func (s *Bolt) WritePolls(ctx context.Context, ws []PollWrite) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, w := range ws {
		for _, it := range w.Items {
			if it.ID == "" {
				return errors.New("write polls: item with empty id")
			}
			if !it.Status.Valid() {
				return fmt.Errorf("write polls: item %s: invalid status %q", it.ID, it.Status)
			}
		}
	}
	now := binary.BigEndian.AppendUint64(nil, uint64(time.Now().Unix()))
	err := s.update(func(tx *bolt.Tx) error {
		seen, err := tx.CreateBucketIfNotExists(bucketSeen)
		if err != nil {
			return err
		}
		items := tx.Bucket(bucketItems)
		postings := search.NewBuilder()
		for _, w := range ws {
			created := 0
			for _, it := range w.Items {
				if items.Get([]byte(it.ID)) != nil {
					continue
				}
				if err := s.putNew(tx, it, true, postings); err != nil {
					return err
				}
				created++
			}
			for _, id := range w.SeenIDs {
				// A link whose item is stored under the same ID is known
				// through the item (DeleteItem remembers it when the item
				// goes). Not writing it twice keeps a second randomly keyed
				// index from being rewritten on every poll.
				if items.Get([]byte(id)) != nil {
					continue
				}
				if err := seen.Put([]byte(id), now); err != nil {
					return err
				}
			}
			if w.BeforeState != nil {
				w.BeforeState(created)
			}
			if w.State != nil {
				data, err := json.Marshal(w.State)
				if err != nil {
					return fmt.Errorf("encode source state %s: %w", w.State.Name, err)
				}
				if err := tx.Bucket(bucketSources).Put([]byte(w.State.Name), data); err != nil {
					return err
				}
			}
		}
		return postings.Flush(tx)
	})
	if err != nil {
		return fmt.Errorf("write polls: %w", err)
	}
	return nil
}

// rememberSeen records id as a handled link, so a poll does not store the
// link again after its item was deleted.
func rememberSeen(tx *bolt.Tx, id string) error {
	seen, err := tx.CreateBucketIfNotExists(bucketSeen)
	if err != nil {
		return err
	}
	return seen.Put([]byte(id), binary.BigEndian.AppendUint64(nil, uint64(time.Now().Unix())))
}

// KnownIDs reports, for each ID, whether an item with that ID is stored or
// the ID was recorded as seen by an earlier poll. One read transaction for
// the whole list.
func (s *Bolt) KnownIDs(ctx context.Context, ids []string) ([]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]bool, len(ids))
	err := s.view(func(tx *bolt.Tx) error {
		items, seen := tx.Bucket(bucketItems), tx.Bucket(bucketSeen)
		for i, id := range ids {
			k := []byte(id)
			out[i] = items.Get(k) != nil || (seen != nil && seen.Get(k) != nil)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("known ids: %w", err)
	}
	return out, nil
}

// PruneSeen forgets seen-link records older than before and returns how many
// were removed. Links disappear from feeds within weeks, so old records only
// cost space.
func (s *Bolt) PruneSeen(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSeen)
		if b == nil {
			return nil
		}
		var old [][]byte
		err := b.ForEach(func(k, v []byte) error {
			if len(v) == 8 && int64(binary.BigEndian.Uint64(v)) < before.Unix() {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune seen links: %w", err)
	}
	return n, nil
}
