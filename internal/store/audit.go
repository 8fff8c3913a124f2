package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

// bucketAudit keys events by a big-endian sequence number, so a reverse
// cursor walk lists them newest first without sorting.
var bucketAudit = []byte("audit")

// AuditFilter selects audit events. Zero fields do not filter.
type AuditFilter struct {
	Actor  string
	Action string // exact action, or a prefix ending in "." such as "item."
	// Before lists only events with Seq < Before (paging: pass the Seq of
	// the last event of the previous page).
	Before uint64
	Limit  int // 0: 100
}

// Auditor records and lists audit events. Bolt implements it; other
// packages (source administration, the CLI) record their changes through it.
type Auditor interface {
	AppendAudit(ctx context.Context, ev model.AuditEvent) error
	ListAudit(ctx context.Context, f AuditFilter) ([]model.AuditEvent, error)
}

var _ Auditor = (*Bolt)(nil)

// AppendAudit implements Auditor. Seq is assigned here; Time must be set
// by the caller (it owns the clock).
func (s *Bolt) AppendAudit(ctx context.Context, ev model.AuditEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ev.Action == "" {
		return fmt.Errorf("append audit: empty action")
	}
	err := s.batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		ev.Seq = seq
		data, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		return b.Put(binary.BigEndian.AppendUint64(nil, seq), data)
	})
	if err != nil {
		return fmt.Errorf("append audit %s: %w", ev.Action, err)
	}
	return nil
}

// ListAudit implements Auditor, newest first.
func (s *Bolt) ListAudit(ctx context.Context, f AuditFilter) ([]model.AuditEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []model.AuditEvent
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		var k, v []byte
		if f.Before > 0 {
			// Seek lands on the first key >= Before; the one before it is
			// the newest key < Before.
			if k, _ = c.Seek(binary.BigEndian.AppendUint64(nil, f.Before)); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		} else {
			k, v = c.Last()
		}
		for ; k != nil && len(out) < limit; k, v = c.Prev() {
			var ev model.AuditEvent
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("decode audit %x: %w", k, err)
			}
			if f.Before > 0 && ev.Seq >= f.Before {
				continue
			}
			if f.Actor != "" && ev.Actor != f.Actor {
				continue
			}
			if !actionMatches(ev.Action, f.Action) {
				continue
			}
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return out, nil
}

func actionMatches(action, want string) bool {
	if want == "" || action == want {
		return true
	}
	return want[len(want)-1] == '.' && len(action) > len(want) && action[:len(want)] == want
}
