package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

// Item counts are kept as counters so /queue's tabs and /healthz cost the
// same at a million items as at ten: the counters bucket maps a status, and
// a status and section joined by a zero byte, to a big-endian uint64. They
// change in putIndex and deleteIndex, the two places every item enters or
// leaves a status, so they commit in the same transaction as the change.
var (
	bucketCounts   = []byte("item_counts")
	keyCountsBuilt = []byte("item_counts_built")
)

// scanCheckEvery is how many records a scan reads between checks of its
// context: often enough that a dropped request stops within milliseconds,
// rarely enough that the check costs nothing next to the reads.
const scanCheckEvery = 256

func countKeys(it *model.Item) [2][]byte {
	status := []byte(it.Status)
	section := make([]byte, 0, len(status)+1+len(it.Section))
	section = append(append(append(section, status...), 0), it.Section...)
	return [2][]byte{status, section}
}

// addCount moves the counters of it's status and section by delta.
func addCount(tx *bolt.Tx, it *model.Item, delta int64) error {
	b := tx.Bucket(bucketCounts)
	for _, k := range countKeys(it) {
		var n int64
		if v := b.Get(k); len(v) == 8 {
			n = int64(binary.BigEndian.Uint64(v))
		}
		n += delta
		if n < 0 {
			// The counters disagree with the items: recount on next open
			// rather than fail the change that noticed.
			n = 0
			if err := tx.Bucket(bucketMeta).Delete(keyCountsBuilt); err != nil {
				return err
			}
		}
		var err error
		if n == 0 {
			err = b.Delete(k)
		} else {
			err = b.Put(k, binary.BigEndian.AppendUint64(nil, uint64(n)))
		}
		if err != nil {
			return fmt.Errorf("item counts: %w", err)
		}
	}
	return nil
}

// ensureCounts builds the counters of a file written before there were any
// (or whose counters were found wrong): one walk of the records, in the
// caller's write transaction, after which the file is marked so later opens
// skip it.
func ensureCounts(tx *bolt.Tx, c *codec) error {
	meta := tx.Bucket(bucketMeta)
	if meta.Get(keyCountsBuilt) != nil {
		return nil
	}
	if err := tx.DeleteBucket(bucketCounts); err != nil {
		return fmt.Errorf("reset item counts: %w", err)
	}
	if _, err := tx.CreateBucket(bucketCounts); err != nil {
		return fmt.Errorf("reset item counts: %w", err)
	}
	counts := map[string]int64{}
	err := tx.Bucket(bucketHeads).ForEach(func(k, v []byte) error {
		var it model.Item
		if err := c.decodeHead(v, &it); err != nil {
			return fmt.Errorf("decode item record %x: %w", k, err)
		}
		for _, key := range countKeys(&it) {
			counts[string(key)]++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("count items: %w", err)
	}
	b := tx.Bucket(bucketCounts)
	for k, n := range counts {
		if err := b.Put([]byte(k), binary.BigEndian.AppendUint64(nil, uint64(n))); err != nil {
			return fmt.Errorf("count items: %w", err)
		}
	}
	return meta.Put(keyCountsBuilt, []byte("1"))
}

// CountItems implements Store. It reads the counters, not the items.
func (s *Bolt) CountItems(ctx context.Context) (map[model.Status]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	counts := map[model.Status]int{}
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCounts)
		for _, st := range []model.Status{model.StatusQueued, model.StatusApproved, model.StatusRejected} {
			if v := b.Get([]byte(st)); len(v) == 8 {
				counts[st] = int(binary.BigEndian.Uint64(v))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count items: %w", err)
	}
	return counts, nil
}

// CountSections counts items per section within each status, from the
// counters. Sections without items are absent.
func (s *Bolt) CountSections(ctx context.Context) (map[model.Status]map[string]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[model.Status]map[string]int{}
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCounts).ForEach(func(k, v []byte) error {
			for i, c := range k {
				if c != 0 || len(v) != 8 {
					continue
				}
				st := model.Status(k[:i])
				if out[st] == nil {
					out[st] = map[string]int{}
				}
				out[st][string(k[i+1:])] = int(binary.BigEndian.Uint64(v))
				break
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("count sections: %w", err)
	}
	return out, nil
}

// OldestQueued returns when the item at the bottom of the queue (the
// oldest by publication time, else fetch time) was fetched: how long the
// queue's tail has waited. Zero when the queue is empty. One index seek.
func (s *Bolt) OldestQueued(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	var at time.Time
	err := s.view(func(tx *bolt.Tx) error {
		p := indexPrefix(idxTime, model.StatusQueued, "")
		c := tx.Bucket(bucketIndex).Cursor()
		// The range's last key is the one before the first key past it.
		end := append(append([]byte(nil), p...), bytes.Repeat([]byte{0xff}, 17)...)
		k, _ := c.Seek(end)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		if k == nil || !bytes.HasPrefix(k, p) || len(k) != len(p)+16 {
			return nil
		}
		it, err := s.headAt(tx, k[len(p)+8:])
		if err != nil {
			return err
		}
		at = it.FetchedAt
		return nil
	})
	return at, err
}

// FileSize is the size of the database file in bytes.
func (s *Bolt) FileSize() (int64, error) {
	fi, err := os.Stat(s.path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

var keyReadyProbe = []byte("ready_probe")

// Writable commits a one-key write: the readiness probe's proof that the
// file takes writes (not full, not read-only, not damaged where the
// meta bucket lives).
func (s *Bolt) Writable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyReadyProbe, []byte(time.Now().UTC().Format(time.RFC3339)))
	})
}
