//go:build !linux

package sourcesfile

// exchange is not available here: the caller falls back to checking the
// file just before a plain rename.
func exchange(a, b string) (bool, error) { return false, nil }

// renameNoReplace falls back to a plain rename.
func renameNoReplace(a, b string) error { return renameFallback(a, b) }
