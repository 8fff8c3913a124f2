package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/version"
)

// The container's HEALTHCHECK: exit 0 on a 200 from /healthz, 1 with the
// status and the answer's first line otherwise, 1 when nothing listens.
func TestHealthcheckProbesHealthz(t *testing.T) {
	var healthy atomic.Bool
	var paths atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths.Store(r.URL.Path)
		if !healthy.Load() {
			http.Error(w, `{"status":"store unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	healthy.Store(true)
	code, out, errOut := runCmd(t, healthcheck, "--addr", addr)
	if code != 0 || !strings.Contains(out, `{"status":"ok"}`) || paths.Load() != "/healthz" {
		t.Fatalf("healthy: exit %d, %q %q, path %v", code, out, errOut, paths.Load())
	}
	healthy.Store(false)
	code, _, errOut = runCmd(t, healthcheck, "--url", srv.URL+"/healthz")
	if code != 1 || !strings.Contains(errOut, "503 Service Unavailable") || !strings.Contains(errOut, "store unavailable") {
		t.Fatalf("unhealthy: exit %d, %q", code, errOut)
	}
	srv.Close()
	code, _, errOut = runCmd(t, healthcheck, "--addr", addr)
	if code != 1 || !strings.Contains(errOut, "healthcheck:") {
		t.Fatalf("nothing listening: exit %d, %q", code, errOut)
	}
	if code, _, _ := runCmd(t, healthcheck, "extra"); code != 2 {
		t.Errorf("stray argument: exit %d, want 2", code)
	}
}

func healthcheck(ctx context.Context, args []string, out, errb *bytes.Buffer) int {
	return Healthcheck(ctx, args, out, errb)
}

func TestHealthURL(t *testing.T) {
	for _, c := range []struct {
		addr, cert, want string
	}{
		{"127.0.0.1:8080", "", "http://127.0.0.1:8080/healthz"},
		{"0.0.0.0:8080", "", "http://127.0.0.1:8080/healthz"},
		{":9090", "", "http://127.0.0.1:9090/healthz"},
		{"[::]:8080", "", "http://[::1]:8080/healthz"},
		{"192.0.2.7:8443", "/etc/ssl/c.pem", "https://192.0.2.7:8443/healthz"},
	} {
		s := config.DefaultSettings()
		s.Addr, s.TLS.Cert = c.addr, c.cert
		if got := healthURL(s); got != c.want {
			t.Errorf("addr %q cert %q: %s, want %s", c.addr, c.cert, got, c.want)
		}
	}
}

func TestVersionLine(t *testing.T) {
	for _, c := range []struct {
		info version.Info
		want string
	}{
		{version.Info{Version: "v1.4.0", GoVersion: "go1.26.8", OS: "linux", Arch: "arm64"}, "clipsheet v1.4.0 go1.26.8 linux/arm64"},
		{version.Info{Version: "dev", GoVersion: "go1.26.8", OS: "linux", Arch: "amd64", Revision: "334909e1", Modified: true},
			"clipsheet dev go1.26.8 linux/amd64 commit 334909e1 (modified)"},
	} {
		if got := versionLine(c.info); got != c.want {
			t.Errorf("%+v: %q, want %q", c.info, got, c.want)
		}
	}
	code, out, _ := runCmd(t, func(ctx context.Context, a []string, o, e *bytes.Buffer) int { return Version(ctx, a, o, e) })
	if want := versionLine(version.Get()) + "\n"; code != 0 || out != want {
		t.Errorf("clipsheet version: exit %d, %q, want %q", code, out, want)
	}
}
