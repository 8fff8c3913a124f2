package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Server answers the control API on a unix socket.
type Server struct {
	path   string
	ln     *net.UnixListener
	socket os.FileInfo // the file this server made, so it removes only that
	http   *http.Server
	logger *slog.Logger
}

// Listen creates the control socket at path with mode 0600, replacing a
// stale socket file that a crashed server left behind. It refuses when a
// server answers there, or when path is something other than a socket.
func Listen(path string, r Reader, logger *slog.Logger) (*Server, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("control socket %s: exists and is not a socket; remove it", path)
		}
		if answers(path) {
			return nil, fmt.Errorf("control socket %s: another clipsheet serve answers there", path)
		}
	}
	// Bind in a private directory and rename the socket into place: it is
	// never reachable with the mode the umask would give it, and the
	// rename replaces a stale file in one step.
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".clipsheet-sock-")
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	defer os.RemoveAll(tmp)
	bound := filepath.Join(tmp, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: bound, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// The listener would unlink the name it was bound to, which the rename
	// moves away; Serve removes the real one.
	ln.SetUnlinkOnClose(false)
	fail := func(err error) (*Server, error) {
		ln.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	if err := os.Chmod(bound, 0o600); err != nil {
		return fail(err)
	}
	if err := os.Rename(bound, path); err != nil {
		return fail(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fail(err)
	}
	s := &Server{path: path, ln: ln, socket: fi, logger: logger}
	s.http = &http.Server{Handler: s.routes(r), ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// Path is the socket's file name.
func (s *Server) Path() string { return s.path }

// Serve answers until ctx ends or the listener fails, then waits for the
// requests in flight (so the store may be closed after it returns) and
// removes the socket file.
func (s *Server) Serve(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- s.http.Serve(s.ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	// Shutdown closes the listener and waits for the handlers; a stuck
	// reader must not hold up the server's own shutdown for long.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if serr := s.http.Shutdown(sctx); err == nil {
		err = serr
	}
	s.remove()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// remove deletes the socket file unless another server has since replaced
// it.
func (s *Server) remove() {
	if fi, err := os.Lstat(s.path); err == nil && os.SameFile(fi, s.socket) {
		if err := os.Remove(s.path); err != nil {
			s.logger.Warn("control socket not removed", "path", s.path, "err", err)
		}
	}
}

// answers reports whether a server accepts connections on the socket.
func answers(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func (s *Server) routes(r Reader) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1", func(w http.ResponseWriter, _ *http.Request) {
		s.answer(w, http.StatusOK, versionAnswer{API: APIVersion})
	})
	mux.HandleFunc("GET /v1/items", func(w http.ResponseWriter, req *http.Request) {
		f, err := parseItemQuery(req.URL.Query())
		if err != nil {
			s.answer(w, http.StatusBadRequest, errorAnswer{Error: err.Error()})
			return
		}
		items, err := r.ListItems(req.Context(), f)
		s.reply(w, itemsAnswer{Items: items}, err)
	})
	mux.HandleFunc("GET /v1/audit", func(w http.ResponseWriter, req *http.Request) {
		f, err := parseAuditQuery(req.URL.Query())
		if err != nil {
			s.answer(w, http.StatusBadRequest, errorAnswer{Error: err.Error()})
			return
		}
		events, err := r.ListAudit(req.Context(), f)
		s.reply(w, auditAnswer{Events: events}, err)
	})
	mux.HandleFunc("GET /v1/sources/states", func(w http.ResponseWriter, req *http.Request) {
		states, err := r.ListSourceStates(req.Context())
		s.reply(w, statesAnswer{States: states}, err)
	})
	if op, ok := r.(Operator); ok {
		mux.HandleFunc("GET /v1/backup", func(w http.ResponseWriter, req *http.Request) {
			// Once the copy has begun the status is sent; a failure after
			// that cuts the stream short, which the client sees as an
			// error (the length no longer matches).
			begun := false
			_, err := op.Backup(req.Context(), w, func(size int64) {
				begun = true
				w.Header().Set("Content-Type", "application/octet-stream")
				w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
				w.WriteHeader(http.StatusOK)
			})
			if err != nil {
				s.logger.Warn("control socket: backup failed", "err", err)
				if !begun {
					s.answer(w, http.StatusInternalServerError, errorAnswer{Error: err.Error()})
				}
			}
		})
		mux.HandleFunc("GET /v1/check", func(w http.ResponseWriter, req *http.Request) {
			rep, err := op.Check(req.Context())
			s.reply(w, checkAnswer{Report: rep}, err)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		s.answer(w, http.StatusNotFound, errorAnswer{Error: fmt.Sprintf("no route %s %s in control API v%d", req.Method, req.URL.Path, APIVersion)})
	})
	return mux
}

// reply sends v, or the store's error as a 500 with its text: the caller
// is the machine's own operator, to whom the detail is useful.
func (s *Server) reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		s.logger.Warn("control socket: read failed", "err", err)
		s.answer(w, http.StatusInternalServerError, errorAnswer{Error: err.Error()})
		return
	}
	s.answer(w, http.StatusOK, v)
}

func (s *Server) answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.logger.Debug("control socket: answer not sent", "err", err)
	}
}
