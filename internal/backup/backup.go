// Package backup makes the scheduled copies of the database that serve
// takes while running, and keeps the newest few.
package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clipsheet/clipsheet/internal/store"
)

// Source writes a consistent copy of the database; *store.Bolt is one.
type Source interface {
	Backup(ctx context.Context, w io.Writer, begin func(size int64)) (int64, error)
}

// Schedule says where, how often and how many.
type Schedule struct {
	Dir   string
	Every time.Duration
	Keep  int
	// Now is the clock: it names the copies and, with the newest copy's
	// name, says when the next is due.
	Now func() time.Time
	// Wait returns a channel that delivers once d has passed (time.After
	// in serve; tests deliver when they choose).
	Wait   func(d time.Duration) <-chan time.Time
	Logger *slog.Logger
	// After, when set, learns of each copy once it is written and the old
	// ones pruned (or of its failure).
	After func(path string, err error)
}

// retryAfter bounds the wait after a failed copy: a full disk that is
// cleared gets its copy within the hour, not a day later.
const retryAfter = time.Hour

// Run takes a copy every Every until ctx ends. The next copy is due Every
// after the newest in Dir, so a server restarted more often than Every
// still takes them; with none there it is due Every after the start. A
// failed copy is logged and tried again (after Every or an hour, whichever
// is sooner); the copies kept stay as they were.
func Run(ctx context.Context, src Source, s Schedule) {
	wait := s.Every
	if newest, ok := newestCopy(s.Dir); ok {
		wait = max(0, newest.Add(s.Every).Sub(s.Now()))
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.Wait(wait):
		}
		path, err := s.once(ctx, src)
		if s.After != nil {
			s.After(path, err)
		}
		wait = s.Every
		if err != nil {
			wait = min(s.Every, retryAfter)
		}
	}
}

func newestCopy(dir string) (time.Time, bool) {
	copies, err := List(dir)
	if err != nil || len(copies) == 0 {
		return time.Time{}, false
	}
	return copies[0].Time, true
}

func (s Schedule) once(ctx context.Context, src Source) (string, error) {
	path, err := Take(ctx, src, s.Dir, s.Now())
	if err != nil {
		if ctx.Err() == nil {
			s.Logger.Error("scheduled backup failed; the previous backups are kept", "dir", s.Dir, "err", err)
		}
		return "", err
	}
	removed, err := Prune(s.Dir, s.Keep)
	if err != nil {
		s.Logger.Warn("old backups not removed", "dir", s.Dir, "err", err)
	}
	s.Logger.Info("backup written", "file", path, "removed", len(removed))
	return path, nil
}

const (
	prefix  = "clipsheet-"
	suffix  = ".db"
	stamp   = "20060102-150405"
	pattern = prefix + stamp + suffix
)

// Name is the file name of a copy taken at t; names sort by time.
func Name(t time.Time) string { return prefix + t.UTC().Format(stamp) + suffix }

// Take writes one checked copy into dir, named for now.
func Take(ctx context.Context, src Source, dir string, now time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	path := filepath.Join(dir, Name(now))
	err := store.WriteBackupFile(ctx, path, func(w io.Writer) error {
		_, err := src.Backup(ctx, w, nil)
		return err
	})
	return path, err
}

// Prune deletes all but the newest keep copies in dir. Only files named as
// Take names them are counted or touched.
func Prune(dir string, keep int) (removed []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var copies []string
	for _, e := range entries {
		if _, ok := copyTime(e); ok {
			copies = append(copies, e.Name())
		}
	}
	slices.Sort(copies)
	for len(copies) > keep {
		p := filepath.Join(dir, copies[0])
		if err := os.Remove(p); err != nil {
			return removed, err
		}
		removed = append(removed, p)
		copies = copies[1:]
	}
	return removed, nil
}

// Copy is one scheduled copy in the backup directory.
type Copy struct {
	Name string
	Size int64
	Time time.Time
}

// List returns the copies in dir, newest first; a missing dir has none.
func List(dir string) ([]Copy, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Copy
	for _, e := range entries {
		t, ok := copyTime(e)
		if !ok {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, Copy{Name: e.Name(), Size: fi.Size(), Time: t})
	}
	slices.SortFunc(out, func(a, b Copy) int { return b.Time.Compare(a.Time) })
	return out, nil
}

// copyTime is the time in the name of a copy; ok is false for any other
// file.
func copyTime(e os.DirEntry) (time.Time, bool) {
	n := e.Name()
	if !e.Type().IsRegular() || len(n) != len(pattern) || !strings.HasPrefix(n, prefix) || !strings.HasSuffix(n, suffix) {
		return time.Time{}, false
	}
	t, err := time.Parse(pattern, n)
	return t, err == nil
}
