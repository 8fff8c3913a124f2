package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

func runIn(t *testing.T, in Input, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	var code int
	switch args[0] {
	case "user":
		code = UserCmd(in)(context.Background(), args[1:], &out, &errb)
	case "token":
		code = Token(context.Background(), args[1:], &out, &errb)
	case "audit":
		code = Audit(context.Background(), args[1:], &out, &errb)
	}
	return code, out.String(), errb.String()
}

func pipe(s string) Input { return Input{R: strings.NewReader(s)} }

func TestUserTokenAuditCommands(t *testing.T) {
	dir := t.TempDir()
	const pw = "Correct-Horse-Battery-1"
	code, out, errOut := runIn(t, pipe(pw+"\n"), "user", "add", "Chief", "--role", "admin", "--password-stdin", "--data", dir)
	if code != 0 || !strings.Contains(out, "added admin chief") {
		t.Fatalf("add: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := runIn(t, pipe(pw+"\n"), "user", "add", "chief", "--role", "reader", "--password-stdin", "--data", dir); code != 1 || !strings.Contains(errOut, "exists already") {
		t.Errorf("duplicate add: %d %q", code, errOut)
	}
	if code, _, errOut := runIn(t, pipe("short\n"), "user", "add", "rdr", "--role", "reader", "--password-stdin", "--data", dir); code != 1 || !strings.Contains(errOut, "at least 10") {
		t.Errorf("weak password: %d %q", code, errOut)
	}
	if code, _, errOut := runIn(t, pipe(""), "user", "add", "rdr", "--role", "reader", "--data", dir); code != 1 || !strings.Contains(errOut, "--password-stdin") {
		t.Errorf("no terminal, no --password-stdin: %d %q", code, errOut)
	}
	if code, _, _ := runIn(t, pipe(""), "user", "add", "rdr", "--role", "boss", "--password-stdin", "--data", dir); code != 1 {
		t.Errorf("bad role accepted: %d", code)
	}
	if code, _, errOut := runIn(t, pipe(""), "user", "remove", "chief", "--data", dir); code != 1 || !strings.Contains(errOut, "no active admin") {
		t.Errorf("removed the last admin: %d %q", code, errOut)
	}
	code, out, _ = runIn(t, pipe(""), "user", "list", "--json", "--data", dir)
	if code != 0 || !strings.Contains(out, `"name":"chief"`) || strings.Contains(out, "argon2") {
		t.Errorf("list: %d %q", code, out)
	}

	code, out, _ = runIn(t, pipe(""), "token", "add", "chief", "--name", "ci", "--data", dir)
	fields := strings.Fields(out)
	if code != 0 || len(fields) == 0 || !strings.HasPrefix(fields[len(fields)-1], "cst_") {
		t.Fatalf("token add: %d %q", code, out)
	}
	token := fields[len(fields)-1]
	code, out, _ = runIn(t, pipe(""), "token", "list", "--data", dir)
	if code != 0 || !strings.Contains(out, "chief") || strings.Contains(out, token) {
		t.Errorf("token list: %d %q", code, out)
	}

	code, out, _ = runIn(t, pipe("Another-Long-Password\n"), "user", "passwd", "chief", "--password-stdin", "--data", dir)
	if code != 0 {
		t.Fatalf("passwd: %d %q", code, out)
	}

	// The stored state: the token works, the old password does not, and no
	// clear password or token is anywhere in the file.
	st, err := store.Open(filepath.Join(dir, "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.New(st, auth.Config{})
	ctx := context.Background()
	if u, _, err := svc.APIUser(ctx, token); err != nil || u.Role != model.RoleAdmin {
		t.Errorf("cli token does not authenticate: %v", err)
	}
	if _, err := svc.Login(ctx, "chief", pw, "127.0.0.1", ""); err == nil {
		t.Error("old password still works")
	}
	st.Close()
	raw, err := os.ReadFile(filepath.Join(dir, "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{pw, "Another-Long-Password", token} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("database file contains %q in clear", secret)
		}
	}

	code, out, _ = runIn(t, pipe(""), "audit", "--json", "--data", dir)
	if code != 0 {
		t.Fatalf("audit: %d", code)
	}
	var actions []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev model.AuditEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		actions = append(actions, ev.Action)
	}
	got := strings.Join(actions, " ")
	if !strings.HasPrefix(got, "auth.login_failed user.password token.add user.add") {
		t.Errorf("audit actions (newest first): %s", got)
	}
	code, out, _ = runIn(t, pipe(""), "audit", "--action", "token.", "--data", dir)
	if code != 0 || !strings.Contains(out, "token.add") || strings.Contains(out, "user.add") {
		t.Errorf("audit filter: %d %q", code, out)
	}
}

// TestUserAndTokenLifecycle covers the rest of the account commands on one
// database: role, disable and enable, list, remove, and token list and
// revoke, each checked against what the store then holds.
func TestUserAndTokenLifecycle(t *testing.T) {
	dir := t.TempDir()
	run := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		return runIn(t, pipe(stdin), append(args, "--data", dir)...)
	}
	for _, u := range []struct{ name, role string }{{"chief", "admin"}, {"ann", "curator"}, {"bob", "reader"}} {
		if code, _, errOut := run("a long enough password\n", "user", "add", u.name, "--role", u.role, "--password-stdin"); code != 0 {
			t.Fatalf("add %s: %d %s", u.name, code, errOut)
		}
	}
	if code, out, _ := run("", "user", "role", "bob", "admin"); code != 0 || !strings.Contains(out, "bob is now admin") {
		t.Errorf("role: %d %q", code, out)
	}
	if code, _, errOut := run("", "user", "role", "bob", "boss"); code != 1 || !strings.Contains(errOut, "unknown role") {
		t.Errorf("bad role: %d %q", code, errOut)
	}
	if code, _, _ := run("", "user", "disable", "ann"); code != 0 {
		t.Errorf("disable: %d", code)
	}
	code, out, _ := run("", "user", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 5 || !strings.HasPrefix(lines[0], "NAME") || lines[4] != "3 users" {
		t.Fatalf("list: %d %q", code, out)
	}
	for i, want := range [][]string{{"ann", "curator", "disabled", "never"}, {"bob", "admin", "active"}, {"chief", "admin", "active"}} {
		if f := strings.Fields(lines[i+1]); len(f) < len(want) || strings.Join(f[:len(want)], " ") != strings.Join(want, " ") {
			t.Errorf("list row %d: %q, want %v", i+1, lines[i+1], want)
		}
	}
	if code, _, _ := run("", "user", "enable", "ann"); code != 0 {
		t.Errorf("enable: %d", code)
	}
	if code, _, errOut := run("", "user", "remove", "nobody"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("remove unknown: %d %q", code, errOut)
	}

	_, out, _ = run("", "token", "add", "ann", "--name", "dashboard")
	annToken := strings.Fields(out)[len(strings.Fields(out))-1]
	if code, _, errOut := run("", "token", "add", "chief"); code != 0 {
		t.Fatalf("token add chief: %d %s", code, errOut)
	}
	if code, out, _ := run("", "token", "list", "ann"); code != 0 || !strings.Contains(out, "dashboard") || strings.Contains(out, "chief") {
		t.Errorf("token list ann: %d %q", code, out)
	}
	// The ID is the first column of the list.
	_, out, _ = run("", "token", "list", "ann")
	id := strings.Fields(strings.Split(strings.TrimSpace(out), "\n")[1])[0]
	if code, out, _ := run("", "token", "revoke", id); code != 0 || !strings.Contains(out, "revoked token "+id) {
		t.Errorf("revoke: %d %q", code, out)
	}
	if code, _, errOut := run("", "token", "revoke", id); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("revoke twice: %d %q", code, errOut)
	}
	// Removing a user takes their tokens with them; with bob an admin
	// now, chief is not the last one.
	if code, out, errOut := run("", "user", "remove", "chief"); code != 0 || !strings.Contains(out, "removed chief") {
		t.Errorf("remove chief: %d %q %q", code, out, errOut)
	}

	st, err := store.Open(filepath.Join(dir, "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	svc := auth.New(st, auth.Config{})
	if _, _, err := svc.APIUser(ctx, annToken); err == nil {
		t.Error("revoked token still authenticates")
	}
	bob, err := st.GetUser(ctx, "bob")
	if err != nil || bob.Role != model.RoleAdmin {
		t.Errorf("bob: %v %v", bob, err)
	}
	ann, err := st.GetUser(ctx, "ann")
	if err != nil || ann.Disabled {
		t.Errorf("ann still disabled: %v %v", ann, err)
	}
	if _, err := st.GetUser(ctx, "chief"); err == nil {
		t.Error("chief not removed")
	}
	if toks, _ := st.ListAPITokens(ctx, "chief"); len(toks) != 0 {
		t.Errorf("removed user's tokens kept: %d", len(toks))
	}
}

// TestFirstRunExplainsFirstAdmin starts the real server on an empty
// database: it prints the command that creates the first admin and a
// one-time setup link that works over HTTP, creates no account of its own
// (no default password), and says nothing of setup once an admin exists.
func TestFirstRunExplainsFirstAdmin(t *testing.T) {
	dir := t.TempDir()
	sources := filepath.Join(dir, "sources.yaml")
	if err := os.WriteFile(sources, []byte("sections: [Local]\nsources: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	serve := func() (string, func()) { return startServe(t, "--no-fetch", "--config", sources, "--data", dir) }

	out, stop := serve()
	if !strings.Contains(out, "clipsheet user add NAME --role admin") {
		t.Errorf("first run does not say how to create the first admin:\n%s", out)
	}
	link := regexp.MustCompile(`http://\S+/setup\?token=\S+`).FindString(out)
	if link == "" {
		t.Fatalf("no setup link:\n%s", out)
	}
	get := func(u string) (int, string) {
		t.Helper()
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	base := link[:strings.Index(link, "/setup")]
	if code, body := get(link); code != http.StatusOK || !strings.Contains(body, "Create the first admin") {
		t.Errorf("setup link: %d", code)
	}
	if code, _ := get(link[:len(link)-2] + "xx"); code != http.StatusNotFound {
		t.Errorf("altered setup link: %d, want 404", code)
	}
	if _, body := get(base + "/login"); !strings.Contains(body, "clipsheet user add NAME --role admin") {
		t.Error("login page does not explain the first admin either")
	}
	stop()

	st, err := store.Open(filepath.Join(dir, "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	users, err := st.ListUsers(context.Background())
	st.Close()
	if err != nil || len(users) != 0 {
		t.Fatalf("the first run created accounts by itself: %v %v", users, err)
	}

	if code, _, errOut := runIn(t, pipe("the chief's password\n"), "user", "add", "chief", "--role", "admin", "--password-stdin", "--data", dir); code != 0 {
		t.Fatalf("add admin: %s", errOut)
	}
	out, stop = serve()
	stop()
	if strings.Contains(out, "setup") || strings.Contains(out, "no admin") {
		t.Errorf("setup still announced with an admin present:\n%s", out)
	}
}

// TestUserCommandWhileServing: the database is locked by a running server;
// the command says what to do instead of failing obscurely.
func TestUserCommandWhileServing(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	code, _, errOut := runIn(t, pipe("a long enough password\n"), "user", "add", "ann", "--role", "admin", "--password-stdin", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "stop clipsheet serve first") || !strings.Contains(errOut, "/admin/users") {
		t.Errorf("locked database: %d %q", code, errOut)
	}
}

// startServe runs `clipsheet serve` with args on a free loopback port until
// stop is called, and returns what it printed once it was serving.
func startServe(t *testing.T, args ...string) (stdout string, stop func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() { done <- Serve(ctx, append(args, "--addr", addr), out, errb) }()
	for i := 0; i < 200 && !strings.Contains(out.String(), "serving on"); i++ {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s %s", code, out, errb)
		case <-time.After(25 * time.Millisecond):
		}
	}
	// "serving on" is printed once the listener is bound; the loop
	// only waits for the first request to be answered.
	for i := 0; i < 200; i++ {
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	return out.String(), func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve: exit %d: %s", code, errb)
		}
	}
}

// TestServeReportsPortInUse: a busy address is the only thing serve
// reports; it does not announce itself first or start polling.
func TestServeReportsPortInUse(t *testing.T) {
	dir := t.TempDir()
	sources := filepath.Join(dir, "sources.yaml")
	if err := os.WriteFile(sources, []byte("sections: [Local]\nsources: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var out, errb bytes.Buffer
	code := Serve(context.Background(), []string{"--no-fetch", "--config", sources, "--data", dir, "--addr", busy.Addr().String()}, &out, &errb)
	if code == 0 || !strings.Contains(errb.String(), "address already in use") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	if strings.Contains(out.String(), "serving on") {
		t.Errorf("announced a server that never listened: %q", out.String())
	}
}

// TestBriefingPublicFromEnvironment: CLIPSHEET_BRIEFING_PUBLIC=false makes
// the briefing and its feeds of a running server need a reader.
func TestBriefingPublicFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	sources := filepath.Join(dir, "sources.yaml")
	if err := os.WriteFile(sources, []byte("sections: [Local]\nsources: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	status := func(u string) int {
		t.Helper()
		res, err := noRedirect.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, tc := range []struct {
		env        string
		page, feed int
	}{{"", 200, 200}, {"false", 302, 401}, {"true", 200, 200}} {
		t.Setenv("CLIPSHEET_BRIEFING_PUBLIC", tc.env) // restored after the test
		if tc.env == "" {
			os.Unsetenv("CLIPSHEET_BRIEFING_PUBLIC")
		}
		out, stop := startServe(t, "--no-fetch", "--config", sources, "--data", dir)
		base := regexp.MustCompile(`http://[0-9.:]+`).FindString(out)
		if got := status(base + "/"); got != tc.page {
			t.Errorf("CLIPSHEET_BRIEFING_PUBLIC=%q: / answered %d, want %d", tc.env, got, tc.page)
		}
		if got := status(base + "/feed.atom"); got != tc.feed {
			t.Errorf("CLIPSHEET_BRIEFING_PUBLIC=%q: /feed.atom answered %d, want %d", tc.env, got, tc.feed)
		}
		stop()
	}
}
