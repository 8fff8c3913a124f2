package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// Items lists stored items.
func Items(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("items [--status queued|approved|rejected] [--json]", "items [flags]", stderr)
	env := addEnvFlags(fs)
	status := fs.String("status", "", "only items with this status: queued, approved or rejected")
	asJSON := fs.Bool("json", false, "print JSON lines: the API's item, without the body (lists never read bodies)")
	section := fs.String("section", "", "only items in this section")
	source := fs.String("source", "", "only items from this source")
	limit := fs.Int("limit", 0, "at most this many items (0: all)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *status != "" && !model.Status(*status).Valid() {
		fmt.Fprintf(stderr, "clipsheet items: unknown status %q (use queued, approved or rejected)\n", *status)
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
	items, err := st.ListItems(ctx, store.ItemFilter{Status: model.Status(*status), Section: *section, Source: *source, Limit: *limit})
	if err != nil {
		return fail(stderr, err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		for _, it := range items {
			if err := enc.Encode(it); err != nil {
				return fail(stderr, err)
			}
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tSECTION\tSOURCE\tTITLE")
	for _, it := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Status, it.Section, it.Source, truncate(it.Title, 80))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d items\n", len(items))
	return 0
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
