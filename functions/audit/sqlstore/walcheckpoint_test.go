package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
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

// A long read (an export) keeps the checkpoints from reaching past its snapshot, so the appends
// made meanwhile grow the WAL file well past its usual size. Once the reader has gone, the
// writer that restarts the WAL truncates the file to walSizeLimit: it no longer keeps the size
// the reader left it at for good.
func TestTheWALShrinksOnceALongReaderHasGone(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "audit.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustAppend(t, s, rec(0))
	reader, err := OpenSQLiteExisting(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	reading, release, read := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		read <- reader.Each(ctx, audit.Filter{}, func(audit.Record) error {
			close(reading)
			<-release // an export writing to a slow pipe
			return nil
		})
	}()
	<-reading
	big := rec(1)
	big.ErrorMessage = strings.Repeat("x", 16<<10)
	for i := 0; fileSize(t, path+"-wal") <= 2*walSizeLimit; i++ {
		big.Time = t0.Add(time.Duration(i) * time.Second)
		mustAppend(t, s, big)
	}
	close(release)
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	reader.Close()
	// The first append's checkpoint copies the whole WAL (no reader holds it back now); the next
	// restarts it from the start.
	for i := range 2 {
		mustAppend(t, s, rec(2+i))
	}
	if size := fileSize(t, path+"-wal"); size > walSizeLimit {
		t.Errorf("the WAL file is %d bytes once the reader has gone; want at most %d", size, walSizeLimit)
	}
}
