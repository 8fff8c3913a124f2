package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// CompactTo writes a compacted copy of the database to path: every bucket
// and record, in pages filled anew, without the free pages deletions and
// retention leave behind (bbolt never gives them back to the disk). The
// copy is synced before it returns.
func (s *Bolt) CompactTo(path string) error {
	dst, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		return fmt.Errorf("compact to %s: %w", path, err)
	}
	// Transactions of 64 MB: big enough to be quick, small enough to keep
	// memory low on a small server.
	if err := bolt.Compact(dst, s.db, 64<<20); err != nil {
		dst.Close()
		return fmt.Errorf("compact to %s: %w", path, err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return fmt.Errorf("compact to %s: %w", path, err)
	}
	return dst.Close()
}

// Compact rewrites the database file at path in place through CompactTo:
// the copy is made beside it, checked to open, and renamed over it. The
// file must not be open elsewhere (a running serve holds it).
func Compact(path string) (before, after int64, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	s, err := Open(path)
	if err != nil {
		return 0, 0, err
	}
	tmp := path + ".compacting"
	os.Remove(tmp)
	if err := s.CompactTo(tmp); err != nil {
		s.Close()
		os.Remove(tmp)
		return 0, 0, err
	}
	if err := s.Close(); err != nil {
		os.Remove(tmp)
		return 0, 0, err
	}
	check, err := Open(tmp)
	if err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact: the copy does not open, %s left as it was: %w", path, err)
	}
	check.Close()
	if err := os.Rename(tmp, path); err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // the rename itself survives a power cut
		d.Close()
	}
	nfi, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	return fi.Size(), nfi.Size(), nil
}

// CompactInPlace compacts the open store's file while it is in use, for
// the admin page: every request waits while the copy is made (at the rate
// of CompactTo, seconds per hundred megabytes), then the copy replaces the
// file and the store goes on with it. If the copy cannot be made or opened
// the store goes on with the old file.
func (s *Bolt) CompactInPlace(ctx context.Context) (before, after int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	tmp := s.path + ".compacting"
	os.Remove(tmp)
	if err := s.CompactTo(tmp); err != nil {
		os.Remove(tmp)
		return 0, 0, err
	}
	if err := s.db.Close(); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact: close %s: %w", s.path, err)
	}
	reopen := func() (*bolt.DB, error) {
		return bolt.Open(s.path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	}
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		db, rerr := reopen()
		if rerr != nil {
			return 0, 0, fmt.Errorf("compact: %w; and reopening %s failed: %v", err, s.path, rerr)
		}
		s.db = db
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		d.Sync()
		d.Close()
	}
	db, err := reopen()
	if err != nil {
		return 0, 0, fmt.Errorf("compact: reopen %s: %w", s.path, err)
	}
	s.db = db
	nfi, err := os.Stat(s.path)
	if err != nil {
		return 0, 0, err
	}
	return fi.Size(), nfi.Size(), nil
}
