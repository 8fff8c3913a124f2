package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clipsheet/clipsheet/internal/config"
)

// dockerfileEnv is the CLIPSHEET_ variables the Dockerfile's ENV sets, and
// the path of its WORKDIR and VOLUME.
func dockerfileEnv(t *testing.T) (env []string, workdir, volume string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// Join continued lines, then read the instructions of the final stage.
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "FROM":
			env, workdir, volume = nil, "", ""
		case "ENV":
			for _, kv := range f[1:] {
				if strings.HasPrefix(kv, "CLIPSHEET_") {
					env = append(env, kv)
				}
			}
		case "WORKDIR":
			workdir = f[1]
		case "VOLUME":
			volume = strings.Trim(f[1], `["]`)
		}
	}
	return env, workdir, volume
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
		env, workdir, volume := dockerfileEnv(t)
		s, err := config.LoadSettings("", false, env)
		if err != nil {
			t.Fatalf("the Dockerfile's ENV %v: %v", env, err)
		}
		if volume != "/data" || s.DataDir != volume || workdir != volume || filepath.Dir(s.Sources) != volume {
			t.Errorf("volume %q, workdir %q, data_dir %q, sources %q: want all in /data", volume, workdir, s.DataDir, s.Sources)
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
	// The Dockerfile's HEALTHCHECK and the unit run these commands.
	for _, args := range [][]string{{"healthcheck", "--help"}, {"serve", "--help"}} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Errorf("clipsheet %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
