package sqlstore

import (
	"context"
	"sync"
	"time"
)

// WAL checkpoints in the background, for a process that serves requests.
//
// SQLite's automatic checkpoint runs inside the commit that takes the WAL past its threshold
// (wal_autocheckpoint, 64 pages here; see sqliteParams): that append waits for the checkpoint to
// copy the WAL's pages into the database file and for two more fsyncs (the WAL's, then the
// file's), one attempt in about five. A one-shot `vulscan scan` keeps that: it
// has no later moment to do the work in. A server calls CheckpointInBackground, which raises its
// writing connection's threshold to a backstop (checkpointBackstop: SQLite's default of 1000
// pages, reached only if the background checkpoints fall behind) and checkpoints from
// another connection instead: PASSIVE, which in WAL mode neither waits for nor blocks the writer,
// after every checkpointEvery commits of the writing connection, and once the writes pause
// (checkpointIdle), so that the WAL the next process reads back at open stays short. Durability
// is unchanged: a checkpoint only copies what is already committed (and synced) in the WAL.

const (
	// checkpointEvery is how many commits of the writing connection start a background
	// checkpoint: an attempt commits three times (its pending record, its pace booking, its
	// outcome), 5.5 to 13 WAL pages in all (a small log to a large one), so 32 commits are some
	// 60 to 140 pages, near the one-shot's inline threshold: a WAL the next process reads back
	// quickly.
	checkpointEvery = 32
	// checkpointIdle is how long after the last commit the rest of the WAL is checkpointed.
	checkpointIdle = time.Second
)

// walCheckpointer is the background checkpointing of a serving process's store.
type walCheckpointer struct {
	commits chan struct{} // one token per commit of the writing connection, dropped when full
	stop    context.CancelFunc
	done    sync.WaitGroup
}

// CheckpointInBackground moves the SQLite log's WAL checkpoints off the append path until the
// store is closed (see above). It does nothing for PostgreSQL, or when already called.
func (s *Store) CheckpointInBackground() {
	if s.d.name != sqliteName {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ckpt != nil {
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	c := &walCheckpointer{commits: make(chan struct{}, checkpointEvery), stop: stop}
	s.ckpt = c
	if s.w.conn != nil {
		// The writing connection is open already: raise its threshold now (writerConn does it
		// for one opened later). A failure leaves SQLite's inline checkpoints on: slower, not wrong.
		_, _ = s.w.conn.ExecContext(ctx, checkpointBackstop)
	}
	c.done.Go(func() { s.checkpointLoop(ctx, c) })
}

// checkpointBackstop sets the writing connection's threshold while checkpoints run in the
// background.
const checkpointBackstop = `PRAGMA wal_autocheckpoint = 1000`

// noteCommit tells the background checkpointer, if any, that the writing connection committed.
// The caller holds s.mu.
func (s *Store) noteCommit() {
	if s.ckpt == nil {
		return
	}
	select {
	case s.ckpt.commits <- struct{}{}:
	default: // a checkpoint is due already
	}
}

// checkpointLoop checkpoints after every checkpointEvery commits, and checkpointIdle after the
// last one, until ctx ends.
func (s *Store) checkpointLoop(ctx context.Context, c *walCheckpointer) {
	idle := time.NewTimer(checkpointIdle)
	idle.Stop()
	defer idle.Stop()
	commits := 0 // since the last checkpoint
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.commits:
			if commits++; commits < checkpointEvery {
				idle.Reset(checkpointIdle)
				continue
			}
		case <-idle.C:
		}
		commits = 0
		idle.Stop()
		// A checkpoint that fails or stops short (a reader on an old snapshot, the disk) goes on
		// after the next commits; the backstop bounds the WAL meanwhile.
		_, _ = s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
	}
}

// closingCheckpointBudget bounds the checkpoint a server's store makes as it closes.
const closingCheckpointBudget = 2 * time.Second

// stopCheckpoints ends the background checkpointer, waits for a checkpoint under way, and
// empties the WAL (TRUNCATE) for the next process. Under a steady stream of commits a PASSIVE
// checkpoint never finds the WAL idle, so the WAL stays up to the backstop long, all of it valid
// frames that the next process to open the log reads back and checks (4 MB, a one-shot's open
// made slower); a server can afford the closing checkpoint's syncs, a one-shot (which never
// starts the checkpointer) cannot. A failure leaves the WAL as it was: nothing is lost.
func (s *Store) stopCheckpoints() {
	s.mu.Lock()
	c := s.ckpt
	s.ckpt = nil
	s.mu.Unlock()
	if c == nil {
		return
	}
	c.stop()
	c.done.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), closingCheckpointBudget)
	defer cancel()
	_, _ = s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
}
