//go:build unix

package story

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used, user and system: on
// a machine shared with other work, wall-clock time per operation says
// more about the neighbours than about the code.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
