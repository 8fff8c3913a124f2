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
)

// demoAccount creates an admin named "demo" with a random password the
// first time the demo database is used, so a newcomer can sign in at once.
// It returns "demo / PASSWORD" when it created the account, "" otherwise.
func demoAccount(ctx context.Context, dataDir string) (string, error) {
	st, err := openStore(filepath.Join(dataDir, "clipsheet.db"))
	if err != nil {
		return "", err
	}
	defer st.Close()
	svc := auth.New(st, auth.Config{})
	users, err := svc.Users(ctx)
	if err != nil || len(users) > 0 {
		return "", err
	}
	password := randomPassword()
	if _, err := svc.AddUser(ctx, auth.Actor{Name: "demo"}, "demo", model.RoleAdmin, password); err != nil {
		return "", fmt.Errorf("create demo account: %w", err)
	}
	return "demo / " + password + " (an admin; the password is random and shown only now)", nil
}

func randomPassword() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Demo serves the sample site from testdata/demo on loopback and runs the
// service against it, so the queue fills without internet access.
func Demo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", "demo [--site testdata/demo/site] [--data ./data/demo] [--addr 127.0.0.1:8080]", stderr)
	site := fs.String("site", "testdata/demo/site", "folder with the sample publisher site")
	data := fs.String("data", filepath.Join("data", "demo"), "data directory for the demo database")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address of the web interface")
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
	login, err := demoAccount(ctx, *data)
	if err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "clipsheet demo: sample site on %s, sources in %s\n", base, sources)
	if login != "" {
		fmt.Fprintf(stdout, "clipsheet demo: sign in as %s\n", login)
	} else {
		fmt.Fprintf(stdout, "clipsheet demo: sign in with the account made on the first run (new password: clipsheet user passwd demo --data %s)\n", *data)
	}
	fmt.Fprintf(stdout, "clipsheet demo: open http://%s/queue, approve an item, then see it on http://%s/\n", *addr, *addr)
	return Serve(ctx, []string{"--config", sources, "--data", *data, "--addr", *addr, "--allow-private"}, stdout, stderr)
}
