package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)

// rec is a pending form record at t0+minutes.
func rec(minutes int) audit.Record {
	return audit.Record{
		Time:      t0.Add(time.Duration(minutes) * time.Minute),
		Trigger:   audit.TriggerForm,
		Actor:     "alice",
		SourceIP:  "203.0.113.7",
		UserAgent: "Mozilla/5.0",
		Action:    audit.ActionCreateVulScanTask,
		Params:    json.RawMessage(`{"RegistryImageIDs": [12, 13], "LocalImageScanType": "ALL"}`),
		Outcome:   audit.OutcomePending,
	}
}

func mustAppend(t *testing.T, s *Store, r audit.Record) audit.Record {
	t.Helper()
	got, err := s.Append(context.Background(), r)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return got
}

func TestAppendChainsRecords(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		var prev audit.Record
		for i := range 3 {
			got := mustAppend(t, h.store, rec(i))
			if got.ID != int64(i+1) {
				t.Errorf("record %d: ID %d", i+1, got.ID)
			}
			if got.PrevHash != prev.Hash {
				t.Errorf("record %d: PrevHash %q, want previous hash %q", got.ID, got.PrevHash, prev.Hash)
			}
			if got.Hash != got.ComputeHash() || len(got.Hash) != 64 {
				t.Errorf("record %d: Hash %q is not its ComputeHash", got.ID, got.Hash)
			}
			if want := `{"LocalImageScanType":"ALL","RegistryImageIDs":[12,13]}`; string(got.Params) != want {
				t.Errorf("Params stored as %s, want canonical %s", got.Params, want)
			}
			stored, err := h.store.Get(ctx, got.ID)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(stored) != fmt.Sprint(got) || !stored.Time.Equal(rec(i).Time) {
				t.Errorf("Get(%d) = %+v, want what Append returned %+v", got.ID, stored, got)
			}
			prev = got
		}
		if _, err := h.store.Get(ctx, 4); !errors.Is(err, audit.ErrNotFound) {
			t.Errorf("Get(4) error = %v, want ErrNotFound", err)
		}
		rep, err := h.store.Verify(ctx)
		if err != nil || !rep.OK() || rep.Records != 3 || rep.HeadHash != prev.Hash || rep.String() != "ok: 3 records" {
			t.Errorf("Verify = %+v (%v), %v; want ok with 3 records and head %s", rep, rep, err, prev.Hash)
		}
	})
}

func TestAppendKeepsTimeFromGoingBackwards(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		later := mustAppend(t, h.store, rec(10))
		earlier := mustAppend(t, h.store, rec(5)) // stamped before the first, queued behind it
		if !earlier.Time.Equal(later.Time) {
			t.Errorf("second record's time %s, want its predecessor's %s", earlier.Time, later.Time)
		}
		if rep, err := h.store.Verify(context.Background()); err != nil || !rep.OK() {
			t.Errorf("Verify = %v, %v", rep, err)
		}
	})
}

func TestAppendRefusesBadRecords(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		cases := []struct {
			name   string
			change func(*audit.Record)
		}{
			{"unknown outcome", func(r *audit.Record) { r.Outcome = "done" }},
			{"no trigger", func(r *audit.Record) { r.Trigger = "" }},
			{"params not JSON", func(r *audit.Record) { r.Params = json.RawMessage(`{"a":`) }},
			{"two JSON values", func(r *audit.Record) { r.Params = json.RawMessage(`{} {}`) }},
			{"outcome of no pending record", func(r *audit.Record) { r.Outcome, r.PendingID = audit.OutcomeSucceeded, 99 }},
			{"time out of range", func(r *audit.Record) { r.Time = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Hour) }},
		}
		for _, c := range cases {
			r := rec(0)
			c.change(&r)
			if got, err := h.store.Append(context.Background(), r); err == nil {
				t.Errorf("%s: Append stored %+v, want an error", c.name, got)
			}
		}
		if rep, _ := h.store.Verify(context.Background()); rep.Records != 0 {
			t.Errorf("refused records left %d records", rep.Records)
		}
	})
}

func TestIdempotencyKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		first := rec(0)
		first.IdempotencyKey = "k-1"
		pending := mustAppend(t, h.store, first)

		if _, err := h.store.Append(ctx, first); !errors.Is(err, audit.ErrDuplicateKey) {
			t.Errorf("second pending record with key k-1: error %v, want ErrDuplicateKey", err)
		}
		got, err := h.store.PendingByKey(ctx, "alice", "k-1")
		if err != nil || got.ID != pending.ID {
			t.Errorf("PendingByKey(k-1) = %d, %v; want record %d", got.ID, err, pending.ID)
		}
		if _, err := h.store.OutcomeOf(ctx, pending.ID); !errors.Is(err, audit.ErrNotFound) {
			t.Errorf("OutcomeOf before the outcome: %v, want ErrNotFound", err)
		}
		outcome := rec(1)
		outcome.Outcome, outcome.PendingID, outcome.IdempotencyKey = audit.OutcomeSucceeded, pending.ID, "k-1"
		outcome.LocalTaskID, outcome.TCSSRequestID = 36002, "req-1"
		done := mustAppend(t, h.store, outcome)
		if got, err := h.store.OutcomeOf(ctx, pending.ID); err != nil || got.ID != done.ID || got.LocalTaskID != 36002 {
			t.Errorf("OutcomeOf(%d) = %+v, %v; want record %d", pending.ID, got, err, done.ID)
		}

		// Only pending records hold keys: a rejected attempt with the key, or one without a key,
		// does not collide.
		rejected := rec(2)
		rejected.Outcome, rejected.IdempotencyKey = audit.OutcomeRejected, "k-1"
		mustAppend(t, h.store, rejected)
		mustAppend(t, h.store, rec(3))
		mustAppend(t, h.store, rec(4))
		if _, err := h.store.PendingByKey(ctx, "alice", "k-2"); !errors.Is(err, audit.ErrNotFound) {
			t.Errorf("PendingByKey(k-2): %v, want ErrNotFound", err)
		}
		if _, err := h.store.PendingByKey(ctx, "alice", ""); !errors.Is(err, audit.ErrNotFound) {
			t.Errorf("PendingByKey(\"\"): %v, want ErrNotFound", err)
		}

		// Keys survive reopening the store.
		reopened := h.reopen(t)
		if _, err := reopened.Append(ctx, first); !errors.Is(err, audit.ErrDuplicateKey) {
			t.Errorf("after reopening: %v, want ErrDuplicateKey", err)
		}
		if rep, err := reopened.Verify(ctx); err != nil || !rep.OK() || rep.Records != 5 {
			t.Errorf("after reopening: Verify = %v, %v; want ok: 5 records", rep, err)
		}
	})
}

// A key stays bound only to attempts that started or may have started a scan: the newest pending
// record holding it decides, by its outcome.
func TestIdempotencyKeyIsFreedOnlyByAFailure(t *testing.T) {
	cases := []struct {
		name      string
		outcomes  []audit.Outcome // of the earlier attempts with the key, oldest first; "" = none yet
		wantBound bool
	}{
		{"still pending", []audit.Outcome{""}, true},
		{"succeeded", []audit.Outcome{audit.OutcomeSucceeded}, true},
		{"unknown", []audit.Outcome{audit.OutcomeUnknown}, true},
		{"failed", []audit.Outcome{audit.OutcomeFailed}, false},
		{"failed twice", []audit.Outcome{audit.OutcomeFailed, audit.OutcomeFailed}, false},
		{"failed, then the retry is pending", []audit.Outcome{audit.OutcomeFailed, ""}, true},
		{"failed, then the retry succeeded", []audit.Outcome{audit.OutcomeFailed, audit.OutcomeSucceeded}, true},
		{"failed, then the retry's outcome is unknown", []audit.Outcome{audit.OutcomeFailed, audit.OutcomeUnknown}, true},
	}
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		for i, c := range cases {
			key := fmt.Sprintf("key-%d", i)
			var newest audit.Record
			for j, o := range c.outcomes {
				p := rec(j)
				p.IdempotencyKey = key
				newest = mustAppend(t, h.store, p)
				if o != "" {
					out := rec(j)
					out.Outcome, out.PendingID, out.IdempotencyKey = o, newest.ID, key
					mustAppend(t, h.store, out)
				}
			}
			if got, err := h.store.PendingByKey(ctx, "alice", key); err != nil || got.ID != newest.ID {
				t.Errorf("%s: PendingByKey = record %d, %v; want the newest, %d", c.name, got.ID, err, newest.ID)
			}
			// KeyBound, the start limit's one read, says what the append finds below.
			if bound, err := h.store.KeyBound(ctx, "alice", key); err != nil || bound != c.wantBound {
				t.Errorf("%s: KeyBound = %v, %v; want %v", c.name, bound, err, c.wantBound)
			}
			if bound, err := h.store.KeyBound(ctx, "bob", key); err != nil || bound {
				t.Errorf("%s: KeyBound for another actor = %v, %v; want false", c.name, bound, err)
			}
			again := rec(9)
			again.IdempotencyKey = key
			got, err := h.store.Append(ctx, again)
			switch {
			case c.wantBound && !errors.Is(err, audit.ErrDuplicateKey):
				t.Errorf("%s: another pending record: %v, want ErrDuplicateKey", c.name, err)
			case !c.wantBound && err != nil:
				t.Errorf("%s: another pending record: %v, want it stored (the key is free)", c.name, err)
			case !c.wantBound:
				if p, err := h.store.PendingByKey(ctx, "alice", key); err != nil || p.ID != got.ID {
					t.Errorf("%s: after the retry PendingByKey = record %d, %v; want %d", c.name, p.ID, err, got.ID)
				}
			}
		}
		if rep, err := h.store.Verify(ctx); err != nil || !rep.OK() {
			t.Errorf("Verify = %v, %v", rep, err)
		}
	})
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		const writers, each = 50, 20
		ctx := context.Background()
		// Half the writers use a second store on the same database: another process, as far as
		// the database can tell.
		other := h.reopen(t)
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			s := h.store
			if w%2 == 1 {
				s = other
			}
			wg.Go(func() {
				for i := range each {
					r := rec(i)
					r.Actor = fmt.Sprintf("writer-%d", w)
					if _, err := s.Append(ctx, r); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent Append: %v", err)
		}
		rep, err := h.store.Verify(ctx)
		if err != nil || !rep.OK() || rep.Records != writers*each {
			t.Fatalf("Verify = %v, %v; want ok: %d records", rep, err, writers*each)
		}
		var next int64 = 1
		err = h.store.Each(ctx, audit.Filter{}, func(r audit.Record) error {
			if r.ID != next {
				return fmt.Errorf("ID %d where %d was due", r.ID, next)
			}
			next++
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	})
}

func TestReopenKeepsRecordsAndGuards(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		a := mustAppend(t, h.store, rec(0))
		h.store.Close()
		h.dropGuards(t) // an attacker drops them; the next open puts them back
		s := h.reopen(t)
		b := mustAppend(t, s, rec(1))
		if b.ID != 2 || b.PrevHash != a.Hash {
			t.Errorf("after reopening, appended record %d with PrevHash %q; want 2 chained to %q", b.ID, b.PrevHash, a.Hash)
		}
		for _, q := range []string{`UPDATE audit_log SET actor = 'mallory' WHERE id = 1`, `DELETE FROM audit_log WHERE id = 2`} {
			if _, err := h.raw.Exec(q); err == nil {
				t.Errorf("%s succeeded; the append-only trigger should refuse it", q)
			}
		}
		if rep, err := s.Verify(ctx); err != nil || !rep.OK() || rep.Records != 2 {
			t.Errorf("Verify = %v, %v; want ok: 2 records", rep, err)
		}
	})
}

// A reconciliation's closing record is appended only while its attempt has no outcome, on both
// databases: after the attempt's own outcome, or after another closing record, it is refused
// with ErrAlreadyClosed; an ordinary outcome is not held to that rule.
func TestAReconciliationClosesAnAttemptOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		closing := func(pending audit.Record) audit.Record {
			r := rec(5)
			r.Outcome, r.PendingID, r.ErrorCode = audit.OutcomeUnknown, pending.ID, audit.CodeNoOutcomeRecorded
			return r
		}
		answered := mustAppend(t, h.store, rec(0))
		outcome := rec(1)
		outcome.Outcome, outcome.PendingID, outcome.LocalTaskID = audit.OutcomeSucceeded, answered.ID, 36001
		mustAppend(t, h.store, outcome)
		orphan := mustAppend(t, h.store, rec(2))

		steps := []struct {
			name    string
			rec     audit.Record
			refused bool
		}{
			{"closing an attempt that has its outcome", closing(answered), true},
			{"closing an orphan", closing(orphan), false},
			{"closing it again", closing(orphan), true},
		}
		for _, st := range steps {
			_, err := h.store.Append(ctx, st.rec)
			if st.refused != errors.Is(err, audit.ErrAlreadyClosed) || (!st.refused && err != nil) {
				t.Errorf("%s: %v, want refused %v", st.name, err, st.refused)
			}
		}
		if rep, err := h.store.Verify(ctx); err != nil || rep.Records != 4 {
			t.Errorf("verify: %d records (%v), want 4", rep.Records, err)
		}
	})
}

// A key is scoped to its actor: another actor's pending record with the same key neither binds
// it nor is found for it, whatever that record's state; the actor's own records keep the rule.
func TestIdempotencyKeysBelongToTheirActor(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		alice := rec(0)
		alice.Actor, alice.IdempotencyKey = "apikey:alice", "shared"
		alicePending := mustAppend(t, h.store, alice)

		bob := rec(1)
		bob.Actor, bob.IdempotencyKey = "apikey:bob", "shared"
		bobPending, err := h.store.Append(ctx, bob)
		if err != nil {
			t.Fatalf("bob's pending record with alice's key: %v, want it stored (a key of his own)", err)
		}
		for _, tc := range []struct {
			actor string
			want  int64
		}{
			{"apikey:alice", alicePending.ID},
			{"apikey:bob", bobPending.ID},
		} {
			if got, err := h.store.PendingByKey(ctx, tc.actor, "shared"); err != nil || got.ID != tc.want {
				t.Errorf("PendingByKey(%s, shared) = record %d, %v; want %d", tc.actor, got.ID, err, tc.want)
			}
		}
		if _, err := h.store.PendingByKey(ctx, "apikey:carol", "shared"); !errors.Is(err, audit.ErrNotFound) {
			t.Errorf("PendingByKey(carol, shared): %v, want ErrNotFound", err)
		}
		// Each actor's key stays bound by that actor's own attempt.
		for _, r := range []audit.Record{alice, bob} {
			if _, err := h.store.Append(ctx, r); !errors.Is(err, audit.ErrDuplicateKey) {
				t.Errorf("%s's second pending record: %v, want ErrDuplicateKey", r.Actor, err)
			}
		}
		// Bob's refusal frees his key only, and alice's success binds hers only.
		for _, o := range []struct {
			pending audit.Record
			outcome audit.Outcome
		}{{bobPending, audit.OutcomeFailed}, {alicePending, audit.OutcomeSucceeded}} {
			out := o.pending
			out.ID, out.Hash, out.PrevHash = 0, "", ""
			out.Outcome, out.PendingID = o.outcome, o.pending.ID
			mustAppend(t, h.store, out)
		}
		if _, err := h.store.Append(ctx, bob); err != nil {
			t.Errorf("bob's retry after his refusal: %v, want it stored", err)
		}
		if _, err := h.store.Append(ctx, alice); !errors.Is(err, audit.ErrDuplicateKey) {
			t.Errorf("alice's retry after her success: %v, want ErrDuplicateKey", err)
		}
		if rep, err := h.store.Verify(ctx); err != nil || !rep.OK() {
			t.Errorf("Verify = %v, %v", rep, err)
		}
	})
}
