// Package web is the HTTP face of Clipsheet: the readers' briefing and
// feeds, the curators' queue, the admin pages and the JSON API, served
// with gin. Access control lives here as middleware over the account
// logic in package auth.
package web

import (
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/microcosm-cc/bluemonday"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/curate"
	"github.com/clipsheet/clipsheet/internal/metrics"
	"github.com/clipsheet/clipsheet/internal/store"
	assets "github.com/clipsheet/clipsheet/web"
)

// Store is everything the web layer stores: items, accounts and the audit
// log. *store.Bolt implements it.
type Store interface {
	store.Store
	store.Accounts
	store.Auditor
	store.Editions
	store.RuleStore
}

// Config is what the web layer needs besides the store.
type Config struct {
	Settings config.Settings
	// Sources returns the current source list; it changes when the file is
	// edited while running.
	Sources func() *config.SourcesFile
	Logger  *slog.Logger
	// Now is the clock; tests set it. It also drives session expiry and
	// the login rate limiter unless Auth.Now is set.
	Now func() time.Time
	// Auth tunes password hashing, session lifetimes and login limits;
	// zero fields take auth's defaults.
	Auth auth.Config
	// SourceAdmin backs the source administration pages and API
	// (sources*.go): the editable sources.yaml and the preview fetcher.
	SourceAdmin SourceAdmin
	// Version is the program's version, for /metrics and the status page.
	Version string
	// Clipper fetches a story a curator pastes (clip.go); nil turns
	// clipping off.
	Clipper Clipper
	// Health, when set, reports damage found in the database after start
	// (store.Monitor): /healthz then fails with the reason.
	Health func() error
	// OnPanic, when set, is told of a handler that panicked: a read of a
	// damaged page does that, so serve checks the file again.
	OnPanic func()
}

// Server holds the handlers' dependencies.
type Server struct {
	metrics *metrics.Metrics
	store   Store
	desk    *curate.Desk
	press   *curate.Press
	auth    *auth.Service
	cfg     Config
	pages   map[string]*template.Template
	static  fs.FS
	log     *slog.Logger
	engine  *gin.Engine
	proxies []netip.Prefix
	// rich sanitises HTML that came from feeds; plain strips all markup.
	rich  *bluemonday.Policy
	plain *bluemonday.Policy
	// assets are the static files with their fingerprints; encoders and
	// validators serve compression and conditional requests.
	assets     *assetSet
	encoders   *encoders
	validators *validatorLog
	// renders keeps what is made from published editions (pagecache.go).
	renders *renderCache
	// pagePaths are the GET page routes without parameters, for the
	// trailing-slash redirect.
	pagePaths map[string]bool
}

// NewServer builds the HTTP handler tree.
func NewServer(st Store, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Auth.Now == nil {
		cfg.Auth.Now = cfg.Now
	}
	if cfg.Sources == nil {
		empty := &config.SourcesFile{}
		cfg.Sources = func() *config.SourcesFile { return empty }
	}
	proxies, err := parseProxies(cfg.Settings.TrustedProxies)
	if err != nil {
		return nil, err
	}
	sched, err := curate.NewSchedule(cfg.Settings.Editions.Schedule, cfg.Settings.Timezone, cfg.Settings.Editions.WeekdaysOnly)
	if err != nil {
		return nil, err
	}
	s := &Server{
		store:   st,
		desk:    curate.NewDesk(st),
		auth:    auth.New(st, cfg.Auth),
		cfg:     cfg,
		log:     cfg.Logger,
		proxies: proxies,
		rich:    richPolicy(),
		plain:   bluemonday.StrictPolicy(),

		encoders:   newEncoders(),
		validators: newValidatorLog(),
		renders:    newRenderCache(),
	}
	s.metrics = metrics.New(storeFigures{st}, cfg.Version, cfg.Now)
	s.press = curate.NewPress(st, st, sched, s.sections, cfg.Now)
	if s.static, err = fs.Sub(assets.Static, "static"); err != nil {
		return nil, err
	}
	if s.assets, err = loadAssets(s.static, cfg.Now()); err != nil {
		return nil, err
	}
	if s.pages, err = loadTemplates(assets.Templates, s.funcs()); err != nil {
		return nil, err
	}
	s.engine = s.routes()
	return s, nil
}

// parseProxies reads trusted_proxies: addresses or CIDR ranges.
func parseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range list {
		p = strings.TrimSpace(p)
		if strings.Contains(p, "/") {
			pfx, err := netip.ParsePrefix(p)
			if err != nil {
				return nil, fmt.Errorf("trusted_proxies: %q: %w", p, err)
			}
			out = append(out, pfx.Masked())
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies: %q: %w", p, err)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// Auth exposes the account logic, e.g. for serve to print the setup link.
func (s *Server) Auth() *auth.Service { return s.auth }

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.engine.ServeHTTP(w, asGet(r))
}

// Routes lists the registered method and path pairs (for tests and docs).
func (s *Server) Routes() gin.RoutesInfo { return s.engine.Routes() }

// sections returns the configured section order.
func (s *Server) sections() []string {
	return s.cfg.Sources().Sections
}

// ListenAndServe binds the configured address and serves until ctx is
// cancelled, then shuts down gracefully.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := s.Listen()
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Listen binds the configured address. Callers that bind first learn of a
// port in use before they announce the service or start polling.
func (s *Server) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", s.cfg.Settings.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.cfg.Settings.Addr, err)
	}
	return ln, nil
}

// Serve serves on ln (TLS when a certificate is configured) until ctx is
// cancelled, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Addr:              s.cfg.Settings.Addr,
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		// Connection-level errors (TLS handshakes, accept failures) go to
		// the service's log, not to the standard logger's stderr.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		if s.cfg.Settings.TLS.Cert != "" {
			errc <- srv.ServeTLS(ln, s.cfg.Settings.TLS.Cert, s.cfg.Settings.TLS.Key)
			return
		}
		errc <- srv.Serve(ln)
	}()
	go s.pruneSessions(ctx)
	go s.runSchedule(ctx)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// pruneSessions drops expired sessions hourly; they are refused anyway,
// this only keeps the bucket small.
func (s *Server) pruneSessions(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.auth.PruneSessions(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("prune sessions", "err", err)
		} else if n > 0 {
			s.log.Debug("pruned expired sessions", "n", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
