//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes bbolt's advisory lock on f without waiting: shared as a
// read-only bbolt would, or exclusive as a writer does. It reports false
// when another process holds a conflicting one.
func tryLock(f *os.File, exclusive bool) (bool, error) {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}
