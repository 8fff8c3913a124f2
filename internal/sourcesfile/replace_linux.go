package sourcesfile

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// exchange swaps the files at a and b in one step (renameat2 with
// RENAME_EXCHANGE), so the caller can look at what it replaced and undo
// the swap if that was not the version it meant to replace. It reports
// false, with no error, where the kernel or file system cannot do it;
// the caller then falls back to a plain rename.
func exchange(a, b string) (bool, error) {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		return true, nil
	case unsupported(err):
		return false, nil
	}
	return false, fmt.Errorf("exchange %s and %s: %w", a, b, err)
}

// renameNoReplace renames a to b unless b exists, which it reports as
// errTargetExists. Where that cannot be done in one step it renames.
func renameNoReplace(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return errTargetExists
	case unsupported(err):
		return renameFallback(a, b)
	}
	return fmt.Errorf("rename %s to %s: %w", a, b, err)
}

// unsupported is how kernels without renameat2, file systems without the
// flag and sandboxes that filter the call answer.
func unsupported(err error) bool {
	return errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EPERM)
}
