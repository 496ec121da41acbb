package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
)

// Concurrent pending records with idempotency keys, many sharing a key, commit together in group
// commits: the chain stays whole and each key is bound by exactly one pending record, every
// other holder being refused with ErrDuplicateKey, however the appends fell into batches.
func TestConcurrentKeyedAppendsBindEachKeyOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		const writers, keys = 64, 8
		ctx := context.Background()
		var wg sync.WaitGroup
		var mu sync.Mutex
		stored := map[string]int{}
		refused := 0
		for w := range writers {
			wg.Go(func() {
				r := rec(w)
				r.IdempotencyKey = fmt.Sprintf("key-%d", w%keys)
				got, err := h.store.Append(ctx, r)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.Is(err, audit.ErrDuplicateKey):
					refused++
				case err != nil:
					t.Errorf("Append: %v", err)
				default:
					stored[got.IdempotencyKey]++
				}
			})
		}
		wg.Wait()
		for k, n := range stored {
			if n != 1 {
				t.Errorf("key %s bound by %d pending records, want 1", k, n)
			}
		}
		if len(stored) != keys || refused != writers-keys {
			t.Errorf("%d keys bound and %d appends refused; want %d and %d", len(stored), refused, keys, writers-keys)
		}
		rep, err := h.store.Verify(ctx)
		if err != nil || !rep.OK() || rep.Records != keys {
			t.Fatalf("Verify = %v, %v; want ok: %d records", rep, err, keys)
		}
	})
}

// A caller whose context has ended before its turn is answered with that error and its record
// is not stored; the callers around it are not affected.
func TestAppendLeavesOutACallerThatGaveUp(t *testing.T) {
	s := newSQLite(t).store
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Append(ctx, rec(0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context = %v, want context.Canceled", err)
	}
	if got := mustAppend(t, s, rec(1)); got.ID != 1 {
		t.Errorf("the next append got ID %d, want 1 (nothing stored for the cancelled one)", got.ID)
	}
}

// The WAL outlives the store: closing neither checkpoints it into the database file nor deletes
// it (four fsyncs a process saved), and the next store reads every record back from it.
func TestTheWALOutlivesTheProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "audit.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, rec(0))
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wal, err := os.Stat(path + "-wal")
	if err != nil || wal.Size() == 0 {
		t.Fatalf("after Close the WAL is gone or empty (%v): the close checkpointed it", err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("Close wrote the database file (%d bytes at %v, then %d at %v): it checkpointed",
			before.Size(), before.ModTime(), after.Size(), after.ModTime())
	}
	s, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rep, err := s.Verify(ctx); err != nil || !rep.OK() || rep.Records != 1 {
		t.Errorf("after reopening: Verify = %v, %v; want ok: 1 record", rep, err)
	}
}
