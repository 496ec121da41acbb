package sqlstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// Time bounds are found by a binary search over IDs (firstIDAt): for every time, before, at,
// between and after the records' (runs of equal times included), the audit filters and
// reconciliation's window return exactly the records a plain comparison of times selects. A log
// whose IDs have gaps (rows deleted by someone with database access: a broken chain, which
// Verify reports) still splits at the right place.
func TestTimeBoundsMatchTheRecordsTimes(t *testing.T) {
	// Minutes after t0 of records 1..12; outcomes alternate pending and, for every third
	// attempt, none (left pending for reconciliation).
	minutes := []int{0, 0, 1, 3, 3, 3, 4, 7, 7, 8, 10, 10}
	for _, gaps := range []bool{false, true} {
		name := map[bool]string{false: "whole log", true: "rows deleted"}[gaps]
		t.Run(name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, h *harness) {
				ctx := context.Background()
				var all []audit.Record
				for i, m := range minutes {
					r := rec(m)
					if i%2 == 1 && i%3 != 0 {
						r.Outcome, r.PendingID = audit.OutcomeSucceeded, all[i-1].ID
					}
					all = append(all, mustAppend(t, h.store, r))
				}
				if gaps {
					h.dropGuards(t)
					h.exec(t, `DELETE FROM audit_log WHERE id IN (1, 5, 6, 12)`)
					all = slices.DeleteFunc(all, func(r audit.Record) bool { return slices.Contains([]int64{1, 5, 6, 12}, r.ID) })
				}
				var probes []time.Time
				for m := -1; m <= 12; m++ {
					at := t0.Add(time.Duration(m) * time.Minute)
					probes = append(probes, at.Add(-time.Nanosecond), at, at.Add(time.Nanosecond))
				}
				want := func(keep func(audit.Record) bool) []int64 {
					out := []int64{}
					for _, r := range slices.Backward(all) {
						if keep(r) {
							out = append(out, r.ID)
						}
					}
					return out
				}
				list := func(f audit.Filter) []int64 {
					t.Helper()
					got, err := h.store.List(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					return ids(got)
				}
				for _, at := range probes {
					if got, w := list(audit.Filter{Since: at}), want(func(r audit.Record) bool { return !r.Time.Before(at) }); !slices.Equal(got, w) {
						t.Errorf("since %s: %v, want %v", at.Format(time.RFC3339Nano), got, w)
					}
					if got, w := list(audit.Filter{Until: at}), want(func(r audit.Record) bool { return r.Time.Before(at) }); !slices.Equal(got, w) {
						t.Errorf("until %s: %v, want %v", at.Format(time.RFC3339Nano), got, w)
					}
				}
				// Reconciliation's window: pending records without an outcome, oldest first.
				closed := map[int64]bool{}
				for _, r := range all {
					closed[r.PendingID] = true
				}
				for _, since := range probes {
					until := since.Add(3 * time.Minute)
					got, err := h.store.StalePending(ctx, since, until, 100)
					if err != nil {
						t.Fatal(err)
					}
					w := want(func(r audit.Record) bool {
						return r.Outcome == audit.OutcomePending && !closed[r.ID] && !r.Time.Before(since) && r.Time.Before(until)
					})
					slices.Reverse(w)
					if !slices.Equal(ids(got), w) {
						t.Errorf("stale pending in [%s, %s): %v, want %v", since.Format(time.RFC3339Nano), until.Format(time.RFC3339Nano), ids(got), w)
					}
				}
			})
		})
	}
}

// On an empty log every time bound selects nothing, and reconciliation finds nothing.
func TestTimeBoundsOnAnEmptyLog(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		for _, f := range []audit.Filter{{Since: t0}, {Until: t0}, {Since: t0, Until: t0.Add(time.Hour)}} {
			if got, err := h.store.List(ctx, f); err != nil || len(got) != 0 {
				t.Errorf("List(%+v) = %v, %v; want nothing", f, ids(got), err)
			}
		}
		if got, err := h.store.StalePending(ctx, time.Time{}, t0, 10); err != nil || len(got) != 0 {
			t.Errorf("StalePending = %v, %v; want nothing", ids(got), err)
		}
	})
}
