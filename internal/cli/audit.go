package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/clipsheet/clipsheet/internal/store"
)

// Audit prints the audit log, newest first.
func Audit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("audit", "audit [--user NAME] [--action ACTION] [--limit N] [--before SEQ] [--json]", stderr)
	env := addEnvFlags(fs)
	actor := fs.String("user", "", "only events by this user")
	action := fs.String("action", "", "only this action, or a prefix ending in '.' such as item.")
	limit := fs.Int("limit", 100, "at most this many events")
	before := fs.Uint64("before", 0, "only events older than this sequence number (paging)")
	asJSON := fs.Bool("json", false, "print JSON lines")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 || *limit < 1 {
		fs.Usage()
		return 2
	}
	e, err := env.load(stderr)
	if err != nil {
		return fail(stderr, err)
	}
	st, closeStore, err := e.openReader(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer closeStore()
	events, err := st.ListAudit(ctx, store.AuditFilter{Actor: *actor, Action: *action, Limit: *limit, Before: *before})
	if err != nil {
		return fail(stderr, err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		for _, ev := range events {
			if err := enc.Encode(ev); err != nil {
				return fail(stderr, err)
			}
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tUSER\tACTION\tTARGET\tDETAIL\tIP")
	for _, ev := range events {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.Seq, ev.Time.Local().Format("2006-01-02 15:04:05"), ev.Actor, ev.Action, truncate(ev.Target, 40), truncate(ev.Detail, 60), ev.IP)
	}
	tw.Flush()
	return 0
}
