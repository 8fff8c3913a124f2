package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

// RenameSection moves every stored item filed under section old to section
// name, in one transaction, and returns how many moved. The admin UI calls
// it when a section is renamed in sources.yaml so the briefing and queue
// keep their items under the new name. Items' sections are not indexed, so
// this is a scan of all items; renames are rare.
func (s *Bolt) RenameSection(ctx context.Context, old, name string) (int, error) {
	n, err := s.refile(ctx, old, name, func(h *itemHead) string { return h.Section }, func(it *model.Item) { it.Section = name })
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
	n, err := s.refile(ctx, old, name, func(h *itemHead) string { return h.Source }, func(it *model.Item) { it.Source = name })
	if err != nil {
		return 0, fmt.Errorf("rename source %q to %q: %w", old, name, err)
	}
	return n, nil
}

// itemHead is the part of an item record a scan decodes; items carry
// full text.
type itemHead struct {
	Source    string    `json:"source"`
	Section   string    `json:"section"`
	FetchedAt time.Time `json:"fetched_at"`
}

// refile rewrites every item whose field (as read by get) is old, with
// set applied.
func (s *Bolt) refile(ctx context.Context, old, name string, get func(*itemHead) string, set func(*model.Item)) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if old == name {
		return 0, nil
	}
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		b := tx.Bucket(bucketRecords)
		var olds, moved []*model.Item
		read := 0
		err := b.ForEach(func(k, v []byte) error {
			if err := s.scanned(ctx, &read); err != nil {
				return err
			}
			var head itemHead
			if err := json.Unmarshal(v, &head); err != nil {
				return fmt.Errorf("decode item %s: %w", k, err)
			}
			if get(&head) != old {
				return nil
			}
			before, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("decode item record %x: %w", k, err)
			}
			it := *before
			set(&it)
			it.Version++
			olds, moved = append(olds, before), append(moved, &it)
			return nil
		})
		if err != nil {
			return err
		}
		// Written after the scan: bbolt forbids changing a bucket while
		// iterating it. Out of the index and back, so the section counters
		// follow the item.
		for i, it := range moved {
			if err := deleteIndex(tx, olds[i]); err != nil {
				return err
			}
			if err := putItem(tx, it); err != nil {
				return err
			}
		}
		n = len(moved)
		return nil
	})
	return n, err
}

// ItemArrivals returns, per source name, when each item fetched at or after
// since was stored (its FetchedAt), oldest first. The sources page derives
// items per day and week, and each source's usual gap between new items,
// from it.
func (s *Bolt) ItemArrivals(ctx context.Context, since time.Time) (map[string][]time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string][]time.Time{}
	err := s.db.View(func(tx *bolt.Tx) error {
		read := 0
		return tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
			if err := s.scanned(ctx, &read); err != nil {
				return err
			}
			source, at, ok := arrivalFields(v)
			if !ok {
				var head itemHead
				if err := json.Unmarshal(v, &head); err != nil {
					return fmt.Errorf("decode item %s: %w", k, err)
				}
				source, at = head.Source, head.FetchedAt
			}
			if !at.Before(since) {
				out[source] = append(out[source], at)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("item arrivals: %w", err)
	}
	for _, ts := range out {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	}
	return out, nil
}

// arrivalFields reads an item record's source and fetched_at without
// decoding the record: the sources page reads them from every item, and
// decoding whole records (bodies and all) is what made that slow
// (BenchmarkItemArrivals). It walks the top-level keys of the JSON object
// in order, skipping string values with a byte search, until it has both;
// encoding/json writes them after the text fields and before anything
// nested. It reports false when the record does not look like that (a
// non-string value first, bad JSON); the caller then decodes it.
func arrivalFields(v []byte) (string, time.Time, bool) {
	var source string
	var at time.Time
	haveSource, haveAt := false, false
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return "", time.Time{}, false
	}
	i++
	for {
		i = skipSpace(v, i)
		key, next, ok := jsonString(v, i)
		if !ok {
			return "", time.Time{}, false
		}
		i = skipSpace(v, next)
		if i >= len(v) || v[i] != ':' {
			return "", time.Time{}, false
		}
		i = skipSpace(v, i+1)
		val, next, ok := jsonString(v, i)
		if !ok {
			return "", time.Time{}, false
		}
		switch string(key) {
		case `"source"`:
			if json.Unmarshal(val, &source) != nil {
				return "", time.Time{}, false
			}
			haveSource = true
		case `"fetched_at"`:
			if json.Unmarshal(val, &at) != nil {
				return "", time.Time{}, false
			}
			haveAt = true
		}
		if haveSource && haveAt {
			return source, at, true
		}
		i = skipSpace(v, next)
		if i >= len(v) || v[i] != ',' {
			return "", time.Time{}, false
		}
		i++
	}
}

// jsonString returns the JSON string starting at v[i] (quotes included)
// and the index after it.
func jsonString(v []byte, i int) ([]byte, int, bool) {
	if i >= len(v) || v[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; ; {
		q := bytes.IndexByte(v[j:], '"')
		if q < 0 {
			return nil, 0, false
		}
		end := j + q
		// The quote ends the string unless an odd run of backslashes
		// escapes it.
		n := 0
		for k := end - 1; k > i && v[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return v[i : end+1], end + 1, true
		}
		j = end + 1
	}
}

func skipSpace(v []byte, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\n' || v[i] == '\t' || v[i] == '\r') {
		i++
	}
	return i
}
