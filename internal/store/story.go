package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/story"
)

// Story grouping. A new item's print (internal/story) is compared with the
// prints of recent items that share one of its keys; the best match names
// the item's story. Prints and their keys are kept for storyWindow only:
// story.Compare never groups items further apart than a week, so older
// prints would only cost space (a print has some twenty keys).
//
//	story_prints  ref → print
//	story_keys    key ref → nil
//	item_index    'g' len story ref → nil, for items that joined a story
var (
	bucketStoryPrints = []byte("story_prints")
	bucketStoryKeys   = []byte("story_keys")
	keyStoryFrom      = []byte("story_prints_from")
)

const (
	idxStory    = 'g'
	storyWindow = 8 * 24 * time.Hour
	// maxCompares bounds the prints one new item is compared with, newest
	// first: real stories share keys with a handful of items, but a run of
	// templated items (each "Weather alert for …") shares them with all.
	maxCompares = 256
)

// storyPrefix is the 'g' range of one story's joiners.
func storyPrefix(storyID string) []byte {
	p := make([]byte, 0, 2+len(storyID)+binary.MaxVarintLen64)
	p = append(p, idxStory)
	p = binary.AppendUvarint(p, uint64(len(storyID)))
	return append(p, storyID...)
}

// groupNew finds the story of a new item before it is stored and, when the
// story already has an approved version, files the item as its duplicate
// rather than queueing it again. It returns the item's print, to be
// stored with it.
func (s *Bolt) groupNew(tx *bolt.Tx, it *model.Item) (story.Print, error) {
	p := story.Fingerprint(it)
	if p.Empty() {
		return p, nil
	}
	prints, keys := tx.Bucket(bucketStoryPrints), tx.Bucket(bucketStoryKeys)
	seen := map[string]bool{}
	compared := 0
	var best []byte
	var bestMatch story.Match
	for _, k := range story.Keys(p) {
		c := keys.Cursor()
		// Newest first, at most story.MaxBucket a key: a key every item
		// shares (a common headline word) must not make this a scan.
		end := append(append([]byte(nil), k...), bytes.Repeat([]byte{0xff}, 9)...)
		ck, _ := c.Seek(end)
		if ck == nil {
			ck, _ = c.Last()
		} else {
			ck, _ = c.Prev()
		}
		for n := 0; ck != nil && n < story.MaxBucket && compared < maxCompares && len(ck) == len(k)+8 && bytes.HasPrefix(ck, k); ck, _ = c.Prev() {
			n++
			ref := ck[len(k):]
			if seen[string(ref)] {
				continue
			}
			seen[string(ref)] = true
			other, err := story.Decode(prints.Get(ref))
			if err != nil {
				continue // a print of another version of the encoding: no match
			}
			compared++
			m := story.Compare(p, other)
			if m.Same && (best == nil || betterMatch(m, bestMatch)) {
				best, bestMatch = append([]byte(nil), ref...), m
			}
		}
	}
	if best == nil {
		return p, nil
	}
	match, err := s.headAt(tx, best)
	if err != nil {
		return p, err
	}
	it.Story = match.StoryID()
	if it.Status != model.StatusQueued {
		return p, nil
	}
	approved, err := s.approvedVersion(tx, it.Story)
	if err != nil || approved == nil {
		return p, err
	}
	it.Status, it.DuplicateOf = model.StatusRejected, approved.ID
	it.DecidedAt, it.DecidedBy = it.FetchedAt, "clipsheet"
	return p, nil
}

func betterMatch(a, b story.Match) bool {
	if (a.Reason == story.SameURL) != (b.Reason == story.SameURL) {
		return a.Reason == story.SameURL
	}
	return a.Score > b.Score
}

// storyRefs returns the references of every stored version of a story:
// its first item and the items that joined it.
func storyRefs(tx *bolt.Tx, storyID string) [][]byte {
	var refs [][]byte
	if ref := tx.Bucket(bucketItems).Get([]byte(storyID)); ref != nil {
		refs = append(refs, append([]byte(nil), ref...))
	}
	p := storyPrefix(storyID)
	c := tx.Bucket(bucketIndex).Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		if len(k) == len(p)+8 {
			refs = append(refs, append([]byte(nil), k[len(p):]...))
		}
	}
	return refs
}

// approvedVersion returns the story's approved version, if any.
func (s *Bolt) approvedVersion(tx *bolt.Tx, storyID string) (*model.Item, error) {
	for _, ref := range storyRefs(tx, storyID) {
		it, err := s.headAt(tx, ref)
		if err != nil {
			return nil, err
		}
		if it.Status == model.StatusApproved {
			return it, nil
		}
	}
	return nil, nil
}

// putPrint stores a new item's print and keys.
func putPrint(tx *bolt.Tx, ref []byte, p story.Print) error {
	if p.Empty() {
		return nil
	}
	data, err := p.MarshalBinary()
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketStoryPrints).Put(ref, data); err != nil {
		return err
	}
	keys := tx.Bucket(bucketStoryKeys)
	for _, k := range story.Keys(p) {
		if err := keys.Put(append(append([]byte(nil), k...), ref...), nil); err != nil {
			return err
		}
	}
	return nil
}

// deletePrint removes an item's print and keys, if it still has them.
func deletePrint(tx *bolt.Tx, ref []byte) error {
	prints := tx.Bucket(bucketStoryPrints)
	data := prints.Get(ref)
	if data == nil {
		return nil
	}
	if p, err := story.Decode(data); err == nil {
		keys := tx.Bucket(bucketStoryKeys)
		for _, k := range story.Keys(p) {
			if err := keys.Delete(append(append([]byte(nil), k...), ref...)); err != nil {
				return err
			}
		}
	}
	return prints.Delete(ref)
}

// StoryVersions returns every stored version of the story id names (id
// may be any version's ID), first item first, then newest first.
func (s *Bolt) StoryVersions(ctx context.Context, id string) ([]*model.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*model.Item
	err := s.view(func(tx *bolt.Tx) error {
		ref, err := itemRef(tx, id)
		if err != nil {
			return err
		}
		it, err := s.headAt(tx, ref)
		if err != nil {
			return err
		}
		refs := storyRefs(tx, it.StoryID())
		// Joiners' references grow with arrival: newest last; show newest
		// first after the first item.
		for i, ref := range refs {
			if i > 0 {
				ref = refs[len(refs)-i]
			}
			v, err := s.headAt(tx, ref)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("story versions of %s: %w", id, err)
	}
	return out, nil
}

// DecideVersion approves the version chosen (at version want; 0 means any)
// and files every other queued version of its story as its duplicate:
// rejected, with DuplicateOf naming it. One transaction: the briefing never
// carries two versions of one story.
func (s *Bolt) DecideVersion(ctx context.Context, chosen string, want int64, by string, at time.Time) (*model.Item, []*model.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var out *model.Item
	var dups []*model.Item
	err := s.update(func(tx *bolt.Tx) error {
		dups = nil
		it, ref, err := s.getItem(tx, chosen)
		if err != nil {
			return err
		}
		if want != 0 && it.Version != want {
			return &StaleError{Want: want, Current: it}
		}
		change := func(it *model.Item, ref []byte, fn func(*model.Item)) error {
			if err := deleteIndex(tx, it, ref); err != nil {
				return err
			}
			fn(it)
			it.Version++
			prepareItem(it)
			if err := s.writeRecords(tx, it, ref, false); err != nil {
				return err
			}
			return putIndex(tx, it, ref)
		}
		if err := change(it, ref, func(it *model.Item) {
			it.Status, it.DecidedAt, it.DecidedBy, it.UpdatedAt, it.DuplicateOf = model.StatusApproved, at, by, at, ""
		}); err != nil {
			return err
		}
		out = it
		for _, r := range storyRefs(tx, it.StoryID()) {
			if bytes.Equal(r, ref) {
				continue
			}
			v, err := s.headAt(tx, r)
			if err != nil {
				return err
			}
			if v.Status != model.StatusQueued {
				continue
			}
			if err := change(v, r, func(v *model.Item) {
				v.Status, v.DecidedAt, v.DecidedBy, v.UpdatedAt, v.DuplicateOf = model.StatusRejected, at, by, at, it.ID
			}); err != nil {
				return err
			}
			dups = append(dups, v)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("decide version %s: %w", chosen, err)
	}
	return out, dups, nil
}

// expireStoryPrints drops the prints and keys of items fetched before
// cutoff, from where the last run stopped.
func (s *Bolt) expireStoryPrints(ctx context.Context, cutoff time.Time) (int, error) {
	return s.sweep(ctx, keyStoryFrom, cutoff, func(tx *bolt.Tx, ref []byte, _ *model.Item) (bool, error) {
		if tx.Bucket(bucketStoryPrints).Get(ref) == nil {
			return false, nil
		}
		return true, deletePrint(tx, ref)
	})
}
