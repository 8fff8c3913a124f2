package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// buildBinary builds the real program from the main module into dir.
func buildBinary(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "github.com/clipsheet/clipsheet").Output()
	if err != nil {
		return "", fmt.Errorf("find the main module: %w", err)
	}
	root := strings.TrimSpace(string(out))
	bin := filepath.Join(dir, "clipsheet")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/clipsheet")
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/clipsheet in %s: %w", root, err)
	}
	return bin, nil
}

// writeSources writes the sources file the items were made for: its
// sections in order and its 30 sources (never polled: serve runs with
// --no-fetch).
func writeSources(path string) error {
	var b strings.Builder
	b.WriteString("defaults: {interval: 30m}\nsections: [")
	for i, s := range sections {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(s))
	}
	b.WriteString("]\nsources:\n")
	for _, s := range sourceList() {
		fmt.Fprintf(&b, "  - name: %q\n    url: https://%s/feed\n    section: %q\n", s.name, s.host, s.section)
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// account is what the load needs to sign in: a curator's name and
// password for the login form, an API token, and queued items to approve.
type account struct {
	name, password, token string
	queued                []string
}

// prepare opens the store to be served and creates, through the store's
// account service, a curator and an API token, and picks want queued items
// for the approvals.
func prepare(ctx context.Context, dbPath string, want int) (*account, error) {
	st, err := store.Open(dbPath)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	svc := auth.New(st, auth.Config{})
	a := &account{name: "bench-" + randHex(4), password: "bench-" + randHex(16)}
	actor := auth.Actor{Name: "cli:benchstore"}
	if _, err := svc.AddUser(ctx, actor, a.name, model.RoleCurator, a.password); err != nil {
		return nil, fmt.Errorf("add curator: %w", err)
	}
	if a.token, _, err = svc.AddAPIToken(ctx, actor, a.name, "benchstore"); err != nil {
		return nil, fmt.Errorf("add API token: %w", err)
	}
	items, err := st.ListItems(ctx, store.ItemFilter{Status: model.StatusQueued, Limit: want})
	if err != nil {
		return nil, fmt.Errorf("list queued items: %w", err)
	}
	for _, it := range items {
		a.queued = append(a.queued, it.ID)
	}
	return a, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// server is a running `clipsheet serve`.
type server struct {
	cmd     *exec.Cmd
	base    string
	startup time.Duration
	done    chan struct{}
	mem     *memWatch
}

var servingRe = regexp.MustCompile(`serving on (https?://\S+)`)

// startServer runs `clipsheet serve --no-fetch` on dataDir at a loopback
// port of its choosing and waits until /healthz answers 200; startup is
// the time from starting the process to that answer.
func startServer(ctx context.Context, bin, runDir, dataDir string, maxRSS int64) (*server, error) {
	logf, err := os.Create(filepath.Join(runDir, "serve.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--no-fetch", "--config", filepath.Join(runDir, "sources.yaml"),
		"--data", dataDir, "--addr", "127.0.0.1:0")
	cmd.Dir = runDir // no clipsheet.yaml there: default settings
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CLIPSHEET_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(s.done) }()
	s.mem = watchMemory(cmd.Process.Pid, maxRSS, func() { cmd.Process.Kill() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if m := servingRe.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	deadline := time.After(10 * time.Minute)
	select {
	case s.base = <-addr:
	case <-s.done:
		return nil, fmt.Errorf("clipsheet serve exited before listening (log: %s)", logf.Name())
	case <-deadline:
		s.stop()
		return nil, errors.New("clipsheet serve did not listen within 10 minutes")
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	c := &http.Client{Timeout: 5 * time.Second}
	for {
		resp, err := c.Get(s.base + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.startup = time.Since(t0)
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, errors.New("clipsheet serve exited during start-up")
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stop asks the server to shut down (SIGTERM) and kills it after 30 s.
// Stopping twice is harmless.
func (s *server) stop() {
	select {
	case <-s.done:
		s.mem.stop()
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.mem.stop()
}

// memStatus is one reading of /proc/PID/status, in bytes.
type memStatus struct{ rssAnon, vmRSS, vmHWM int64 }

func readStatus(pid int) (memStatus, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStatus{}, err
	}
	var m memStatus
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "RssAnon":
			m.rssAnon = n << 10
		case "VmRSS":
			m.vmRSS = n << 10
		case "VmHWM":
			m.vmHWM = n << 10
		}
	}
	return m, nil
}

// memWatch samples a process's memory every 50 ms, keeps the peaks, and
// kills the process when its anonymous memory passes a limit, so that a
// store that makes the server balloon cannot take the machine with it.
// (Resident memory also counts bbolt's mapping of the file, which the
// kernel can drop at will; anonymous memory is what cannot be reclaimed.)
type memWatch struct {
	mu     sync.Mutex
	peak   memStatus
	killed bool
	quit   chan struct{}
	once   sync.Once
}

func watchMemory(pid int, limit int64, kill func()) *memWatch {
	w := &memWatch{quit: make(chan struct{})}
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.quit:
				return
			case <-t.C:
			}
			m, err := readStatus(pid)
			if err != nil {
				return
			}
			w.mu.Lock()
			w.peak.rssAnon = max(w.peak.rssAnon, m.rssAnon)
			w.peak.vmRSS = max(w.peak.vmRSS, m.vmRSS)
			w.peak.vmHWM = max(w.peak.vmHWM, m.vmHWM)
			over := limit > 0 && m.rssAnon > limit && !w.killed
			if over {
				w.killed = true
			}
			w.mu.Unlock()
			if over {
				kill()
			}
		}
	}()
	return w
}

func (w *memWatch) stop() { w.once.Do(func() { close(w.quit) }) }

func (w *memWatch) peaks() (memStatus, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak, w.killed
}

// cpuTicks is the process's user and system time in clock ticks, from
// /proc/PID/stat (fields 14 and 15, counted after the command name).
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	k, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unreadable /proc stat times")
	}
	return u + k, nil
}

// settle waits until the server is idle: requests cut off at a cell's cap
// may still be running in it (a scan that does not check its context goes
// on after the client left), and would otherwise slow the next cell.
// Idle is under a tenth of a core over half a second; it gives up after
// limit and returns how long it waited.
func settle(ctx context.Context, pid int, limit time.Duration) time.Duration {
	start := time.Now()
	prev, err := cpuTicks(pid)
	for err == nil && time.Since(start) < limit && ctx.Err() == nil {
		time.Sleep(500 * time.Millisecond)
		var now int64
		if now, err = cpuTicks(pid); err == nil {
			// The kernel counts 100 ticks a second (USER_HZ): 5 ticks in
			// 500 ms is a tenth of a core.
			if now-prev <= 5 {
				break
			}
			prev = now
		}
	}
	return time.Since(start)
}
