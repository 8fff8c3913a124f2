package store

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/search"
)

// The search index (internal/search) lives in this file's buckets and
// changes in the same transaction as the item it describes: an item and
// its postings commit, roll back and survive a crash together. Its refs
// are the items' record references as numbers, so results come newest
// (by arrival) first.

func refNum(ref []byte) uint64 { return binary.BigEndian.Uint64(ref) }

func searchDoc(it *model.Item) search.Doc { return search.DocFromItem(*it) }

func sameDoc(a, b search.Doc) bool {
	return a.Title == b.Title && a.Lead == b.Lead && a.Byline == b.Byline && a.Publisher == b.Publisher &&
		a.Source == b.Source && slices.Equal(a.Tags, b.Tags)
}

// reindex moves an item's postings from its old doc to its new one, when
// they differ (a decision leaves them alone).
func reindex(tx *bolt.Tx, ref []byte, old, new search.Doc) error {
	if sameDoc(old, new) {
		return nil
	}
	return search.Update(tx, refNum(ref), old, new)
}

// searchRebuildFlush is how many postings the rebuild holds in memory
// between writes: a few hundred megabytes at most.
const searchRebuildFlush = 4 << 20

// ensureSearch builds the index of a file that has none, or one of another
// format, from every head, in the opening transaction.
func (s *Bolt) ensureSearch(tx *bolt.Tx) error {
	if search.ReadStats(tx).Version == search.Version {
		return nil
	}
	if err := search.Drop(tx); err != nil {
		return err
	}
	b := search.NewBuilder()
	err := tx.Bucket(bucketHeads).ForEach(func(ref, v []byte) error {
		var it model.Item
		if err := s.codec.decodeHead(v, &it); err != nil {
			return fmt.Errorf("decode item record %x: %w", ref, err)
		}
		b.Add(refNum(ref), searchDoc(&it))
		if b.Postings() >= searchRebuildFlush {
			return b.Flush(tx)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("build the search index: %w", err)
	}
	return b.Flush(tx)
}

// searchPage is ListPage for a text query: the index gives candidates
// newest first, and the filters run on each candidate's head.
func (s *Bolt) searchPage(ctx context.Context, tx *bolt.Tx, f ItemFilter, before uint64) (*Page, error) {
	statuses := map[model.Status]bool{}
	if f.Status != "" {
		statuses[f.Status] = true
	}
	limit := f.Limit
	if limit <= 0 || limit > search.MaxLimit-1 {
		limit = search.MaxLimit - 1
	}
	q := search.Query{Text: f.Query, Limit: limit + 1, Offset: f.Offset, Before: before}
	if f.ByRelevance {
		q.Order = search.Relevance
	}
	heads := map[uint64]*model.Item{}
	read := 0
	load := func(ref uint64) (search.Doc, bool, error) {
		if err := s.scanned(ctx, &read); err != nil {
			return search.Doc{}, false, err
		}
		it, err := s.headAt(tx, binary.BigEndian.AppendUint64(nil, ref))
		if err != nil {
			return search.Doc{}, false, err
		}
		ok := (len(statuses) == 0 || statuses[it.Status]) && matchesNames(it, f) &&
			(f.Since.IsZero() || !it.SortTime().Before(f.Since)) &&
			(f.DecidedSince.IsZero() || (it.Status != model.StatusQueued && !decisionTime(it).Before(f.DecidedSince)))
		if ok {
			heads[ref] = it
		}
		return searchDoc(it), ok, nil
	}
	refs, err := search.Search(ctx, tx, q, load)
	if errors.Is(err, search.ErrNoTerms) || errors.Is(err, search.ErrTooBroad) {
		return nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	if err != nil {
		return nil, err
	}
	page := &Page{}
	for i, ref := range refs {
		if i == limit {
			if !f.ByRelevance {
				page.Next = searchCursor(refs[i-1])
			}
			break
		}
		page.Items = append(page.Items, heads[ref])
	}
	return page, nil
}

func matchesNames(it *model.Item, f ItemFilter) bool {
	return (f.Section == "" || it.Section == f.Section) && (f.Source == "" || it.Source == f.Source)
}

// A search page's cursor is "r" and the reference of its last item: the
// next page takes older references.
func searchCursor(ref uint64) string {
	return "r" + hex.EncodeToString(binary.BigEndian.AppendUint64(nil, ref))
}

func parseSearchCursor(c string) (uint64, bool) {
	if !strings.HasPrefix(c, "r") {
		return 0, false
	}
	b, err := hex.DecodeString(c[1:])
	if err != nil || len(b) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}
