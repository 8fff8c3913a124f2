package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The consistency check reads the bbolt file itself, page by page, with
// every offset and length bounds-checked against the page it lies in. It
// does not go through bbolt because bbolt trusts the file: a damaged page
// makes it index out of range (a panic) or read past its memory map (a
// fault that no recover catches). Reading the bytes with ReadAt and
// checking them first, nothing a file holds can crash the program.
//
// The layout read here is bbolt's on-disk format (version 2, little-endian
// hosts), which bbolt keeps stable across releases since files must stay
// readable:
//
//	page header (16 bytes): id u64, flags u16, count u16, overflow u32
//	meta (after the header): magic u32, version u32, page size u32,
//	  flags u32, root bucket {root u64, sequence u64}, freelist u64,
//	  high-water page u64, txid u64, checksum u64 (FNV-64a of the fields
//	  before it)
//	branch element (16 bytes): pos u32, ksize u32, child page u64
//	leaf element (16 bytes): flags u32, pos u32, ksize u32, vsize u32;
//	  key and value lie pos bytes after the element
//	bucket value: {root u64, sequence u64}; root 0 means an inline page
//	  follows in the value itself
//	freelist: count (0xFFFF: the real count is the first u64), then ids

// ErrDamaged marks a database file that is damaged: it is refused rather
// than served.
var ErrDamaged = errors.New("database damaged")

// DamagedError says which file is damaged and how.
type DamagedError struct {
	Path   string
	Reason string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("database %s is damaged (%s): run `clipsheet check` for details, then restore a backup (`clipsheet restore FILE`) or copy what is readable with `clipsheet salvage OUT`", e.Path, e.Reason)
}

// Is lets errors.Is(err, ErrDamaged) recognise a DamagedError.
func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }

const (
	pageHeaderSize   = 16
	elementSize      = 16
	bucketHeaderSize = 16
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	flagBranch       = 0x01
	flagLeaf         = 0x02
	flagMeta         = 0x04
	flagFreelist     = 0x10
	leafBucketFlag   = 0x01
	noFreelist       = 0xffffffffffffffff
	metaChecksumAt   = pageHeaderSize + 56
	// maxPageSize bounds the page size a meta may claim before anything
	// is allocated from it.
	maxPageSize = 1 << 20
)

var le = binary.LittleEndian

// meta is a decoded meta page.
type meta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	hwm      uint64 // pages below it are in use or free
	txid     uint64
}

// decodeMeta reads a meta page at the start of b.
func decodeMeta(b []byte) (meta, error) {
	if len(b) < metaChecksumAt+8 {
		return meta{}, errors.New("too short")
	}
	if le.Uint16(b[8:]) != flagMeta {
		return meta{}, errors.New("not a meta page")
	}
	m := b[pageHeaderSize:]
	if le.Uint32(m) != boltMagic {
		return meta{}, errors.New("no bbolt marker")
	}
	if v := le.Uint32(m[4:]); v != boltVersion {
		return meta{}, fmt.Errorf("bbolt format version %d", v)
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != le.Uint64(m[56:]) {
		return meta{}, errors.New("checksum mismatch")
	}
	md := meta{pageSize: le.Uint32(m[8:]), root: le.Uint64(m[16:]), freelist: le.Uint64(m[32:]), hwm: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}
	if md.pageSize < 1024 || md.pageSize > maxPageSize || md.pageSize&(md.pageSize-1) != 0 {
		return meta{}, fmt.Errorf("page size %d", md.pageSize)
	}
	if md.hwm < 3 || md.root < 2 || md.root >= md.hwm || (md.freelist != noFreelist && (md.freelist < 2 || md.freelist >= md.hwm)) {
		return meta{}, errors.New("page numbers out of range")
	}
	return md, nil
}

// readMetas reads both meta pages and returns the newer valid one, as
// bbolt would use it. metaProblems describes an invalid one.
func readMetas(r io.ReaderAt, size int64) (m meta, metaProblems []string, err error) {
	first := make([]byte, 4096)
	if _, err := r.ReadAt(first, 0); err != nil && !errors.Is(err, io.EOF) {
		return meta{}, nil, err
	}
	m0, err0 := decodeMeta(first)
	// The second meta is one page further; its size comes from the first
	// meta, or else from the page sizes bbolt uses.
	sizes := []int64{4096, 8192, 16384, 65536}
	if err0 == nil {
		sizes = []int64{int64(m0.pageSize)}
	}
	var m1 meta
	err1 := errors.New("unreadable")
	for _, ps := range sizes {
		b := make([]byte, metaChecksumAt+8)
		if _, err := r.ReadAt(b, ps); err != nil {
			continue
		}
		if m1, err1 = decodeMeta(b); err1 == nil {
			break
		}
	}
	if err0 != nil {
		metaProblems = append(metaProblems, "meta page 0: "+err0.Error())
	}
	if err1 != nil {
		metaProblems = append(metaProblems, "meta page 1: "+err1.Error())
	}
	switch {
	case err0 == nil && (err1 != nil || m0.txid >= m1.txid):
		m = m0
	case err1 == nil:
		m = m1
	default:
		return meta{}, metaProblems, errors.New("neither meta page is valid: not a bbolt file, or its header is damaged")
	}
	if need := int64(m.hwm) * int64(m.pageSize); size < need {
		return m, metaProblems, fmt.Errorf("file is %d bytes but its pages reach to byte %d: it was cut short", size, need)
	}
	return m, metaProblems, nil
}

// openCheckTime bounds the check every Open makes: most files are read
// whole within it; the rest of a bigger one is left to Check, which serve
// runs in the background once started.
const openCheckTime = 3 * time.Second

// preflight refuses a file bbolt must not open. A missing file is a fresh
// install; an existing empty one is not (an interrupted copy or a full
// disk leaves those, and taking it for a fresh start would hand out a new
// setup link over a lost database). When no other process has the file
// open it also walks its pages for up to openCheckTime; while one does
// (a running serve) the pages may change under the walk, and bbolt's lock
// refuses this open anyway.
func preflight(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	if fi.Size() == 0 {
		return &DamagedError{Path: path, Reason: "the file is empty (0 bytes); delete it only if you mean to start a new, empty database"}
	}
	m, _, err := readMetas(f, fi.Size())
	if err != nil {
		return &DamagedError{Path: path, Reason: err.Error()}
	}
	if ok, err := tryLock(f, false); err != nil || !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), openCheckTime)
	defer cancel()
	rep := &Report{Path: path, Size: fi.Size()}
	if err := checkSnapshot(ctx, f, m, rep, visitor{}); err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	return rep.Err()
}

// openBolt opens the file with bbolt, turning a panic or a memory fault
// (bbolt reading a damaged page the time-bounded check did not reach) into
// a DamagedError.
func openBolt(path string, opts *bolt.Options) (db *bolt.DB, err error) {
	if err := preflight(path); err != nil {
		return nil, err
	}
	err = guard(path, func() error {
		db, err = bolt.Open(path, 0o600, opts)
		return err
	})
	return db, err
}

// guard runs fn, reporting a panic or a memory fault in it as damage to
// the file at path.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = &DamagedError{Path: path, Reason: fmt.Sprintf("reading it failed: %v", r)}
		}
	}()
	return fn()
}

// CheckFile checks the database file at path, which no server may be
// using: a running one changes pages under the walk (its Check, through
// serve, reads a consistent snapshot instead). The error is for a file
// that cannot be checked at all; damage is in the report.
func CheckFile(ctx context.Context, path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ok, err := tryLock(f, false)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		return nil, fmt.Errorf("%s is in use by a running clipsheet (serve checks it in the background: see /healthz and its log), or stop it first", path)
	}
	return checkOpenFile(ctx, f, path, visitor{})
}

func checkOpenFile(ctx context.Context, f *os.File, path string, v visitor) (*Report, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	rep := &Report{Path: path, Size: fi.Size()}
	if fi.Size() == 0 {
		rep.Problems = append(rep.Problems, "the file is empty (0 bytes)")
		return rep, nil
	}
	m, metaProblems, err := readMetas(f, fi.Size())
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		// A file cut short still has pages worth salvaging below the cut.
		if m.pageSize == 0 {
			return rep, nil
		}
	}
	// One bad meta page is what bbolt's two copies are for: the other is
	// used, so it costs nothing.
	rep.Warnings = append(rep.Warnings, metaProblems...)
	err = checkSnapshot(ctx, f, m, rep, v)
	return rep, err
}

// Check checks the open database in the background of a running server:
// a read transaction keeps the pages it reaches from being reused, and
// the walk reads them from the file. It stops with Incomplete when ctx
// ends.
func (s *Bolt) Check(ctx context.Context) (*Report, error) {
	rep := &Report{Path: s.path}
	err := s.view(func(tx *bolt.Tx) error {
		m, err := txMeta(tx)
		if err != nil {
			return err
		}
		f, err := os.Open(s.path)
		if err != nil {
			return err
		}
		defer f.Close()
		rep.Size = tx.Size()
		return checkSnapshot(ctx, io.NewSectionReader(f, 0, tx.Size()), m, rep, visitor{})
	})
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", s.path, err)
	}
	return rep, nil
}

// txMeta is the meta page of tx. bbolt keeps it private; WriteTo starts a
// copy of the transaction with it, so the first page of that copy is it.
func txMeta(tx *bolt.Tx) (meta, error) {
	var first firstPage
	if _, err := tx.WriteTo(&first); first.b == nil {
		return meta{}, fmt.Errorf("read the transaction's meta page: %v", err)
	}
	return decodeMeta(first.b)
}

// firstPage keeps the first Write (WriteTo writes a page at a time) and
// then stops the copy.
type firstPage struct{ b []byte }

func (p *firstPage) Write(b []byte) (int, error) {
	p.b = append([]byte(nil), b...)
	return 0, errStop
}

// Report is what a consistency check found.
type Report struct {
	Path     string
	Size     int64
	PageSize int
	TxID     uint64
	Pages    uint64 // pages in use or free (the high-water mark)
	// Buckets lists every bucket with the records it holds that could be
	// read, nested ones as "outer/inner".
	Buckets []BucketReport
	// Problems are damage: unreadable pages, broken structure. Any makes
	// the file unfit to serve.
	Problems []string
	// Warnings cost space, not data (pages neither used nor free).
	Warnings []string
	// Recovered counts the items salvage found on pages no tree reaches
	// any more (see orphanRecords).
	Recovered int `json:",omitempty"`
	// Incomplete is set when the check stopped (its time ran out) before
	// reading every page: the pages it read are sound.
	Incomplete bool
}

// BucketReport is one bucket's readable records.
type BucketReport struct {
	Name    string
	Records int // readable keys that are not buckets
	Damaged int // unreadable pages (each with its records) in this bucket
}

// OK reports whether the check found no damage.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Err is a DamagedError naming the first problem, or nil.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	reason := r.Problems[0]
	if n := len(r.Problems) - 1; n > 0 {
		reason += fmt.Sprintf(", and %d more problem(s)", n)
	}
	return &DamagedError{Path: r.Path, Reason: reason}
}

// visitor receives what a walk reads: each bucket (path of names from the
// root, and its sequence) before its records, and each record. Returning an error stops the
// walk.
type visitor struct {
	bucket func(path [][]byte, seq uint64) error
	record func(path [][]byte, k, v []byte) error
	// end, when set, gets the walk at its end: the pages it reached and
	// the free ones.
	end func(w *walker) error
}

// walker reads one snapshot of the file: the pages reachable from m.
type walker struct {
	ctx      context.Context
	r        io.ReaderAt
	m        meta
	rep      *Report
	visit    visitor
	seen     map[uint64]bool
	free     map[uint64]bool
	buckets  map[string]*BucketReport
	problems int
	// rootDamaged: pages of the list of buckets were lost.
	rootDamaged bool
}

// maxProblems keeps a badly damaged file's report readable.
const maxProblems = 200

func (w *walker) problem(format string, args ...any) {
	w.problems++
	if w.problems <= maxProblems {
		w.rep.Problems = append(w.rep.Problems, fmt.Sprintf(format, args...))
	} else if w.problems == maxProblems+1 {
		w.rep.Problems = append(w.rep.Problems, "… more problems not listed")
	}
}

// errStop ends a walk early without being a finding.
var errStop = errors.New("stop")

// checkSnapshot walks the pages reachable from m in r. It stops early
// (Incomplete) when ctx ends; visitor errors end it with that error.
func checkSnapshot(ctx context.Context, r io.ReaderAt, m meta, rep *Report, v visitor) error {
	w := &walker{ctx: ctx, r: r, m: m, rep: rep, visit: v, seen: map[uint64]bool{0: true, 1: true}, free: map[uint64]bool{}, buckets: map[string]*BucketReport{}}
	rep.PageSize, rep.TxID, rep.Pages = int(m.pageSize), m.txid, m.hwm
	w.readFreelist()
	err := w.bucketTree(nil, m.root, nil, nil)
	if errors.Is(err, errStop) || ctx.Err() != nil {
		rep.Incomplete = true
		err = nil
	}
	if err != nil {
		return err
	}
	names := make([]string, 0, len(w.buckets))
	for n := range w.buckets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rep.Buckets = append(rep.Buckets, *w.buckets[n])
	}
	if v.end != nil && !rep.Incomplete {
		if err := v.end(w); err != nil {
			return err
		}
	}
	if !rep.Incomplete {
		var lost []uint64
		for id := uint64(2); id < m.hwm; id++ {
			if !w.seen[id] && !w.free[id] {
				lost = append(lost, id)
			}
		}
		if len(lost) > 0 && len(rep.Problems) == 0 {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d page(s) neither in use nor free (first: %d): space lost, no records; `clipsheet salvage` writes a file without them", len(lost), lost[0]))
		}
	}
	return nil
}

// page reads page id and its overflow pages, checking its header.
func (w *walker) page(id uint64, want ...uint16) ([]byte, error) {
	if id < 2 || id >= w.m.hwm {
		return nil, fmt.Errorf("refers to page %d, outside the file's %d pages", id, w.m.hwm)
	}
	ps := int64(w.m.pageSize)
	hdr := make([]byte, pageHeaderSize)
	if _, err := w.r.ReadAt(hdr, int64(id)*ps); err != nil {
		return nil, fmt.Errorf("cannot be read: %v", err)
	}
	if got := le.Uint64(hdr); got != id {
		return nil, fmt.Errorf("holds page number %d, not its own (overwritten or zeroed)", got)
	}
	flags := le.Uint16(hdr[8:])
	if !slices.Contains(want, flags) {
		return nil, fmt.Errorf("has page type %#x", flags)
	}
	overflow := uint64(le.Uint32(hdr[12:]))
	if id+overflow >= w.m.hwm {
		return nil, fmt.Errorf("claims %d overflow pages, past the end", overflow)
	}
	for i := id; i <= id+overflow; i++ {
		if w.seen[i] {
			return nil, fmt.Errorf("page %d is used twice", i)
		}
		if w.free[i] {
			return nil, fmt.Errorf("page %d is in use and listed free", i)
		}
	}
	for i := id; i <= id+overflow; i++ {
		w.seen[i] = true
	}
	buf := make([]byte, int64(overflow+1)*ps)
	if _, err := w.r.ReadAt(buf, int64(id)*ps); err != nil {
		return nil, fmt.Errorf("cannot be read: %v", err)
	}
	return buf, nil
}

func (w *walker) readFreelist() {
	if w.m.freelist == noFreelist {
		return
	}
	p, err := w.page(w.m.freelist, flagFreelist)
	if err != nil {
		w.problem("freelist page %d %v", w.m.freelist, err)
		return
	}
	count, at := uint64(le.Uint16(p[10:])), pageHeaderSize
	if count == 0xFFFF {
		count, at = le.Uint64(p[pageHeaderSize:]), pageHeaderSize+8
	}
	if count > uint64(len(p)-at)/8 {
		w.problem("freelist page %d lists %d pages, more than it holds", w.m.freelist, count)
		return
	}
	for i := uint64(0); i < count; i++ {
		id := le.Uint64(p[at+int(i)*8:])
		switch {
		case id < 2 || id >= w.m.hwm:
			w.problem("freelist page %d lists page %d, outside the file", w.m.freelist, id)
			return
		case w.free[id]:
			w.problem("freelist page %d lists page %d twice", w.m.freelist, id)
			return
		case w.seen[id]:
			w.problem("freelist page %d lists itself as free", w.m.freelist)
			return
		}
		w.free[id] = true
	}
}

func bucketName(path [][]byte) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = string(p)
	}
	return strings.Join(parts, "/")
}

// bucketTree walks the tree of the bucket at path rooted at page id. lo
// and hi bound its keys (hi exclusive; nil is open).
func (w *walker) bucketTree(path [][]byte, id uint64, lo, hi []byte) error {
	if err := w.ctx.Err(); err != nil {
		return errStop
	}
	p, err := w.page(id, flagBranch, flagLeaf)
	if err != nil {
		w.damaged(path, "page %d %v", id, err)
		return nil
	}
	if le.Uint16(p[8:]) == flagLeaf {
		return w.leaf(path, p, id, lo, hi)
	}
	elems, err := elements(p, 0, false)
	if err != nil {
		w.damaged(path, "page %d %v", id, err)
		return nil
	}
	for i, e := range elems {
		if !inRange(e.key, lo, hi) || (i > 0 && bytes.Compare(elems[i-1].key, e.key) >= 0) {
			w.damaged(path, "page %d: keys out of order", id)
			return nil
		}
	}
	for i, e := range elems {
		next := hi
		if i+1 < len(elems) {
			next = elems[i+1].key
		}
		if err := w.bucketTree(path, e.child, e.key, next); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) damaged(path [][]byte, format string, args ...any) {
	where := "the list of buckets"
	if len(path) == 0 {
		w.rootDamaged = true
	} else {
		where = "bucket " + bucketName(path)
		w.bucketReport(path).Damaged++
	}
	w.problem(where+": "+format, args...)
}

func (w *walker) bucketReport(path [][]byte) *BucketReport {
	n := bucketName(path)
	b := w.buckets[n]
	if b == nil {
		b = &BucketReport{Name: n}
		w.buckets[n] = b
	}
	return b
}

func inRange(k, lo, hi []byte) bool {
	return (lo == nil || bytes.Compare(k, lo) >= 0) && (hi == nil || bytes.Compare(k, hi) < 0)
}

type element struct {
	key, value []byte
	bucket     bool
	child      uint64
}

// elements decodes the elements of the page starting at off in p, every
// key and value checked to lie inside p.
func elements(p []byte, off int, leaf bool) ([]element, error) {
	count := int(le.Uint16(p[off+10:]))
	base := off + pageHeaderSize
	if base+count*elementSize > len(p) {
		return nil, fmt.Errorf("claims %d records, more than it holds", count)
	}
	out := make([]element, count)
	for i := range out {
		e := p[base+i*elementSize:]
		at := base + i*elementSize
		var pos, ksize, vsize uint64
		if leaf {
			pos, ksize, vsize = uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
			out[i].bucket = le.Uint32(e)&leafBucketFlag != 0
		} else {
			pos, ksize = uint64(le.Uint32(e)), uint64(le.Uint32(e[4:]))
			out[i].child = le.Uint64(e[8:])
		}
		start := uint64(at) + pos
		if start+ksize+vsize > uint64(len(p)) {
			return nil, fmt.Errorf("record %d lies past the page's end", i)
		}
		out[i].key = p[start : start+ksize]
		out[i].value = p[start+ksize : start+ksize+vsize]
	}
	return out, nil
}

func (w *walker) leaf(path [][]byte, p []byte, id uint64, lo, hi []byte) error {
	elems, err := elements(p, 0, true)
	if err != nil {
		w.damaged(path, "page %d %v", id, err)
		return nil
	}
	return w.records(path, elems, fmt.Sprintf("page %d", id), lo, hi)
}

func (w *walker) records(path [][]byte, elems []element, where string, lo, hi []byte) error {
	for i, e := range elems {
		if !inRange(e.key, lo, hi) || (i > 0 && bytes.Compare(elems[i-1].key, e.key) >= 0) {
			w.damaged(path, "%s: keys out of order", where)
			return nil
		}
	}
	for _, e := range elems {
		if e.bucket {
			if err := w.bucket(path, e); err != nil {
				return err
			}
			continue
		}
		if len(path) == 0 {
			w.damaged(path, "%s: a record outside any bucket", where)
			continue
		}
		w.bucketReport(path).Records++
		if w.visit.record != nil {
			if err := w.visit.record(path, e.key, e.value); err != nil {
				return err
			}
		}
	}
	return nil
}

// bucket walks a bucket stored in a record of its parent.
func (w *walker) bucket(parent [][]byte, e element) error {
	path := append(append([][]byte{}, parent...), e.key)
	if len(e.value) < bucketHeaderSize {
		w.damaged(path, "its header is cut short")
		return nil
	}
	w.bucketReport(path)
	if w.visit.bucket != nil {
		if err := w.visit.bucket(path, le.Uint64(e.value[8:])); err != nil {
			return err
		}
	}
	root := le.Uint64(e.value)
	if root != 0 {
		return w.bucketTree(path, root, nil, nil)
	}
	// An inline bucket: its one leaf page is in the value.
	inline := e.value[bucketHeaderSize:]
	if len(inline) < pageHeaderSize || le.Uint16(inline[8:]) != flagLeaf {
		w.damaged(path, "its inline page is damaged")
		return nil
	}
	elems, err := elements(inline, 0, true)
	if err != nil {
		w.damaged(path, "inline page %v", err)
		return nil
	}
	return w.records(path, elems, "inline page", nil, nil)
}
