package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/clipsheet/clipsheet/internal/demo"
)

// Demo serves the sample site from testdata/demo on loopback and runs the
// service against it, so the queue fills without internet access.
func Demo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", "demo [--site testdata/demo/site] [--data ./data/demo] [--addr 127.0.0.1:8080]", stderr)
	site := fs.String("site", "testdata/demo/site", "folder with the sample publisher site")
	data := fs.String("data", filepath.Join("data", "demo"), "data directory for the demo database")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address of the web interface")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if _, err := os.Stat(*site); err != nil {
		return fail(stderr, fmt.Errorf("demo site: %w (run from the repository root)", err))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(stderr, err)
	}
	siteSrv := &http.Server{Handler: demo.NewSite(os.DirFS(*site)), ReadHeaderTimeout: 5 * time.Second}
	go siteSrv.Serve(ln)
	defer siteSrv.Close()
	base := "http://" + ln.Addr().String()

	if err := os.MkdirAll(*data, 0o750); err != nil {
		return fail(stderr, err)
	}
	sources := filepath.Join(*data, "sources.yaml")
	if err := os.WriteFile(sources, []byte(demo.SourcesYAML(base)), 0o600); err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "clipsheet demo: sample site on %s, sources in %s\n", base, sources)
	fmt.Fprintf(stdout, "clipsheet demo: open http://%s/queue, approve an item, then see it on http://%s/\n", *addr, *addr)
	return Serve(ctx, []string{"--config", sources, "--data", *data, "--addr", *addr, "--allow-private"}, stdout, stderr)
}
