package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/clipsheet/clipsheet/internal/model"
)

// Salvage copies every record that can be read from the database file at
// src into a new file at dst, bucket by bucket and key by key, skipping
// the pages that cannot be read. The report says what was read and what
// was not. dst must not exist; src must not be in use. The item indexes
// of dst are then rebuilt from the records that survived (repairItems), so
// dst opens and lists cleanly.
func Salvage(ctx context.Context, src, dst string) (*Report, error) {
	if _, err := os.Lstat(dst); err == nil {
		return nil, fmt.Errorf("%s exists: salvage writes a new file", dst)
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if ok, err := tryLock(f, false); err != nil || !ok {
		return nil, fmt.Errorf("%s is in use by a running clipsheet: stop it first", src)
	}
	out, err := bolt.Open(dst, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		return nil, fmt.Errorf("salvage into %s: %w", dst, err)
	}
	w := &salvageWriter{db: out}
	var orphans map[string]orphan
	rep, err := checkOpenFile(ctx, f, src, visitor{bucket: w.bucket, record: w.record, end: func(wk *walker) error {
		// Only a tree of items that lost pages leaves records worth
		// looking for; with it whole, unreached pages hold old versions
		// and deleted items (the freelist may be what was lost).
		if wk.treeDamaged(bucketItems, bucketRecords) {
			orphans = orphanRecords(wk)
		}
		return nil
	}})
	if err == nil && len(orphans) > 0 {
		w.records += len(orphans)
	}
	if err == nil && w.records == 0 {
		err = fmt.Errorf("nothing could be read from %s (%s): restore a backup instead", src, strings.Join(rep.Problems[:min(1, len(rep.Problems))], ""))
	}
	if err == nil {
		err = w.flush()
	}
	if err == nil && len(orphans) > 0 {
		var n int
		err = out.Update(func(tx *bolt.Tx) error {
			var err error
			n, err = addOrphans(tx, orphans)
			return err
		})
		rep.Recovered = n
		if n > 0 {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d item(s) recovered from pages nothing refers to any more (the tree above them is lost): each is the newest version found, which may be older than the lost one, or an item that had been deleted; review them", n))
		}
	}
	if err == nil {
		err = out.Update(repairItems)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
		return rep, fmt.Errorf("salvage into %s: %w", dst, err)
	}
	return rep, nil
}

// salvageWriter writes what the walk reads in transactions of up to
// batchRecords records.
type salvageWriter struct {
	db      *bolt.DB
	batch   []salvaged
	records int
}

type salvaged struct {
	path       [][]byte
	key, value []byte // nil key: the bucket itself
	seq        uint64
}

const batchRecords = 10000

func (w *salvageWriter) bucket(path [][]byte, seq uint64) error {
	w.batch = append(w.batch, salvaged{path: path, seq: seq})
	return w.maybeFlush()
}

func (w *salvageWriter) record(path [][]byte, k, v []byte) error {
	w.batch = append(w.batch, salvaged{path: path, key: k, value: v})
	w.records++
	return w.maybeFlush()
}

func (w *salvageWriter) maybeFlush() error {
	if len(w.batch) < batchRecords {
		return nil
	}
	return w.flush()
}

func (w *salvageWriter) flush() error {
	err := w.db.Update(func(tx *bolt.Tx) error {
		for _, s := range w.batch {
			b, err := createPath(tx, s.path)
			if err != nil {
				return err
			}
			if s.key == nil {
				// Sequences number records (audit events, item
				// records): keep them so new ones do not reuse keys.
				if err := b.SetSequence(s.seq); err != nil {
					return err
				}
				continue
			}
			b.FillPercent = 0.95 // keys arrive in order
			if err := b.Put(s.key, s.value); err != nil {
				return fmt.Errorf("bucket %s key %x: %w", bucketName(s.path), s.key, err)
			}
		}
		return nil
	})
	w.batch = w.batch[:0]
	return err
}

func createPath(tx *bolt.Tx, path [][]byte) (*bolt.Bucket, error) {
	b, err := tx.CreateBucketIfNotExists(path[0])
	for _, name := range path[1:] {
		if err != nil {
			break
		}
		b, err = b.CreateBucketIfNotExists(name)
	}
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", bucketName(path), err)
	}
	return b, nil
}

// repairItems makes the item buckets of a salvaged file agree again: a
// lost page of one of them leaves records without an index entry or index
// entries without a record. Records that decode are kept and indexed
// afresh; the counters are rebuilt at the next Open.
//
// It knows the schema-3 layout (bolt.go); a layout change must change it
// with the migration.
func repairItems(tx *bolt.Tx) error {
	for _, b := range buckets() {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	items, records := tx.Bucket(bucketItems), tx.Bucket(bucketRecords)
	// Index entries whose record is gone.
	var drop [][]byte
	if err := items.ForEach(func(id, ref []byte) error {
		if records.Get(ref) == nil {
			drop = append(drop, id)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, id := range drop {
		if err := items.Delete(id); err != nil {
			return err
		}
	}
	// Records: each names its item; one that does not decode, or whose
	// item points at another record, is dropped. The time index is built
	// afresh from those kept.
	if err := tx.DeleteBucket(bucketTimeIdx); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
		return err
	}
	idx, err := tx.CreateBucket(bucketTimeIdx)
	if err != nil {
		return err
	}
	drop = drop[:0]
	type indexed struct{ id, ref []byte }
	var add []indexed
	var keys [][]byte
	if err := records.ForEach(func(ref, v []byte) error {
		var h recordHead
		published, perr := time.Time{}, json.Unmarshal(v, &h)
		if perr == nil {
			published, perr = model.ParseTime(h.Published)
		}
		if perr != nil || h.ID == "" || !h.Status.Valid() {
			drop = append(drop, ref)
			return nil
		}
		switch have := items.Get([]byte(h.ID)); {
		case have == nil:
			add = append(add, indexed{[]byte(h.ID), ref})
		case !bytes.Equal(have, ref):
			drop = append(drop, ref)
			return nil
		}
		it := model.Item{Published: published, FetchedAt: h.FetchedAt}
		keys = append(keys, timeKey(allStatuses, it.SortTime(), h.ID), timeKey(string(h.Status), it.SortTime(), h.ID))
		return nil
	}); err != nil {
		return err
	}
	for _, ref := range drop {
		if err := records.Delete(ref); err != nil {
			return err
		}
	}
	for _, a := range add {
		if err := items.Put(a.id, a.ref); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if err := idx.Put(k, nil); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	if meta.Get(keySchema) == nil {
		// The meta bucket was lost with its page: the records were read
		// as this program's, so they are of its layout.
		if err := meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
			return err
		}
	}
	return meta.Delete(keyCountsBuilt)
}

// recordHead is what repairItems reads of a record.
type recordHead struct {
	ID        string       `json:"id"`
	Status    model.Status `json:"status"`
	Published string       `json:"published"` // as model.Item writes it
	FetchedAt time.Time    `json:"fetched_at"`
}

// orphan is an item record found on a page the walk did not reach.
type orphan struct {
	key, value []byte
	version    int64
}

// treeDamaged reports whether the walk lost pages of one of these
// buckets, or of the list of buckets.
func (w *walker) treeDamaged(names ...[]byte) bool {
	if w.rootDamaged {
		return true
	}
	for _, n := range names {
		if b := w.buckets[string(n)]; b == nil || b.Damaged > 0 {
			return true
		}
	}
	return false
}

// orphanRecords reads the item records on leaf pages that no tree reaches
// and that are not listed free: what a lost branch page (or a file cut
// short above the tree's root) leaves behind. Pages whose header does not
// name them, and records that do not decode as items, are passed over.
// Per item the newest version found is kept.
func orphanRecords(w *walker) map[string]orphan {
	found := map[string]orphan{}
	ps := int64(w.m.pageSize)
	hdr := make([]byte, pageHeaderSize)
	for id := uint64(2); id < w.m.hwm; id++ {
		if w.seen[id] || w.free[id] || w.ctx.Err() != nil {
			continue
		}
		if _, err := w.r.ReadAt(hdr, int64(id)*ps); err != nil {
			break // the end of a file cut short
		}
		overflow := uint64(le.Uint32(hdr[12:]))
		if le.Uint64(hdr) != id || le.Uint16(hdr[8:]) != flagLeaf || id+overflow >= w.m.hwm {
			continue
		}
		p := make([]byte, int64(overflow+1)*ps)
		if _, err := w.r.ReadAt(p, int64(id)*ps); err != nil {
			continue
		}
		elems, err := elements(p, 0, true)
		if err != nil {
			continue
		}
		for _, e := range elems {
			if e.bucket || len(e.key) != 8 || len(e.value) == 0 || e.value[0] != '{' {
				continue
			}
			var h struct {
				recordHead
				Version int64 `json:"version"`
			}
			if json.Unmarshal(e.value, &h) != nil || h.ID == "" || !h.Status.Valid() {
				continue
			}
			if have, ok := found[h.ID]; !ok || h.Version > have.version {
				found[h.ID] = orphan{key: e.key, value: e.value, version: h.Version}
			}
		}
	}
	return found
}

// addOrphans stores the orphan records of items the tree did not give,
// under keys no record uses; repairItems then indexes them.
func addOrphans(tx *bolt.Tx, orphans map[string]orphan) (int, error) {
	items, err := tx.CreateBucketIfNotExists(bucketItems)
	if err != nil {
		return 0, err
	}
	records, err := tx.CreateBucketIfNotExists(bucketRecords)
	if err != nil {
		return 0, err
	}
	n := 0
	seq := records.Sequence()
	for id, o := range orphans {
		if items.Get([]byte(id)) != nil && records.Get(items.Get([]byte(id))) != nil {
			continue // the tree has this item
		}
		if records.Get(o.key) != nil {
			continue
		}
		if err := records.Put(o.key, o.value); err != nil {
			return n, err
		}
		n++
		seq = max(seq, binary.BigEndian.Uint64(o.key))
	}
	return n, records.SetSequence(seq)
}
