package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/clipsheet/clipsheet/internal/config"
)

// Sources dispatches the "sources" subcommands.
func Sources(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprint(stderr, `usage: clipsheet sources COMMAND [flags]

commands:
  validate   check sources.yaml and report every problem with its line
  status     show each source's fetch health
  discover   find the feeds a web page links to
`)
	}
	if len(args) == 0 {
		usage()
		return 2
	}
	switch args[0] {
	case "validate":
		return SourcesValidate(ctx, args[1:], stdout, stderr)
	case "status":
		return SourcesStatus(ctx, args[1:], stdout, stderr)
	case "discover":
		return SourcesDiscover(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		usage()
		return 0
	}
	fmt.Fprintf(stderr, "clipsheet sources: unknown command %q\n", args[0])
	usage()
	return 2
}

// SourcesValidate checks a sources file: the one named by --config, else the
// "sources" setting (clipsheet.yaml, CLIPSHEET_SOURCES), else sources.yaml.
func SourcesValidate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sources validate", "sources validate [--config sources.yaml | FILE]", stderr)
	env := addEnvFlags(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "clipsheet sources validate: one file at a time, got %d\n", fs.NArg())
		return 2
	}
	e, err := env.load(stderr)
	if err != nil {
		return fail(stderr, err)
	}
	path := e.Settings.Sources
	if fs.NArg() == 1 {
		path = fs.Arg(0)
	}
	f, err := config.LoadSources(path)
	if err != nil {
		return failSources(stderr, path, err)
	}
	enabled := 0
	for _, s := range f.Sources {
		if s.IsEnabled() {
			enabled++
		}
	}
	fmt.Fprintf(stdout, "%s: OK, %d sources (%d enabled) in %d sections\n", path, len(f.Sources), enabled, len(f.Sections))
	return 0
}

// failSources reports an unusable sources file, one "FILE: line N: problem"
// line per problem, and returns exit code 1.
func failSources(stderr io.Writer, path string, err error) int {
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		return fail(stderr, err)
	}
	for _, p := range ve.Problems {
		fmt.Fprintf(stderr, "%s: %s\n", path, p)
	}
	fmt.Fprintf(stderr, "%d problem(s) in %s\n", len(ve.Problems), path)
	return 1
}
