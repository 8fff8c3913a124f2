// Package cli implements the clipsheet subcommands. Each command is a
// function taking its arguments and output streams and returning the exit
// code, so tests run them in-process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/control"
	"github.com/clipsheet/clipsheet/internal/store"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string
	Run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// Env is what most commands need: settings after file, environment and
// flags, and a logger.
type Env struct {
	Settings config.Settings
	Logger   *slog.Logger
	Stderr   io.Writer
}

// envFlags registers the flags shared by commands that read settings. Call
// load after parsing.
type envFlags struct {
	settingsPath string
	sources      string
	data         string
	addr         string
	allowPrivate bool
	set          multiFlag
	fs           *flag.FlagSet
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: clipsheet %s\n\nflags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

func addEnvFlags(fs *flag.FlagSet) *envFlags {
	e := &envFlags{fs: fs}
	fs.StringVar(&e.settingsPath, "settings", "", "settings file (default clipsheet.yaml if present; env CLIPSHEET_SETTINGS)")
	fs.StringVar(&e.sources, "config", "", "sources file (default sources.yaml; setting: sources)")
	fs.StringVar(&e.data, "data", "", "data directory holding the bbolt file (default ./data; setting: data_dir)")
	fs.StringVar(&e.addr, "addr", "", "listen address (default 127.0.0.1:8080; setting: addr)")
	fs.BoolVar(&e.allowPrivate, "allow-private", false, "allow fetching loopback and private addresses (setting: fetch.allow_private)")
	fs.Var(&e.set, "set", "override any setting, e.g. --set excerpt.max_chars=900 (repeatable)")
	return e
}

// load resolves settings: defaults < clipsheet.yaml < CLIPSHEET_* < flags.
func (e *envFlags) load(stderr io.Writer) (*Env, error) {
	path, required := e.settingsPath, e.settingsPath != ""
	if !required {
		if p := os.Getenv("CLIPSHEET_SETTINGS"); p != "" {
			path, required = p, true
		} else {
			path = "clipsheet.yaml"
		}
	}
	var environ []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CLIPSHEET_SETTINGS=") {
			environ = append(environ, kv)
		}
	}
	s, err := config.LoadSettings(path, required, environ)
	if err != nil {
		return nil, err
	}
	given := map[string]bool{}
	e.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["config"] {
		s.Sources = e.sources
	}
	if given["data"] {
		s.DataDir = e.data
	}
	if given["addr"] {
		s.Addr = e.addr
	}
	if given["allow-private"] {
		s.Fetch.AllowPrivate = e.allowPrivate
	}
	for _, kv := range e.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--set %q: want key=value", kv)
		}
		if err := s.Set(k, v); err != nil {
			return nil, fmt.Errorf("--set: %w", err)
		}
	}
	if err := s.Check(); err != nil {
		return nil, err
	}
	return &Env{Settings: s, Logger: newLogger(s.Log, stderr), Stderr: stderr}, nil
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// DBPath is where the bbolt file lives inside the data directory.
func (e *Env) DBPath() string { return filepath.Join(e.Settings.DataDir, "clipsheet.db") }

// OpenStore opens the bbolt store under the data directory.
func (e *Env) OpenStore() (*store.Bolt, error) { return openStore(e.DBPath()) }

// OpenExistingStore opens the store for commands that only read it: a
// mistyped --data must say so, not create an empty database and report
// that it holds nothing.
func (e *Env) OpenExistingStore() (*store.Bolt, error) {
	if _, err := os.Stat(e.DBPath()); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no database at %s (check --data / data_dir; serve or fetch creates it)", e.DBPath())
	}
	return openStore(e.DBPath())
}

func openStore(path string) (*store.Bolt, error) {
	st, err := store.Open(path)
	if errors.Is(err, bolterrors.ErrTimeout) {
		// bbolt's own word for a file another process holds is "timeout".
		return nil, fmt.Errorf("%s is in use by another clipsheet process (a running serve, fetch or demo?); stop it first or use another --data: %w", path, err)
	}
	return st, err
}

// openReader opens the database for a command that only reads it. A
// running serve holds the file's exclusive lock, so the command asks that
// server through its control socket; with no server answering it opens the
// file itself. Either way it reads the same data and prints the same.
func (e *Env) openReader(ctx context.Context) (control.Reader, func() error, error) {
	c, err := control.Dial(ctx, control.SocketPath(e.Settings.DataDir))
	if err == nil {
		return c, c.Close, nil
	}
	if !errors.Is(err, control.ErrNoServer) {
		return nil, nil, err
	}
	st, err := e.OpenExistingStore()
	if err != nil {
		return nil, nil, err
	}
	return st, st.Close, nil
}

// LoadSources reads and validates the sources file.
func (e *Env) LoadSources() (*config.SourcesFile, error) {
	return config.LoadSources(e.Settings.Sources)
}

// parseFlags parses and turns -h into exit code 0.
func parseFlags(fs *flag.FlagSet, args []string) (exit int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, true
		}
		return 2, true
	}
	return 0, false
}

func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "clipsheet:", err)
	return 1
}
