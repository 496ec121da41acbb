package sqlstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// syncWatch replaces a SQLite store's WAL sync: it records, at the start of each sync, the
// newest record committed (read on another connection), and after the sync, that every record
// up to it is durable. fail, when set, makes the syncs fail.
type syncWatch struct {
	mu      sync.Mutex
	syncs   int
	durable int64 // every record up to this ID was committed before a sync that has ended
	fail    error
	delay   time.Duration // each sync takes at least this long
	files   []string      // per sync: the file synced
}

func watchSyncs(t *testing.T, s *Store) *syncWatch {
	t.Helper()
	w := &syncWatch{}
	s.wal.syncFile = func(f *os.File) error {
		var newest int64
		if err := s.db.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM audit_log`).Scan(&newest); err != nil {
			t.Errorf("reading the newest record before a sync: %v", err)
		}
		w.mu.Lock()
		fail, delay := w.fail, w.delay
		w.mu.Unlock()
		if fail != nil {
			return fail
		}
		time.Sleep(delay)
		err := f.Sync()
		w.mu.Lock()
		defer w.mu.Unlock()
		w.syncs++
		w.files = append(w.files, f.Name())
		w.durable = max(w.durable, newest)
		return err
	}
	return w
}

func (w *syncWatch) state() (syncs int, durable int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.syncs, w.durable
}

// The durability choice on SQLite: the writing connection commits with synchronous=NORMAL, so
// SQLite never syncs while it holds the write lock; a pending record's Append returns only after
// the store has synced the WAL, in a sync begun after the record's commit; an outcome's and a
// pace booking's are not synced.
func TestSQLitePendingRecordIsSyncedBeforeAppendReturns(t *testing.T) {
	s := newSQLite(t).store
	w := watchSyncs(t, s)
	ctx := context.Background()

	pending := mustAppend(t, s, rec(0))
	if syncs, durable := w.state(); syncs != 1 || durable < pending.ID {
		t.Fatalf("after a pending record's Append: %d syncs, durable up to %d; want 1, %d", syncs, durable, pending.ID)
	}
	outcome := rec(1)
	outcome.Outcome, outcome.PendingID = audit.OutcomeSucceeded, pending.ID
	mustAppend(t, s, outcome)
	if _, _, err := s.BookSlot(ctx, "CreateVulScanTask", t0, 50e6, 1, t0.Add(1e9)); err != nil {
		t.Fatal(err)
	}
	if syncs, _ := w.state(); syncs != 1 {
		t.Errorf("an outcome and a pace booking made %d more syncs, want none", syncs-1)
	}
	var level int
	if err := s.w.conn.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&level); err != nil {
		t.Fatal(err)
	}
	const normal = 1
	if level != normal {
		t.Errorf("the writing connection's synchronous is %d, want NORMAL (%d): SQLite would sync under the write lock", level, normal)
	}
}

// Concurrent pending records share syncs, and each Append still returns only after a sync that
// began once its record was committed.
func TestSQLiteConcurrentPendingRecordsShareSyncs(t *testing.T) {
	s := newSQLite(t).store
	w := watchSyncs(t, s)
	const appends = 64
	var wg sync.WaitGroup
	for i := range appends {
		wg.Go(func() {
			got, err := s.Append(context.Background(), rec(i))
			if err != nil {
				t.Errorf("Append: %v", err)
				return
			}
			if _, durable := w.state(); durable < got.ID {
				t.Errorf("Append returned record %d when only records up to %d were synced", got.ID, durable)
			}
		})
	}
	wg.Wait()
	if syncs, _ := w.state(); syncs < 1 || syncs > appends {
		t.Errorf("%d syncs for %d appends", syncs, appends)
	}
}

// A failed sync fails the append closed: the pending record's caller is told the log is
// unavailable (so no scan starts on it), every later record that needs a sync is refused before
// it is committed, and outcomes, which never waited for a sync, are still recorded.
func TestSQLiteFailedSyncRefusesDurableAppends(t *testing.T) {
	s := newSQLite(t).store
	w := watchSyncs(t, s)
	ctx := context.Background()
	first := mustAppend(t, s, rec(0))
	diskErr := errors.New("input/output error")
	w.mu.Lock()
	w.fail = diskErr
	w.mu.Unlock()

	committed, err := s.Append(ctx, rec(1))
	if !errors.Is(err, diskErr) || !errors.Is(err, audit.ErrNotDurable) {
		t.Fatalf("Append when the sync fails = %v, want the sync's error and audit.ErrNotDurable", err)
	}
	if committed.ID == 0 {
		t.Error("Append when the sync fails returned no record: its caller cannot close the attempt")
	}
	w.mu.Lock()
	w.fail = nil // a later sync that succeeds proves nothing: the failure stays
	w.mu.Unlock()
	var before, after int
	count := func(n *int) {
		if err := s.db.QueryRow(`SELECT COUNT(*) FROM audit_log`).Scan(n); err != nil {
			t.Fatal(err)
		}
	}
	count(&before)
	if _, err := s.Append(ctx, rec(2)); !errors.Is(err, diskErr) {
		t.Errorf("the next pending Append = %v, want the first sync's error", err)
	}
	count(&after)
	if after != before {
		t.Errorf("the refused pending record was committed (%d records, then %d)", before, after)
	}
	outcome := rec(3)
	outcome.Outcome, outcome.PendingID = audit.OutcomeSucceeded, first.ID
	if _, err := s.Append(ctx, outcome); err != nil {
		t.Errorf("an outcome after the failed sync: %v, want it recorded", err)
	}
}

// The WAL synced is the one SQLite writes, also when the store is opened through a symlink
// (SQLite resolves it and keeps the WAL beside the real file) with a stale "-wal" beside the
// link: the stale file is never synced, and the records survive a reopen.
func TestSQLiteWALSyncFollowsSymlinks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "data", "real.db")
	link := filepath.Join(dir, "audit.db")
	if err := os.Symlink(filepath.Join("data", "real.db"), link); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(link+"-wal", nil, 0o644); err != nil { // left from before the move
		t.Fatal(err)
	}
	s, err := OpenSQLite(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	w := watchSyncs(t, s)
	for i := range 3 {
		mustAppend(t, s, rec(i))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(w.files) == 0 {
		t.Fatal("no WAL sync for three pending records")
	}
	walInfo, err := os.Stat(real + "-wal")
	if err != nil {
		t.Fatalf("SQLite's WAL beside the real file: %v", err)
	}
	for i, name := range w.files {
		fi, err := os.Stat(name)
		if err != nil || !os.SameFile(fi, walInfo) {
			t.Errorf("sync %d was of %s (%v), not SQLite's WAL %s-wal", i+1, name, err, real)
		}
	}
	s, err = OpenSQLite(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rep, err := s.Verify(ctx); err != nil || !rep.OK() || rep.Records != 3 {
		t.Errorf("Verify after reopening = %v, %v; want ok: 3 records", rep, err)
	}
}

// Closing the store syncs what was committed and not yet synced, so that an append whose sync
// had not started is answered from the close's sync instead of refused.
func TestSQLiteCloseSyncsWhatWasCommitted(t *testing.T) {
	s := newSQLite(t).store
	w := watchSyncs(t, s)
	mustAppend(t, s, rec(0))
	seq := s.wal.commitDone() // a commit whose leader has not synced yet
	before, _ := w.state()
	if err := s.wal.close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if after, _ := w.state(); after != before+1 {
		t.Errorf("close made %d syncs for one commit not yet synced, want 1", after-before)
	}
	if err := s.wal.through(seq); err != nil {
		t.Errorf("through the commit the close synced: %v, want nil", err)
	}
	if err := s.wal.through(seq + 1); err == nil {
		t.Error("through a commit after the close: nil, want an error")
	}
}
