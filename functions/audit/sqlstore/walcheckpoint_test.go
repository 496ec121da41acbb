package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A serving store's appends leave WAL checkpoints to the background: its writing connection's
// own threshold is only a backstop, what the appends committed reaches the database file
// without another append, and closing leaves an empty WAL; a one-shot's store keeps SQLite's
// inline checkpoints (and its WAL at close: TestTheWALOutlivesTheProcess).
func TestCheckpointsRunInTheBackgroundOfAServer(t *testing.T) {
	cases := []struct {
		name       string
		background bool
		threshold  int
	}{
		{"a server's store", true, 1000},
		{"a one-shot's store", false, 64},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "audit.db")
			s, err := OpenSQLite(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() }) // the store open at the end
			if tc.background {
				s.CheckpointInBackground()
			}
			before := fileSize(t, path)
			for i := range 3 {
				mustAppend(t, s, rec(i))
			}
			if got := writerThreshold(t, s); got != tc.threshold {
				t.Errorf("the writing connection checkpoints at %d pages, want %d", got, tc.threshold)
			}
			if !tc.background {
				return
			}
			// The background checkpoint follows the last commit by checkpointIdle.
			deadline := time.Now().Add(20 * checkpointIdle)
			for fileSize(t, path) == before {
				if time.Now().After(deadline) {
					t.Fatalf("the database file stayed at %d bytes: nothing checkpointed the WAL", before)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if rep, err := s.Verify(ctx); err != nil || !rep.OK() || rep.Records != 3 {
				t.Errorf("after the checkpoint: Verify = %v, %v; want ok: 3 records", rep, err)
			}
			// Closing, a server's store leaves the next process an empty WAL to read back.
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if wal := fileSize(t, path+"-wal"); wal != 0 {
				t.Errorf("after Close the WAL holds %d bytes, want 0", wal)
			}
			s, err = OpenSQLite(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if rep, err := s.Verify(ctx); err != nil || !rep.OK() || rep.Records != 3 {
				t.Errorf("reopened: Verify = %v, %v; want ok: 3 records", rep, err)
			}
		})
	}
}

// writerThreshold is the writing connection's wal_autocheckpoint.
func writerThreshold(t *testing.T, s *Store) int {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var pages int
	if err := s.w.conn.QueryRowContext(context.Background(), `PRAGMA wal_autocheckpoint`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	return pages
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
