package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the database to w: one read
// transaction, so writers go on meanwhile and the copy is the database as
// of one moment. begin, when set, learns the copy's size before its first
// byte (for a Content-Length). Cancelling ctx stops the copy.
func (s *Bolt) Backup(ctx context.Context, w io.Writer, begin func(size int64)) (int64, error) {
	var n int64
	err := s.view(func(tx *bolt.Tx) error {
		if begin != nil {
			begin(tx.Size())
		}
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx, w})
		return err
	})
	if err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	return n, nil
}

// ctxWriter stops a copy once ctx ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(b)
}

// WriteBackupFile writes a backup to path through write: into a temporary
// file beside it, synced and checked (VerifyBackup), then linked into
// place, so path is either absent or a whole, sound backup. It refuses to
// replace an existing path.
func WriteBackupFile(ctx context.Context, path string, write func(io.Writer) error) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s exists: choose another name", path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".clipsheet-backup-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	if err := VerifyBackup(ctx, tmp); err != nil {
		return fmt.Errorf("backup to %s: the copy does not check: %w", path, err)
	}
	// Link, not rename: it fails rather than replace a file made meanwhile.
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// VerifyBackup checks that path is a sound Clipsheet database this program
// can open: every page reads, and its schema version is one it knows.
func VerifyBackup(ctx context.Context, path string) error {
	rep, err := CheckFile(ctx, path)
	if err != nil {
		return err
	}
	if rep.Incomplete {
		return fmt.Errorf("%s: the check did not finish", path)
	}
	if !rep.OK() {
		return fmt.Errorf("%s is damaged (%s): `clipsheet check %s` lists every problem", path, strings.Join(rep.Problems[:min(2, len(rep.Problems))], "; "), path)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil || meta.Get(keySchema) == nil {
			return fmt.Errorf("%s is a bbolt file but not a Clipsheet database (no schema version)", path)
		}
		v := meta.Get(keySchema)
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 {
			return fmt.Errorf("%s: bad schema version %q", path, v)
		}
		if n > SchemaVersion {
			return fmt.Errorf("%s has schema version %d, this program knows up to %d: restore it with a newer clipsheet", path, n, SchemaVersion)
		}
		return nil
	})
}

// ErrInUse means another process holds the database open.
var ErrInUse = errors.New("database in use")

// Restore puts the backup at backup in place of the database at dbPath,
// after checking it (VerifyBackup). The file it replaces is kept beside
// it as dbPath.replaced-TIME, whose name it returns ("" when there was
// none). It refuses with ErrInUse while a process holds the database.
func Restore(ctx context.Context, backup, dbPath string, now time.Time) (aside string, err error) {
	if err := VerifyBackup(ctx, backup); err != nil {
		return "", err
	}
	if cur, err := os.Open(dbPath); err == nil {
		defer cur.Close() // and so unlocked, once the files are in place
		if ok, err := tryLock(cur, true); err != nil || !ok {
			return "", fmt.Errorf("%s: %w by a running clipsheet (serve, fetch or demo): stop it first", dbPath, ErrInUse)
		}
		aside = dbPath + ".replaced-" + now.UTC().Format("20060102-150405")
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o750); err != nil {
		return "", err
	}
	in, err := os.Open(backup)
	if err != nil {
		return "", err
	}
	defer in.Close()
	f, err := os.CreateTemp(filepath.Dir(dbPath), ".clipsheet-restore-*")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = io.Copy(f, in)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	if aside != "" {
		if err := os.Link(dbPath, aside); err != nil {
			return "", fmt.Errorf("restore: keep the replaced file: %w", err)
		}
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	return aside, syncDir(filepath.Dir(dbPath))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
