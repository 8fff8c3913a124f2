package config

import (
	"sync"
	"sync/atomic"
)

// Live holds the sources list the running service uses. Readers get the
// last good list; a reload that fails validation keeps it and records the
// error so admins can see why their edit did not take.
type Live struct {
	path    string
	current atomic.Pointer[SourcesFile]
	mu      sync.Mutex
	lastErr error
}

// NewLive loads path; the first load must succeed.
func NewLive(path string) (*Live, error) {
	f, err := LoadSources(path)
	if err != nil {
		return nil, err
	}
	l := &Live{path: path}
	l.current.Store(f)
	return l, nil
}

// Path is the file behind the list.
func (l *Live) Path() string { return l.path }

// Current returns the last good list. Callers must not modify it.
func (l *Live) Current() *SourcesFile { return l.current.Load() }

// Reload re-reads the file. On error the previous list stays in force.
func (l *Live) Reload() error {
	f, err := LoadSources(l.path)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastErr = err
	if err != nil {
		return err
	}
	l.current.Store(f)
	return nil
}

// Replace puts an already validated list in force (after the admin UI wrote
// it to disk).
func (l *Live) Replace(f *SourcesFile) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastErr = nil
	l.current.Store(f)
}

// LastError is the error of the last reload, nil if it succeeded.
func (l *Live) LastError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastErr
}
