package sqlstore

import (
	"os"
	"syscall"
)

// syncWAL fsyncs f without handing the goroutine's processor to another goroutine for the
// duration (a raw system call; walsync.go says why). The other processors go on meanwhile; the
// runtime's stop-the-world waits at most one sync.
func syncWAL(f *os.File) error {
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
