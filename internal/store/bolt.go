package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

// SchemaVersion is the layout version written to the meta bucket. Open
// upgrades older files in place and refuses files written by a newer
// version rather than misreading them.
//
//	1: items bucket maps ID → item JSON
//	2: items bucket maps ID → record key; records hold the JSON (see putItem)
//	3: item_counts holds counts per status and section, kept by every
//	   change (counts.go). A version-2 program would change items without
//	   moving the counters, so it must refuse these files rather than open
//	   them; opening a version-2 file builds the counters.
const SchemaVersion = 3

var (
	bucketMeta    = []byte("meta")
	bucketItems   = []byte("items")
	bucketRecords = []byte("item_records")
	bucketTimeIdx = []byte("items_by_time")
	bucketSources = []byte("sources")
	keySchema     = []byte("schema_version")
	allStatuses   = "all"
)

// Bolt is the bbolt-backed Store: one file, crash-safe (every committed
// transaction is fsynced before the call returns).
type Bolt struct {
	db *bolt.DB
	// onScanRecord, when set (by tests), is called for every record a
	// long scan reads.
	onScanRecord func()
}

// buckets lists every top-level bucket; Open creates the missing ones.
func buckets() [][]byte {
	return [][]byte{bucketMeta, bucketItems, bucketRecords, bucketTimeIdx, bucketSources, bucketUsers, bucketSessions, bucketAPITokens, bucketAudit, bucketCounts}
}

// Open opens or creates the database file at path, creating its directory.
func Open(path string) (*Bolt, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Bolt{db: db}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Bolt) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets() {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keySchema); v != nil {
			n, err := strconv.Atoi(string(v))
			if err != nil {
				return fmt.Errorf("store: bad schema version %q", v)
			}
			if n > SchemaVersion {
				return fmt.Errorf("store: file has schema version %d, this program knows up to %d", n, SchemaVersion)
			}
			if n < 2 {
				if err := migrateInlineItems(tx); err != nil {
					return fmt.Errorf("store: upgrade schema %d to 2: %w", n, err)
				}
				// The move counted items into counters that were never
				// built: count afresh.
				if err := meta.Delete(keyCountsBuilt); err != nil {
					return err
				}
			}
		}
		if err := ensureCounts(tx); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		return meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion)))
	})
}

// Close closes the database file.
func (s *Bolt) Close() error { return s.db.Close() }

// DB exposes the bbolt handle to backup tooling.
func (s *Bolt) DB() *bolt.DB { return s.db }

// timeKey orders newest first under a status prefix.
func timeKey(status string, t time.Time, id string) []byte {
	k := make([]byte, 0, len(status)+1+8+len(id))
	k = append(k, status...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, math.MaxUint64-uint64(t.UnixNano()))
	return append(k, id...)
}

func putIndex(tx *bolt.Tx, it *model.Item) error {
	idx := tx.Bucket(bucketTimeIdx)
	t := it.SortTime()
	if err := idx.Put(timeKey(allStatuses, t, it.ID), nil); err != nil {
		return err
	}
	if err := idx.Put(timeKey(string(it.Status), t, it.ID), nil); err != nil {
		return err
	}
	return addCount(tx, it, 1)
}

func deleteIndex(tx *bolt.Tx, it *model.Item) error {
	idx := tx.Bucket(bucketTimeIdx)
	t := it.SortTime()
	if err := idx.Delete(timeKey(allStatuses, t, it.ID)); err != nil {
		return err
	}
	if err := idx.Delete(timeKey(string(it.Status), t, it.ID)); err != nil {
		return err
	}
	return addCount(tx, it, -1)
}

// Items are found by ID in the items bucket, which maps the ID (a hash, so
// inserts land all over the file) to the key of the item's record. Records,
// nearly all of the bytes, are stored under keys that only grow, so a poll
// appends them at the end of the file instead of rewriting pages
// everywhere: the pages a busy fetcher touches, and so its mapped memory,
// stay those of the small ID index. Curators cannot edit the body, so the
// original's body is the item's and is not stored twice.

func getItem(tx *bolt.Tx, id string) (*model.Item, error) {
	ref := tx.Bucket(bucketItems).Get([]byte(id))
	if ref == nil {
		return nil, fmt.Errorf("item %s: %w", id, ErrNotFound)
	}
	it, err := decodeRecord(tx.Bucket(bucketRecords).Get(ref))
	if err != nil {
		return nil, fmt.Errorf("decode item %s: %w", id, err)
	}
	return it, nil
}

func decodeRecord(v []byte) (*model.Item, error) {
	if v == nil {
		return nil, errors.New("record missing")
	}
	var it model.Item
	if err := json.Unmarshal(v, &it); err != nil {
		return nil, err
	}
	it.Original.Body = it.Body
	if it.Version < 1 {
		// Written before items had versions: the first one.
		it.Version = 1
	}
	return &it, nil
}

func encodeRecord(it *model.Item) ([]byte, error) {
	record := *it
	record.Original.Body = ""
	return json.Marshal(&record)
}

func putItem(tx *bolt.Tx, it *model.Item) error {
	if it.Version < 1 {
		it.Version = 1 // a new item
	}
	// The record keeps these times in whole seconds (RFC 3339). The index
	// key must come from the time the record reads back as, or the next
	// change cannot find the old key and the item is listed twice.
	it.Published = it.Published.Truncate(time.Second)
	it.DecidedAt = it.DecidedAt.Truncate(time.Second)
	data, err := encodeRecord(it)
	if err != nil {
		return fmt.Errorf("encode item %s: %w", it.ID, err)
	}
	items, records := tx.Bucket(bucketItems), tx.Bucket(bucketRecords)
	ref := items.Get([]byte(it.ID))
	if ref == nil {
		seq, err := records.NextSequence()
		if err != nil {
			return err
		}
		ref = binary.BigEndian.AppendUint64(nil, seq)
		if err := items.Put([]byte(it.ID), ref); err != nil {
			return err
		}
		// Appends only: fill pages rather than leaving half of each empty.
		records.FillPercent = 0.95
	}
	if err := records.Put(ref, data); err != nil {
		return err
	}
	return putIndex(tx, it)
}

// migrateInlineItems moves version-1 items (JSON stored under the ID, the
// body possibly in a side bucket of an early build) into records. It runs in
// the same transaction as the version bump, so a crash leaves the old file.
func migrateInlineItems(tx *bolt.Tx) error {
	items := tx.Bucket(bucketItems)
	type old struct{ id, data []byte }
	var olds []old
	err := items.ForEach(func(k, v []byte) error {
		if len(v) > 0 && v[0] == '{' {
			olds = append(olds, old{append([]byte(nil), k...), append([]byte(nil), v...)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	refs, bodies := tx.Bucket([]byte("item_body_refs")), tx.Bucket([]byte("item_bodies"))
	for _, o := range olds {
		var it model.Item
		if err := json.Unmarshal(o.data, &it); err != nil {
			return fmt.Errorf("decode item %s: %w", o.id, err)
		}
		if refs != nil && bodies != nil && it.Body == "" {
			if ref := refs.Get(o.id); ref != nil {
				it.Body = string(bodies.Get(ref))
			}
		}
		if err := items.Delete(o.id); err != nil {
			return err
		}
		if err := putItem(tx, &it); err != nil {
			return err
		}
	}
	for _, name := range []string{"item_body_refs", "item_bodies"} {
		if tx.Bucket([]byte(name)) != nil {
			if err := tx.DeleteBucket([]byte(name)); err != nil {
				return err
			}
		}
	}
	return nil
}

func deleteRecord(tx *bolt.Tx, id string) error {
	items := tx.Bucket(bucketItems)
	if ref := items.Get([]byte(id)); ref != nil {
		if err := tx.Bucket(bucketRecords).Delete(ref); err != nil {
			return err
		}
	}
	return items.Delete([]byte(id))
}

// AddItem implements Store. Concurrent calls are batched into one
// transaction so a first poll of thousands of entries is not one fsync each.
func (s *Bolt) AddItem(ctx context.Context, it *model.Item) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if it.ID == "" {
		return false, errors.New("add item: empty id")
	}
	if !it.Status.Valid() {
		return false, fmt.Errorf("add item %s: invalid status %q", it.ID, it.Status)
	}
	var created bool
	err := s.db.Batch(func(tx *bolt.Tx) error {
		// Batch may run this more than once; decide afresh each time.
		created = false
		if tx.Bucket(bucketItems).Get([]byte(it.ID)) != nil {
			return nil
		}
		created = true
		return putItem(tx, it)
	})
	if err != nil {
		return false, fmt.Errorf("add item %s: %w", it.ID, err)
	}
	return created, nil
}

// HasItem implements Store.
func (s *Bolt) HasItem(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketItems).Get([]byte(id)) != nil
		return nil
	})
	return ok, err
}

// GetItem implements Store.
func (s *Bolt) GetItem(ctx context.Context, id string) (*model.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var it *model.Item
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		it, err = getItem(tx, id)
		return err
	})
	return it, err
}

// UpdateItem implements Store.
func (s *Bolt) UpdateItem(ctx context.Context, id string, fn func(*model.Item) error) (*model.Item, error) {
	return s.UpdateItemIf(ctx, id, 0, fn)
}

// UpdateItemIf implements Store. The version is compared and raised in the
// write transaction, and bbolt runs one write transaction at a time, so of
// two changes based on the same version exactly one applies.
func (s *Bolt) UpdateItemIf(ctx context.Context, id string, want int64, fn func(*model.Item) error) (*model.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *model.Item
	err := s.db.Update(func(tx *bolt.Tx) error {
		it, err := getItem(tx, id)
		if err != nil {
			return err
		}
		if want != 0 && it.Version != want {
			return &StaleError{Want: want, Current: it}
		}
		version := it.Version
		if err := deleteIndex(tx, it); err != nil {
			return err
		}
		if err := fn(it); err != nil {
			return err
		}
		if it.ID != id {
			return fmt.Errorf("update item %s: id cannot change", id)
		}
		if !it.Status.Valid() {
			return fmt.Errorf("update item %s: invalid status %q", id, it.Status)
		}
		it.Version = version + 1
		if err := putItem(tx, it); err != nil {
			return err
		}
		out = it
		return nil
	})
	return out, err
}

// DeleteItem implements Store.
func (s *Bolt) DeleteItem(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		it, err := getItem(tx, id)
		if err != nil {
			return err
		}
		if err := deleteIndex(tx, it); err != nil {
			return err
		}
		if err := rememberSeen(tx, id); err != nil {
			return err
		}
		return deleteRecord(tx, id)
	})
}

// ListItems implements Store.
func (s *Bolt) ListItems(ctx context.Context, f ItemFilter) ([]*model.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prefix := allStatuses
	if f.Status != "" {
		prefix = string(f.Status)
	}
	pfx := append([]byte(prefix), 0)
	query := strings.ToLower(strings.TrimSpace(f.Query))
	var out []*model.Item
	skipped := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketTimeIdx).Cursor()
		read := 0
		for k, _ := c.Seek(pfx); k != nil && bytes.HasPrefix(k, pfx); k, _ = c.Next() {
			if err := s.scanned(ctx, &read); err != nil {
				return err
			}
			if len(k) < len(pfx)+8 {
				continue
			}
			if !f.Since.IsZero() {
				inv := binary.BigEndian.Uint64(k[len(pfx) : len(pfx)+8])
				if int64(math.MaxUint64-inv) < f.Since.UnixNano() {
					break // newest first: everything after is older
				}
			}
			it, err := getItem(tx, string(k[len(pfx)+8:]))
			if err != nil {
				return err
			}
			if !matches(it, f, query) {
				continue
			}
			if skipped < f.Offset {
				skipped++
				continue
			}
			out = append(out, it)
			if f.Limit > 0 && len(out) >= f.Limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	return out, nil
}

// scanned notes one more record read by a long scan and, every
// scanCheckEvery records, stops the scan if its context is done: a request
// its client dropped must not go on reading the whole store.
func (s *Bolt) scanned(ctx context.Context, read *int) error {
	if s.onScanRecord != nil {
		s.onScanRecord()
	}
	*read++
	if *read%scanCheckEvery == 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("scan stopped after %d records: %w", *read, err)
		}
	}
	return nil
}

func matches(it *model.Item, f ItemFilter, query string) bool {
	if f.Section != "" && it.Section != f.Section {
		return false
	}
	if f.Source != "" && it.Source != f.Source {
		return false
	}
	if query != "" {
		hay := strings.ToLower(it.Title + "\n" + it.Lead + "\n" + it.Byline + "\n" + it.SiteName + "\n" + it.Source)
		if !strings.Contains(hay, query) {
			return false
		}
	}
	return true
}

// SourceState implements Store.
func (s *Bolt) SourceState(ctx context.Context, name string) (*model.SourceState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st := &model.SourceState{Name: name}
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSources).Get([]byte(name))
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, st)
	})
	if err != nil {
		return nil, fmt.Errorf("source state %s: %w", name, err)
	}
	return st, nil
}

// PutSourceState implements Store.
func (s *Bolt) PutSourceState(ctx context.Context, st *model.SourceState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode source state %s: %w", st.Name, err)
	}
	return s.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSources).Put([]byte(st.Name), data)
	})
}

// ListSourceStates implements Store.
func (s *Bolt) ListSourceStates(ctx context.Context) ([]*model.SourceState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*model.SourceState
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSources).ForEach(func(k, v []byte) error {
			var st model.SourceState
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("decode source state %s: %w", k, err)
			}
			out = append(out, &st)
			return nil
		})
	})
	return out, err
}

// DeleteSourceState implements Store.
func (s *Bolt) DeleteSourceState(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSources).Delete([]byte(name))
	})
}

var _ Store = (*Bolt)(nil)
