// Package store keeps items, source state and (later) accounts. Store is the
// interface the rest of the program uses; Bolt is its bbolt implementation.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

// ErrNotFound is returned when a requested record does not exist.
var ErrNotFound = errors.New("not found")

// ErrStale marks a change refused because it was based on an older version
// of the record; errors.As gives the *StaleError with the current item.
var ErrStale = errors.New("stale version")

// StaleError is UpdateItemIf's refusal: the stored item is at another
// version than the one the change was based on.
type StaleError struct {
	Want    int64       // the version the change was based on
	Current *model.Item // the item as stored now
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("item %s: version %d is stale, the stored item is at version %d", e.Current.ID, e.Want, e.Current.Version)
}

// Unwrap lets errors.Is(err, ErrStale) recognise a StaleError.
func (e *StaleError) Unwrap() error { return ErrStale }

// ItemFilter selects items. Zero fields do not filter.
type ItemFilter struct {
	Status  model.Status
	Section string
	Source  string
	Since   time.Time // items whose SortTime is at or after Since
	// DecidedSince lists approved and rejected items decided at or after
	// it, newest decision first (items decided before decisions were timed
	// count from their fetch). The briefing reads this.
	DecidedSince time.Time
	// Query is a search (internal/search's syntax: words, "phrases",
	// prefix*, -exclusions) over headline, lead, byline, publisher, source
	// and tags; results come newest first by arrival, or by relevance.
	Query       string
	ByRelevance bool
	Limit       int // 0 means no limit
	Offset      int
	// After starts the list after a position a Page gave as Next (keyset
	// paging: a page costs the same however deep it is, and items that
	// arrive meanwhile do not shift it).
	After string
}

// Page is one page of a list, and where the next one starts ("" when
// nothing follows).
type Page struct {
	Items []*model.Item
	Next  string
	last  []byte
}

// ErrBadQuery marks a search that cannot run: nothing to look for, or a
// prefix that matches too many words.
var ErrBadQuery = errors.New("bad search")

// ErrBadCursor marks an After that no Page gave.
var ErrBadCursor = errors.New("not a list cursor")

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
	// Every change adds one to the item's Version, in the same transaction.
	UpdateItem(ctx context.Context, id string, fn func(*model.Item) error) (*model.Item, error)
	// UpdateItemIf is UpdateItem on condition that the stored item is at
	// version want; otherwise nothing changes and the error is a
	// *StaleError. want 0 means no condition.
	UpdateItemIf(ctx context.Context, id string, want int64, fn func(*model.Item) error) (*model.Item, error)
	DeleteItem(ctx context.Context, id string) error
	// ListItems returns matching items, newest SortTime first (newest
	// decision first with DecidedSince).
	ListItems(ctx context.Context, f ItemFilter) ([]*model.Item, error)
	// ListPage is ListItems with the position of the next page.
	ListPage(ctx context.Context, f ItemFilter) (*Page, error)
	// StoryVersions returns every stored version of the story of the item
	// id names: its first item first, then the newest.
	StoryVersions(ctx context.Context, id string) ([]*model.Item, error)
	// DecideVersion approves the item chosen (at version want; 0: any) and
	// files the other queued versions of its story as its duplicates, in
	// one transaction; it returns the approved item and the duplicates.
	DecideVersion(ctx context.Context, chosen string, want int64, by string, at time.Time) (*model.Item, []*model.Item, error)
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
