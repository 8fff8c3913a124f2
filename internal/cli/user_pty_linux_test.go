package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/store"
)

// openPTY opens a pseudo-terminal pair with the kernel's own ioctls, so
// the prompt path of `user add` reads from a real terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("ptsname: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestUserAddPromptsOnATerminal types the password twice into a real
// terminal: the user is created with it, the prompts go to stderr, and a
// mismatch is refused without creating anyone.
func TestUserAddPromptsOnATerminal(t *testing.T) {
	dir := t.TempDir()
	const pw = "typed at the prompt 42"
	for _, tc := range []struct {
		name, typed string
		wantCode    int
	}{
		{"differ", pw + "\nsomething else 42\n", 1},
		{"match", pw + "\n" + pw + "\n", 0},
	} {
		master, slave := openPTY(t)
		if _, err := master.WriteString(tc.typed); err != nil {
			t.Fatal(err)
		}
		in := Input{R: slave, Fd: int(slave.Fd()), Terminal: true}
		code, out, errOut := runIn(t, in, "user", "add", "ann", "--role", "curator", "--data", dir)
		if code != tc.wantCode {
			t.Fatalf("%s: %d %q %q", tc.name, code, out, errOut)
		}
		if strings.Count(errOut, "Password") != 2 || strings.Contains(errOut+out, pw) {
			t.Errorf("%s: prompts %q, output %q", tc.name, errOut, out)
		}
		if tc.wantCode != 0 && !strings.Contains(errOut, "differ") {
			t.Errorf("%s: %q", tc.name, errOut)
		}
	}
	st, err := store.Open(filepath.Join(dir, "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := auth.New(st, auth.Config{}).Login(context.Background(), "ann", pw, "127.0.0.1", ""); err != nil {
		t.Errorf("password typed at the prompt does not sign in: %v", err)
	}
}
