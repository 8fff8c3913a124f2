package control

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// testStore is a real bbolt file with items of each status, audit events
// and source states.
func testStore(t *testing.T) *store.Bolt {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for i, x := range []struct {
		url, title, section string
		status              model.Status
	}{
		{"https://a.example/1", "Flood warning", "Top stories", model.StatusQueued},
		{"https://b.example/2", "Patch Tuesday <fixes>", "Cyber", model.StatusApproved},
		{"https://c.example/3", "Storm & surge", "Top stories", model.StatusRejected},
		{"https://d.example/4", "Quake drill", "Top stories", model.StatusQueued},
	} {
		it := model.NewItem(model.Extraction{URL: x.url, Title: x.title, Lead: "Lead of " + x.title, Byline: "Ann Lee", SiteName: "Example",
			Published: now.Add(-time.Duration(i) * time.Hour)}, "Src "+x.section, x.section, now.Add(time.Duration(i)*time.Minute))
		if _, err := st.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpdateItem(ctx, it.ID, func(i *model.Item) error {
			i.Status, i.Tags, i.Note = x.status, []string{"t"}, "note"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i, a := range []string{"user.login", "item.approve", "item.reject", "source.edit"} {
		if err := st.AppendAudit(ctx, model.AuditEvent{Time: now.Add(time.Duration(i) * time.Second), Actor: []string{"ann", "bob"}[i%2], Action: a, Target: "t", IP: "127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*model.SourceState{
		{Name: "Good", URL: "https://a.example/feed", LastAttempt: now, LastSuccess: now, HTTPStatus: 200, ItemsFound: 3},
		{Name: "Bad", URL: "https://b.example/feed", LastAttempt: now, LastError: "fetch: HTTP 500", HTTPStatus: 500, ConsecutiveFailures: 2},
	} {
		if err := st.PutSourceState(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// serve starts a control server on r at path. The returned stop ends it
// and gives Serve's result; the test's cleanup calls it too.
func serve(t *testing.T, path string, r Reader) (stop func() error) {
	t.Helper()
	srv, err := Listen(path, r, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	stop = sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() { stop() })
	return stop
}

func dial(t *testing.T, path string) *Client {
	t.Helper()
	c, err := Dial(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Through the socket every query answers exactly what the store answers,
// filters included.
func TestClientAnswersAsTheStore(t *testing.T) {
	st := testStore(t)
	path := SocketPath(t.TempDir())
	serve(t, path, st)
	c := dial(t, path)
	ctx := context.Background()

	for _, f := range []store.ItemFilter{
		{},
		{Status: model.StatusQueued},
		{Section: "Top stories", Limit: 2},
		{Source: "Src Cyber"},
		{Query: "storm"},
		{Limit: 1, Offset: 1},
		{Since: time.Date(2026, 3, 4, 5, 8, 0, 0, time.UTC)},
	} {
		want, err := st.ListItems(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.ListItems(ctx, f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		if len(want) == 0 && f.Query == "" && f.Since.IsZero() {
			t.Fatalf("%+v: the test store has no such items", f)
		}
		if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
			t.Errorf("items %+v:\n got %s\nwant %s", f, g, w)
		}
	}
	for _, f := range []store.AuditFilter{{}, {Actor: "ann"}, {Action: "item."}, {Limit: 2}, {Before: 3}} {
		want, err := st.ListAudit(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.ListAudit(ctx, f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		if len(want) == 0 {
			t.Fatalf("%+v: the test store has no such events", f)
		}
		if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
			t.Errorf("audit %+v:\n got %s\nwant %s", f, g, w)
		}
	}
	want, _ := st.ListSourceStates(ctx)
	got, err := c.ListSourceStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := jsonOf(t, got), jsonOf(t, want); len(want) != 2 || g != w {
		t.Errorf("source states:\n got %s\nwant %s", g, w)
	}
}

// The socket is the owner's only, and gone once the server stops.
func TestSocketModeAndRemovalOnShutdown(t *testing.T) {
	path := SocketPath(t.TempDir())
	stop := serve(t, path, testStore(t))
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".clipsheet-sock-*")); len(left) != 0 {
		t.Errorf("temporary bind directory left behind: %v", left)
	}
	dial(t, path)
	if err := stop(); err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket still there after shutdown: %v", err)
	}
	if _, err := Dial(context.Background(), path); !errors.Is(err, ErrNoServer) {
		t.Errorf("Dial after shutdown: %v, want ErrNoServer", err)
	}
}

// A socket file left by a server that crashed means nobody answers; the
// next server replaces it.
func TestStaleSocketIsReplaced(t *testing.T) {
	path := SocketPath(t.TempDir())
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false) // as after a crash: the file stays, nobody listens
	ln.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("no stale socket to test with: %v", err)
	}
	if _, err := Dial(context.Background(), path); !errors.Is(err, ErrNoServer) {
		t.Fatalf("Dial on a stale socket: %v, want ErrNoServer", err)
	}
	serve(t, path, testStore(t))
	if _, err := dial(t, path).ListSourceStates(context.Background()); err != nil {
		t.Errorf("after replacing the stale socket: %v", err)
	}
}

func TestListenRefuses(t *testing.T) {
	t.Run("a live server", func(t *testing.T) {
		path := SocketPath(t.TempDir())
		serve(t, path, testStore(t))
		if _, err := Listen(path, testStore(t), slog.Default()); err == nil || !strings.Contains(err.Error(), "another clipsheet serve answers") {
			t.Errorf("second Listen: %v", err)
		}
		dial(t, path) // the first still answers
	})
	t.Run("a file that is not a socket", func(t *testing.T) {
		path := SocketPath(t.TempDir())
		if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Listen(path, testStore(t), slog.Default()); err == nil || !strings.Contains(err.Error(), "not a socket") {
			t.Errorf("Listen over a regular file: %v", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "keep me" {
			t.Errorf("the file was replaced")
		}
	})
}

func TestDialWithoutServer(t *testing.T) {
	if _, err := Dial(context.Background(), SocketPath(t.TempDir())); !errors.Is(err, ErrNoServer) {
		t.Errorf("no socket file: %v, want ErrNoServer", err)
	}
}

// Bad queries and unknown routes answer in the error shape, and the client
// reports the server's words rather than falling back.
func TestErrorsAnswered(t *testing.T) {
	path := SocketPath(t.TempDir())
	serve(t, path, testStore(t))
	c := dial(t, path)
	ctx := context.Background()
	tests := []struct {
		path, want string
	}{
		{"/v1/items?status=pending", `status "pending"`},
		{"/v1/items?limit=-1", `limit "-1"`},
		{"/v1/items?since=yesterday", "since:"},
		{"/v1/audit?before=x", "before:"},
		{"/v2/items", "no route GET /v2/items in control API v1"},
	}
	for _, tt := range tests {
		err := c.get(ctx, tt.path, nil, &struct{}{})
		if err == nil || errors.Is(err, ErrNoServer) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.path, err, tt.want)
		}
	}
}
