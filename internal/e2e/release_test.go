package e2e

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// releaseVersion is stamped into the binary the tests build with make
// release; a version no git describe could give, so it cannot come from
// anywhere else.
const releaseVersion = "v0.0.0-e2e.release"

// release is `make release` for this machine's platform alone, built once
// per test binary: the tests that need the real program (the kill test, the
// release checks) share it.
var release struct {
	once sync.Once
	dir  string // removed by TestMain
	bin  string
	out  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if release.dir != "" {
		os.RemoveAll(release.dir)
	}
	os.Exit(code)
}

// releaseBinary runs the Makefile's release target into a temporary dist
// directory, with RELEASE_PLATFORMS narrowed to this machine's platform, and
// returns the binary's path.
func releaseBinary(t *testing.T) string {
	t.Helper()
	release.once.Do(func() {
		if _, err := exec.LookPath("make"); err != nil {
			release.err = fmt.Errorf("make is not on PATH (the project is built with it): %w", err)
			return
		}
		release.dir, release.err = os.MkdirTemp("", "clipsheet-release-")
		if release.err != nil {
			return
		}
		dist := filepath.Join(release.dir, "dist")
		platform := runtime.GOOS + "/" + runtime.GOARCH
		cmd := exec.Command("make", "--no-print-directory", "release",
			"VERSION="+releaseVersion, "DIST="+dist, "RELEASE_PLATFORMS="+platform)
		cmd.Dir = filepath.Join("..", "..")
		out, err := cmd.CombinedOutput()
		release.out = string(out)
		if err != nil {
			release.err = fmt.Errorf("make release: %w\n%s", err, out)
			return
		}
		release.bin = filepath.Join(dist, "clipsheet-"+releaseVersion+"-"+runtime.GOOS+"-"+runtime.GOARCH)
	})
	if release.err != nil {
		t.Fatal(release.err)
	}
	return release.bin
}

// make release stamps the version into a static, stripped binary and lists
// its checksum; `clipsheet version` prints the stamped version.
func TestMakeReleaseStampsTheVersion(t *testing.T) {
	bin := releaseBinary(t)

	out, err := exec.Command(bin, "version").CombinedOutput()
	want := fmt.Sprintf("clipsheet %s %s %s/%s", releaseVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if err != nil || !strings.HasPrefix(string(out), want) {
		t.Errorf("clipsheet version: %v, %q; want it to start %q", err, out, want)
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the release binary names a dynamic loader (PT_INTERP): not static, so cgo was on")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the release binary needs shared libraries %v", libs)
	}
	if f.Section(".symtab") != nil {
		t.Error("the release binary keeps its symbol table (-s missing)")
	}

	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	sums, err := os.ReadFile(filepath.Join(filepath.Dir(bin), "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	line := hex.EncodeToString(sum[:]) + "  " + filepath.Base(bin) + "\n"
	if !bytes.Equal(sums, []byte(line)) {
		t.Errorf("SHA256SUMS = %q, want %q (sha256sum -c format)", sums, line)
	}
}
