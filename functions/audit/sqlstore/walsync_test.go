package sqlstore

import (
	"context"
	"errors"
	"os"
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
	delay   time.Duration   // each sync takes at least this long
	raw     []bool          // per sync: whether it kept the processor
	took    []time.Duration // per sync: how long it took
}

func watchSyncs(t *testing.T, s *Store) *syncWatch {
	t.Helper()
	w := &syncWatch{}
	s.wal.syncFile = func(f *os.File, raw bool) error {
		start := time.Now()
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
		err := syncWAL(f, raw)
		took := time.Since(start)
		w.mu.Lock()
		defer w.mu.Unlock()
		w.syncs++
		w.raw, w.took = append(w.raw, raw), append(w.took, took)
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

	if _, err := s.Append(ctx, rec(1)); !errors.Is(err, diskErr) {
		t.Fatalf("Append when the sync fails = %v, want the sync's error", err)
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

// A sync that takes longer than rawSyncLimit (a stalling disk) makes the next one a blocking call,
// which lets the runtime stop the world meanwhile; a quick one makes the next raw again.
func TestSQLiteSlowSyncMakesTheNextOneBlocking(t *testing.T) {
	s := newSQLite(t).store
	w := watchSyncs(t, s)
	set := func(d time.Duration) {
		w.mu.Lock()
		w.delay = d
		w.mu.Unlock()
	}
	for i := range 3 {
		mustAppend(t, s, rec(i))
	}
	set(4 * rawSyncLimit)
	mustAppend(t, s, rec(3))
	set(0)
	for i := range 4 {
		mustAppend(t, s, rec(4+i))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.raw) != 8 {
		t.Fatalf("%d syncs for 8 pending records, want 8", len(w.raw))
	}
	for i := 2; i < len(w.raw); i++ { // the first sync also opened the WAL file
		switch took := w.took[i-1]; {
		case took > rawSyncLimit && w.raw[i]:
			t.Errorf("sync %d kept the processor after a sync of %v", i+1, took)
		case took < rawSyncLimit/2 && !w.raw[i]:
			t.Errorf("sync %d blocked after a sync of %v", i+1, took)
		}
	}
	if w.raw[4] {
		t.Errorf("the sync after the slow one kept the processor")
	}
}
