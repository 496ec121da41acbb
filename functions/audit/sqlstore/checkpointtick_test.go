package sqlstore

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// The time-based checkpoint no longer waits for an append: Tick signs one once the interval has
// passed since the last and records were appended since, and none when nothing changed.
func TestCheckpointTickSignsWhenDueByAge(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
		c := audit.NewCheckpointer(h.store, testKey(t), audit.CheckpointPolicy{Every: 1000, Interval: 15 * time.Minute},
			func() time.Time { return now })
		store := c.Wrap(func(err error) { t.Error(err) })
		tick := func(want bool, why string) {
			t.Helper()
			signed, err := c.Tick(ctx)
			if err != nil || signed != want {
				t.Fatalf("%s: Tick = %v, %v; want %v", why, signed, err, want)
			}
		}
		tick(false, "an empty log")
		for i := range 3 {
			if _, err := store.Append(ctx, rec(i)); err != nil { // the first append signs checkpoint 1
				t.Fatal(err)
			}
		}
		now = now.Add(10 * time.Minute)
		tick(false, "10 minutes after checkpoint 1")
		now = now.Add(6 * time.Minute)
		tick(true, "16 minutes after checkpoint 1, records 2 and 3 unsigned")
		last, err := h.store.LatestCheckpoint(ctx)
		if err != nil || last.Seq != 2 || last.HeadID != 3 || !last.Time.Equal(now) {
			t.Fatalf("latest checkpoint = %+v, %v; want checkpoint 2 of record 3 at %v", last, err, now)
		}
		now = now.Add(time.Hour)
		tick(false, "an hour later, nothing appended")
		if _, err := store.Append(ctx, rec(4)); err != nil { // due by age at the append: signs it
			t.Fatal(err)
		}
		tick(false, "just after the append's own checkpoint")
		if last, _ := h.store.LatestCheckpoint(ctx); last.Seq != 3 || last.HeadID != 4 {
			t.Fatalf("latest checkpoint = %+v; want checkpoint 3 of record 4", last)
		}
	})
}

// Run ticks in the background until its context ends.
func TestCheckpointRunSignsInTheBackground(t *testing.T) {
	h := newSQLite(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := audit.NewCheckpointer(h.store, testKey(t), audit.CheckpointPolicy{Interval: time.Millisecond}, nil)
	mustAppend(t, h.store, rec(0)) // appended without the wrapper: nothing signs it but Run
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx, 5*time.Millisecond, func(err error) { t.Error(err) })
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if last, err := h.store.LatestCheckpoint(ctx); err == nil {
			if last.HeadID != 1 {
				t.Fatalf("checkpoint of record %d, want 1", last.HeadID)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint signed within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}

// Appends that return together (a group commit answers its whole batch at once) sign one due
// checkpoint between them, not one each.
func TestConcurrentAppendsSignOneDueCheckpoint(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
		c := audit.NewCheckpointer(h.store, testKey(t), audit.CheckpointPolicy{Interval: time.Hour},
			func() time.Time { return now })
		store := c.Wrap(func(err error) { t.Error(err) })
		const appenders = 32
		errs := make(chan error, appenders)
		for i := range appenders {
			go func() {
				_, err := store.Append(ctx, rec(i))
				errs <- err
			}()
		}
		for range appenders {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		if err := h.store.EachCheckpoint(ctx, func(audit.Checkpoint) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d checkpoints after %d appends on an empty log within one interval, want 1", n, appenders)
		}
	})
}

// countingCheckpoints counts the reads of the latest checkpoint.
type countingCheckpoints struct {
	*Store
	reads atomic.Int64
}

func (c *countingCheckpoints) LatestCheckpoint(ctx context.Context) (audit.Checkpoint, error) {
	c.reads.Add(1)
	return c.Store.LatestCheckpoint(ctx)
}

// An append that is not due for a checkpoint is judged from the last checkpoint seen, without
// reading the store: with one every 10 records, 25 appends read it only when one is due.
func TestAppendsReadTheLatestCheckpointOnlyWhenOneMayBeDue(t *testing.T) {
	h := newSQLite(t)
	ctx := context.Background()
	counted := &countingCheckpoints{Store: h.store}
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	c := audit.NewCheckpointer(counted, testKey(t), audit.CheckpointPolicy{Every: 10, Interval: time.Hour}, func() time.Time { return now })
	store := c.Wrap(func(err error) { t.Error(err) })
	for i := range 25 {
		if _, err := store.Append(ctx, rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	last, err := h.store.LatestCheckpoint(ctx)
	if err != nil || last.Seq != 3 || last.HeadID != 21 {
		t.Fatalf("latest checkpoint %+v, %v; want checkpoint 3 of record 21 (records 1, 11 and 21 signed)", last, err)
	}
	if n := counted.reads.Load(); n != 3 {
		t.Errorf("the latest checkpoint was read %d times for 25 appends, want 3 (once for each due one)", n)
	}
}
