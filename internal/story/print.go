// Package story decides which items are the same story: the same canonical
// URL, near-duplicate headline and lead, or one agency's wire copy carried
// by many outlets under their own headlines.
//
// Each item is reduced to a Print of 83 bytes (Size; stored beside the
// item); two prints are compared without the texts. Keys gives the
// locality-sensitive keys under which a print is indexed, so the prints
// worth comparing with a new item are found by a few key lookups instead of
// a scan.
package story

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

// Version is the print encoding this package writes. A stored print of
// another version is refused by Decode; the caller fingerprints the item
// again.
const Version = 1

// Size is the length of an encoded print.
const Size = 5 + 8 + 8 + numHashes + 3*numSlots

const (
	numHashes   = 32 // MinHash values over the lead's word shingles
	leadWords   = 32 // words of the lead (after the dateline) that are fingerprinted
	shingleLen  = 3  // words per shingle
	minLeadToks = 8  // fewer words than this is not a lead to compare
	minHeadToks = 3  // nor a headline
	slotWords   = 60 // words of the lead searched for names and figures
	numSlots    = 10 // names and figures kept
)

const (
	flagHeadline  = 1 << 0 // a comparable headline
	flagLead      = 1 << 1 // a comparable lead
	flagURL       = 1 << 2 // a story URL
	flagNamesHead = 1 << 3 // no lead: names, figures and MinHash come from the headline
)

// Print is an item's story fingerprint. The zero Print is empty: it
// matches nothing.
type Print struct {
	flags    uint8
	agency   Agency
	day      uint16 // days since 2000-01-01 of the story's time, 0 when unknown
	url      uint64 // hash of the canonical story URL
	headline uint64 // SimHash of the headline's words and word pairs
	lead     [numHashes]uint8
	slots    [numSlots]slot // names and figures in context, by key
}

// Agency is the wire service the item is copy of, NoAgency when none was
// recognised.
func (p Print) Agency() Agency { return p.agency }

// Empty reports whether the print carries nothing to compare.
func (p Print) Empty() bool { return p.flags&(flagHeadline|flagLead|flagURL) == 0 }

var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Fingerprint computes the print of an item from its headline, lead,
// byline, body and story URL as extracted (the item's Original), falling
// back to the current fields for an item without one. A curator's edit
// does not move the item away from the other outlets' copies of its story,
// which arrive unedited.
func Fingerprint(it *model.Item) Print {
	var p Print
	if it == nil {
		return p
	}
	if link := it.LinkURL(); link != "" {
		p.url = urlHash(link)
		p.flags |= flagURL
	}
	if t := it.SortTime(); !t.IsZero() && t.After(epoch) {
		if d := t.Sub(epoch).Hours() / 24; d < 65535 {
			p.day = uint16(d) + 1
		}
	}

	text := it.Original
	if text.Title == "" && text.Lead == "" {
		text = model.Extraction{Title: it.Title, Lead: it.Lead, Byline: it.Byline, Body: it.Body, SiteName: it.SiteName}
	}
	htoks := tokenize(stripSiteSuffix(text.Title, text.SiteName), 48)
	if len(htoks) >= minHeadToks {
		p.flags |= flagHeadline
		p.headline = simhash(htoks)
	}

	lead, dl := stripDateline(stripPreamble(text.Lead))
	p.agency = detectAgency(text.Byline, text.Lead, text.Body, dl)
	ltoks := tokenize(lead, slotWords)
	if len(ltoks) >= minLeadToks {
		p.flags |= flagLead
		p.lead = minhash(ltoks[:min(len(ltoks), leadWords)])
		p.slots = slotsOf(ltoks)
	} else {
		// No lead to speak of: the headline stands in, so that the index
		// still has shingles to find the item by.
		all := append(htoks[:len(htoks):len(htoks)], ltoks...)
		if len(all) > 0 {
			p.lead = minhash(all)
			p.slots = slotsOf(htoks)
			p.flags |= flagNamesHead
		}
	}
	return p
}

func urlHash(link string) uint64 {
	id := model.ItemID(link)
	var h uint64
	for i := 0; i < 16 && i < len(id); i++ {
		h = h<<4 | uint64(hexVal(id[i]))
	}
	return h
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return 0
}

// simhash is Charikar's SimHash over the headline's words and adjacent
// word pairs: similar headlines differ in few bits.
func simhash(toks []token) uint64 {
	var v [64]int
	add := func(h uint64) {
		h = mix(h)
		for i := range 64 {
			if h&(1<<i) != 0 {
				v[i]++
			} else {
				v[i]--
			}
		}
	}
	for i, t := range toks {
		add(t.hash)
		if i > 0 {
			add(toks[i-1].hash*31 ^ t.hash)
		}
	}
	var h uint64
	for i := range 64 {
		if v[i] > 0 {
			h |= 1 << i
		}
	}
	return h
}

// minhash gives numHashes one-byte MinHash values over the word shingles
// of toks (b-bit MinHash: a byte per value keeps the print small; the
// 1-in-256 chance collisions are corrected for in Compare).
func minhash(toks []token) [numHashes]uint8 {
	var mins [numHashes]uint64
	for i := range mins {
		mins[i] = ^uint64(0)
	}
	n := shingleLen
	if len(toks) < n {
		n = len(toks)
	}
	for i := 0; i+n <= len(toks); i++ {
		var s uint64
		for j := range n {
			s = mix(s ^ toks[i+j].hash)
		}
		for k := range mins {
			if h := mix(s ^ seeds[k]); h < mins[k] {
				mins[k] = h
			}
		}
	}
	var out [numHashes]uint8
	for k, m := range mins {
		// The low byte: the high bits of a minimum are mostly zeros, and
		// would make unrelated texts agree.
		out[k] = uint8(m)
	}
	return out
}

// seeds make the numHashes hash functions of minhash; fixed, because a
// stored print must compare with one made later.
var seeds = func() [numHashes]uint64 {
	var s [numHashes]uint64
	x := uint64(0x5eed5eed5eed5eed)
	for i := range s {
		x = mix(x + 0x9e3779b97f4a7c15)
		s[i] = x
	}
	return s
}()

// isName reports a word that names someone or something: capitalised,
// two letters or more, not a capitalised sentence starter.
func isName(t token) bool {
	return t.capital && len(t.folded) >= 2 && !(t.sentence && starters[t.folded])
}

// slotsOf finds the names and figures of a text in their context: each run
// of names ("Polk County", "Green Valley Farms") or figures is recorded
// under the words just before and after it. Two texts with the same words
// around different names are one template filled for two events (a
// warning "for … near Granger, moving east" and one "near Huxley, moving
// east"); a name added or dropped by an editor changes the context instead,
// and counts for nothing. The numSlots runs with the smallest context
// hashes are kept, so two copies of a story keep the same ones; a context
// seen with two different runs in one text is ambiguous and dropped.
func slotsOf(toks []token) [numSlots]slot {
	type run struct {
		key uint16
		val uint8
		ok  bool
	}
	runs := make(map[uint16]run)
	for i := 0; i < len(toks); {
		t := toks[i]
		if !(t.number || isName(t)) {
			i++
			continue
		}
		j := i + 1
		number := t.number
		for j < len(toks) && !toks[j].punct && (toks[j].number || isName(toks[j])) {
			number = number && toks[j].number
			j++
		}
		if j >= len(toks) {
			// A run at the end may have been cut by the window: nothing to
			// compare it by.
			i = j
			continue
		}
		var v uint64
		for _, r := range toks[i:j] {
			v = mix(v ^ r.hash)
		}
		prev := uint64(startOfText) // the start of the text is a context too
		if i > 0 {
			prev = toks[i-1].hash
		}
		key := uint16(mix(prev*0x9e3779b97f4a7c15^toks[j].hash) >> 48)
		if key == 0 {
			key = 1 // 0 marks an empty slot
		}
		val := uint8(v>>57) | 0x80 // high bit: a run of names
		if number {
			val &^= 0x80
		}
		if old, seen := runs[key]; seen {
			if old.val != val {
				runs[key] = run{key: key, ok: false}
			}
		} else {
			runs[key] = run{key: key, val: val, ok: true}
		}
		i = j
	}
	var out [numSlots]slot
	n := 0
	for _, r := range runs {
		if !r.ok {
			continue
		}
		// Insert by key into the bottom-numSlots list.
		s := slot{key: r.key, val: r.val}
		if n < numSlots {
			out[n] = s
			n++
		} else if s.key < out[n-1].key {
			out[n-1] = s
		} else {
			continue
		}
		for k := n - 1; k > 0 && out[k].key < out[k-1].key; k-- {
			out[k], out[k-1] = out[k-1], out[k]
		}
	}
	return out
}

// startOfText stands for the word before the first.
const startOfText = 0x5e

// slot is one run of names or figures under its context: key hashes the
// surrounding words (0: empty slot), val the run, its high bit set for
// names.
type slot struct {
	key uint16
	val uint8
}

// ErrVersion is wrapped by Decode's error for a print of another encoding
// version.
var ErrVersion = errors.New("story print of another version")

// MarshalBinary encodes the print: version, flags, agency, day, URL hash,
// headline SimHash, lead MinHash, then the name slots (key, value); Size
// bytes, big endian.
func (p Print) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, Size))
}

// AppendBinary appends the encoding MarshalBinary returns to b.
func (p Print) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, Version, p.flags, byte(p.agency))
	b = binary.BigEndian.AppendUint16(b, p.day)
	b = binary.BigEndian.AppendUint64(b, p.url)
	b = binary.BigEndian.AppendUint64(b, p.headline)
	b = append(b, p.lead[:]...)
	for _, s := range p.slots {
		b = binary.BigEndian.AppendUint16(b, s.key)
		b = append(b, s.val)
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote.
func (p *Print) UnmarshalBinary(b []byte) error {
	q, err := Decode(b)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// Decode reads an encoded print. It refuses a wrong length, another
// version and values no encoder writes, rather than compare garbage.
func Decode(b []byte) (Print, error) {
	var p Print
	if len(b) == 0 {
		return p, errors.New("story print: empty")
	}
	if b[0] != Version {
		return p, fmt.Errorf("story print: version %d, want %d: %w", b[0], Version, ErrVersion)
	}
	if len(b) != Size {
		return p, fmt.Errorf("story print: %d bytes, want %d", len(b), Size)
	}
	p.flags = b[1]
	if p.flags&^(flagHeadline|flagLead|flagURL|flagNamesHead) != 0 {
		return Print{}, fmt.Errorf("story print: unknown flags %#x", p.flags)
	}
	if p.flags&flagLead != 0 && p.flags&flagNamesHead != 0 {
		return Print{}, errors.New("story print: names both from the lead and the headline")
	}
	p.agency = Agency(b[2])
	if p.agency >= maxAgency {
		return Print{}, fmt.Errorf("story print: unknown agency %d", b[2])
	}
	p.day = binary.BigEndian.Uint16(b[3:])
	p.url = binary.BigEndian.Uint64(b[5:])
	p.headline = binary.BigEndian.Uint64(b[13:])
	copy(p.lead[:], b[21:21+numHashes])
	o := 21 + numHashes
	for i := range p.slots {
		s := slot{key: binary.BigEndian.Uint16(b[o:]), val: b[o+2]}
		o += 3
		switch {
		case s.key == 0 && s.val != 0:
			return Print{}, errors.New("story print: value in an empty slot")
		case s.key == 0:
		case i > 0 && (p.slots[i-1].key == 0 || p.slots[i-1].key >= s.key):
			return Print{}, errors.New("story print: slots out of order")
		}
		p.slots[i] = s
	}
	return p, nil
}

// Key prefixes: one byte naming what a key indexes.
const (
	keyURL      = 'U'
	keyLead     = 'L'
	keyHeadline = 'H'
)

const (
	leadBands = numHashes / 2 // LSH bands of two MinHash values each
	headParts = 4             // SimHash split in four 16-bit parts
)

// Keys returns the index keys of a print: its URL hash, one key per LSH
// band of the lead's MinHash (two values a band), and the four 16-bit
// quarters of the headline's SimHash. Two prints the Compare rules call
// the same story share at least one key with high probability (a
// headline within three bits of another shares a quarter for certain), so
// candidates are the items found under a new print's keys. An empty print
// has none.
//
// A key's first byte fixes its length ('U' 9 bytes, 'L' and 'H' 4), so a
// store can keep one entry per key as key‖seq‖itemID (seq growing with
// time) and find a key's items by a prefix seek, newest last.
func Keys(p Print) [][]byte {
	if p.Empty() {
		return nil
	}
	keys := make([][]byte, 0, 1+leadBands+headParts)
	if p.flags&flagURL != 0 {
		k := []byte{keyURL}
		keys = append(keys, binary.BigEndian.AppendUint64(k, p.url))
	}
	if p.flags&(flagLead|flagNamesHead) != 0 {
		for b := range leadBands {
			keys = append(keys, []byte{keyLead, byte(b), p.lead[2*b], p.lead[2*b+1]})
		}
	}
	if p.flags&flagHeadline != 0 {
		for q := range headParts {
			v := uint16(p.headline >> (16 * q))
			keys = append(keys, []byte{keyHeadline, byte(q), byte(v >> 8), byte(v)})
		}
	}
	return keys
}
