package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
