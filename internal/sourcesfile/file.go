package sourcesfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/clipsheet/clipsheet/internal/config"
)

// File is sources.yaml on disk together with the live list it feeds. Every
// write through File is serialised, checked against the version the editor
// read, validated as a whole, written atomically and then put in force.
type File struct {
	path string
	live *config.Live // nil when nothing runs from the file (CLI, tests)
	log  *slog.Logger

	mu      sync.Mutex
	applied string // hash of the content last put in force or rejected
}

// Open prepares path for editing. live, if not nil, is the list loaded
// from path; it is replaced after each write and reloaded by Watch.
func Open(path string, live *config.Live, log *slog.Logger) (*File, error) {
	if log == nil {
		log = slog.Default()
	}
	// Write through a symlink to the real file: renaming over the link
	// would replace it with a plain file.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sources file %s: %w", path, err)
	}
	f := &File{path: abs, live: live, log: log}
	data, err := os.ReadFile(abs)
	switch {
	case err == nil:
		f.applied = Hash(data)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("sources file: %w", err)
	}
	return f, nil
}

// Path is the absolute path of the file.
func (f *File) Path() string { return f.path }

// LastError is why the last hand edit was not put in force, nil if it was.
func (f *File) LastError() error {
	if f.live == nil {
		return nil
	}
	return f.live.LastError()
}

// Hash is the content hash editors carry from the form they loaded to the
// write, to detect that someone else changed the file in between.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Snapshot is the file as read at one moment.
type Snapshot struct {
	Data []byte
	Hash string
	// Sources is the parsed list; nil when the file does not validate.
	Sources *config.SourcesFile
	// Err is the validation error when Sources is nil.
	Err error
}

// Read returns the file as it is on disk now. A missing file reads as
// empty; only I/O failures are errors.
func (f *File) Read() (*Snapshot, error) {
	data, err := os.ReadFile(f.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read sources file: %w", err)
	}
	return snapshot(data), nil
}

func snapshot(data []byte) *Snapshot {
	s := &Snapshot{Data: data, Hash: Hash(data)}
	if len(bytes.TrimSpace(data)) == 0 {
		s.Sources = &config.SourcesFile{}
		return s
	}
	s.Sources, s.Err = config.ParseSources(data)
	return s
}

// ConflictError is returned when the file changed on disk after the editor
// loaded it. Current is the version on disk now.
type ConflictError struct {
	Current *Snapshot
}

func (e *ConflictError) Error() string {
	return "sources file changed on disk since it was loaded; review the current version and apply your change again"
}

// Hook runs inside Apply after the edited file validated and before it is
// written: Before can refuse the change (its error is returned), and Undo,
// if set, is called when the write fails after Before succeeded. Section
// renames use it to move stored items in step with the file.
type Hook struct {
	Before func(next *config.SourcesFile) error
	Undo   func()
}

// Apply edits the file. expectHash is the Hash of the content the editor
// based the change on; "" skips the check (API callers that send no
// version). The edit runs on the current content, the result must pass the
// same validation as `clipsheet sources validate`, and it is written
// atomically and put in force before Apply returns.
func (f *File) Apply(expectHash string, edit func(*Doc) error) (*Snapshot, error) {
	return f.ApplyWith(expectHash, edit, Hook{})
}

// ApplyWith is Apply with a hook around the write.
func (f *File) ApplyWith(expectHash string, edit func(*Doc) error, hook Hook) (*Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, err := f.Read()
	if err != nil {
		return nil, err
	}
	if expectHash != "" && expectHash != cur.Hash {
		return nil, &ConflictError{Current: cur}
	}
	doc, err := Parse(cur.Data)
	if err != nil {
		return nil, err
	}
	if err := edit(doc); err != nil {
		return nil, err
	}
	out, err := doc.Bytes()
	if err != nil {
		return nil, err
	}
	next, err := config.ParseSources(out)
	if err != nil {
		return nil, err
	}
	if hook.Before != nil {
		if err := hook.Before(next); err != nil {
			return nil, err
		}
	}
	if err := writeAtomic(f.path, out, cur.Hash); err != nil {
		if hook.Undo != nil {
			hook.Undo()
		}
		return nil, err
	}
	f.applied = Hash(out)
	if f.live != nil {
		f.live.Replace(next)
	}
	return &Snapshot{Data: out, Hash: f.applied, Sources: next}, nil
}

// writeAtomic replaces path with data so that readers (and a crash) see
// either the old or the new file, never half of one: write a temp file in
// the same directory, fsync it, rename it over path, fsync the directory.
// Just before the rename the file is read again; if a hand edit landed
// since base was read, the write is abandoned with a ConflictError.
func writeAtomic(path string, data []byte, base string) error {
	dir := filepath.Dir(path)
	perm := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write sources file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write sources file: %w", err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write sources file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write sources file: fsync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write sources file: %w", err)
	}
	now, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write sources file: %w", err)
	}
	if Hash(now) != base {
		return &ConflictError{Current: snapshot(now)}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write sources file: %w", err)
	}
	done = true
	return syncDir(dir)
}

// syncDir makes the rename itself durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("write sources file: open dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("write sources file: fsync dir: %w", err)
	}
	return nil
}
