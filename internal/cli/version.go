package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/clipsheet/clipsheet/internal/version"
)

// Version prints the build: "clipsheet VERSION GOVERSION OS/ARCH", and the
// commit when Go recorded one, so a bug report names the exact binary.
func Version(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "version", stderr)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	fmt.Fprintln(stdout, versionLine(version.Get()))
	return 0
}

func versionLine(v version.Info) string {
	line := fmt.Sprintf("clipsheet %s %s %s/%s", v.Version, v.GoVersion, v.OS, v.Arch)
	if v.Revision != "" {
		line += " commit " + v.Revision
		if v.Modified {
			line += " (modified)"
		}
	}
	return line
}
