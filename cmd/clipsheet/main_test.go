package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// reexecEnv makes the test binary run main() instead of the tests, so the
// signal tests exercise the real entry point in its own process. (Not a
// CLIPSHEET_ name: those are settings, and unknown ones are refused.)
const reexecEnv = "GO_TEST_CLIPSHEET_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(reexecEnv) == "1" {
		main()
		return
	}
	code := m.Run()
	removeBuiltBinary()
	os.Exit(code)
}

func TestHelpOnEveryCommand(t *testing.T) {
	commandLines := [][]string{{"--help"}, {"help"}}
	for _, c := range commands() {
		commandLines = append(commandLines, []string{c.Name, "--help"}, []string{c.Name, "-h"})
	}
	for _, sub := range []string{"sources validate", "sources status", "sources discover", "user add", "user passwd", "user role",
		"user disable", "user enable", "user remove", "user list", "token add", "token list", "token revoke"} {
		commandLines = append(commandLines, append(strings.Fields(sub), "--help"))
	}
	for _, args := range commandLines {
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, &out, &errOut)
		text := out.String() + errOut.String()
		want := "usage: clipsheet"
		if args[0] != "--help" && args[0] != "help" {
			want += " " + args[0]
		}
		if code != 0 || !strings.Contains(text, want) {
			t.Errorf("clipsheet %s: exit %d, output %q; want 0 and %q", strings.Join(args, " "), code, text, want)
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"frobnicate"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, %q", code, errOut.String())
	}
	if code := run(context.Background(), nil, &out, &errOut); code != 2 {
		t.Errorf("no command: exit %d", code)
	}
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serve's fetcher and web server stop cleanly on SIGINT and SIGTERM: exit
// code 0 soon after the signal, even while a feed request hangs, and the
// bbolt file is closed and reusable.
func TestServeShutsDownGracefullyOnSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			hanging := make(chan struct{}, 1)
			release := make(chan struct{})
			publisher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/feed.xml" {
					http.NotFound(w, r)
					return
				}
				select {
				case hanging <- struct{}{}:
				default:
				}
				select { // hang until the client gives up or the test ends
				case <-r.Context().Done():
				case <-release:
				}
			}))
			defer publisher.Close()
			defer close(release)

			dir := t.TempDir()
			sources := filepath.Join(dir, "sources.yaml")
			os.WriteFile(sources, []byte(fmt.Sprintf("sections: [Local]\nsources:\n  - name: Slow\n    url: %s/feed.xml\n    section: Local\n", publisher.URL)), 0o600)
			data := filepath.Join(dir, "data")
			addr := freeAddr(t)
			cmd := exec.Command(os.Args[0], "serve", "--config", sources, "--data", data, "--addr", addr, "--allow-private", "--set", "fetch.timeout=5m")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), reexecEnv+"=1")
			var stdout, stderr syncBuffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			defer func() {
				if cmd.ProcessState == nil {
					cmd.Process.Kill()
					<-exited
				}
			}()

			client := &http.Client{Timeout: 2 * time.Second}
			deadline := time.Now().Add(20 * time.Second)
			for {
				res, err := client.Get("http://" + addr + "/healthz")
				if err == nil {
					res.Body.Close()
					if res.StatusCode == http.StatusOK {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("server did not come up: %v\n%s\n%s", err, stdout.String(), stderr.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			select {
			case <-hanging:
			case <-time.After(20 * time.Second):
				t.Fatalf("fetcher never polled the source\n%s", stderr.String())
			}

			signalled := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("exit after %s: %v\n%s", sig, err, stderr.String())
				}
				t.Logf("exited %v after %s", time.Since(signalled).Round(time.Millisecond), sig)
			case <-time.After(15 * time.Second):
				t.Fatalf("still running 15s after %s (fetch.timeout is 5m, so the hanging poll was not cancelled)\n%s", sig, stderr.String())
			}
			if !strings.Contains(stdout.String(), "clipsheet: stopped") {
				t.Errorf("stdout lacks the stop line:\n%s", stdout.String())
			}
			if _, err := client.Get("http://" + addr + "/healthz"); err == nil {
				t.Error("web server still answers after exit")
			}
			st, err := store.Open(filepath.Join(data, "clipsheet.db"))
			if err != nil {
				t.Fatalf("store after shutdown: %v", err)
			}
			st.Close()
		})
	}
}

// startServe runs `clipsheet serve --no-fetch` on data in its own process
// and waits until it answers. wait waits for the process to end.
func startServe(t *testing.T, dir, data string) (cmd *exec.Cmd, wait func() error, stderr *syncBuffer) {
	t.Helper()
	sources := filepath.Join(dir, "sources.yaml")
	os.WriteFile(sources, []byte("sections: [Local]\nsources: []\n"), 0o600)
	addr := freeAddr(t)
	cmd = exec.Command(os.Args[0], "serve", "--config", sources, "--data", data, "--addr", addr, "--no-fetch")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), reexecEnv+"=1")
	var stdout syncBuffer
	stderr = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	wait = func() error { <-done; return waitErr }
	t.Cleanup(func() {
		cmd.Process.Kill() // an error when it has ended already
		wait()
	})
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(stdout.String(), "clipsheet: serving on"); {
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up\n%s\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cmd, wait, stderr
}

// clipsheet runs the command in its own process and returns its exit code
// and output.
func clipsheet(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), reexecEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// A running server process answers `clipsheet items` from another process
// through its control socket; a server killed without shutting down leaves
// the socket file, and the next one replaces it.
func TestItemsFromAnotherProcessWhileServing(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	st, err := store.Open(filepath.Join(data, "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	it := model.NewItem(model.Extraction{URL: "https://example.com/flood", Title: "Flood warning lifted"}, "Src", "Local", time.Now())
	if _, err := st.AddItem(context.Background(), it); err != nil {
		t.Fatal(err)
	}
	st.Close()
	socket := filepath.Join(data, "clipsheet.sock")

	srv, wait, _ := startServe(t, dir, data)
	if code, out, errOut := clipsheet(t, dir, "items", "--data", data); code != 0 || !strings.Contains(out, "Flood warning lifted") {
		t.Fatalf("items while serving: exit %d\n%s%s", code, out, errOut)
	}
	srv.Process.Kill() // a crash: no shutdown, the socket file stays
	wait()
	if _, err := os.Lstat(socket); err != nil {
		t.Fatalf("no socket file left by the killed server: %v", err)
	}

	srv, wait, stderr := startServe(t, dir, data)
	if code, out, errOut := clipsheet(t, dir, "items", "--data", data, "--json"); code != 0 || !strings.Contains(out, `"title":"Flood warning lifted"`) {
		t.Fatalf("items after the stale socket was replaced: exit %d\n%s%s", code, out, errOut)
	}
	srv.Process.Signal(syscall.SIGTERM)
	if err := wait(); err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr.String())
	}
	if _, err := os.Lstat(socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after a clean shutdown: %v", err)
	}
}
