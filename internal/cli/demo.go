package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/demo"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/web"
)

// demoAccount gives the demo a sign-in: it creates an admin named "demo"
// with a random password on the first run, and on later runs gives it a
// new random password, so the one printed always works (a password shown
// once and lost with a failed start is no use). It returns the sign-in
// line, or "" when the accounts were made by hand and "demo" is not among
// them.
func demoAccount(ctx context.Context, svc *auth.Service) (string, error) {
	users, err := svc.Users(ctx)
	if err != nil {
		return "", fmt.Errorf("demo account: %w", err)
	}
	password := randomPassword()
	actor := auth.Actor{Name: "demo"}
	if len(users) == 0 {
		if _, err := svc.AddUser(ctx, actor, "demo", model.RoleAdmin, password); err != nil {
			return "", fmt.Errorf("create demo account: %w", err)
		}
		return "demo / " + password + " (an admin; the password is random and new on each run of the demo)", nil
	}
	for _, u := range users {
		if u.Name == "demo" {
			if err := svc.SetPassword(ctx, actor, "demo", password, ""); err != nil {
				return "", fmt.Errorf("reset demo password: %w", err)
			}
			return "demo / " + password + " (a new random password for this run)", nil
		}
	}
	return "", nil
}

func randomPassword() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Demo serves the sample site from testdata/demo on loopback and runs the
// service against it, so the queue fills without internet access. The
// demo keeps its own database and sources file under --data; every other
// setting (the listen address, logging, excerpt length…) comes from
// clipsheet.yaml and CLIPSHEET_* as for serve.
func Demo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", "demo [--site testdata/demo/site] [--data ./data/demo] [--addr 127.0.0.1:8080]", stderr)
	site := fs.String("site", "testdata/demo/site", "folder with the sample publisher site")
	data := fs.String("data", filepath.Join("data", "demo"), "data directory for the demo database and its sources.yaml")
	addr := fs.String("addr", "", "listen address of the web interface (default: the addr setting, CLIPSHEET_ADDR, else 127.0.0.1:8080)")
	siteAddr := fs.String("site-addr", "127.0.0.1:8079", "listen address of the sample site (a fixed port keeps story URLs, and so item IDs, stable across restarts)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if _, err := os.Stat(*site); err != nil {
		return fail(stderr, fmt.Errorf("demo site: %w (run from the repository root)", err))
	}
	ln, err := net.Listen("tcp", *siteAddr)
	if err != nil {
		fmt.Fprintf(stderr, "clipsheet demo: %v; using a free port (stories will be new to the queue)\n", err)
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return fail(stderr, err)
		}
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
	serveArgs := []string{"--config", sources, "--data", *data, "--allow-private"}
	if *addr != "" {
		serveArgs = append(serveArgs, "--addr", *addr)
	}
	// The account is made once the web port is bound: a busy port fails
	// the start before any password is made or shown.
	ready := func(ctx context.Context, srv *web.Server, bound net.Addr) error {
		login, err := demoAccount(ctx, srv.Auth())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "clipsheet demo: sample site on %s, sources in %s\n", base, sources)
		if login != "" {
			fmt.Fprintf(stdout, "clipsheet demo: sign in as %s\n", login)
		} else {
			fmt.Fprintf(stdout, "clipsheet demo: sign in with one of the accounts of %s (clipsheet user list --data %s, with the demo stopped)\n", *data, *data)
		}
		at := browseAddr(bound)
		fmt.Fprintf(stdout, "clipsheet demo: open http://%s/queue, approve an item, then see it on http://%s/\n", at, at)
		return nil
	}
	return serve(ctx, serveArgs, stdout, stderr, ready)
}

// browseAddr is the host:port a browser on this machine opens for a
// listener on addr: an all-interfaces listener is reached on loopback.
func browseAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
