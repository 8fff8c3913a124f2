package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

// RenameSection moves every stored item filed under section old to section
// name, in one transaction, and returns how many moved. The admin UI calls
// it when a section is renamed in sources.yaml so the briefing and queue
// keep their items under the new name.
func (s *Bolt) RenameSection(ctx context.Context, old, name string) (int, error) {
	n, err := s.refile(ctx, idxSection, old, name, func(it *model.Item) { it.Section = name })
	if err != nil {
		return 0, fmt.Errorf("rename section %q to %q: %w", old, name, err)
	}
	return n, nil
}

// RenameSource files every stored item of source old under source name,
// in one transaction, and returns how many moved: a source renamed in
// sources.yaml keeps its history (items per day, its usual gap, the
// queue's source filter).
func (s *Bolt) RenameSource(ctx context.Context, old, name string) (int, error) {
	n, err := s.refile(ctx, idxSource, old, name, func(it *model.Item) { it.Source = name })
	if err != nil {
		return 0, fmt.Errorf("rename source %q to %q: %w", old, name, err)
	}
	return n, nil
}

// refile rewrites every item filed under old in the section or source
// index (kind), with set applied. The index gives exactly those items.
func (s *Bolt) refile(ctx context.Context, kind byte, old, name string, set func(*model.Item)) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if old == name {
		return 0, nil
	}
	statuses := []model.Status{model.StatusQueued, model.StatusApproved, model.StatusRejected}
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		n = 0
		var refs [][]byte
		m := newMergedRange(tx.Bucket(bucketIndex), kind, statuses, old, nil)
		read := 0
		for pos, _, ok := m.next(); ok; pos, _, ok = m.next() {
			if err := s.scanned(ctx, &read); err != nil {
				return err
			}
			refs = append(refs, pos[8:])
		}
		// Written after the walk: bbolt forbids changing a bucket under a
		// cursor. Out of the index and back, so the counters follow.
		for _, ref := range refs {
			it, err := s.headAt(tx, ref)
			if err != nil {
				return err
			}
			if err := deleteIndex(tx, it, ref); err != nil {
				return err
			}
			doc := searchDoc(it)
			set(it)
			it.Version++
			if err := s.writeRecords(tx, it, ref, false); err != nil {
				return err
			}
			if err := reindex(tx, ref, doc, searchDoc(it)); err != nil {
				return err
			}
			if err := putIndex(tx, it, ref); err != nil {
				return err
			}
		}
		n = len(refs)
		return nil
	})
	return n, err
}

// arrivalSlack is how far a record's fetch time may run behind a later
// record's: items are stored as their poll finishes, so references follow
// fetch times only roughly (a slow source's batch lands after a fast one's).
const arrivalSlack = 24 * time.Hour

// ItemArrivals returns, per source name, when each item fetched at or after
// since was stored (its FetchedAt), oldest first. The sources page derives
// items per day and week, and each source's usual gap between new items,
// from it. It reads heads from the newest reference back and stops once
// they are older than since by more than arrivalSlack, so it costs what the
// period holds, not what the store holds.
func (s *Bolt) ItemArrivals(ctx context.Context, since time.Time) (map[string][]time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string][]time.Time{}
	stop := since.Add(-arrivalSlack)
	err := s.view(func(tx *bolt.Tx) error {
		read := 0
		c := tx.Bucket(bucketHeads).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			if err := s.scanned(ctx, &read); err != nil {
				return err
			}
			source, at, err := arrivalFields(v)
			if err != nil {
				return fmt.Errorf("decode item record %x: %w", k, err)
			}
			if at.Before(stop) {
				break
			}
			if !at.Before(since) {
				out[source] = append(out[source], at)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("item arrivals: %w", err)
	}
	for _, ts := range out {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	}
	return out, nil
}
