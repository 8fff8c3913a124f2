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

	mu         sync.Mutex
	applied    string // hash of the content last put in force or rejected
	onHandEdit func(HandEdit)

	seen versions // recent contents by hash, to show conflicts as diffs

	// beforeReplace, if set, runs between the last check of the file and
	// its replacement; tests use it to land a hand edit in that window.
	beforeReplace func()
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
	s := snapshot(data)
	f.seen.remember(s.Hash, data)
	return s, nil
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

// HandEdit is a change of the file made outside File (by hand, by a
// deploy) that Watch picked up. Err is why it was refused, nil when it
// went in force; Before and After are the lists in force before and
// after (the same list when it was refused).
type HandEdit struct {
	Err           error
	Before, After *config.SourcesFile
}

// OnHandEdit makes Watch call fn after each hand edit it put in force or
// refused, so the service can record it (the audit log). Edits made
// through Apply are not reported: their callers record them.
func (f *File) OnHandEdit(fn func(HandEdit)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onHandEdit = fn
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
	doc, err := f.parse(cur)
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
	if err := f.writeAtomic(out, cur.Hash); err != nil {
		if hook.Undo != nil {
			hook.Undo()
		}
		return nil, err
	}
	f.applied = Hash(out)
	f.seen.remember(f.applied, out)
	if f.live != nil {
		f.live.Replace(next)
	}
	return &Snapshot{Data: out, Hash: f.applied, Sources: next}, nil
}

// writeAtomic replaces path with data so that readers (and a crash) see
// either the old or the new file, never half of one: write a temp file in
// the same directory, fsync it, put it in place of path, fsync the
// directory. base is the hash of the content the edit was made on; if
// path holds anything else when it is replaced (a hand edit landed since
// it was read), the write is undone and a ConflictError returned, so the
// hand edit is neither overwritten nor lost.
//
// Where the system can swap two files in one step (Linux renameat2), the
// check is exact for every writer that replaces the file (as editors,
// sed -i and deploy tools do): the new file is swapped in, the file it
// displaced is compared with base, and swapped back if it differs. A
// writer that rewrites the old file in place in the microseconds between
// the swap and the comparison can still lose its write; elsewhere the
// check runs just before a plain rename.
func (f *File) writeAtomic(data []byte, base string) error {
	path := f.path
	dir := filepath.Dir(path)
	perm := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write sources file: %w", err)
	}
	tmpName := tmp.Name()
	// Whatever ends up under the temp name (our file, or after a swap the
	// old one) goes once the write is over.
	defer os.Remove(tmpName)
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write sources file: %w", err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("write sources file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write sources file: fsync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write sources file: %w", err)
	}
	// A cheap early look: most conflicts are hand edits made while a form
	// was open, long before this moment.
	now, err := os.ReadFile(path)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return fmt.Errorf("write sources file: %w", err)
	}
	if Hash(now) != base {
		return &ConflictError{Current: snapshot(now)}
	}
	if f.beforeReplace != nil {
		f.beforeReplace()
	}
	if err := replaceIfUnchanged(tmpName, path, data, base, missing); err != nil {
		return err
	}
	return syncDir(dir)
}

// errTargetExists: a file appeared where none was expected.
var errTargetExists = errors.New("target exists")

// replaceIfUnchanged puts tmp (holding data) in place of path if path
// still holds the content hashed as base (missing: path did not exist).
func replaceIfUnchanged(tmp, path string, data []byte, base string, missing bool) error {
	if missing {
		err := renameNoReplace(tmp, path)
		if errors.Is(err, errTargetExists) {
			now, _ := os.ReadFile(path)
			return &ConflictError{Current: snapshot(now)}
		}
		if err != nil {
			return fmt.Errorf("write sources file: %w", err)
		}
		return nil
	}
	swapped, err := exchange(tmp, path)
	if errors.Is(err, fs.ErrNotExist) {
		// Deleted since the check: that is a change too.
		return &ConflictError{Current: snapshot(nil)}
	}
	if err != nil {
		return fmt.Errorf("write sources file: %w", err)
	}
	if !swapped {
		return renameFallback(tmp, path)
	}
	prev, err := os.ReadFile(tmp)
	if err != nil {
		return fmt.Errorf("write sources file: read replaced version: %w", err)
	}
	if Hash(prev) == base {
		return nil
	}
	// A hand edit landed between the check and the swap: swap it back
	// unless yet another write has replaced ours meanwhile (that one is
	// newer than both and stays).
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, data) {
		if _, err := exchange(tmp, path); err != nil {
			return fmt.Errorf("write sources file: restore hand edit: %w", err)
		}
	}
	return &ConflictError{Current: snapshot(prev)}
}

func renameFallback(a, b string) error {
	if err := os.Rename(a, b); err != nil {
		return fmt.Errorf("write sources file: %w", err)
	}
	return nil
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
