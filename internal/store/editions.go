package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

// Editions keeps the published editions of the briefing and the curators'
// arrangement of the next one.
type Editions interface {
	// PublishEdition stores e as the newest edition. after is the ID of
	// the newest edition the caller built e on ("" for none): when another
	// was published since, nothing is stored and the error is
	// ErrEditionRace, so two publishers (a curator and the schedule) cannot
	// both publish the same stories. A story already in an edition is
	// dropped from e. When e.ID is taken, "-2", "-3", … is appended.
	// The draft is cleared in the same transaction.
	PublishEdition(ctx context.Context, e *model.Edition, after string) error
	GetEdition(ctx context.Context, id string) (*model.Edition, error)
	// LatestEdition returns the newest edition, or ErrNotFound.
	LatestEdition(ctx context.Context) (*model.Edition, error)
	// ListEditions returns editions newest first.
	ListEditions(ctx context.Context, limit, offset int) ([]*model.Edition, error)
	// CorrectEdition applies fn to a published edition and records the
	// change (rev, UpdatedAt) in one transaction; fn must append the
	// correction it makes.
	CorrectEdition(ctx context.Context, id string, fn func(*model.Edition) error) (*model.Edition, error)
	// ItemEditions reports, for each item ID, the edition that published
	// it ("" for none).
	ItemEditions(ctx context.Context, ids []string) ([]string, error)
	EditionDraft(ctx context.Context) (*model.EditionDraft, error)
	PutEditionDraft(ctx context.Context, d *model.EditionDraft) error
	// EditionsRev counts changes to published editions (publications and
	// corrections) and says when the last one was: pages and feeds built
	// from editions are the same while it stays the same.
	EditionsRev(ctx context.Context) (uint64, time.Time, error)
}

// ErrEditionRace refuses an edition built on an edition that is no longer
// the newest.
var ErrEditionRace = errors.New("another edition was published meanwhile")

// ErrEmptyEdition refuses an edition with no story left to publish.
var ErrEmptyEdition = errors.New("no story to publish")

// The editions live in buckets of their own, created on first write, so
// files written before editions existed need no migration:
//
//	editions:       ID → edition JSON
//	editions_seq:   8-byte publication sequence → ID (newest last)
//	edition_items:  item ID → ID of the edition that published it
//	edition_meta:   "draft" → draft JSON, "rev" → 8 bytes, "changed" → RFC 3339
var (
	bucketEditions     = []byte("editions")
	bucketEditionSeq   = []byte("editions_seq")
	bucketEditionItems = []byte("edition_items")
	bucketEditionMeta  = []byte("edition_meta")
	keyDraft           = []byte("draft")
	keyRev             = []byte("rev")
	keyChanged         = []byte("changed")
)

func editionBuckets(tx *bolt.Tx) (eds, seq, items, meta *bolt.Bucket, err error) {
	bs := make([]*bolt.Bucket, 4)
	for i, name := range [][]byte{bucketEditions, bucketEditionSeq, bucketEditionItems, bucketEditionMeta} {
		if bs[i], err = tx.CreateBucketIfNotExists(name); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	return bs[0], bs[1], bs[2], bs[3], nil
}

func latestEditionID(tx *bolt.Tx) string {
	seq := tx.Bucket(bucketEditionSeq)
	if seq == nil {
		return ""
	}
	_, v := seq.Cursor().Last()
	return string(v)
}

func getEdition(tx *bolt.Tx, id string) (*model.Edition, error) {
	b := tx.Bucket(bucketEditions)
	var v []byte
	if b != nil {
		v = b.Get([]byte(id))
	}
	if v == nil {
		return nil, fmt.Errorf("edition %s: %w", id, ErrNotFound)
	}
	var e model.Edition
	if err := json.Unmarshal(v, &e); err != nil {
		return nil, fmt.Errorf("decode edition %s: %w", id, err)
	}
	return &e, nil
}

func putEdition(eds *bolt.Bucket, e *model.Edition) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode edition %s: %w", e.ID, err)
	}
	return eds.Put([]byte(e.ID), data)
}

// bumpRev counts one more change to the published editions.
func bumpRev(meta *bolt.Bucket, at time.Time) error {
	var rev uint64
	if v := meta.Get(keyRev); len(v) == 8 {
		rev = binary.BigEndian.Uint64(v)
	}
	if err := meta.Put(keyRev, binary.BigEndian.AppendUint64(nil, rev+1)); err != nil {
		return err
	}
	return meta.Put(keyChanged, []byte(at.UTC().Format(time.RFC3339Nano)))
}

// PublishEdition implements Editions.
func (s *Bolt) PublishEdition(ctx context.Context, e *model.Edition, after string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.ID == "" {
		return errors.New("publish edition: empty id")
	}
	err := s.update(func(tx *bolt.Tx) error {
		eds, seq, items, meta, err := editionBuckets(tx)
		if err != nil {
			return err
		}
		if latest := latestEditionID(tx); latest != after {
			return fmt.Errorf("%w (%s)", ErrEditionRace, latest)
		}
		base := e.ID
		for n := 2; eds.Get([]byte(e.ID)) != nil; n++ {
			e.ID = base + "-" + strconv.Itoa(n)
		}
		kept := e.Items[:0]
		for _, it := range e.Items {
			if items.Get([]byte(it.ID)) == nil {
				kept = append(kept, it)
			}
		}
		e.Items = kept
		if len(e.Items) == 0 {
			return ErrEmptyEdition
		}
		if e.Lead != "" {
			if _, ok := e.Item(e.Lead); !ok {
				e.Lead = ""
			}
		}
		if e.UpdatedAt.IsZero() {
			e.UpdatedAt = e.PublishedAt
		}
		for _, it := range e.Items {
			if err := items.Put([]byte(it.ID), []byte(e.ID)); err != nil {
				return err
			}
		}
		n, err := seq.NextSequence()
		if err != nil {
			return err
		}
		if err := seq.Put(binary.BigEndian.AppendUint64(nil, n), []byte(e.ID)); err != nil {
			return err
		}
		if err := putEdition(eds, e); err != nil {
			return err
		}
		if err := meta.Delete(keyDraft); err != nil {
			return err
		}
		return bumpRev(meta, e.PublishedAt)
	})
	if err != nil {
		return fmt.Errorf("publish edition %s: %w", e.ID, err)
	}
	return nil
}

// GetEdition implements Editions.
func (s *Bolt) GetEdition(ctx context.Context, id string) (*model.Edition, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var e *model.Edition
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		e, err = getEdition(tx, id)
		return err
	})
	return e, err
}

// LatestEdition implements Editions.
func (s *Bolt) LatestEdition(ctx context.Context) (*model.Edition, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var e *model.Edition
	err := s.view(func(tx *bolt.Tx) error {
		id := latestEditionID(tx)
		if id == "" {
			return fmt.Errorf("latest edition: %w", ErrNotFound)
		}
		var err error
		e, err = getEdition(tx, id)
		return err
	})
	return e, err
}

// ListEditions implements Editions.
func (s *Bolt) ListEditions(ctx context.Context, limit, offset int) ([]*model.Edition, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*model.Edition
	err := s.view(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bucketEditionSeq)
		if seq == nil {
			return nil
		}
		c := seq.Cursor()
		skipped := 0
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			if skipped < offset {
				skipped++
				continue
			}
			e, err := getEdition(tx, string(v))
			if err != nil {
				return err
			}
			out = append(out, e)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list editions: %w", err)
	}
	return out, nil
}

// CorrectEdition implements Editions.
func (s *Bolt) CorrectEdition(ctx context.Context, id string, fn func(*model.Edition) error) (*model.Edition, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *model.Edition
	err := s.update(func(tx *bolt.Tx) error {
		eds, _, _, meta, err := editionBuckets(tx)
		if err != nil {
			return err
		}
		e, err := getEdition(tx, id)
		if err != nil {
			return err
		}
		before := len(e.Corrections)
		ids := make([]string, len(e.Items))
		for i, it := range e.Items {
			ids[i] = it.ID
		}
		if err := fn(e); err != nil {
			return err
		}
		if e.ID != id {
			return fmt.Errorf("correct edition %s: id cannot change", id)
		}
		if len(e.Corrections) != before+1 {
			return fmt.Errorf("correct edition %s: a change must record exactly one correction", id)
		}
		if len(e.Items) != len(ids) {
			return fmt.Errorf("correct edition %s: a correction cannot add or remove stories", id)
		}
		for i, it := range e.Items {
			if it.ID != ids[i] {
				return fmt.Errorf("correct edition %s: a correction cannot reorder stories", id)
			}
		}
		at := e.Corrections[before].At
		e.UpdatedAt = at
		if err := putEdition(eds, e); err != nil {
			return err
		}
		out = e
		return bumpRev(meta, at)
	})
	return out, err
}

// ItemEditions implements Editions.
func (s *Bolt) ItemEditions(ctx context.Context, ids []string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]string, len(ids))
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEditionItems)
		if b == nil {
			return nil
		}
		for i, id := range ids {
			out[i] = string(b.Get([]byte(id)))
		}
		return nil
	})
	return out, err
}

// EditionDraft implements Editions; no draft is an empty one.
func (s *Bolt) EditionDraft(ctx context.Context) (*model.EditionDraft, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := &model.EditionDraft{}
	err := s.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketEditionMeta)
		if meta == nil {
			return nil
		}
		if v := meta.Get(keyDraft); v != nil {
			return json.Unmarshal(v, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("edition draft: %w", err)
	}
	return d, nil
}

// PutEditionDraft implements Editions.
func (s *Bolt) PutEditionDraft(ctx context.Context, d *model.EditionDraft) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode edition draft: %w", err)
	}
	return s.update(func(tx *bolt.Tx) error {
		_, _, _, meta, err := editionBuckets(tx)
		if err != nil {
			return err
		}
		return meta.Put(keyDraft, data)
	})
}

// EditionsRev implements Editions.
func (s *Bolt) EditionsRev(ctx context.Context) (uint64, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return 0, time.Time{}, err
	}
	var rev uint64
	var at time.Time
	err := s.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketEditionMeta)
		if meta == nil {
			return nil
		}
		if v := meta.Get(keyRev); len(v) == 8 {
			rev = binary.BigEndian.Uint64(v)
		}
		if v := meta.Get(keyChanged); v != nil {
			var err error
			at, err = time.Parse(time.RFC3339Nano, string(v))
			return err
		}
		return nil
	})
	return rev, at, err
}

var _ Editions = (*Bolt)(nil)
