package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

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
	var c codec
	var orphans map[string]orphan
	rep, err := checkOpenFile(ctx, f, src, visitor{bucket: w.bucket, record: w.record, end: func(wk *walker) error {
		// Only a tree of items that lost pages leaves records worth
		// looking for; with it whole, unreached pages hold old versions
		// and deleted items (the freelist may be what was lost).
		if wk.treeDamaged(bucketItems, bucketHeads) {
			orphans = orphanRecords(wk, &c)
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
		err = out.Update(func(tx *bolt.Tx) error { return repairItems(tx, &c) })
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
// lost page of one of them leaves heads without an ID entry, ID entries
// without a head, texts without a head or heads without a text. Heads that
// decode are kept (a lost text becomes an empty body) and indexed afresh;
// the counters are rebuilt at the next Open.
//
// It knows the schema-4 layout (bolt.go, codec.go, story.go); a layout
// change must change it with the migration. Story keys whose print was
// lost stay behind: they name a reference without a print, which grouping
// passes over.
func repairItems(tx *bolt.Tx, c *codec) error {
	for _, b := range buckets() {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	items, heads, texts := tx.Bucket(bucketItems), tx.Bucket(bucketHeads), tx.Bucket(bucketTexts)
	// ID entries whose head is gone.
	var drop [][]byte
	if err := items.ForEach(func(id, ref []byte) error {
		if heads.Get(ref) == nil {
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
	// Heads: each names its item. One that does not decode, or whose item
	// points at another head, goes (with its text).
	drop = drop[:0]
	type indexed struct {
		id, ref []byte
		it      *model.Item
	}
	var keep []indexed
	if err := heads.ForEach(func(ref, v []byte) error {
		var it model.Item
		if c.decodeHead(v, &it) != nil || it.ID == "" || !it.Status.Valid() {
			drop = append(drop, ref)
			return nil
		}
		if have := items.Get([]byte(it.ID)); have != nil && !bytes.Equal(have, ref) {
			drop = append(drop, ref)
			return nil
		}
		keep = append(keep, indexed{[]byte(it.ID), append([]byte(nil), ref...), &it})
		return nil
	}); err != nil {
		return err
	}
	for _, ref := range drop {
		if err := heads.Delete(ref); err != nil {
			return err
		}
	}
	// Texts and story prints (story.go) whose head is gone.
	for _, b := range []*bolt.Bucket{texts, tx.Bucket(bucketStoryPrints)} {
		drop = drop[:0]
		if err := b.ForEach(func(ref, _ []byte) error {
			if heads.Get(ref) == nil {
				drop = append(drop, ref)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, ref := range drop {
			var err error
			if b == texts {
				err = texts.Delete(ref)
			} else {
				err = deletePrint(tx, ref)
			}
			if err != nil {
				return err
			}
		}
	}
	if err := tx.DeleteBucket(bucketIndex); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
		return err
	}
	idx, err := tx.CreateBucket(bucketIndex)
	if err != nil {
		return err
	}
	for _, k := range keep {
		if err := items.Put(k.id, k.ref); err != nil {
			return err
		}
		var probe model.Item
		if c.decodeText(texts.Get(k.ref), &probe) != nil {
			// The body was lost with its page; the item keeps its head.
			text, err := c.encodeText(k.it)
			if err != nil {
				return err
			}
			if err := texts.Put(k.ref, text); err != nil {
				return err
			}
		}
		for _, key := range indexKeys(k.it, k.ref) {
			if err := idx.Put(key, nil); err != nil {
				return err
			}
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

// orphan is an item head found on a page the walk did not reach, with its
// text when that was found too.
type orphan struct {
	ref, head, text []byte
	version         int64
}

// orphanRecords reads the item heads (and texts) on leaf pages that no
// tree reaches and that are not listed free: what a lost branch page (or a
// file cut short above the tree's root) leaves behind. Pages whose header
// does not name them, and records that do not decode, are passed over.
// Per item the newest version found is kept.
func orphanRecords(w *walker, c *codec) map[string]orphan {
	found := map[string]orphan{}
	textsByRef := map[string][]byte{}
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
			if e.bucket || len(e.key) != 8 || len(e.value) == 0 {
				continue
			}
			var it model.Item
			if decodeSafely(func() error { return c.decodeHead(e.value, &it) }) == nil && it.ID != "" && it.Status.Valid() {
				if have, ok := found[it.ID]; !ok || it.Version > have.version {
					found[it.ID] = orphan{ref: e.key, head: e.value, version: it.Version}
				}
				continue
			}
			if decodeSafely(func() error { return c.decodeText(e.value, &model.Item{}) }) == nil {
				textsByRef[string(e.key)] = e.value
			}
		}
	}
	for id, o := range found {
		o.text = textsByRef[string(o.ref)]
		found[id] = o
	}
	return found
}

// decodeSafely runs a decoder over bytes from an unknown page.
func decodeSafely(decode func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return decode()
}

// addOrphans stores the orphans of items the tree did not give, under
// references no record uses; repairItems then indexes them.
func addOrphans(tx *bolt.Tx, orphans map[string]orphan) (int, error) {
	var bs [3]*bolt.Bucket
	for i, name := range [][]byte{bucketItems, bucketHeads, bucketTexts} {
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return 0, err
		}
		bs[i] = b
	}
	items, heads, texts := bs[0], bs[1], bs[2]
	n := 0
	seq := heads.Sequence()
	for id, o := range orphans {
		if ref := items.Get([]byte(id)); ref != nil && heads.Get(ref) != nil {
			continue // the tree has this item
		}
		if heads.Get(o.ref) != nil {
			continue
		}
		if err := heads.Put(o.ref, o.head); err != nil {
			return n, err
		}
		if o.text != nil && texts.Get(o.ref) == nil {
			if err := texts.Put(o.ref, o.text); err != nil {
				return n, err
			}
		}
		n++
		seq = max(seq, binary.BigEndian.Uint64(o.ref))
	}
	return n, heads.SetSequence(seq)
}
