//go:build !release

package sqlstore

// SQLite's C, transpiled to Go (modernc.org/sqlite), runs on the calling goroutine's stack, and
// its functions are very large (sqlite3VdbeExec, the parser), with tables that map their program
// counters to stack sizes and pointer maps to match. A goroutine starts with an 8 KB stack and
// SQLite's calls need more than 16 KB of it; when the stack fills inside SQLite, the runtime
// copies it, and the copy walks those tables for every SQLite frame on the stack. In a one-shot
// `vulscan scan` that walk paged in about 1.1 MB of the binary's read-only data (pages present
// at exit, /proc/PID/pagemap: 5.4 MB of it before, 4.3 MB after) and was half of the CPU
// samples in runtime.copystack (3.9% of the process's to 2.2%). Growing the stack before the
// first SQLite call copies a few small frames instead.

// sqliteStack is how much of a goroutine's stack growStack uses: the stack then doubles to
// 32 KB, enough for the calls a store makes (measured from 8 to 64 KB in steps: 16 KB still
// grows inside SQLite, 32 KB does not, more changes nothing).
const sqliteStack = 24 << 10

// stackFrame is growStack's own frame size.
const stackFrame = 1 << 10

// growStack uses about n*stackFrame bytes of the calling goroutine's stack, so that the runtime
// grows it here, where the only frames to copy are growStack's own.
//
//go:noinline
func growStack(n int) byte {
	var frame [stackFrame]byte
	frame[n%stackFrame] = byte(n)
	if n <= 1 {
		return frame[0]
	}
	return growStack(n-1) + frame[(n*7)%stackFrame]
}
