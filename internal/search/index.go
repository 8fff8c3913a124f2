// Package search is a full-text inverted index kept inside the caller's
// bbolt file and changed in the caller's write transaction, so the index
// commits, rolls back and survives crashes together with the items it
// describes.
//
// Layout (see docs/search.md): bucket "search_postings" holds, per term,
// chunks keyed term 0x00 firstRef (8 bytes big-endian) whose value is the
// rest of the chunk's refs as uvarint gaps (see encodeChunk). Bucket "search_meta"
// holds the format version and the number of indexed docs.
package search

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/clipsheet/clipsheet/internal/model"
)

// Version is the on-disk format. A file whose index has another version
// (Stats reports it) must be rebuilt: Drop, then Add every item.
const Version = 1

var (
	bucketPostings = []byte("search_postings")
	bucketMeta     = []byte("search_meta")
	keyVersion     = []byte("version")
	keyDocs        = []byte("docs")
)

// chunkTarget is the encoded size at which an appended chunk is closed and a
// new one started. Big enough that the key (term, separator, 8-byte ref) and
// bbolt's 16-byte leaf header are a small share of a common term's list;
// small enough that rewriting the open chunk on every Add stays cheap and
// several chunks fit in one 4 KiB page.
const chunkTarget = 1024

// ErrVersion means the file holds an index in another format.
var ErrVersion = errors.New("search: the index was written in another format; rebuild it")

// Doc is what is indexed of one item. Every field is searchable.
type Doc struct {
	Title, Lead, Byline, Publisher, Source string
	Tags                                   []string
}

// DocFromItem is the part of an item the index covers: headline, lead,
// byline, publisher (the site name), source and tags.
func DocFromItem(it model.Item) Doc {
	return Doc{Title: it.Title, Lead: it.Lead, Byline: it.Byline, Publisher: it.SiteName, Source: it.Source, Tags: it.Tags}
}

// fields lists the doc's texts with their relevance weights; tags are
// separate fields so a phrase never runs from one tag into the next.
func (d Doc) fields(yield func(text string, weight float64)) {
	yield(d.Title, 3)
	yield(d.Lead, 1)
	yield(d.Byline, 1)
	yield(d.Publisher, 1)
	yield(d.Source, 0.5)
	for _, t := range d.Tags {
		yield(t, 2)
	}
}

// terms is the doc's distinct terms, sorted.
func (t *tokenizer) terms(d Doc) []string {
	set := make(map[string]struct{}, 128)
	d.fields(func(text string, _ float64) {
		t.tokenize(text, func(term string, _ bool) { set[term] = struct{}{} })
	})
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Stats describes the index in a file.
type Stats struct {
	Version int    // 0 when the file has no index yet
	Docs    uint64 // docs added and not removed
}

// ReadStats reads the index's version and size; a read transaction will do.
func ReadStats(tx *bolt.Tx) Stats {
	m := tx.Bucket(bucketMeta)
	if m == nil {
		return Stats{}
	}
	var s Stats
	if v := m.Get(keyVersion); len(v) == 8 {
		s.Version = int(binary.BigEndian.Uint64(v))
	}
	if v := m.Get(keyDocs); len(v) == 8 {
		s.Docs = binary.BigEndian.Uint64(v)
	}
	return s
}

// Drop deletes the whole index, for a rebuild.
func Drop(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketPostings, bucketMeta} {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return fmt.Errorf("search: drop %s: %w", name, err)
		}
	}
	return nil
}

// buckets opens (creating on first use) the index's buckets for writing.
func buckets(tx *bolt.Tx) (post, meta *bolt.Bucket, err error) {
	meta, err = tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return nil, nil, fmt.Errorf("search: create meta bucket: %w", err)
	}
	switch v := meta.Get(keyVersion); {
	case v == nil:
		if err := meta.Put(keyVersion, be64(Version)); err != nil {
			return nil, nil, fmt.Errorf("search: write version: %w", err)
		}
	case len(v) != 8 || binary.BigEndian.Uint64(v) != Version:
		return nil, nil, ErrVersion
	}
	post, err = tx.CreateBucketIfNotExists(bucketPostings)
	if err != nil {
		return nil, nil, fmt.Errorf("search: create postings bucket: %w", err)
	}
	return post, meta, nil
}

func addDocs(meta *bolt.Bucket, delta int64) error {
	var n uint64
	if v := meta.Get(keyDocs); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	if delta < 0 && n < uint64(-delta) {
		n = 0
	} else {
		n = uint64(int64(n) + delta)
	}
	return meta.Put(keyDocs, be64(n))
}

// Add indexes d under ref in the caller's write transaction. ref is the
// caller's identity for the item, and a larger ref is a newer item: results
// come newest first by descending ref. Adding a ref that is already indexed
// under the same term is harmless, but the doc count then counts it twice:
// to change a doc use Update.
func Add(tx *bolt.Tx, ref uint64, d Doc) error {
	post, meta, err := buckets(tx)
	if err != nil {
		return err
	}
	for _, term := range newTokenizer().terms(d) {
		if err := addPosting(post, term, ref); err != nil {
			return fmt.Errorf("search: add %d: %w", ref, err)
		}
	}
	return addDocs(meta, 1)
}

// Remove takes ref out of the index; d must be the doc exactly as it was
// added (the index keeps no forward copy of it).
func Remove(tx *bolt.Tx, ref uint64, d Doc) error {
	post, meta, err := buckets(tx)
	if err != nil {
		return err
	}
	for _, term := range newTokenizer().terms(d) {
		if err := removePosting(post, term, ref); err != nil {
			return fmt.Errorf("search: remove %d: %w", ref, err)
		}
	}
	return addDocs(meta, -1)
}

// Update re-indexes ref from old (as it was added) to new, touching only the
// terms that changed, so an edit of a headline costs a few postings.
func Update(tx *bolt.Tx, ref uint64, old, new Doc) error {
	post, _, err := buckets(tx)
	if err != nil {
		return err
	}
	tk := newTokenizer()
	was, is := tk.terms(old), tk.terms(new)
	i, j := 0, 0
	for i < len(was) || j < len(is) {
		switch {
		case j == len(is) || (i < len(was) && was[i] < is[j]):
			err = removePosting(post, was[i], ref)
			i++
		case i == len(was) || is[j] < was[i]:
			err = addPosting(post, is[j], ref)
			j++
		default:
			i++
			j++
		}
		if err != nil {
			return fmt.Errorf("search: update %d: %w", ref, err)
		}
	}
	return nil
}

// termPrefix is the key prefix of a term's chunks.
func termPrefix(term string) []byte {
	p := make([]byte, 0, len(term)+1+8)
	p = append(p, term...)
	return append(p, 0)
}

func chunkKey(prefix []byte, first uint64) []byte {
	k := make([]byte, len(prefix)+8)
	copy(k, prefix)
	binary.BigEndian.PutUint64(k[len(prefix):], first)
	return k
}

// chunkAt finds the chunk of the term that holds, or would hold, ref: the
// one with the largest first ref <= ref, else the term's first chunk.
func chunkAt(c *bolt.Cursor, prefix []byte, ref uint64) (k, v []byte) {
	var seek []byte
	if ref == ^uint64(0) {
		seek = append(slices.Clone(prefix[:len(prefix)-1]), 1)
	} else {
		seek = chunkKey(prefix, ref+1)
	}
	k, _ = c.Seek(seek)
	after := k != nil && hasPrefixChunk(k, prefix)
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	if k != nil && hasPrefixChunk(k, prefix) {
		return k, v
	}
	if after {
		// ref is older than every chunk: the first chunk takes it.
		if k == nil {
			return c.First()
		}
		return c.Next()
	}
	return nil, nil
}

func hasPrefixChunk(k, prefix []byte) bool {
	return len(k) == len(prefix)+8 && strings.HasPrefix(string(k), string(prefix))
}

func addPosting(b *bolt.Bucket, term string, ref uint64) error {
	prefix := termPrefix(term)
	c := b.Cursor()
	k, v := chunkAt(c, prefix, ref)
	if k == nil {
		return b.Put(chunkKey(prefix, ref), nil)
	}
	first := binary.BigEndian.Uint64(k[len(prefix):])
	if ref > first {
		// The common case: a new item, newer than everything. Append
		// without decoding more than needed to find the last ref.
		last, ok := lastRef(first, v)
		if !ok {
			return fmt.Errorf("term %q: corrupt chunk", term)
		}
		if ref > last {
			if len(v) >= chunkTarget {
				return b.Put(chunkKey(prefix, ref), nil)
			}
			return b.Put(slices.Clone(k), appendChunk(first, last, ref, v))
		}
	}
	refs, ok := decodeChunk(make([]uint64, 0, len(v)+2), first, v)
	if !ok {
		return fmt.Errorf("term %q: corrupt chunk", term)
	}
	i, found := slices.BinarySearch(refs, ref)
	if found {
		return nil
	}
	refs = slices.Insert(refs, i, ref)
	return rewriteChunk(b, prefix, k, refs)
}

func removePosting(b *bolt.Bucket, term string, ref uint64) error {
	prefix := termPrefix(term)
	c := b.Cursor()
	k, v := chunkAt(c, prefix, ref)
	if k == nil {
		return nil
	}
	first := binary.BigEndian.Uint64(k[len(prefix):])
	if nv, done, ok := spliceOut(first, v, ref); !ok {
		return fmt.Errorf("term %q: corrupt chunk", term)
	} else if done {
		if nv == nil {
			return nil // not in the chunk
		}
		return b.Put(slices.Clone(k), nv)
	}
	refs, ok := decodeChunk(make([]uint64, 0, len(v)+1), first, v)
	if !ok {
		return fmt.Errorf("term %q: corrupt chunk", term)
	}
	i, found := slices.BinarySearch(refs, ref)
	if !found {
		return nil
	}
	refs = slices.Delete(refs, i, i+1)
	return rewriteChunk(b, prefix, k, refs)
}

// spliceOut removes a ref strictly between the chunk's first and newest
// by merging the two gaps around it, without decoding the chunk: a remove
// touches a few bytes of a chunk of a thousand refs. done is false when the
// ref is the first or the newest (the caller re-encodes); nv is nil with
// done when the ref is not in the chunk.
func spliceOut(first uint64, v []byte, ref uint64) (nv []byte, done, ok bool) {
	if len(v) == 0 {
		return nil, ref != first, true
	}
	span, n := binary.Uvarint(v)
	if n <= 0 || span == 0 || first+span < first {
		return nil, false, false
	}
	cur := first + span
	switch {
	case ref > cur || ref < first:
		return nil, true, true
	case ref == cur || ref == first:
		return nil, false, true
	}
	for pos := n; pos < len(v); {
		d, m := binary.Uvarint(v[pos:])
		if m <= 0 || d == 0 || cur-first <= d {
			return nil, false, false
		}
		next := cur - d
		if next < ref {
			return nil, true, true // not here
		}
		if next > ref {
			cur, pos = next, pos+m
			continue
		}
		out := make([]byte, 0, len(v))
		out = append(out, v[:pos]...)
		if pos+m == len(v) {
			// ref was the second ref: the gap below it is the one left
			// out, and the merged gap is left out in its place.
			return out, true, true
		}
		d2, m2 := binary.Uvarint(v[pos+m:])
		if m2 <= 0 || d2 == 0 {
			return nil, false, false
		}
		out = binary.AppendUvarint(out, d+d2)
		return append(out, v[pos+m+m2:]...), true, true
	}
	// Past the last stored gap the only ref left is first, handled above.
	return nil, true, true
}

// rewriteChunk stores refs in place of the chunk at oldKey, re-keying it when
// its first ref changed and splitting it when it grew past twice the target.
func rewriteChunk(b *bolt.Bucket, prefix, oldKey []byte, refs []uint64) error {
	oldKey = slices.Clone(oldKey)
	if len(refs) == 0 {
		return b.Delete(oldKey)
	}
	var parts [][]uint64
	if enc := encodeChunk(refs); len(enc) > 2*chunkTarget {
		mid := len(refs) / 2
		parts = [][]uint64{refs[:mid], refs[mid:]}
	} else {
		parts = [][]uint64{refs}
	}
	if first := binary.BigEndian.Uint64(oldKey[len(prefix):]); first != refs[0] {
		if err := b.Delete(oldKey); err != nil {
			return err
		}
	}
	for _, p := range parts {
		if err := b.Put(chunkKey(prefix, p[0]), encodeChunk(p)); err != nil {
			return err
		}
	}
	return nil
}

// A chunk's value is its span (last ref - first ref) and then the gaps
// between its refs from the newest down, all uvarints, leaving out the
// last gap (the first ref is in the key). Putting the span first lets an
// append find the chunk's newest ref without decoding the rest; a chunk of
// one ref is an empty value.
func encodeChunk(refs []uint64) []byte {
	n := len(refs)
	if n <= 1 {
		return nil
	}
	out := make([]byte, 0, n*2)
	out = binary.AppendUvarint(out, refs[n-1]-refs[0])
	for i := n - 1; i >= 2; i-- {
		out = binary.AppendUvarint(out, refs[i]-refs[i-1])
	}
	return out
}

// appendChunk is the value of the chunk after ref, newer than its newest
// ref last, is added.
func appendChunk(first, last, ref uint64, v []byte) []byte {
	out := make([]byte, 0, len(v)+2*binary.MaxVarintLen64)
	out = binary.AppendUvarint(out, ref-first)
	if len(v) == 0 {
		return out // two refs: the gap is the span
	}
	out = binary.AppendUvarint(out, ref-last)
	_, n := binary.Uvarint(v)
	return append(out, v[n:]...)
}

// decodeChunk appends the chunk's refs, ascending, to dst. ok is false for a
// value that is not a well-formed chunk.
func decodeChunk(dst []uint64, first uint64, v []byte) ([]uint64, bool) {
	if len(v) == 0 {
		return append(dst, first), true
	}
	base := len(dst)
	span, n := binary.Uvarint(v)
	if n <= 0 || span == 0 || first+span < first {
		return dst, false
	}
	v = v[n:]
	cur := first + span
	dst = append(dst, cur)
	for len(v) > 0 {
		d, n := binary.Uvarint(v)
		if n <= 0 || d == 0 || cur-first <= d {
			return dst, false
		}
		cur -= d
		dst = append(dst, cur)
		v = v[n:]
	}
	dst = append(dst, first)
	slices.Reverse(dst[base:])
	return dst, true
}

// lastRef is the chunk's newest ref.
func lastRef(first uint64, v []byte) (uint64, bool) {
	if len(v) == 0 {
		return first, true
	}
	span, n := binary.Uvarint(v)
	if n <= 0 || span == 0 || first+span < first {
		return 0, false
	}
	return first + span, true
}

func be64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}
