package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/search"
	"github.com/clipsheet/clipsheet/internal/story"
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
//	4: lean records: item_heads and item_texts (codec.go) replace the JSON
//	   records, and item_index (by status, section, source and decision
//	   time) replaces items_by_time.
const SchemaVersion = 4

var (
	bucketMeta    = []byte("meta")
	bucketItems   = []byte("items")
	bucketHeads   = []byte("item_heads")
	bucketTexts   = []byte("item_texts")
	bucketIndex   = []byte("item_index")
	bucketSources = []byte("sources")
	keySchema     = []byte("schema_version")

	// Schema 2 and 3 buckets, read only by the upgrade.
	bucketRecords = []byte("item_records")
	bucketTimeIdx = []byte("items_by_time")
)

// Bolt is the bbolt-backed Store: one file, crash-safe (every committed
// transaction is fsynced before the call returns).
type Bolt struct {
	// mu lets CompactInPlace swap db for its compacted copy: every
	// transaction holds it for reading (view, update, batch).
	mu    sync.RWMutex
	db    *bolt.DB
	path  string
	codec codec
	// onScanRecord, when set (by tests), is called for every record a
	// long scan reads.
	onScanRecord func()
}

// buckets lists every top-level bucket; Open creates the missing ones.
func buckets() [][]byte {
	return [][]byte{bucketMeta, bucketItems, bucketHeads, bucketTexts, bucketIndex, bucketSources, bucketUsers, bucketSessions, bucketAPITokens, bucketAudit, bucketCounts,
		bucketStoryPrints, bucketStoryKeys}
}

// Open opens or creates the database file at path, creating its directory.
// A file of an older schema is copied aside first (see upgrade) and then
// upgraded in one transaction.
func Open(path string) (*Bolt, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	// openBolt and guard (check.go) refuse a damaged file instead of
	// serving it or panicking.
	db, err := openBolt(path, &bolt.Options{Timeout: 5 * time.Second})
	if errors.Is(err, ErrDamaged) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Bolt{db: db, path: path}
	if err := guard(path, s.init); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// storedSchema reads the schema version of the file; 0 when none is
// recorded (a new file).
func storedSchema(tx *bolt.Tx) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0, nil
	}
	v := meta.Get(keySchema)
	if v == nil {
		return 0, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return 0, fmt.Errorf("store: bad schema version %q", v)
	}
	return n, nil
}

func (s *Bolt) init() error {
	var from int
	if err := s.view(func(tx *bolt.Tx) (err error) { from, err = storedSchema(tx); return err }); err != nil {
		return err
	}
	if from > SchemaVersion {
		return fmt.Errorf("store %s: the file has schema version %d and this program knows up to %d: run the newer clipsheet that wrote it", s.path, from, SchemaVersion)
	}
	if from > 0 && from < SchemaVersion {
		backup, err := s.backupBeforeUpgrade(from)
		if err != nil {
			return fmt.Errorf("store %s: copy before upgrading schema %d to %d: %w", s.path, from, SchemaVersion, err)
		}
		slog.Info("upgrading the database", "file", s.path, "from_schema", from, "to_schema", SchemaVersion, "copy_before_upgrade", backup)
	}
	return s.update(func(tx *bolt.Tx) error {
		for _, b := range buckets() {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if from > 0 && from < 2 {
			if err := s.migrateInlineItems(tx); err != nil {
				return fmt.Errorf("store: upgrade schema %d to 2: %w", from, err)
			}
			// The move counted items into counters that were never
			// built: count afresh.
			if err := meta.Delete(keyCountsBuilt); err != nil {
				return err
			}
		}
		if from > 0 && from < 4 {
			if err := s.migrateLeanRecords(tx); err != nil {
				return fmt.Errorf("store: upgrade schema %d to 4: %w", from, err)
			}
		}
		if err := ensureCounts(tx, &s.codec); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if err := s.ensureSearch(tx); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		return meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion)))
	})
}

// backupBeforeUpgrade copies the file, as it is, beside itself before an
// upgrade rewrites it: should the new program turn out wrong, the desk can
// go back to the old one with its data. The upgrade itself is one
// transaction, so a crash during it leaves the old file.
func (s *Bolt) backupBeforeUpgrade(from int) (string, error) {
	name := fmt.Sprintf("%s.schema%d-%s.bak", s.path, from, time.Now().UTC().Format("20060102T150405Z"))
	err := s.view(func(tx *bolt.Tx) error { return tx.CopyFile(name, 0o600) })
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// Close closes the database file.
func (s *Bolt) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.Close()
}

// DB exposes the bbolt handle to tests and tools; it is replaced by
// CompactInPlace.
func (s *Bolt) DB() *bolt.DB {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db
}

func (s *Bolt) view(fn func(*bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.View(fn)
}

func (s *Bolt) update(fn func(*bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.Update(fn)
}

func (s *Bolt) batch(fn func(*bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.Batch(fn)
}

// putIndex files it under every index key and counts it; deleteIndex
// undoes that. They are the two places an item enters or leaves a status,
// section or source.
func putIndex(tx *bolt.Tx, it *model.Item, ref []byte) error {
	idx := tx.Bucket(bucketIndex)
	for _, k := range indexKeys(it, ref) {
		if err := idx.Put(k, nil); err != nil {
			return err
		}
	}
	return addCount(tx, it, 1)
}

func deleteIndex(tx *bolt.Tx, it *model.Item, ref []byte) error {
	idx := tx.Bucket(bucketIndex)
	for _, k := range indexKeys(it, ref) {
		if err := idx.Delete(k); err != nil {
			return err
		}
	}
	return addCount(tx, it, -1)
}

// Items are found by ID in the items bucket, which maps the ID (a hash, so
// inserts land all over the file) to the item's 8-byte reference. Heads and
// texts, nearly all of the bytes, are stored under references that only
// grow, so a poll appends them at the end of the file instead of rewriting
// pages everywhere: the pages a busy fetcher touches, and so its mapped
// memory, stay those of the small ID index.

// itemRef returns the reference of the item with this ID.
func itemRef(tx *bolt.Tx, id string) ([]byte, error) {
	ref := tx.Bucket(bucketItems).Get([]byte(id))
	if ref == nil {
		return nil, fmt.Errorf("item %s: %w", id, ErrNotFound)
	}
	return ref, nil
}

// headAt decodes the head stored under ref: the item without its body.
func (s *Bolt) headAt(tx *bolt.Tx, ref []byte) (*model.Item, error) {
	var it model.Item
	if err := s.codec.decodeHead(tx.Bucket(bucketHeads).Get(ref), &it); err != nil {
		return nil, fmt.Errorf("decode item record %x: %w", ref, err)
	}
	return &it, nil
}

// getItem reads the whole item: head and text.
func (s *Bolt) getItem(tx *bolt.Tx, id string) (*model.Item, []byte, error) {
	ref, err := itemRef(tx, id)
	if err != nil {
		return nil, nil, err
	}
	it, err := s.headAt(tx, ref)
	if err != nil {
		return nil, nil, fmt.Errorf("item %s: %w", id, err)
	}
	if err := s.codec.decodeText(tx.Bucket(bucketTexts).Get(ref), it); err != nil {
		return nil, nil, fmt.Errorf("decode item %s text: %w", id, err)
	}
	return it, ref, nil
}

// prepareItem settles what the record will read back as. The record keeps
// published and decision times in whole seconds; the index keys must come
// from the times the record reads back as, or the next change cannot find
// the old keys and the item is listed twice.
func prepareItem(it *model.Item) {
	if it.Version < 1 {
		it.Version = 1 // a new item
	}
	it.Published = it.Published.Truncate(time.Second)
	it.DecidedAt = it.DecidedAt.Truncate(time.Second)
	it.Original.Published = it.Original.Published.Truncate(time.Second)
}

// putNewItem stores an item that is not stored yet. A fetched item is
// grouped with the versions of its story first (story.go); an upgrade's
// old items are not.
func (s *Bolt) putNewItem(tx *bolt.Tx, it *model.Item) error {
	return s.putNew(tx, it, true, nil)
}

// putNew stores a new item. With batch set, its search postings are
// collected there for the caller to flush once for all its items: one
// rewrite of each term's newest chunk per transaction instead of one per
// item (the fetcher's WritePolls stores a thousand items at a time).
func (s *Bolt) putNew(tx *bolt.Tx, it *model.Item, group bool, batch *search.Builder) error {
	var print story.Print
	if group {
		var err error
		if print, err = s.groupNew(tx, it); err != nil {
			return fmt.Errorf("group item %s: %w", it.ID, err)
		}
	}
	prepareItem(it)
	heads := tx.Bucket(bucketHeads)
	seq, err := heads.NextSequence()
	if err != nil {
		return err
	}
	ref := binary.BigEndian.AppendUint64(nil, seq)
	if err := tx.Bucket(bucketItems).Put([]byte(it.ID), ref); err != nil {
		return err
	}
	if err := s.writeRecords(tx, it, ref, true); err != nil {
		return err
	}
	if err := putPrint(tx, ref, print); err != nil {
		return err
	}
	switch {
	case batch != nil:
		batch.Add(seq, searchDoc(it))
	case search.ReadStats(tx).Version == search.Version:
		// (During an upgrade the index is built afterwards, in one go.)
		if err := search.Add(tx, seq, searchDoc(it)); err != nil {
			return err
		}
	}
	return putIndex(tx, it, ref)
}

// writeRecords writes the head, and the text when withText.
func (s *Bolt) writeRecords(tx *bolt.Tx, it *model.Item, ref []byte, withText bool) error {
	heads := tx.Bucket(bucketHeads)
	// References only grow: fill pages rather than leave half of each empty.
	heads.FillPercent = 0.95
	if err := heads.Put(ref, s.codec.encodeHead(it)); err != nil {
		return err
	}
	if !withText {
		return nil
	}
	text, err := s.codec.encodeText(it)
	if err != nil {
		return fmt.Errorf("encode item %s: %w", it.ID, err)
	}
	texts := tx.Bucket(bucketTexts)
	texts.FillPercent = 0.95
	return texts.Put(ref, text)
}

// migrateInlineItems moves version-1 items (JSON stored under the ID, the
// body possibly in a side bucket of an early build) into records. It runs in
// the same transaction as the version bump, so a crash leaves the old file.
func (s *Bolt) migrateInlineItems(tx *bolt.Tx) error {
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
		it.Original.Body = it.Body
		if err := items.Delete(o.id); err != nil {
			return err
		}
		if err := s.putNew(tx, &it, false, nil); err != nil {
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

// migrateLeanRecords rewrites schema-2/3 JSON records as heads and texts
// under the same references, and replaces the time index by item_index.
// The counters stay: the items are the same.
func (s *Bolt) migrateLeanRecords(tx *bolt.Tx) error {
	if old := tx.Bucket(bucketRecords); old != nil {
		err := old.ForEach(func(ref, v []byte) error {
			var it model.Item
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("decode item record %x: %w", ref, err)
			}
			// Schema 3 kept the body once, for both.
			it.Original.Body = it.Body
			prepareItem(&it)
			return s.writeRecords(tx, &it, ref, true)
		})
		if err != nil {
			return err
		}
		// Keep the references growing from where the records' did.
		if err := tx.Bucket(bucketHeads).SetSequence(old.Sequence()); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketRecords); err != nil {
			return err
		}
	}
	if tx.Bucket(bucketTimeIdx) != nil {
		if err := tx.DeleteBucket(bucketTimeIdx); err != nil {
			return err
		}
	}
	idx := tx.Bucket(bucketIndex)
	return tx.Bucket(bucketHeads).ForEach(func(ref, v []byte) error {
		var it model.Item
		if err := s.codec.decodeHead(v, &it); err != nil {
			return fmt.Errorf("decode item record %x: %w", ref, err)
		}
		for _, k := range indexKeys(&it, ref) {
			if err := idx.Put(k, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

func deleteRecords(tx *bolt.Tx, id string, ref []byte) error {
	if err := deletePrint(tx, ref); err != nil {
		return err
	}
	if err := tx.Bucket(bucketHeads).Delete(ref); err != nil {
		return err
	}
	if err := tx.Bucket(bucketTexts).Delete(ref); err != nil {
		return err
	}
	return tx.Bucket(bucketItems).Delete([]byte(id))
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
	err := s.batch(func(tx *bolt.Tx) error {
		// Batch may run this more than once; decide afresh each time.
		created = false
		if tx.Bucket(bucketItems).Get([]byte(it.ID)) != nil {
			return nil
		}
		created = true
		return s.putNewItem(tx, it)
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
	err := s.view(func(tx *bolt.Tx) error {
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
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		it, _, err = s.getItem(tx, id)
		return err
	})
	return it, err
}

// UpdateItem implements Store.
func (s *Bolt) UpdateItem(ctx context.Context, id string, fn func(*model.Item) error) (*model.Item, error) {
	return s.UpdateItemIf(ctx, id, 0, fn)
}

// textOf is what the text record holds, to tell whether a change touched it.
type textOf struct {
	body string
	orig model.Extraction
}

func textFields(it *model.Item) textOf {
	o := it.Original
	o.Title, o.Byline, o.Lead = "", "", "" // kept in the head
	return textOf{it.Body, o}
}

// UpdateItemIf implements Store. The version is compared and raised in the
// write transaction, and bbolt runs one write transaction at a time, so of
// two changes based on the same version exactly one applies. A change that
// leaves the body and the original alone (every decision and edit) rewrites
// the head only.
func (s *Bolt) UpdateItemIf(ctx context.Context, id string, want int64, fn func(*model.Item) error) (*model.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *model.Item
	err := s.update(func(tx *bolt.Tx) error {
		it, ref, err := s.getItem(tx, id)
		if err != nil {
			return err
		}
		if want != 0 && it.Version != want {
			return &StaleError{Want: want, Current: it}
		}
		version, text, doc := it.Version, textFields(it), searchDoc(it)
		if err := deleteIndex(tx, it, ref); err != nil {
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
		prepareItem(it)
		if err := s.writeRecords(tx, it, ref, textFields(it) != text); err != nil {
			return err
		}
		if err := reindex(tx, ref, doc, searchDoc(it)); err != nil {
			return err
		}
		if err := putIndex(tx, it, ref); err != nil {
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
	return s.update(func(tx *bolt.Tx) error {
		ref, err := itemRef(tx, id)
		if err != nil {
			return err
		}
		it, err := s.headAt(tx, ref)
		if err != nil {
			return err
		}
		return s.deleteItemTx(tx, it, ref)
	})
}

// ListItems implements Store: ListPage's items.
func (s *Bolt) ListItems(ctx context.Context, f ItemFilter) ([]*model.Item, error) {
	p, err := s.ListPage(ctx, f)
	if err != nil {
		return nil, err
	}
	return p.Items, nil
}

// ListPage implements Store. It reads one index range per status asked
// for, merged newest first, from the position f.After names, and decodes
// heads only until it has its page and knows whether another follows: a
// page of N items reads about N records, unless the text query or a second
// name filter rejects many.
func (s *Bolt) ListPage(ctx context.Context, f ItemFilter) (*Page, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(f.Query) != "" {
		var before uint64
		if f.After != "" {
			var ok bool
			if before, ok = parseSearchCursor(f.After); !ok {
				return nil, fmt.Errorf("list items: cursor %q: %w", f.After, ErrBadCursor)
			}
		}
		var page *Page
		err := s.view(func(tx *bolt.Tx) error {
			var err error
			page, err = s.searchPage(ctx, tx, f, before)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("search items: %w", err)
		}
		return page, nil
	}
	var after []byte
	if f.After != "" {
		var err error
		if after, err = parseCursor(f.After); err != nil {
			return nil, err
		}
	}
	kind, name := byte(idxTime), ""
	switch {
	case !f.DecidedSince.IsZero():
		kind = idxDecided
	case f.Section != "":
		kind, name = idxSection, f.Section
	case f.Source != "":
		kind, name = idxSource, f.Source
	}
	statuses := []model.Status{model.StatusQueued, model.StatusApproved, model.StatusRejected}
	if f.Status != "" {
		statuses = []model.Status{f.Status}
	}
	bound := f.Since
	if kind == idxDecided {
		bound = f.DecidedSince
	}
	query := strings.ToLower(strings.TrimSpace(f.Query))
	// Filters the index range does not apply itself need the head.
	needHead := query != "" || (kind != idxSource && f.Source != "") || (kind != idxSection && f.Section != "") || (kind == idxDecided && !f.Since.IsZero())
	page := &Page{}
	skipped := 0
	err := s.view(func(tx *bolt.Tx) error {
		m := newMergedRange(tx.Bucket(bucketIndex), kind, statuses, name, after)
		read := 0
		for pos, t, ok := m.next(); ok; pos, t, ok = m.next() {
			if err := s.scanned(ctx, &read); err != nil {
				return err
			}
			if !bound.IsZero() && t.Before(bound) {
				break // newest first: everything after is older
			}
			if !needHead && skipped < f.Offset {
				skipped++
				continue
			}
			if f.Limit > 0 && len(page.Items) == f.Limit && !needHead {
				page.Next = formatCursor(page.last)
				break
			}
			it, err := s.headAt(tx, pos[8:])
			if err != nil {
				return err
			}
			if needHead {
				if !matches(it, f, query) {
					continue
				}
				if skipped < f.Offset {
					skipped++
					continue
				}
				if f.Limit > 0 && len(page.Items) == f.Limit {
					page.Next = formatCursor(page.last)
					break
				}
			}
			page.Items = append(page.Items, it)
			page.last = pos
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	return page, nil
}

// A cursor is a position in the index order: the inverted time and the
// reference of the last item of a page, in hex. It stays meaningful when
// that item changes or goes: the next page starts after the position.
func formatCursor(pos []byte) string { return hex.EncodeToString(pos) }

func parseCursor(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 16 {
		return nil, fmt.Errorf("list items: cursor %q: %w", s, ErrBadCursor)
	}
	return b, nil
}

// mergedRange walks one index range per status as one list, newest first.
type mergedRange struct {
	cursors  []*bolt.Cursor
	prefixes [][]byte
	keys     [][]byte
}

// newMergedRange starts each status's range at its newest entry, or after
// the position after (inverted time and reference) when it is set.
func newMergedRange(idx *bolt.Bucket, kind byte, statuses []model.Status, name string, after []byte) *mergedRange {
	m := &mergedRange{}
	for _, st := range statuses {
		if kind == idxDecided && st == model.StatusQueued {
			continue
		}
		p := indexPrefix(kind, st, name)
		c := idx.Cursor()
		var k []byte
		if after == nil {
			k, _ = c.Seek(p)
		} else {
			from := append(append([]byte(nil), p...), after...)
			if k, _ = c.Seek(from); bytes.Equal(k, from) {
				k, _ = c.Next()
			}
		}
		m.cursors, m.prefixes, m.keys = append(m.cursors, c), append(m.prefixes, p), append(m.keys, m.valid(k, p))
	}
	return m
}

func (m *mergedRange) valid(k, prefix []byte) []byte {
	if k == nil || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+16 {
		return nil
	}
	return k
}

// next returns the newest remaining entry's position (inverted time and
// reference, 16 bytes) and its index time.
func (m *mergedRange) next() ([]byte, time.Time, bool) {
	best := -1
	for i, k := range m.keys {
		if k == nil {
			continue
		}
		if best < 0 || bytes.Compare(k[len(m.prefixes[i]):], m.keys[best][len(m.prefixes[best]):]) < 0 {
			best = i
		}
	}
	if best < 0 {
		return nil, time.Time{}, false
	}
	pos := append([]byte(nil), m.keys[best][len(m.prefixes[best]):]...)
	t := time.Unix(0, int64(^binary.BigEndian.Uint64(pos[:8])))
	next, _ := m.cursors[best].Next()
	m.keys[best] = m.valid(next, m.prefixes[best])
	return pos, t, true
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
	if !f.Since.IsZero() && it.SortTime().Before(f.Since) {
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
	err := s.view(func(tx *bolt.Tx) error {
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
	return s.batch(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSources).Put([]byte(st.Name), data)
	})
}

// ListSourceStates implements Store.
func (s *Bolt) ListSourceStates(ctx context.Context) ([]*model.SourceState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*model.SourceState
	err := s.view(func(tx *bolt.Tx) error {
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
	return s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSources).Delete([]byte(name))
	})
}

var _ Store = (*Bolt)(nil)
