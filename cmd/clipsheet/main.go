// Command clipsheet is the news excerpt curator: it polls sources, extracts
// stories, and serves the curators' queue and the readers' briefing.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/clipsheet/clipsheet/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal starts a graceful shutdown; restoring the default
	// handling then lets a second Ctrl-C end a shutdown that hangs.
	go func() { <-ctx.Done(); stop() }()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func commands() []cli.Command {
	return []cli.Command{
		{Name: "serve", Summary: "run the fetcher and the web interface", Run: cli.Serve},
		{Name: "fetch", Summary: "poll sources (fetch --once polls each once and exits)", Run: cli.Fetch},
		{Name: "extract", Summary: "extract headline, byline, date and lead from pages", Run: cli.Extract},
		{Name: "items", Summary: "list stored items", Run: cli.Items},
		{Name: "sources", Summary: "validate, check status of, or discover sources", Run: cli.Sources},
		{Name: "user", Summary: "add, list, change or remove user accounts", Run: cli.UserCmd(cli.StdinInput())},
		{Name: "token", Summary: "create, list or revoke API tokens", Run: cli.Token},
		{Name: "audit", Summary: "print the audit log (who did what, when)", Run: cli.Audit},
		{Name: "compact", Summary: "rewrite the database file without its free space (server stopped)", Run: cli.Compact},
		{Name: "check", Summary: "check the database file for damage", Run: cli.Check},
		{Name: "salvage", Summary: "copy every readable record of a damaged database to a new file", Run: cli.Salvage},
		{Name: "backup", Summary: "write a consistent copy of the database (also while serving)", Run: cli.Backup},
		{Name: "restore", Summary: "put a backup in place of the database (server stopped)", Run: cli.Restore},
		{Name: "demo", Summary: "serve the sample site in testdata/demo and run against it", Run: cli.Demo},
		{Name: "healthcheck", Summary: "ask the running server for /healthz (exit 0 when healthy)", Run: cli.Healthcheck},
		{Name: "version", Summary: "print the version and build", Run: cli.Version},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	usage := func(w io.Writer) {
		fmt.Fprint(w, "usage: clipsheet COMMAND [flags]\n\ncommands:\n")
		for _, c := range cmds {
			fmt.Fprintf(w, "  %-11s %s\n", c.Name, c.Summary)
		}
		fmt.Fprint(w, "\nRun 'clipsheet COMMAND --help' for a command's flags.\n")
	}
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return 0
	}
	for _, c := range cmds {
		if c.Name == args[0] {
			return c.Run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "clipsheet: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}
