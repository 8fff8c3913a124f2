package version

import (
	"runtime"
	"testing"
)

// A stamped version wins over what Go recorded; without one the version is
// never empty.
func TestGet(t *testing.T) {
	if v := Get(); v.Version == "" || v.GoVersion != runtime.Version() || v.OS != runtime.GOOS || v.Arch != runtime.GOARCH {
		t.Errorf("unstamped: %+v", v)
	}
	defer func(old string) { stamped = old }(stamped)
	stamped = "v1.2.3-4-gabcdef0"
	if got := String(); got != "v1.2.3-4-gabcdef0" {
		t.Errorf("stamped: %q", got)
	}
}
