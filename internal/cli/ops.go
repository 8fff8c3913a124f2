package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/clipsheet/clipsheet/internal/control"
	"github.com/clipsheet/clipsheet/internal/store"
)

// Check reports whether the database file is sound and, if not, what is
// damaged. Exit 0: sound; 1: damaged or not checkable.
func Check(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "check [--data ./data] [--json] [FILE]", stderr)
	env := addEnvFlags(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	e, err := env.load(stderr)
	if err != nil {
		return fail(stderr, err)
	}
	path := e.DBPath()
	if fs.NArg() == 1 {
		path = fs.Arg(0)
	}
	var rep *store.Report
	if same(path, e.DBPath()) {
		// A running server checks its own snapshot; the file itself may
		// change under a walk from outside.
		if c, err := control.Dial(ctx, control.SocketPath(e.Settings.DataDir)); err == nil {
			defer c.Close()
			if rep, err = c.Check(ctx); err != nil {
				return fail(stderr, err)
			}
		} else if !errors.Is(err, control.ErrNoServer) {
			return fail(stderr, err)
		}
	}
	if rep == nil {
		if rep, err = store.CheckFile(ctx, path); err != nil {
			return fail(stderr, err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fail(stderr, err)
		}
	} else {
		printReport(stdout, rep)
	}
	switch {
	case !rep.OK():
		fmt.Fprintf(stdout, "DAMAGED: %d problem(s). Restore a backup (clipsheet restore FILE, with the server stopped) or copy what is readable into a new file (clipsheet salvage OUT).\n", len(rep.Problems))
		return 1
	case rep.Incomplete:
		fmt.Fprintln(stdout, "INCOMPLETE: the check stopped before reading every page; the pages read are sound.")
		return 1
	}
	fmt.Fprintln(stdout, "OK: every page reads and every record is reachable.")
	return 0
}

func same(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

func printReport(w io.Writer, rep *store.Report) {
	fmt.Fprintf(w, "%s: %d bytes", rep.Path, rep.Size)
	if rep.PageSize > 0 {
		fmt.Fprintf(w, ", %d pages of %d bytes, transaction %d", rep.Pages, rep.PageSize, rep.TxID)
	}
	fmt.Fprintln(w)
	if len(rep.Buckets) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "BUCKET\tREADABLE RECORDS\tDAMAGED PAGES\t")
		for _, b := range rep.Buckets {
			fmt.Fprintf(tw, "%s\t%d\t%d\t\n", b.Name, b.Records, b.Damaged)
		}
		tw.Flush()
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "problem:", p)
	}
	for _, p := range rep.Warnings {
		fmt.Fprintln(w, "warning:", p)
	}
}

// Salvage copies every readable record of a damaged database into a new
// file.
func Salvage(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("salvage", "salvage [--data ./data] [--from FILE] OUT", stderr)
	env := addEnvFlags(fs)
	from := fs.String("from", "", "the damaged file (default: the database in the data directory)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	e, err := env.load(stderr)
	if err != nil {
		return fail(stderr, err)
	}
	src := e.DBPath()
	if *from != "" {
		src = *from
	}
	rep, err := store.Salvage(ctx, src, fs.Arg(0))
	if err != nil {
		return fail(stderr, err)
	}
	printReport(stdout, rep)
	var records int
	for _, b := range rep.Buckets {
		records += b.Records
	}
	fmt.Fprintf(stdout, "wrote %s: %d records in %d buckets, and %d items from pages nothing referred to; %d problem(s) in %s skipped. Look at it (clipsheet check %s), then put it in place with: clipsheet restore %s\n",
		fs.Arg(0), records, len(rep.Buckets), rep.Recovered, len(rep.Problems), src, fs.Arg(0), fs.Arg(0))
	return 0
}

// Backup writes a consistent copy of the database to a new file: through
// the running server when there is one, else from the file.
func Backup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("backup", "backup [--data ./data] FILE", stderr)
	env := addEnvFlags(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	e, err := env.load(stderr)
	if err != nil {
		return fail(stderr, err)
	}
	out := fs.Arg(0)
	var (
		copyTo func(io.Writer) (int64, error)
		from   string
	)
	c, err := control.Dial(ctx, control.SocketPath(e.Settings.DataDir))
	switch {
	case err == nil:
		defer c.Close()
		copyTo = func(w io.Writer) (int64, error) { return c.Backup(ctx, w) }
		from = "the running server"
	case errors.Is(err, control.ErrNoServer):
		st, err := e.OpenExistingStore()
		if err != nil {
			return fail(stderr, err)
		}
		defer st.Close()
		copyTo = func(w io.Writer) (int64, error) { return st.Backup(ctx, w, nil) }
		from = e.DBPath()
	default:
		return fail(stderr, err)
	}
	var n int64
	if err := store.WriteBackupFile(ctx, out, func(w io.Writer) error {
		var err error
		n, err = copyTo(w)
		return err
	}); err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "clipsheet: backup of %s written to %s (%d bytes, checked)\n", from, out, n)
	return 0
}

// Restore puts a backup in place of the database, with the server stopped.
func Restore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("restore", "restore [--data ./data] FILE", stderr)
	env := addEnvFlags(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	e, err := env.load(stderr)
	if err != nil {
		return fail(stderr, err)
	}
	sock := control.SocketPath(e.Settings.DataDir)
	if c, err := control.Dial(ctx, sock); err == nil {
		c.Close()
		return fail(stderr, fmt.Errorf("a clipsheet server is running on %s (it answers on %s): stop it first, then restore", e.Settings.DataDir, sock))
	}
	aside, err := store.Restore(ctx, fs.Arg(0), e.DBPath(), time.Now())
	if err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "clipsheet: restored %s to %s\n", fs.Arg(0), e.DBPath())
	if aside != "" {
		fmt.Fprintf(stdout, "clipsheet: the file it replaced is kept as %s (delete it once the restored database is right)\n", aside)
	}
	return 0
}
