//go:build unix

package sqlstore

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) the process has used so far: a benchmark whose
// operation waits for the disk reports it beside its wall time, which the waits make noisy.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
