package sqlstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// The kept head moves forward only, and a chain with a problem is never kept.
func TestVerifiedHeadMovesForwardOnly(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		if _, err := h.store.LoadVerifiedHead(ctx); !errors.Is(err, audit.ErrNotFound) {
			t.Fatalf("LoadVerifiedHead on a new log = %v, want ErrNotFound", err)
		}
		at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
		for _, head := range []audit.VerifiedHead{
			{Report: audit.Report{Records: 5, Emulated: 1, HeadHash: "five"}, CheckedAt: at},
			{Report: audit.Report{Records: 3, HeadHash: "three"}, CheckedAt: at.Add(time.Hour)}, // behind: ignored
		} {
			if err := h.store.SaveVerifiedHead(ctx, head); err != nil {
				t.Fatal(err)
			}
		}
		bad := audit.VerifiedHead{Report: audit.Report{Records: 9, Problem: &audit.Problem{RecordID: 9, Kind: audit.KindEdited}}}
		if err := h.store.SaveVerifiedHead(ctx, bad); err == nil {
			t.Error("SaveVerifiedHead kept a head with a problem")
		}
		got, err := h.store.LoadVerifiedHead(ctx)
		want := audit.VerifiedHead{Report: audit.Report{Records: 5, Emulated: 1, HeadHash: "five"}, CheckedAt: at}
		if err != nil || got.Report != want.Report || !got.CheckedAt.Equal(want.CheckedAt) {
			t.Fatalf("LoadVerifiedHead = %+v, %v; want %+v", got, err, want)
		}
	})
}

// A second process's Watcher (a cold start, another server) resumes from the head the first one
// kept: its first check reads only the records appended since, and its status says "verified up to
// record N at T" before that check ends.
func TestWatcherResumesFromTheKeptHead(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		for i := range 6 {
			mustAppend(t, h.store, rec(i))
		}
		var froms []int64
		verify := func(s *Store) func(context.Context, audit.Report) (audit.Report, error) {
			return func(ctx context.Context, from audit.Report) (audit.Report, error) {
				froms = append(froms, from.Records)
				return s.VerifyFrom(ctx, from)
			}
		}
		first := audit.NewWatcher(verify(h.store), time.Minute, nil).Remember(h.store, func(err error) { t.Error(err) })
		if st := first.Check(ctx); st.Err != nil || !st.Report.OK() || st.Report.Records != 6 {
			t.Fatalf("first check: %+v", st)
		}
		kept, err := h.store.LoadVerifiedHead(ctx)
		if err != nil || kept.Report.Records != 6 {
			t.Fatalf("kept head = %+v, %v; want 6 records", kept, err)
		}
		for i := range 3 {
			mustAppend(t, h.store, rec(10+i))
		}
		second := h.reopen(t)
		block := make(chan struct{})
		entered := make(chan struct{})
		next := audit.NewWatcher(func(ctx context.Context, from audit.Report) (audit.Report, error) {
			close(entered)
			<-block
			return verify(second)(ctx, from)
		}, time.Minute, nil).Remember(second, func(err error) { t.Error(err) })
		next.Poke(ctx)
		<-entered
		if st := next.Status(); st.Report.Records != 6 || !st.CheckedAt.Equal(kept.CheckedAt) || !st.Checking {
			t.Errorf("status while the first check runs = %+v; want the kept head (6 records at %v), checking", st, kept.CheckedAt)
		}
		close(block)
		deadline := time.Now().Add(10 * time.Second)
		for next.Status().Checking && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		st := next.Status()
		if st.Err != nil || !st.Report.OK() || st.Report.Records != 9 || st.Report.HeadHash == kept.Report.HeadHash {
			t.Fatalf("second process's check: %+v", st)
		}
		if want := []int64{0, 6}; len(froms) != 2 || froms[0] != want[0] || froms[1] != want[1] {
			t.Fatalf("checks started from records %v, want %v (the second from the kept head)", froms, want)
		}
		if kept, err := second.LoadVerifiedHead(ctx); err != nil || kept.Report.Records != 9 {
			t.Fatalf("kept head after the second check = %+v, %v; want 9 records", kept, err)
		}
	})
}
