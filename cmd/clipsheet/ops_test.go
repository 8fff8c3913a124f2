package main

import (
	"bytes"
	"context"
	"fmt"
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

// The program built with go build, as an operator runs it, once per test
// run (the first test that needs it builds it); TestMain removes it.
var (
	buildOnce sync.Once
	builtDir  string
	builtBin  string
	buildErr  error
)

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if builtDir, buildErr = os.MkdirTemp("", "clipsheet-bin-"); buildErr != nil {
			return
		}
		builtBin = filepath.Join(builtDir, "clipsheet")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func removeBuiltBinary() {
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
}

// runBinary runs the built program and returns its exit code and output.
func runBinary(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.ProcessState == nil || ctx.Err() != nil {
		t.Fatalf("clipsheet %s: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// opsDatabase writes a database of 300 items into data; the newest item's
// lead holds marker, so a test can find that record's page in the file.
func opsDatabase(t *testing.T, data, marker string) string {
	t.Helper()
	path := filepath.Join(data, "clipsheet.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC()
	for i := range 300 {
		lead := fmt.Sprintf("Lead of story %d, long enough to fill pages. %s", i, strings.Repeat("x", 300))
		if i == 299 {
			lead = marker
		}
		it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://example.com/%d", i), Title: fmt.Sprintf("Story %d", i), Lead: lead}, "Src", "Local", now.Add(time.Duration(i)*time.Second))
		if _, err := st.AddItem(context.Background(), it); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// The built program refuses a damaged database in every command with one
// line naming the file and what to do, exit code 1 and no panic; an empty
// file is not taken for a new install. check says what is damaged,
// salvage copies what is readable, and restore puts that in place.
func TestBinaryRefusesDamagedDatabase(t *testing.T) {
	const marker = "THE-PAGE-TO-DAMAGE"
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		// salvage: some records must be salvaged. Otherwise salvage may
		// find none (a cut that took the root pages), and must say so.
		salvage bool
	}{
		{"random bytes over a record page", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			at := bytes.Index(b, []byte(marker))
			if at < 0 {
				t.Fatal("marker not found")
			}
			page := at / 4096 * 4096
			for i := page; i < page+4096; i++ {
				b[i] = byte(i*7919 + 13)
			}
			os.WriteFile(path, b, 0o600)
		}, true},
		{"16 KB zeroed mid-file", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			mid := len(b) / 2 / 4096 * 4096
			clear(b[mid : mid+16<<10])
			os.WriteFile(path, b, 0o600)
		}, true},
		{"truncated to half", func(t *testing.T, path string) {
			fi, _ := os.Stat(path)
			os.Truncate(path, fi.Size()/2)
		}, false},
		{"zero-length file", func(t *testing.T, path string) { os.Truncate(path, 0) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			path := opsDatabase(t, data, marker)
			tt.damage(t, path)
			os.WriteFile(filepath.Join(dir, "sources.yaml"), []byte("sections: [Local]\nsources: []\n"), 0o600)

			for _, args := range [][]string{
				{"serve", "--data", data, "--addr", freeAddr(t), "--no-fetch"},
				{"items", "--data", data},
				{"user", "list", "--data", data},
			} {
				code, out, errOut := runBinary(t, dir, args...)
				lines := strings.Split(strings.TrimSpace(errOut), "\n")
				if code != 1 || len(lines) != 1 || !strings.Contains(errOut, path) || !strings.Contains(errOut, "clipsheet check") ||
					strings.Contains(errOut, "panic") || strings.Contains(out, "setup") {
					t.Errorf("clipsheet %s: exit %d\nstdout: %s\nstderr: %s", args[0], code, out, errOut)
				}
			}

			code, out, _ := runBinary(t, dir, "check", "--data", data)
			if code != 1 || !strings.Contains(out, "DAMAGED") || !strings.Contains(out, "problem:") {
				t.Errorf("check: exit %d\n%s", code, out)
			}
			salvaged := filepath.Join(dir, "salvaged.db")
			code, out, errOut := runBinary(t, dir, "salvage", "--data", data, salvaged)
			if code == 1 && !tt.salvage && strings.Contains(errOut, "nothing could be read") {
				return
			}
			if code != 0 || !strings.Contains(out, "wrote "+salvaged) {
				t.Fatalf("salvage: exit %d\n%s%s", code, out, errOut)
			}
			t.Log(strings.TrimSpace(out[strings.LastIndex(out, "wrote "):]))
			code, out, errOut = runBinary(t, dir, "restore", "--data", data, salvaged)
			if code != 0 || !strings.Contains(out, "kept as "+path+".replaced-") {
				t.Fatalf("restore: exit %d\n%s%s", code, out, errOut)
			}
			if code, out, _ := runBinary(t, dir, "check", "--data", data); code != 0 || !strings.Contains(out, "OK") {
				t.Errorf("check after restoring the salvaged file: exit %d\n%s", code, out)
			}
			code, out, errOut = runBinary(t, dir, "items", "--data", data)
			if code != 0 || !strings.Contains(out, " items") {
				t.Errorf("items after restoring: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

// backup works while serve runs (through its socket) and without it;
// restore refuses while serving, checks the file and keeps the old one.
func TestBinaryBackupAndRestore(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	opsDatabase(t, data, "marker")
	os.WriteFile(filepath.Join(dir, "sources.yaml"), []byte("sections: [Local]\nsources: []\n"), 0o600)
	addr := freeAddr(t)
	cmd := exec.Command(binary(t), "serve", "--data", data, "--addr", addr, "--no-fetch")
	cmd.Dir = dir
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(stdout.String(), "clipsheet: serving on"); {
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	hot := filepath.Join(dir, "hot.db")
	code, out, errOut := runBinary(t, dir, "backup", "--data", data, hot)
	if code != 0 || !strings.Contains(out, "backup of the running server written to "+hot) {
		t.Fatalf("backup while serving: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runBinary(t, dir, "check", "--data", data); code != 0 || !strings.Contains(out, "OK") {
		t.Errorf("check while serving: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runBinary(t, dir, "restore", "--data", data, hot)
	if code != 1 || !strings.Contains(errOut, "server is running") {
		t.Errorf("restore while serving: exit %d\n%s", code, errOut)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr.String())
	}
	exited <- nil // for the cleanup
	cold := filepath.Join(dir, "cold.db")
	if code, out, errOut := runBinary(t, dir, "backup", "--data", data, cold); code != 0 || !strings.Contains(out, "written to "+cold) {
		t.Fatalf("backup with the server stopped: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runBinary(t, dir, "restore", "--data", data, hot)
	if code != 0 || !strings.Contains(out, "restored "+hot) {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := runBinary(t, dir, "items", "--data", data); code != 0 || !strings.Contains(out, "300 items") {
		t.Errorf("items after restore: exit %d\n%s", code, out)
	}
	// A file that is no database is refused and nothing moves.
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, bytes.Repeat([]byte("junk"), 4096), 0o600)
	if code, _, errOut := runBinary(t, dir, "restore", "--data", data, junk); code != 1 || !strings.Contains(errOut, "damaged") {
		t.Errorf("restore of junk: exit %d\n%s", code, errOut)
	}
}
