//go:build !unix

package store

import "os"

// tryLock cannot tell here whether another process uses the file; bbolt's
// own lock still guards every open.
func tryLock(*os.File, bool) (bool, error) { return true, nil }
