// Package version tells which build of Clipsheet is running, for
// `clipsheet version`, and for anything else that shows it (metrics, the
// admin pages).
package version

import (
	"runtime"
	"runtime/debug"
)

// stamped is the release's version, set when linking:
//
//	go build -ldflags "-X github.com/clipsheet/clipsheet/internal/version.stamped=v1.2.0"
//
// (make release and the Dockerfile do). It is a variable only because -X
// can set nothing else; nothing assigns it at run time.
var stamped string

// Info describes the running binary.
type Info struct {
	// Version is the stamped release version (git describe at build
	// time), else the module version Go recorded, else "dev".
	Version string
	// Revision is the VCS commit the binary was built from, when Go
	// recorded it (go build inside a git work tree); "" otherwise.
	Revision string
	// Modified says the work tree had uncommitted changes at build time.
	Modified bool
	// GoVersion, OS and Arch are the toolchain and target it was built with.
	GoVersion string
	OS        string
	Arch      string
}

// Get reports the running binary's version and build.
func Get() Info {
	info := Info{Version: stamped, GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if info.Version == "" && ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		info.Version = bi.Main.Version
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	return info
}

// String is the version alone, e.g. "v1.2.0" or "dev".
func String() string { return Get().Version }
