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
	"github.com/clipsheet/clipsheet/internal/sourcesfile"
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

	// The admin pages edit sources.yaml through file and test sources with
	// the fetcher, which is built even with --no-fetch for that.
	file, err := sourcesfile.Open(e.Settings.Sources, live, e.Logger)
	if err != nil {
		return fail(stderr, err)
	}
	f := fetch.New(st, e.Settings.Fetch, e.Settings.Excerpt.MaxChars, e.Logger)
	srv, err := web.NewServer(st, web.Config{Settings: e.Settings, Sources: live.Current, Logger: e.Logger,
		SourceAdmin: web.SourceAdmin{File: file, Tester: f}})
	if err != nil {
		return fail(stderr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	// Hand edits of sources.yaml go in force while running, if valid.
	if watching, err := file.Watch(ctx); err != nil {
		e.Logger.Warn("not watching the sources file; hand edits take effect after a restart", "err", err)
	} else {
		wg.Add(1)
		go func() { defer wg.Done(); <-watching }()
	}
	if !*noFetch {
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
