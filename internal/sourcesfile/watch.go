package sourcesfile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// settle is how long the file must stay quiet before it is re-read, so an
// editor's write-then-rename (or a slow copy) is read once, complete.
const settle = 150 * time.Millisecond

// Watch picks up hand edits of the file while the service runs. It watches
// the directory rather than the file because editors and Apply replace the
// file by renaming, which would end a watch on the file itself. A changed
// file is validated by config.Live.Reload: a good one goes in force, a bad
// one is refused and its error kept for the admin pages while the last
// good list keeps running.
//
// Watch returns once the watch is in place; the returned channel closes
// when the watcher has stopped after ctx is cancelled.
func (f *File) Watch(ctx context.Context) (<-chan struct{}, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch sources file: %w", err)
	}
	if err := w.Add(filepath.Dir(f.path)); err != nil {
		w.Close()
		return nil, fmt.Errorf("watch sources file: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer w.Close()
		f.watchLoop(ctx, w)
	}()
	return done, nil
}

func (f *File) watchLoop(ctx context.Context, w *fsnotify.Watcher) {
	base := filepath.Base(f.path)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			// A bare chmod (say, from a backup tool) changes no content.
			if filepath.Base(ev.Name) == base && ev.Op != fsnotify.Chmod {
				timer.Reset(settle)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			f.log.Warn("watching sources file", "path", f.path, "err", err)
		case <-timer.C:
			f.reload()
		}
	}
}

// reload puts a hand-edited file in force if it validates.
func (f *File) reload() {
	if ev, notify := f.reloadLocked(); notify != nil {
		notify(ev)
	}
}

// reloadLocked does the reload under the lock and returns the report to
// send after it is released (nil func when there is none), so a slow
// listener never holds up Apply.
func (f *File) reloadLocked() (HandEdit, func(HandEdit)) {
	data, readErr := os.ReadFile(f.path)
	f.mu.Lock()
	defer f.mu.Unlock()
	if readErr == nil && Hash(data) == f.applied {
		// Our own write, or a touch that changed nothing.
		return HandEdit{}, nil
	}
	if readErr == nil {
		f.applied = Hash(data)
	}
	if f.live == nil {
		return HandEdit{}, nil
	}
	before := f.live.Current()
	if err := f.live.Reload(); err != nil {
		f.log.Error("sources file changed on disk but is invalid; the previous list stays in force", "path", f.path, "err", err)
		return HandEdit{Err: err, Before: before, After: before}, f.onHandEdit
	}
	cur := f.live.Current()
	f.log.Info("sources file reloaded", "path", f.path, "sources", len(cur.Sources), "sections", len(cur.Sections))
	return HandEdit{Before: before, After: cur}, f.onHandEdit
}
