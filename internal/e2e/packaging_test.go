package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
)

// image is what the Dockerfile's final stage sets.
type image struct {
	env                 []string // CLIPSHEET_ variables of ENV
	workdir, volume     string
	entrypoint, command []string
	healthcheck         []string
}

// readDockerfile reads the instructions of the Dockerfile's final stage.
func readDockerfile(t *testing.T) image {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	execForm := func(line, after string) []string {
		_, rest, _ := strings.Cut(line, after)
		var args []string
		if err := json.Unmarshal([]byte(strings.TrimSpace(rest)), &args); err != nil {
			t.Fatalf("Dockerfile: %q is not in exec form: %v", line, err)
		}
		return args
	}
	var img image
	// Join continued lines.
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "FROM":
			img = image{}
		case "ENV":
			for _, kv := range f[1:] {
				if strings.HasPrefix(kv, "CLIPSHEET_") {
					img.env = append(img.env, kv)
				}
			}
		case "WORKDIR":
			img.workdir = f[1]
		case "VOLUME":
			img.volume = strings.Trim(f[1], `["]`)
		case "ENTRYPOINT":
			img.entrypoint = execForm(line, "ENTRYPOINT")
		case "CMD":
			img.command = execForm(line, "CMD")
		case "HEALTHCHECK":
			img.healthcheck = execForm(line, " CMD ")
		}
	}
	return img
}

// unitFile is the unit's Environment= assignments, and every key's values.
func unitFile(t *testing.T) (env []string, keys map[string][]string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "packaging", "systemd", "clipsheet.service"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys = map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		keys[k] = append(keys[k], v)
		if k == "Environment" {
			env = append(env, strings.Fields(v)...)
		}
	}
	return env, keys
}

// The settings the Dockerfile and the systemd unit pass in the environment
// are ones serve knows (it refuses unknown CLIPSHEET_ variables), and put
// the database and an editable sources.yaml where the image's volume and
// the unit's state directory are.
func TestPackagingSettings(t *testing.T) {
	t.Run("Dockerfile", func(t *testing.T) {
		img := readDockerfile(t)
		s, err := config.LoadSettings("", false, img.env)
		if err != nil {
			t.Fatalf("the Dockerfile's ENV %v: %v", img.env, err)
		}
		if img.volume != "/data" || s.DataDir != img.volume || img.workdir != img.volume || filepath.Dir(s.Sources) != img.volume {
			t.Errorf("volume %q, workdir %q, data_dir %q, sources %q: want all in /data", img.volume, img.workdir, s.DataDir, s.Sources)
		}
		if s.Addr != "0.0.0.0:8080" {
			t.Errorf("addr %q: docker run -p 8080:8080 needs 0.0.0.0:8080", s.Addr)
		}
	})
	t.Run("systemd", func(t *testing.T) {
		env, keys := unitFile(t)
		var settingsPath string
		var rest []string
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, "CLIPSHEET_SETTINGS="); ok {
				settingsPath = v
				continue
			}
			rest = append(rest, kv)
		}
		if settingsPath != "/etc/clipsheet/clipsheet.yaml" {
			t.Errorf("CLIPSHEET_SETTINGS=%q, want /etc/clipsheet/clipsheet.yaml (the packaged file is installed there)", settingsPath)
		}
		// The packaged settings file, as installed, under the unit's environment.
		s, err := config.LoadSettings(filepath.Join("..", "..", "packaging", "systemd", "clipsheet.yaml"), true, rest)
		if err != nil {
			t.Fatalf("packaging/systemd/clipsheet.yaml with %v: %v", rest, err)
		}
		state := "/var/lib/" + strings.Join(keys["StateDirectory"], "")
		if s.DataDir != state || filepath.Dir(s.Sources) != state || strings.Join(keys["WorkingDirectory"], "") != state {
			t.Errorf("state directory %s, data_dir %q, sources %q, working directory %v: want all the state directory", state, s.DataDir, s.Sources, keys["WorkingDirectory"])
		}
		if s.Addr != "127.0.0.1:8080" {
			t.Errorf("addr %q: the packaged settings listen on loopback, behind a reverse proxy", s.Addr)
		}
	})
}

// systemd-analyze verify accepts the unit (keys, sections, that its
// commands exist), with ExecStart pointed at the released binary.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed; the unit is not verified")
	}
	bin := releaseBinary(t)
	unit, err := os.ReadFile(filepath.Join("..", "..", "packaging", "systemd", "clipsheet.service"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "clipsheet.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/clipsheet", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// The image's entry point, command, environment and working directory serve,
// and its HEALTHCHECK command says healthy: run with the released binary,
// /data a temporary directory (with a sources.yaml of no sources, as a
// mounted one would be: the image's own names real publishers) and the
// address on loopback at a free port.
func TestContainerConfigurationServes(t *testing.T) {
	bin := releaseBinary(t)
	img := readDockerfile(t)
	if len(img.entrypoint) != 1 || len(img.healthcheck) == 0 || img.healthcheck[0] != img.entrypoint[0] {
		t.Fatalf("ENTRYPOINT %q, HEALTHCHECK %q: want the binary alone, and the health check run by it", img.entrypoint, img.healthcheck)
	}
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "sources.yaml"), []byte("sections: [Local]\nsources: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeLoopbackAddr(t)
	env := childRunner{}.env()
	for _, kv := range img.env {
		k, v, _ := strings.Cut(kv, "=")
		if k == "CLIPSHEET_ADDR" {
			_, port, _ := strings.Cut(v, ":")
			_, free, _ := strings.Cut(addr, ":")
			if port != "8080" {
				t.Errorf("CLIPSHEET_ADDR=%s: want port 8080", v)
			}
			v = "127.0.0.1:" + free
		}
		env = append(env, k+"="+strings.Replace(v, img.volume, data, 1))
	}
	run := func(args []string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = strings.Replace(img.workdir, img.volume, data, 1), env
		return cmd
	}
	srv := &server{cmd: run(img.command), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	srv.cmd.Stdout, srv.cmd.Stderr = srv.stderr, srv.stderr
	if err := srv.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { srv.err = srv.cmd.Wait(); close(srv.exited) }()
	defer func() {
		if err := srv.stop(); err != nil {
			t.Errorf("stop: %v\n%s", err, srv.stderr.String())
		}
	}()
	var out []byte
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; {
		out, err = run(img.healthcheck[1:]).CombinedOutput()
		if err == nil || time.Now().After(deadline) {
			break
		}
		select {
		case <-srv.exited:
			t.Fatalf("the server exited: %v\n%s", srv.err, srv.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err != nil || !strings.Contains(string(out), `"status":"ok"`) {
		t.Fatalf("HEALTHCHECK %q: %v\n%s\nserver:\n%s", img.healthcheck, err, out, srv.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(data, "clipsheet.db")); err != nil {
		t.Errorf("no database in the volume: %v", err)
	}
}
