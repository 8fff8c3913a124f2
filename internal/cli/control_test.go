package cli

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/control"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// seedReadable fills a database in dir with what the read-only commands
// show: items of each status, audit events and source states (one of them
// for a source no longer configured), and writes the sources file.
func seedReadable(t *testing.T, dir string) (sources string) {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	// Times well in the past keep "ago" columns the same between runs.
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for i, x := range []struct {
		url, title, section, source string
		status                      model.Status
	}{
		{"https://a.example/1", "Flood warning for the river towns", "Top stories", "Alpha", model.StatusQueued},
		{"https://b.example/2", "Patch Tuesday <fixes> & more", "Cyber", "Beta", model.StatusApproved},
		{"https://a.example/3", "Storm surge", "Top stories", "Alpha", model.StatusRejected},
	} {
		it := model.NewItem(model.Extraction{URL: x.url, Title: x.title, Lead: "Lead of " + x.title, Byline: "Ann Lee", SiteName: "Example",
			Published: at.Add(-time.Duration(i) * time.Hour)}, x.source, x.section, at.Add(time.Duration(i)*time.Minute))
		if _, err := st.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpdateItem(ctx, it.ID, func(i *model.Item) error { i.Status, i.Tags = x.status, []string{"flood"}; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	for i, a := range []string{"user.login", "item.approve", "item.reject"} {
		if err := st.AppendAudit(ctx, model.AuditEvent{Time: at.Add(time.Duration(i) * time.Second), Actor: "ann", Action: a, Target: "target", Detail: "detail", IP: "127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*model.SourceState{
		{Name: "Alpha", URL: "https://a.example/feed", LastAttempt: at, LastSuccess: at, HTTPStatus: 200, ItemsFound: 2, NextPoll: at.Add(time.Hour)},
		{Name: "Beta", URL: "https://b.example/feed", LastAttempt: at, LastError: "fetch https://b.example/feed: HTTP 500", HTTPStatus: 500, ConsecutiveFailures: 3},
		{Name: "Gone", URL: "https://g.example/feed", LastAttempt: at},
	} {
		if err := st.PutSourceState(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	sources = filepath.Join(dir, "sources.yaml")
	yaml := "sections: [Top stories, Cyber]\nsources:\n" +
		"  - {name: Alpha, url: \"https://a.example/feed\", section: Top stories}\n" +
		"  - {name: Beta, url: \"https://b.example/feed\", section: Cyber}\n" +
		"  - {name: Delta, url: \"https://d.example/feed\", section: Cyber, enabled: false}\n"
	if err := os.WriteFile(sources, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return sources
}

// readCommands are the commands that read the database, with the flags
// whose output must not depend on how they reach it.
func readCommands(dir, sources string) []struct {
	name string
	run  func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) int
	args []string
} {
	data := []string{"--data", dir, "--config", sources}
	itemsCmd := func(ctx context.Context, a []string, o, e *bytes.Buffer) int { return Items(ctx, a, o, e) }
	auditCmd := func(ctx context.Context, a []string, o, e *bytes.Buffer) int { return Audit(ctx, a, o, e) }
	statusCmd := func(ctx context.Context, a []string, o, e *bytes.Buffer) int { return SourcesStatus(ctx, a, o, e) }
	return []struct {
		name string
		run  func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) int
		args []string
	}{
		{"items", itemsCmd, data},
		{"items --json", itemsCmd, append([]string{"--json"}, data...)},
		{"items filtered", itemsCmd, append([]string{"--status", "queued", "--source", "Alpha", "--section", "Top stories", "--limit", "1"}, data...)},
		{"audit", auditCmd, data},
		{"audit --json", auditCmd, append([]string{"--json"}, data...)},
		{"audit filtered", auditCmd, append([]string{"--user", "ann", "--action", "item.", "--limit", "1", "--before", "3", "--json"}, data...)},
		{"sources status", statusCmd, data},
		{"sources status --json", statusCmd, append([]string{"--json"}, data...)},
	}
}

// While serve runs it holds the database's exclusive lock; items, audit
// and sources status then read through its control socket and print
// exactly what they print from the file.
func TestReadCommandsWorkWhileServing(t *testing.T) {
	// The seeded items are months old: retention would prune them as
	// serve starts.
	t.Setenv("CLIPSHEET_RETENTION_PRUNE_AFTER", "0")
	t.Setenv("CLIPSHEET_RETENTION_DROP_BODIES_AFTER", "0")
	dir := t.TempDir()
	sources := seedReadable(t, dir)
	cmds := readCommands(dir, sources)
	fromFile := map[string]string{}
	for _, c := range cmds {
		code, out, errOut := runCmd(t, c.run, c.args...)
		if code != 0 || out == "" {
			t.Fatalf("%s from the file: exit %d, %q %s", c.name, code, out, errOut)
		}
		fromFile[c.name] = out
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Serve(ctx, []string{"--data", dir, "--config", sources, "--addr", freeAddr(t), "--no-fetch"}, &out, &errOut)
	}()
	socket := control.SocketPath(dir)
	for !strings.Contains(out.String(), "clipsheet: serving on") {
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if fi, err := os.Lstat(socket); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket %s: %v %v", socket, fi, err)
	}
	// The file is locked: no one else can open it, not even read-only.
	if db, err := bolt.Open(filepath.Join(dir, "clipsheet.db"), 0o600, &bolt.Options{ReadOnly: true, Timeout: 100 * time.Millisecond}); !errors.Is(err, bolterrors.ErrTimeout) {
		if db != nil {
			db.Close()
		}
		t.Fatalf("the database is not locked by serve: %v", err)
	}
	for _, c := range cmds {
		code, got, stderr := runCmd(t, c.run, c.args...)
		if code != 0 {
			t.Errorf("%s while serving: exit %d: %s", c.name, code, stderr)
			continue
		}
		if got != fromFile[c.name] {
			t.Errorf("%s: the socket and the file differ\nsocket:\n%s\nfile:\n%s", c.name, got, fromFile[c.name])
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exit %d: %s", code, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := os.Lstat(socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("control socket left after shutdown: %v", err)
	}

	// A socket file left by a crash answers nobody: the commands read the
	// file again, at once.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: socket, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	for _, c := range cmds {
		if code, got, stderr := runCmd(t, c.run, c.args...); code != 0 || got != fromFile[c.name] {
			t.Errorf("%s beside a stale socket: exit %d %s\n%s", c.name, code, stderr, got)
		}
	}
}
