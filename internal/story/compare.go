package story

import (
	"math"
	"math/bits"
)

// Reason says why two prints are (or are not) the same story.
type Reason uint8

// Reasons, in the order Compare tries them.
const (
	Different     Reason = iota // not the same story
	SameURL                     // one canonical story URL
	NearDuplicate               // headline and lead nearly word for word
	WireCopy                    // one agency's copy, re-headlined or trimmed by the outlet
	SameHeadline                // the same headline over a reworded lead, or no lead at all
)

var reasonNames = [...]string{"different", "same URL", "near duplicate", "wire copy", "same headline"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Match is Compare's verdict on two prints.
type Match struct {
	Same   bool
	Reason Reason
	// Score is the similarity the verdict rests on, 0 to 1: the estimated
	// Jaccard similarity of the leads' word triples when both have a lead,
	// else the headlines' estimated cosine similarity; 1 for one URL.
	Score float64
	// Differs is how much of the text differs, 0 (word for word) to 1
	// (nothing in common): what the card shows beside each version.
	Differs float64
	// Lead and Headline are the two similarities separately; -1 when one
	// side has no lead (headline).
	Lead, Headline float64
}

// Thresholds of the rules in Compare. They were set on the labelled pairs
// in testdata (docs/story-grouping.md has the figures and the misses).
const (
	maxDays        = 7    // stories further apart than this are not grouped, bar one URL
	nearLead       = 0.5  // lead similarity for a near duplicate
	wireLead       = 0.3  // lead similarity for the same agency's copy
	nearHeadBits   = 8    // SimHash bits two near-identical headlines may differ by
	headWithLead   = 0.15 // and then at least this lead similarity when both have one
	mixedLead      = 0.35 // a similar lead…
	mixedHeadBits  = 16   // …under a similar headline
	numberConflict = 2    // other figures in the same words that make it another event
)

// Compare decides whether two prints are of the same story.
//
// Text rules (near-duplicate lead, same agency's wire copy, same headline)
// are vetoed when the leads have the same words around different names,
// or around two or more different figures: that is one template filled
// for two events (weather warnings for two counties, two games' scores,
// two crime briefs), which word overlap alone would call near duplicates.
// Different figures alone are allowed in one agency's copies that share
// most of their words: the agency's update of its own story.
func Compare(a, b Print) Match {
	m := Match{Lead: -1, Headline: -1}
	if a.Empty() || b.Empty() {
		m.Differs = 1
		return m
	}
	bothLead := a.flags&b.flags&flagLead != 0
	bothHead := a.flags&b.flags&flagHeadline != 0
	if bothLead {
		m.Lead = leadSimilarity(a, b)
	}
	if bothHead {
		m.Headline = headSimilarity(a.headline, b.headline)
	}
	switch {
	case bothLead:
		m.Score = m.Lead
	case bothHead:
		m.Score = m.Headline
	case a.flags&b.flags&flagNamesHead != 0:
		m.Score = leadSimilarity(a, b)
	}
	m.Differs = 1 - m.Score

	if a.flags&b.flags&flagURL != 0 && a.url == b.url {
		m.Same, m.Reason, m.Score = true, SameURL, 1
		return m
	}
	if a.day != 0 && b.day != 0 && absDiff(a.day, b.day) > maxDays {
		return m
	}
	names, figures := conflicts(a, b)
	if names > 0 {
		return m
	}
	sameAgency := a.agency != NoAgency && a.agency == b.agency
	if figures >= numberConflict {
		// Other figures in the same words: another event of a template,
		// unless it is the agency's own write-through of its story (a toll
		// and a count updated), which keeps most of its words.
		if bothLead && sameAgency && m.Lead >= nearLead {
			m.Same, m.Reason = true, WireCopy
		}
		return m
	}
	headBits := 64
	if bothHead {
		headBits = bits.OnesCount64(a.headline ^ b.headline)
	}
	switch {
	case bothLead && m.Lead >= nearLead:
		m.Same, m.Reason = true, NearDuplicate
	case bothLead && sameAgency && m.Lead >= wireLead:
		m.Same, m.Reason = true, WireCopy
	case bothHead && headBits <= nearHeadBits && (!bothLead || m.Lead >= headWithLead):
		m.Same, m.Reason = true, SameHeadline
	case bothLead && bothHead && m.Lead >= mixedLead && headBits <= mixedHeadBits:
		m.Same, m.Reason = true, NearDuplicate
	}
	return m
}

// conflicts counts the template pattern: the same words around other
// names, and around other figures. Names of a lead are not compared with
// those of a headline.
func conflicts(a, b Print) (names, figures int) {
	if a.flags&flagNamesHead != b.flags&flagNamesHead {
		return 0, 0
	}
	i, j := 0, 0
	for i < numSlots && j < numSlots && a.slots[i].key != 0 && b.slots[j].key != 0 {
		sa, sb := a.slots[i], b.slots[j]
		switch {
		case sa.key < sb.key:
			i++
		case sa.key > sb.key:
			j++
		default:
			if sa.val != sb.val {
				if sa.val&0x80 != 0 || sb.val&0x80 != 0 {
					names++
				} else {
					figures++
				}
			}
			i++
			j++
		}
	}
	return names, figures
}

// leadSimilarity estimates the Jaccard similarity of the two leads' word
// triples from the share of equal one-byte MinHash values, corrected for
// the 1 in 256 that agree by chance.
func leadSimilarity(a, b Print) float64 {
	eq := 0
	for i := range a.lead {
		if a.lead[i] == b.lead[i] {
			eq++
		}
	}
	const c = 1.0 / 256
	j := (float64(eq)/numHashes - c) / (1 - c)
	return math.Max(0, math.Min(1, j))
}

// headSimilarity estimates the cosine similarity of two headlines from
// their SimHash distance (Charikar: P[bit differs] = angle/π).
func headSimilarity(a, b uint64) float64 {
	d := bits.OnesCount64(a ^ b)
	return math.Max(0, math.Cos(math.Pi*float64(d)/64))
}

func absDiff(a, b uint16) uint16 {
	if a > b {
		return a - b
	}
	return b - a
}
