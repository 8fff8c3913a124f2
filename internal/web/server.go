// Package web is the HTTP face of Clipsheet: the readers' briefing, the
// curators' queue and (later) the admin pages, served with gin.
package web

import (
	"context"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/curate"
	"github.com/clipsheet/clipsheet/internal/store"
	assets "github.com/clipsheet/clipsheet/web"
)

// Config is what the web layer needs besides the store.
type Config struct {
	Settings config.Settings
	// Sources returns the current source list; it changes when the file is
	// edited while running.
	Sources func() *config.SourcesFile
	Logger  *slog.Logger
	// Now is the clock; tests set it.
	Now func() time.Time
}

// Server holds the handlers' dependencies.
type Server struct {
	store  store.Store
	desk   *curate.Desk
	cfg    Config
	pages  map[string]*template.Template
	static fs.FS
	log    *slog.Logger
	engine *gin.Engine
}

// NewServer builds the HTTP handler tree.
func NewServer(st store.Store, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sources == nil {
		empty := &config.SourcesFile{}
		cfg.Sources = func() *config.SourcesFile { return empty }
	}
	pages, err := loadTemplates(assets.Templates)
	if err != nil {
		return nil, err
	}
	static, err := fs.Sub(assets.Static, "static")
	if err != nil {
		return nil, err
	}
	s := &Server{
		store:  st,
		desk:   curate.NewDesk(st),
		cfg:    cfg,
		pages:  pages,
		static: static,
		log:    cfg.Logger,
	}
	s.engine = s.routes()
	return s, nil
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.engine.ServeHTTP(w, r)
}

// sections returns the configured section order.
func (s *Server) sections() []string {
	return s.cfg.Sources().Sections
}

// ListenAndServe serves until ctx is cancelled, then shuts down gracefully.
func (s *Server) ListenAndServe(ctx context.Context) error {
	srv := &http.Server{
		Addr:              s.cfg.Settings.Addr,
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() {
		if s.cfg.Settings.TLS.Cert != "" {
			errc <- srv.ListenAndServeTLS(s.cfg.Settings.TLS.Cert, s.cfg.Settings.TLS.Key)
			return
		}
		errc <- srv.ListenAndServe()
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
