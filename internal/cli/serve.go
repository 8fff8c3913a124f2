package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/fetch"
	"github.com/clipsheet/clipsheet/internal/web"
)

// Serve runs the fetcher and the web interface in one process until ctx is
// cancelled (SIGINT/SIGTERM in main), then shuts both down gracefully.
func Serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "serve [--config sources.yaml] [--data ./data] [--addr :8080]", stderr)
	env := addEnvFlags(fs)
	noFetch := fs.Bool("no-fetch", false, "serve the web interface only, do not poll sources")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	e, err := env.load(stderr)
	if err != nil {
		return fail(stderr, err)
	}
	live, err := config.NewLive(e.Settings.Sources)
	if err != nil {
		return fail(stderr, err)
	}
	st, err := e.OpenStore()
	if err != nil {
		return fail(stderr, err)
	}
	defer st.Close()

	srv, err := web.NewServer(st, web.Config{Settings: e.Settings, Sources: live.Current, Logger: e.Logger})
	if err != nil {
		return fail(stderr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if !*noFetch {
		f := fetch.New(st, e.Settings.Fetch, e.Settings.Excerpt.MaxChars, e.Logger)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.Run(ctx, live.Current); err != nil && !errors.Is(err, context.Canceled) {
				e.Logger.Error("fetcher stopped", "err", err)
			}
		}()
	}
	scheme := "http"
	if e.Settings.TLS.Cert != "" {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "clipsheet: serving on %s://%s (data %s, sources %s)\n", scheme, e.Settings.Addr, e.DBPath(), e.Settings.Sources)
	err = srv.ListenAndServe(ctx)
	cancel()
	wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fail(stderr, err)
	}
	fmt.Fprintln(stdout, "clipsheet: stopped")
	return 0
}
