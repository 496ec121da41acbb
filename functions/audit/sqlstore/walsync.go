package sqlstore

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// The sync of SQLite's WAL, outside the write lock.
//
// With synchronous=FULL, SQLite syncs the WAL inside COMMIT, holding the database's write lock
// and the store's: a pace booking, or another process's append, waited for the disk behind it.
// The writing connection now commits with synchronous=NORMAL (the frames are written to the WAL,
// not synced), and the batch's leader syncs the WAL file itself once the locks are released,
// before it answers the callers (writer.go): the pending record is still on disk before TCSS is
// called. The leader keeps the lead through the sync, so that the appends arriving meanwhile
// still share the next commit.
//
// Why a sync of the file through a descriptor of the store's own is SQLite's durability: in WAL
// mode a commit is its frames, checksummed in a chain from the WAL header, and recovery keeps the
// longest valid run of whole transactions; fsync makes every frame written before it durable,
// whichever descriptor wrote it. With NORMAL, SQLite still syncs what the log's integrity needs:
// the WAL header when it starts the WAL again (with the directory, the first time a connection
// syncs its WAL), and both files around a checkpoint, which copies frames into the database file
// only after syncing the WAL and lets the WAL be overwritten only after syncing the database
// file. A checkpoint may thus make a record durable before this sync does, never lose one.
//
// The sync is an ordinary blocking system call (os.File.Sync). A raw one, keeping the goroutine's
// processor, saved the leader about 0.1 ms of waiting for a processor after each sync with the two
// cores busy, but while it runs the runtime cannot stop the world: on a disk that stalls (this
// machine's sync tail reaches hundreds of milliseconds) a garbage collection would have frozen
// every goroutine of the server for as long, and with GOMAXPROCS=1 every sync would.
//
// What readers see: a record is visible from its commit, a sync before it is durable. A power
// cut in between (a fraction of a millisecond) loses it, but its caller was not answered, so no
// scan was started for it; a retry that finds its idempotency key bound is answered only after
// the sync of its own batch, which covers the earlier commit.
//
// A failed sync is final for the process, as PostgreSQL treats one: Linux may report a write
// error once and mark the pages clean, so a later sync that succeeds proves nothing. Every append
// that needs a sync is refused from then on, before it commits, so that no scan starts on a
// record that may not be on disk; outcomes, never synced, are still taken. A restart reads the
// WAL back and keeps what is there.

// walSync syncs the WAL file of a SQLite store for the append path.
type walSync struct {
	path string // the WAL SQLite writes: beside the database file, symlinks resolved
	// syncFile syncs the open WAL file ((*os.File).Sync); tests replace it.
	syncFile func(*os.File) error

	mu        sync.Mutex
	cond      sync.Cond
	f         *os.File // opened by the first sync, kept until close
	committed uint64   // sequence number of the newest commit whose callers wait for a sync
	synced    uint64   // every commit up to this one is durable
	syncing   bool     // a sync is under way (without mu)
	failed    error    // the first failed sync, final; or the store is closed
}

// newWALSync syncs the WAL of the database file SQLite opened: dbFile is its own name for it
// (PRAGMA database_list), in which SQLite has resolved every symlink and beside which it keeps
// the WAL. The path the store was opened with may be a symlink, and a stale "-wal" beside the
// link would then be synced instead of the log.
func newWALSync(dbFile string) *walSync {
	w := &walSync{path: dbFile + "-wal", syncFile: (*os.File).Sync}
	w.cond.L = &w.mu
	return w
}

// commitDone registers a commit whose records need a sync and returns its sequence number, for
// through. The caller has just committed and still holds the store's lock (s.mu), so numbers
// follow the order of the commits.
func (w *walSync) commitDone() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.committed++
	return w.committed
}

// err is the failure that refuses every append needing a sync, or nil.
func (w *walSync) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

// through returns once the WAL has been synced after commit seq ended, starting a sync or
// joining one: a sync under way may have begun before seq's commit ended, so a waiter it does
// not cover starts the next one.
func (w *walSync) through(seq uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.synced < seq {
		if w.failed != nil {
			return w.failed
		}
		if w.syncing {
			w.cond.Wait()
			continue
		}
		w.syncing = true
		target := w.committed
		w.mu.Unlock()
		err := w.sync()
		w.mu.Lock()
		w.syncing = false
		w.cond.Broadcast()
		if err != nil {
			if w.failed == nil {
				w.failed = fmt.Errorf("the audit log's sync failed, so no further record can be made durable in this process: %w", err)
			}
			return w.failed
		}
		w.synced = max(w.synced, target)
	}
	return nil
}

// sync opens the WAL file on first use and syncs it. Only the goroutine that set syncing runs
// it, or close with no sync under way.
func (w *walSync) sync() error {
	if w.f == nil {
		// The commit before this sync wrote the WAL, so it exists; no connection of this store
		// deletes it (SQLITE_FCNTL_PERSIST_WAL, keepwal.go), so it stays the file SQLite writes.
		f, err := os.OpenFile(w.path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		w.f = f
	}
	return w.syncFile(w.f)
}

// close waits for a sync under way, syncs what was committed after it (an append whose leader
// had not reached its sync yet is then answered from this one instead of refused), and closes
// the file; a later through fails.
func (w *walSync) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.syncing {
		w.cond.Wait()
	}
	var err error
	if w.failed == nil && w.synced < w.committed {
		if err = w.sync(); err == nil {
			w.synced = w.committed
		}
	}
	w.cond.Broadcast()
	if w.failed == nil {
		w.failed = errors.New("the audit log is closed")
	}
	if w.f == nil {
		return err
	}
	err = errors.Join(err, w.f.Close())
	w.f = nil
	return err
}
