package sqlstore

import (
	"os"
	"syscall"
)

// syncWAL fsyncs f. Raw, the goroutine keeps its processor for the duration (a raw system call;
// walsync.go says why and when); the other processors go on meanwhile.
func syncWAL(f *os.File, raw bool) error {
	if !raw {
		return f.Sync()
	}
	for {
		_, _, errno := syscall.RawSyscall(syscall.SYS_FSYNC, f.Fd(), 0, 0)
		if errno != syscall.EINTR {
			if errno != 0 {
				return &os.PathError{Op: "fsync", Path: f.Name(), Err: errno}
			}
			return nil
		}
	}
}
