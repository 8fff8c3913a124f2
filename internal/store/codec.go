package store

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

// An item is stored as two records under the same reference:
//
//   - the head (bucket item_heads): every field a list, the briefing, a
//     feed or a search reads, and the original headline, byline and lead
//     when a curator changed them (the queue shows them beside the edit);
//   - the text (bucket item_texts): the body, compressed, and whatever else
//     of the original extraction differs from the item. Only the item view
//     and re-extraction read it.
//
// Both are a compact binary encoding rather than JSON: decoding a head is
// the cost of every listed item, and JSON with times as text (and
// model.Item's wrapper that decodes twice) was half of a list's CPU
// (BenchmarkRecordDecode compares them). Fields are written in a fixed
// order after a format byte; a later format appends fields, and the decoder
// reads the ones present, so older records stay readable.

const (
	headFormat = 1
	textFormat = 1

	// head flags: which original fields differ and follow the head.
	origTitle  = 1 << 0
	origByline = 1 << 1
	origLead   = 1 << 2

	// head flag: the text fields are deflated.
	tailDeflated = 1 << 0

	// text flags
	bodyDeflated = 1 << 0
	origExtras   = 1 << 1

	// Bodies shorter than this are stored as they are: deflate's header
	// and the decoder's setup cost more than they save.
	deflateMin = 256
)

// codec encodes records. It pools the deflate writers and readers, which are
// large to allocate (a writer's tables are over half a megabyte).
type codec struct {
	writers sync.Pool // *flate.Writer
	readers sync.Pool // io.ReadCloser that is also a flate.Resetter
}

var errShortRecord = errors.New("record ends early")

type recWriter struct{ b []byte }

func (w *recWriter) str(s string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *recWriter) uint(n uint64) { w.b = binary.AppendUvarint(w.b, n) }

// time writes a presence byte, then seconds, nanoseconds and the zone
// offset in seconds: published times keep the page's own offset.
func (w *recWriter) time(t time.Time) {
	if t.IsZero() {
		w.b = append(w.b, 0)
		return
	}
	_, off := t.Zone()
	w.b = append(w.b, 1)
	w.b = binary.AppendVarint(w.b, t.Unix())
	w.b = binary.AppendUvarint(w.b, uint64(t.Nanosecond()))
	w.b = binary.AppendVarint(w.b, int64(off))
}

type recReader struct {
	b   []byte
	err error
}

func (r *recReader) uint() uint64 {
	if r.err != nil {
		return 0
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.err = errShortRecord
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *recReader) int() int64 {
	if r.err != nil {
		return 0
	}
	n, k := binary.Varint(r.b)
	if k <= 0 {
		r.err = errShortRecord
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *recReader) bytes() []byte {
	n := r.uint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errShortRecord
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *recReader) str() string { return string(r.bytes()) }

func (r *recReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = errShortRecord
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *recReader) time() time.Time {
	if r.byte() == 0 || r.err != nil {
		return time.Time{}
	}
	sec, nsec, off := r.int(), r.uint(), r.int()
	if r.err != nil || nsec >= 1e9 || off < -24*3600 || off > 24*3600 {
		if r.err == nil {
			r.err = errors.New("bad time in record")
		}
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	if off == 0 {
		return t.UTC()
	}
	return t.In(time.FixedZone("", int(off)))
}

// encodeHead writes the fields of it that lists read: first what scans
// and filters read (ID, status, source, section, times, version), then the
// text fields, deflated when that saves more than deflate's own overhead.
func (c *codec) encodeHead(it *model.Item) []byte {
	w := recWriter{b: make([]byte, 0, 128+len(it.Title)+len(it.Lead)+len(it.URL)*2)}
	w.b = append(w.b, headFormat)
	w.str(it.ID)
	w.str(string(it.Status))
	w.str(it.Source)
	w.str(it.Section)
	w.time(it.FetchedAt)
	w.time(it.Published)
	w.time(it.UpdatedAt)
	w.time(it.DecidedAt)
	w.uint(uint64(it.Version))
	tail := encodeTail(it)
	if len(tail) >= deflateMin {
		if z, err := c.deflate(tail); err == nil && len(z) < len(tail)*7/8 {
			w.b = append(w.b, tailDeflated)
			return append(w.b, z...)
		}
	}
	w.b = append(w.b, 0)
	return append(w.b, tail...)
}

// encodeTail writes the head's text fields.
func encodeTail(it *model.Item) []byte {
	w := recWriter{b: make([]byte, 0, 64+len(it.Title)+len(it.Lead)+len(it.URL)*2)}
	w.str(it.URL)
	// Most pages declare themselves canonical: store that as a flag.
	switch it.CanonicalURL {
	case it.URL:
		w.b = append(w.b, 1)
	default:
		w.b = append(w.b, 0)
		w.str(it.CanonicalURL)
	}
	w.str(it.Title)
	w.str(it.Byline)
	w.str(it.SiteName)
	w.str(it.Lead)
	w.str(it.Language)
	w.str(it.Image)
	w.str(it.DecidedBy)
	w.str(it.EditedBy)
	w.uint(uint64(len(it.Tags)))
	for _, t := range it.Tags {
		w.str(t)
	}
	w.str(it.Note)
	w.str(it.FetchError)
	var flags byte
	o := &it.Original
	if o.Title != it.Title {
		flags |= origTitle
	}
	if o.Byline != it.Byline {
		flags |= origByline
	}
	if o.Lead != it.Lead {
		flags |= origLead
	}
	w.b = append(w.b, flags)
	if flags&origTitle != 0 {
		w.str(o.Title)
	}
	if flags&origByline != 0 {
		w.str(o.Byline)
	}
	if flags&origLead != 0 {
		w.str(o.Lead)
	}
	w.str(it.Story)
	w.str(it.DuplicateOf)
	w.b = binary.AppendVarint(w.b, int64(it.Priority))
	w.uint(uint64(len(it.Why)))
	for _, s := range it.Why {
		w.str(s)
	}
	return w.b
}

// decodeHead reads a head into it. The original extraction is filled from
// the item for every field the head does not say differs; the body (and the
// rare original field outside the head) stays empty until decodeText.
func (c *codec) decodeHead(v []byte, it *model.Item) error {
	if len(v) == 0 {
		return errors.New("record missing")
	}
	if v[0] != headFormat {
		return fmt.Errorf("unknown item record format %d", v[0])
	}
	r := recReader{b: v[1:]}
	*it = model.Item{}
	it.ID = r.str()
	it.Status = model.Status(r.str())
	it.Source = r.str()
	it.Section = r.str()
	it.FetchedAt = r.time()
	it.Published = r.time()
	it.UpdatedAt = r.time()
	it.DecidedAt = r.time()
	it.Version = int64(r.uint())
	if r.byte()&tailDeflated != 0 && r.err == nil {
		tail, err := c.inflate(r.b, maxHead)
		if err != nil {
			return fmt.Errorf("head: %w", err)
		}
		r.b = tail
	}
	if r.err != nil {
		return r.err
	}
	if err := decodeTail(&r, it); err != nil {
		return err
	}
	if it.Version < 1 {
		it.Version = 1
	}
	return nil
}

func decodeTail(r *recReader, it *model.Item) error {
	it.URL = r.str()
	if r.byte() == 1 {
		it.CanonicalURL = it.URL
	} else {
		it.CanonicalURL = r.str()
	}
	it.Title = r.str()
	it.Byline = r.str()
	it.SiteName = r.str()
	it.Lead = r.str()
	it.Language = r.str()
	it.Image = r.str()
	it.DecidedBy = r.str()
	it.EditedBy = r.str()
	if n := r.uint(); n > 0 && r.err == nil {
		if n > uint64(len(r.b)) {
			return errShortRecord
		}
		it.Tags = make([]string, n)
		for i := range it.Tags {
			it.Tags[i] = r.str()
		}
	}
	it.Note = r.str()
	it.FetchError = r.str()
	flags := r.byte()
	it.Original = model.Extraction{
		URL: it.URL, CanonicalURL: it.CanonicalURL, Title: it.Title, Byline: it.Byline,
		Published: it.Published, SiteName: it.SiteName, Lead: it.Lead,
		Language: it.Language, Image: it.Image,
	}
	if flags&origTitle != 0 {
		it.Original.Title = r.str()
	}
	if flags&origByline != 0 {
		it.Original.Byline = r.str()
	}
	if flags&origLead != 0 {
		it.Original.Lead = r.str()
	}
	it.Story = r.str()
	it.DuplicateOf = r.str()
	it.Priority = int(r.int())
	if n := r.uint(); n > 0 && r.err == nil {
		if n > uint64(len(r.b)) {
			return errShortRecord
		}
		it.Why = make([]string, n)
		for i := range it.Why {
			it.Why[i] = r.str()
		}
	}
	return r.err
}

// extraFields are the original's fields outside the head, in the order the
// text record writes them when any differs from the item.
func extraFields(it *model.Item) (item, orig [5]string) {
	o := &it.Original
	return [5]string{it.URL, it.CanonicalURL, it.SiteName, it.Language, it.Image},
		[5]string{o.URL, o.CanonicalURL, o.SiteName, o.Language, o.Image}
}

// encodeText writes the body and the original's remaining differences.
func (c *codec) encodeText(it *model.Item) ([]byte, error) {
	w := recWriter{b: make([]byte, 0, 16+len(it.Body)/2)}
	w.b = append(w.b, textFormat, 0)
	item, orig := extraFields(it)
	extras := item != orig || !it.Original.Published.Equal(it.Published) || it.Original.Body != it.Body
	if extras {
		w.b[1] |= origExtras
		for _, s := range orig {
			w.str(s)
		}
		w.time(it.Original.Published)
		w.str(it.Original.Body)
	}
	if len(it.Body) < deflateMin {
		w.b = append(w.b, it.Body...)
		return w.b, nil
	}
	z, err := c.deflate([]byte(it.Body))
	if err != nil {
		return nil, err
	}
	w.b[1] |= bodyDeflated
	return append(w.b, z...), nil
}

// deflate compresses b with a pooled writer.
func (c *codec) deflate(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(b)/2 + 64)
	fw, _ := c.writers.Get().(*flate.Writer)
	if fw == nil {
		var err error
		if fw, err = flate.NewWriter(&buf, flate.DefaultCompression); err != nil {
			return nil, err
		}
	} else {
		fw.Reset(&buf)
	}
	defer c.writers.Put(fw)
	if _, err := fw.Write(b); err != nil {
		return nil, err
	}
	if err := fw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeText completes an item read by decodeHead.
func (c *codec) decodeText(v []byte, it *model.Item) error {
	if len(v) < 2 {
		return errors.New("text record missing")
	}
	if v[0] != textFormat {
		return fmt.Errorf("unknown text record format %d", v[0])
	}
	flags := v[1]
	r := recReader{b: v[2:]}
	origBody, haveOrigBody := "", false
	if flags&origExtras != 0 {
		o := &it.Original
		for _, p := range []*string{&o.URL, &o.CanonicalURL, &o.SiteName, &o.Language, &o.Image} {
			*p = r.str()
		}
		o.Published = r.time()
		origBody, haveOrigBody = r.str(), true
		if r.err != nil {
			return r.err
		}
	}
	if flags&bodyDeflated == 0 {
		it.Body = string(r.b)
	} else {
		body, err := c.inflate(r.b, maxBody)
		if err != nil {
			return fmt.Errorf("body: %w", err)
		}
		it.Body = string(body)
	}
	it.Original.Body = it.Body
	if haveOrigBody {
		it.Original.Body = origBody
	}
	return nil
}

// maxBody and maxHead bound what a damaged deflate stream can expand to.
const (
	maxBody = 64 << 20
	maxHead = 4 << 20
)

func (c *codec) inflate(b []byte, limit int64) ([]byte, error) {
	src := bytes.NewReader(b)
	fr, _ := c.readers.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReader(src)
	} else if err := fr.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, err
	}
	defer c.readers.Put(fr)
	var out bytes.Buffer
	out.Grow(len(b) * 3)
	if _, err := out.ReadFrom(io.LimitReader(fr, limit)); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Index keys. Every list the product shows reads one of these ranges, newest
// first, and stops when it has its page:
//
//	't' status time ref            every item by status and SortTime
//	's' status len section time ref  by section within a status
//	'o' status len source time ref   by source within a status
//	'd' status decided ref         decided items by decision time (the briefing)
//
// status is one byte, time the bit-inverse of Unix nanoseconds (big-endian,
// so newest sorts first), ref the item's 8-byte record reference.
const (
	idxTime    = 't'
	idxSection = 's'
	idxSource  = 'o'
	idxDecided = 'd'
)

func statusByte(s model.Status) byte {
	switch s {
	case model.StatusQueued:
		return 'q'
	case model.StatusApproved:
		return 'a'
	case model.StatusRejected:
		return 'r'
	}
	return '?'
}

// indexPrefix is the key prefix of one status's range of an index; name is
// the section or source for those indexes.
func indexPrefix(kind byte, status model.Status, name string) []byte {
	p := make([]byte, 0, 2+binary.MaxVarintLen64+len(name)+16)
	p = append(p, kind, statusByte(status))
	if kind == idxSection || kind == idxSource {
		p = binary.AppendUvarint(p, uint64(len(name)))
		p = append(p, name...)
	}
	return p
}

func invTime(t time.Time) uint64 { return math.MaxUint64 - uint64(t.UnixNano()) }

func indexKey(prefix []byte, t time.Time, ref []byte) []byte {
	k := make([]byte, 0, len(prefix)+16)
	k = append(k, prefix...)
	k = binary.BigEndian.AppendUint64(k, invTime(t))
	return append(k, ref...)
}

// decisionTime is when an item reached its status: the briefing's clock.
// Items decided before decisions were timed count from their fetch.
func decisionTime(it *model.Item) time.Time {
	if it.DecidedAt.IsZero() {
		return it.FetchedAt
	}
	return it.DecidedAt
}

// indexKeys lists every index key of it.
func indexKeys(it *model.Item, ref []byte) [][]byte {
	t := it.SortTime()
	keys := [][]byte{
		indexKey(indexPrefix(idxTime, it.Status, ""), t, ref),
		indexKey(indexPrefix(idxSection, it.Status, it.Section), t, ref),
		indexKey(indexPrefix(idxSource, it.Status, it.Source), t, ref),
	}
	if it.Status != model.StatusQueued {
		keys = append(keys, indexKey(indexPrefix(idxDecided, it.Status, ""), decisionTime(it), ref))
	}
	if it.Story != "" {
		keys = append(keys, append(storyPrefix(it.Story), ref...))
	}
	return keys
}

// arrivalFields reads a head's source and fetch time only: the head starts
// with them so that scans of every item (the sources page's arrival
// statistics) stop there.
func arrivalFields(v []byte) (string, time.Time, error) {
	if len(v) == 0 || v[0] != headFormat {
		return "", time.Time{}, errors.New("unknown item record format")
	}
	r := recReader{b: v[1:]}
	r.bytes() // id
	r.bytes() // status
	source := r.str()
	r.bytes() // section
	at := r.time()
	return source, at, r.err
}
