package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/clipsheet/clipsheet/internal/backup"
	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/control"
	"github.com/clipsheet/clipsheet/internal/curate"
	"github.com/clipsheet/clipsheet/internal/fetch"
	"github.com/clipsheet/clipsheet/internal/sourcesfile"
	"github.com/clipsheet/clipsheet/internal/store"
	"github.com/clipsheet/clipsheet/internal/version"
	"github.com/clipsheet/clipsheet/internal/web"
)

// Serve runs the fetcher and the web interface in one process until ctx is
// cancelled (SIGINT/SIGTERM in main), then shuts both down gracefully.
func Serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return serve(ctx, args, stdout, stderr, nil)
}

// listening runs once the web port is bound, before anything is announced:
// the demo makes its account there, so a busy port never costs a printed
// password. addr is the bound address.
type listening func(ctx context.Context, srv *web.Server, addr net.Addr) error

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, ready listening) int {
	fs := newFlagSet("serve", "serve [--config sources.yaml] [--data ./data] [--addr 127.0.0.1:8080]", stderr)
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
		return failSources(stderr, e.Settings.Sources, err)
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
	f.UseRules(st.ListRules)
	// Open read the file for a bounded time; the monitor reads all of it
	// once serving, and again whenever a request panics.
	health := store.NewMonitor(st, e.Logger, time.Minute)
	srv, err := web.NewServer(st, web.Config{Settings: e.Settings, Sources: live.Current, Logger: e.Logger,
		SourceAdmin: web.SourceAdmin{File: file, Tester: f, Poller: f}, Version: version.String(), Clipper: f,
		Health: health.Err, OnPanic: health.Recheck})
	if err != nil {
		return fail(stderr, err)
	}
	f.OnPoll(func(r fetch.Result) {
		srv.Metrics().ObservePoll(r.Source, r.Err, r.NotModified, r.NewItems, r.Duration)
	})
	// Bind before anything is announced or polled: a port in use is the
	// commonest start-up failure and must be the only thing reported.
	ln, err := srv.Listen()
	if err != nil {
		return fail(stderr, err)
	}
	if ready != nil {
		if err := ready(ctx, srv, ln.Addr()); err != nil {
			ln.Close()
			return fail(stderr, err)
		}
	}
	if err := announceSetup(ctx, srv, e, stdout); err != nil {
		ln.Close()
		return fail(stderr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	// This process holds the database's lock; the read-only commands
	// (items, audit, sources status) read through this socket meanwhile.
	// Without it they only wait and refuse, so failing to make it is no
	// reason not to serve.
	if ctl, err := control.Listen(control.SocketPath(e.Settings.DataDir), st, e.Logger); err != nil {
		e.Logger.Warn("no control socket; items, audit and sources status cannot read the database while this server runs", "err", err)
	} else {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ctl.Serve(ctx); err != nil {
				e.Logger.Warn("control socket stopped", "err", err)
			}
		}()
	}
	wg.Add(1)
	go func() { defer wg.Done(); health.Run(ctx, nil) }()
	if b := e.Settings.Backup; b.Every > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			backup.Run(ctx, st, backup.Schedule{Dir: e.Settings.BackupDir(), Every: b.Every, Keep: b.Keep, Now: time.Now, Wait: time.After, Logger: e.Logger})
		}()
	}
	// Hand edits of sources.yaml go in force while running, if valid.
	if watching, err := file.Watch(ctx); err != nil {
		e.Logger.Warn("not watching the sources file; hand edits take effect after a restart", "err", err)
	} else {
		wg.Add(1)
		go func() { defer wg.Done(); <-watching }()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		keep := store.Retention{DropBodiesAfter: e.Settings.Retention.DropBodiesAfter, PruneAfter: e.Settings.Retention.PruneAfter}
		curate.KeepTidy(ctx, st, keep, time.Hour, time.Now, e.Logger)
	}()
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
	if addr := e.Settings.Metrics.Addr; addr != "" {
		mln, err := net.Listen("tcp", addr)
		if err != nil {
			ln.Close()
			return fail(stderr, fmt.Errorf("metrics.addr %s: %w", addr, err))
		}
		msrv := &http.Server{Handler: srv.Metrics().Handler(), ReadHeaderTimeout: 10 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			go func() { <-ctx.Done(); msrv.Close() }()
			if err := msrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				e.Logger.Warn("metrics listener stopped", "err", err)
			}
		}()
		fmt.Fprintf(stdout, "clipsheet: metrics on http://%s/metrics\n", mln.Addr())
	}
	fmt.Fprintf(stdout, "clipsheet: serving on %s://%s (data %s, sources %s)\n", scheme, ln.Addr(), e.DBPath(), e.Settings.Sources)
	err = srv.Serve(ctx, ln)
	cancel()
	wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fail(stderr, err)
	}
	fmt.Fprintln(stdout, "clipsheet: stopped")
	return 0
}

// announceSetup tells how to create the first admin while none exists: the
// command, and a one-time setup link whose random token lives only in this
// process (there is no default password).
func announceSetup(ctx context.Context, srv *web.Server, e *Env, stdout io.Writer) error {
	tok, err := srv.Auth().SetupToken(ctx)
	if err != nil || tok == "" {
		return err
	}
	base := strings.TrimRight(e.Settings.BaseURL, "/")
	if base == "" {
		scheme := "http"
		if e.Settings.TLS.Cert != "" {
			scheme = "https"
		}
		base = scheme + "://" + e.Settings.Addr
	}
	link := base + "/setup?token=" + tok
	fmt.Fprintf(stdout, "clipsheet: no admin account yet. Create one with\n  clipsheet user add NAME --role admin\n(with the server stopped), or open this one-time setup link:\n  %s\n", link)
	e.Logger.Warn("no admin account yet; one-time setup link valid until the first admin exists", "setup_link", link)
	return nil
}
