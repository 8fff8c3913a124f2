// Package store keeps items, source state and (later) accounts. Store is the
// interface the rest of the program uses; Bolt is its bbolt implementation.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

// ErrNotFound is returned when a requested record does not exist.
var ErrNotFound = errors.New("not found")

// ItemFilter selects items. Zero fields do not filter.
type ItemFilter struct {
	Status  model.Status
	Section string
	Source  string
	Since   time.Time // items whose SortTime is at or after Since
	Query   string    // case-insensitive substring of title, lead, byline, site name
	Limit   int       // 0 means no limit
	Offset  int
}

// Store is the storage interface. Implementations must be safe for
// concurrent use.
type Store interface {
	// AddItem stores a new item unless an item with its ID exists already;
	// created reports which happened. An existing item is never changed.
	AddItem(ctx context.Context, it *model.Item) (created bool, err error)
	// HasItem reports whether an item with this ID exists.
	HasItem(ctx context.Context, id string) (bool, error)
	GetItem(ctx context.Context, id string) (*model.Item, error)
	// UpdateItem applies fn to the stored item inside one transaction and
	// returns the result; fn's error aborts the change.
	UpdateItem(ctx context.Context, id string, fn func(*model.Item) error) (*model.Item, error)
	DeleteItem(ctx context.Context, id string) error
	// ListItems returns matching items, newest SortTime first.
	ListItems(ctx context.Context, f ItemFilter) ([]*model.Item, error)
	// CountItems counts items per status.
	CountItems(ctx context.Context) (map[model.Status]int, error)

	// SourceState returns the stored state of a source, or a zero state
	// with the name set when none is stored.
	SourceState(ctx context.Context, name string) (*model.SourceState, error)
	PutSourceState(ctx context.Context, st *model.SourceState) error
	ListSourceStates(ctx context.Context) ([]*model.SourceState, error)
	DeleteSourceState(ctx context.Context, name string) error

	Close() error
}
