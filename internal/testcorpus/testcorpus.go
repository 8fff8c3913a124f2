// Package testcorpus finds the shared third-party corpus for tests and
// benchmarks: ../shared/corpus beside the repository root. CI has it; a
// fresh clone does not, and its tests must still pass, so a missing corpus
// skips the test with one line rather than failing it.
package testcorpus

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the directory sub of the shared corpus, or skips the test
// with one line naming the missing path.
func Dir(t testing.TB, sub string) string {
	t.Helper()
	dir, err := Find(sub)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("skipped: shared corpus not found at %s (../shared beside the repository)", dir)
	} else if err != nil {
		t.Fatalf("shared corpus: %v", err)
	}
	return dir
}

// Find returns where the directory or file sub of the shared corpus is,
// and an error wrapping os.ErrNotExist when it is not there; for optional
// uses such as fuzz seeds.
func Find(sub string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(filepath.Dir(root), "shared", "corpus", sub)
	if _, err := os.Stat(p); err != nil {
		return p, err
	}
	return p, nil
}

// moduleRoot walks up from the working directory (a test runs in its
// package's directory) to the one holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
