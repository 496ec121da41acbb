package sqlstore

import (
	"context"
	"iter"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
)

func one(r audit.Record) iter.Seq2[audit.Record, error] {
	return func(yield func(audit.Record, error) bool) { yield(r, nil) }
}

// Import copies records with their IDs and hashes, and stores only records that continue the
// chain; Append carries on after them.
func TestImport(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		const n = 1234 // several INSERTs of importRowsPerInsert
		sqlstoretest.Fill(t, h.store, n)
		rep, err := h.store.Verify(ctx)
		if err != nil || !rep.OK() || rep.Records != n {
			t.Fatalf("Verify after Fill = %v, %v; want ok: %d records", rep, err, n)
		}
		head, err := h.store.Get(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		next := func(change func(*audit.Record)) audit.Record {
			r := head
			r.ID, r.PrevHash, r.PendingID, r.Outcome, r.LocalTaskID = n+1, head.Hash, 0, audit.OutcomePending, 0
			change(&r)
			r.Hash = r.ComputeHash()
			return r
		}
		cases := []struct {
			name string
			r    audit.Record
			want string
		}{
			{"an ID that leaves a gap", next(func(r *audit.Record) { r.ID = n + 2 }), "cannot follow"},
			{"a record that does not link", next(func(r *audit.Record) { r.PrevHash = strings.Repeat("0", 64) }), "does not link"},
			{"an edited record", func() audit.Record { r := next(func(*audit.Record) {}); r.Actor = "mallory"; return r }(), "does not match its hash"},
			{"time going backwards", next(func(r *audit.Record) { r.Time = head.Time.Add(-1) }), "before record"},
		}
		for _, c := range cases {
			got, err := h.store.Import(ctx, one(c.r))
			if got != 0 || err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: Import = %d, %v; want 0 and an error saying %q", c.name, got, err, c.want)
			}
		}
		if got, err := h.store.Import(ctx, one(next(func(*audit.Record) {}))); got != 1 || err != nil {
			t.Errorf("Import of the next record = %d, %v", got, err)
		}
		appended := mustAppend(t, h.store, rec(0))
		if appended.ID != n+2 {
			t.Errorf("Append after Import: ID %d, want %d", appended.ID, n+2)
		}
		if rep, err := h.store.Verify(ctx); err != nil || !rep.OK() || rep.Records != n+2 {
			t.Errorf("Verify = %v, %v; want ok: %d records", rep, err, n+2)
		}
	})
}
