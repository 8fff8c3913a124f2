package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/rules"
)

// Rules live in a bucket created on first write, so older files need no
// migration. Keys are the rule's sequence number, big-endian, so a walk of
// the bucket gives rules oldest first: the order they apply in.
var bucketRules = []byte("rules")

// RuleStore keeps the desk's rules. Bolt implements it.
type RuleStore interface {
	ListRules(ctx context.Context) ([]rules.Rule, error)
	GetRule(ctx context.Context, id string) (*rules.Rule, error)
	PutRule(ctx context.Context, r rules.Rule, want int64) (*rules.Rule, error)
	DeleteRule(ctx context.Context, id string, want int64) error
}

var _ RuleStore = (*Bolt)(nil)

func ruleKey(id string) ([]byte, bool) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return nil, false
	}
	return binary.BigEndian.AppendUint64(nil, n), true
}

// ListRules returns every stored rule, oldest first.
func (s *Bolt) ListRules(ctx context.Context) ([]rules.Rule, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []rules.Rule
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRules)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var r rules.Rule
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode rule %x: %w", k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	return out, nil
}

// GetRule returns the rule with this ID.
func (s *Bolt) GetRule(ctx context.Context, id string) (*rules.Rule, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var r *rules.Rule
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		r, err = getRule(tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get rule: %w", err)
	}
	return r, nil
}

func getRule(tx *bolt.Tx, id string) (*rules.Rule, error) {
	k, ok := ruleKey(id)
	b := tx.Bucket(bucketRules)
	if !ok || b == nil {
		return nil, fmt.Errorf("rule %q: %w", id, ErrNotFound)
	}
	v := b.Get(k)
	if v == nil {
		return nil, fmt.Errorf("rule %q: %w", id, ErrNotFound)
	}
	var r rules.Rule
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decode rule %s: %w", id, err)
	}
	return &r, nil
}

// RuleStaleError refuses a rule change based on an older version.
type RuleStaleError struct {
	Want    int64
	Current *rules.Rule
}

func (e *RuleStaleError) Error() string {
	return fmt.Sprintf("rule %s: version %d is stale, the stored rule is at version %d", e.Current.ID, e.Want, e.Current.Version)
}

// Unwrap lets errors.Is(err, ErrStale) recognise it.
func (e *RuleStaleError) Unwrap() error { return ErrStale }

// PutRule stores r and returns it as stored. A rule without an ID is new:
// it gets the next ID and version 1. Otherwise the stored rule with that
// ID is replaced, on condition that it is at version want (0: no
// condition); its version goes up by one. The store does not validate
// rules: rules.Rule.Validate is the caller's.
func (s *Bolt) PutRule(ctx context.Context, r rules.Rule, want int64) (*rules.Rule, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketRules)
		if err != nil {
			return err
		}
		if r.ID == "" {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			r.ID, r.Version = strconv.FormatUint(seq, 10), 1
		} else {
			cur, err := getRule(tx, r.ID)
			if err != nil {
				return err
			}
			if want != 0 && cur.Version != want {
				return &RuleStaleError{Want: want, Current: cur}
			}
			r.Version = cur.Version + 1
		}
		k, _ := ruleKey(r.ID)
		data, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode rule %s: %w", r.ID, err)
		}
		return b.Put(k, data)
	})
	if err != nil {
		return nil, fmt.Errorf("put rule: %w", err)
	}
	return &r, nil
}

// DeleteRule removes the rule with this ID, on condition that it is at
// version want (0: no condition).
func (s *Bolt) DeleteRule(ctx context.Context, id string, want int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.update(func(tx *bolt.Tx) error {
		cur, err := getRule(tx, id)
		if err != nil {
			return err
		}
		if want != 0 && cur.Version != want {
			return &RuleStaleError{Want: want, Current: cur}
		}
		k, _ := ruleKey(id)
		return tx.Bucket(bucketRules).Delete(k)
	})
	if err != nil {
		return fmt.Errorf("delete rule: %w", err)
	}
	return nil
}
