package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/clipsheet/clipsheet/internal/store"
)

// Compact rewrites the database file without its free pages.
func Compact(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("compact [--data ./data]", "compact [flags]", stderr)
	env := addEnvFlags(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	e, err := env.load(stderr)
	if err != nil {
		return fail(stderr, err)
	}
	// Opening checks that the file exists and that no server holds it.
	st, err := e.OpenExistingStore()
	if err != nil {
		return fail(stderr, err)
	}
	st.Close()
	before, after, err := store.Compact(e.DBPath())
	if err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "compacted %s: %s -> %s\n", e.DBPath(), mib(before), mib(after))
	return 0
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
