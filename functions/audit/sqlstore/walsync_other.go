//go:build !linux

package sqlstore

import "os"

// syncWAL syncs f as SQLite's unix VFS does by default (fsync; macOS's F_FULLFSYNC is not
// asked for by the DSN either), always as a blocking call.
func syncWAL(f *os.File, _ bool) error { return f.Sync() }
