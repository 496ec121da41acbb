package scan_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/scan/scantest"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// A key stays bound only to attempts that started or may have started a scan: after a definite
// refusal, a retry with the same key is a new attempt linked to the refused one; after a lost
// answer it replays.
func TestARetryAfterADefiniteRefusalIsANewAttempt(t *testing.T) {
	ctx := context.Background()
	all := scan.Request{LocalImageScanType: "ALL"}
	tests := []struct {
		name       string
		fault      tcsstest.Fault
		firstCode  string
		retryCode  string // "" the retry starts a scan
		freed      bool
		retryCalls int // TCSS calls the retry makes
	}{
		{"TCSS's own error frees the key", tcsstest.Fault{Code: "InternalError", Message: "boom"}, scan.EUPSTREAM, "", true, 1},
		{"rate limiting frees the key", tcsstest.Fault{Code: "RequestLimitExceeded", Message: "slow down"}, scan.ERATELIMITED, "", true, 1},
		{"a lost answer keeps the key bound", tcsstest.Fault{Drop: true}, scan.EUNKNOWN, scan.EUNKNOWN, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.Emulator.InjectFault(createAction, tt.fault)
			first, err := r.Service.Start(ctx, all, "retry-me", caller)
			if scan.ErrorCode(err) != tt.firstCode {
				t.Fatalf("first try: %v, want %s", err, tt.firstCode)
			}
			r.Emulator.ClearFaults()
			before := r.Emulator.Calls(createAction)
			retry, err := r.Service.Start(ctx, all, "retry-me", caller)
			if scan.ErrorCode(err) != tt.retryCode {
				t.Fatalf("retry: %v, want %q", err, tt.retryCode)
			}
			if got := r.Emulator.Calls(createAction) - before; got != tt.retryCalls {
				t.Errorf("the retry made %d TCSS calls, want %d", got, tt.retryCalls)
			}
			if tt.freed {
				if retry.Replayed || retry.ID() == first.ID() || retry.Record.RelatedID != first.ID() {
					t.Errorf("retry = attempt %d related to %d (replayed %v), want a new attempt related to %d",
						retry.ID(), retry.Record.RelatedID, retry.Replayed, first.ID())
				}
				if retry.State() != audit.OutcomeSucceeded {
					t.Errorf("retry state %s", retry.State())
				}
				// The key is bound now: a third try replays the retry.
				third, err := r.Service.Start(ctx, all, "retry-me", caller)
				if err != nil || !third.Replayed || third.ID() != retry.ID() {
					t.Errorf("third try = %d replayed %v (%v), want a replay of %d", third.ID(), third.Replayed, err, retry.ID())
				}
			} else if !retry.Replayed || retry.ID() != first.ID() {
				t.Errorf("retry = attempt %d, want a replay of %d", retry.ID(), first.ID())
			}
			r.Verify(t)
		})
	}
}

// Every replay is on the record: who asked, from where, and which attempt answered them. (Only
// the key's own actor is ever answered from its attempt; see TestIdempotencyKeysBelongToTheirActor.)
func TestReplaysAreRecorded(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	all := scan.Request{LocalImageScanType: "ALL"}
	first, err := r.Service.Start(ctx, all, "shared-key", caller)
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := scan.Caller{Trigger: audit.TriggerAPI, Actor: caller.Actor, SourceIP: "198.51.100.9"}
	again, err := r.Service.Start(ctx, all, "shared-key", elsewhere)
	if err != nil || !again.Replayed {
		t.Fatalf("replay: %+v %v", again, err)
	}
	recs := r.Records(t)
	last := recs[len(recs)-1]
	if len(recs) != 3 || last.Outcome != audit.OutcomeReplayed || last.RelatedID != first.ID() ||
		last.Actor != caller.Actor || last.SourceIP != "198.51.100.9" || last.IdempotencyKey != "shared-key" {
		t.Fatalf("replay recorded as %+v (of %d records)", last, len(recs))
	}
	if n := r.Emulator.Calls(createAction); n != 1 {
		t.Errorf("TCSS saw %d calls", n)
	}
	r.Verify(t)
}

// One cleaning rule for caller and upstream text, on both databases: control characters are
// escaped, invalid UTF-8 replaced, so PostgreSQL stores what SQLite stores (a NUL included).
func TestRecordsHoldOnlyCleanText(t *testing.T) {
	ctx := context.Background()
	stores := map[string]func(t *testing.T) scan.AuditLog{
		"sqlite": func(t *testing.T) scan.AuditLog {
			return scantest.OpenStore(t, t.TempDir()+"/audit.db")
		},
		"postgres": func(t *testing.T) scan.AuditLog {
			s, err := sqlstore.OpenPostgres(ctx, sqlstoretest.PostgresDSN(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
	dirty := scan.Caller{Trigger: audit.TriggerAPI, Actor: "eve\x00\r\nadmin\t", UserAgent: "ua\x1b[31m\xff", SourceIP: "192.0.2.1"}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			var log scan.AuditLog
			r := scantest.New(t, scantest.Options{AuditLog: func(scan.AuditLog) scan.AuditLog { log = open(t); return log }})
			r.Emulator.InjectFault(createAction, tcsstest.Fault{Code: "InternalError", Message: "line1\nline2\x00"})
			// A key with control characters is refused, and the refusal is stored cleanly.
			_, err := r.Service.Start(ctx, scan.Request{LocalImageScanType: "ALL"}, "k\x00ey", dirty)
			if scan.ErrorCode(err) != scan.EINVALID {
				t.Fatalf("dirty key: %v, want EINVALID", err)
			}
			a, err := r.Service.Start(ctx, scan.Request{LocalImageScanType: "ALL"}, "clean-key", dirty)
			if scan.ErrorCode(err) != scan.EUPSTREAM {
				t.Fatalf("start: %v", err)
			}
			rejected, err := log.Get(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if rejected.Outcome != audit.OutcomeRejected || rejected.IdempotencyKey != `k\x00ey` {
				t.Errorf("rejected record: outcome %s key %q", rejected.Outcome, rejected.IdempotencyKey)
			}
			if a.Record.Actor != `eve\x00\x0d\x0aadmin\x09` || a.Record.UserAgent != "ua\\x1b[31m\uFFFD" {
				t.Errorf("actor %q, user agent %q", a.Record.Actor, a.Record.UserAgent)
			}
			if a.Outcome == nil || a.Outcome.ErrorMessage != `line1\x0aline2\x00` {
				t.Errorf("TCSS's message stored as %+v", a.Outcome)
			}
			for _, rec := range []audit.Record{rejected, a.Record, *a.Outcome} {
				for _, s := range []string{rec.Actor, rec.UserAgent, rec.IdempotencyKey, rec.ErrorMessage, rec.ErrorCode} {
					if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
						t.Errorf("record %d holds a control character: %q", rec.ID, s)
					}
				}
			}
		})
	}
}

// A process killed mid-call leaves its attempt pending. A retry with the attempt's key, once the
// attempt is older than any live call can be (MaxCallDuration), finds it closed as unknown,
// exactly as a reconciliation pass closes it, and is answered as a replay of that unknown
// attempt; no pass is needed. Before that bound the call may still be running in another
// instance, and the retry is answered "in progress".
func TestARetryClosesTheStaleAttemptItsKeyNames(t *testing.T) {
	ctx := context.Background()
	all := scan.Request{LocalImageScanType: "ALL"}
	params, _ := json.Marshal(all.Normalize())
	params, _ = audit.CanonicalJSON(params)
	// crashed is a world whose log holds the pending record of a killed process, written at testNow;
	// its clock reads testNow plus *age.
	crashed := func(t *testing.T, age *time.Duration) (*scantest.World, audit.Record) {
		r := scantest.New(t, scantest.Options{Now: func() time.Time { return testNow.Add(*age) }})
		p, err := r.Store.Append(ctx, audit.Record{Time: testNow, Trigger: caller.Trigger, Actor: caller.Actor,
			Action: audit.ActionCreateVulScanTask, Params: params, IdempotencyKey: "crashed", Outcome: audit.OutcomePending})
		if err != nil {
			t.Fatal(err)
		}
		return r, p
	}
	// What the start-up pass writes when it closes the same attempt at the same time.
	var byPass audit.Record
	{
		age := scan.MaxCallDuration + time.Second
		r, p := crashed(t, &age)
		if rep, err := r.Service.ReconcileStale(ctx, r.Store, scan.MaxCallDuration, time.Time{}); err != nil || len(rep.Closed) != 1 {
			t.Fatalf("the pass closed %v, %v", rep.Closed, err)
		}
		var err error
		if byPass, err = r.Store.OutcomeOf(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		age  time.Duration
		want string // the retry's error code
	}{
		{"at +3 s the call may still be running: in progress", 3 * time.Second, scan.EINPROGRESS},
		{"just within MaxCallDuration: in progress", scan.MaxCallDuration - time.Millisecond, scan.EINPROGRESS},
		{"exactly MaxCallDuration: in progress", scan.MaxCallDuration, scan.EINPROGRESS},
		{"past MaxCallDuration: closed as unknown, and replayed", scan.MaxCallDuration + time.Second, scan.EUNKNOWN},
		{"a nanosecond past MaxCallDuration: closed as unknown", scan.MaxCallDuration + time.Nanosecond, scan.EUNKNOWN},
		{"at +105 s: closed as unknown, and replayed", 105 * time.Second, scan.EUNKNOWN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			age := tt.age
			r, p := crashed(t, &age)
			for try := range 2 { // a second retry replays the same outcome, closing nothing again
				a, err := r.Service.Start(ctx, all, "crashed", caller)
				if scan.ErrorCode(err) != tt.want || !a.Replayed || a.ID() != p.ID {
					t.Fatalf("retry %d: attempt %d (replayed %v), %v; want %s for attempt %d", try+1, a.ID(), a.Replayed, err, tt.want, p.ID)
				}
			}
			out, err := r.Store.OutcomeOf(ctx, p.ID)
			if tt.want == scan.EINPROGRESS {
				if !errors.Is(err, audit.ErrNotFound) {
					t.Errorf("a possibly live attempt was closed: %+v, %v", out, err)
				}
			} else {
				closing := out
				closing.ID, closing.Time, closing.PrevHash, closing.Hash = 0, time.Time{}, "", ""
				want := byPass
				want.ID, want.Time, want.PrevHash, want.Hash = 0, time.Time{}, "", ""
				if err != nil || fmt.Sprint(closing) != fmt.Sprint(want) {
					t.Errorf("closed as\n%+v (%v)\nwant what the start-up pass writes:\n%+v", closing, err, want)
				}
				if rep, err := r.Service.ReconcileStale(ctx, r.Store, scan.MaxCallDuration, time.Time{}); err != nil || len(rep.Closed) != 0 {
					t.Errorf("a later pass closed %v again (%v)", rep.Closed, err)
				}
			}
			if n := r.Emulator.Calls(createAction); n != 0 {
				t.Errorf("TCSS saw %d calls, want 0", n)
			}
			r.Verify(t)
		})
	}
}

// An idempotency key is scoped to its actor: the same key from another actor is a new attempt of
// that actor's, never a replay of, a conflict with, or "in progress" about someone else's
// attempt. The actor's own retries keep the rule, timers' included.
func TestIdempotencyKeysBelongToTheirActor(t *testing.T) {
	ctx := context.Background()
	all := scan.Request{LocalImageScanType: "ALL"}
	alice := scan.Caller{Trigger: audit.TriggerAPI, Actor: "apikey:alice", Access: "apikey"}
	bob := scan.Caller{Trigger: audit.TriggerAPI, Actor: "apikey:bob", Access: "apikey"}
	timer := scan.Caller{Trigger: audit.TriggerTimer, Actor: "system:timer/nightly", Access: "timer"}
	tests := []struct {
		name    string
		first   scan.Caller // starts the key's first attempt with all
		pending bool        // its attempt is still in flight (a pending record only)
		then    scan.Caller
		req     scan.Request
		want    string // the second request's error code; "" a scan is started
		replay  bool   // the second request is answered from the first attempt
	}{
		{"another actor's same key and request starts a scan of his own", alice, false, bob, all, "", false},
		{"another actor's same key with other params is no conflict", alice, false, bob, scan.Request{RegistryImageScanType: "ALL"}, "", false},
		{"another actor's key in flight is not his in progress", alice, true, bob, all, "", false},
		{"the actor's own retry replays", alice, false, alice, all, "", true},
		{"the actor's own retry with other params conflicts", alice, false, alice, scan.Request{RegistryImageScanType: "ALL"}, scan.ECONFLICT, false},
		{"the actor's own key in flight is in progress", alice, true, alice, all, scan.EINPROGRESS, true},
		{"a timer's retry replays", timer, false, timer, all, "", true},
		{"a user's same key as a timer's is his own", timer, false, bob, all, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			var first audit.Record
			if tt.pending {
				params, _ := json.Marshal(all.Normalize())
				params, _ = audit.CanonicalJSON(params)
				var err error
				first, err = r.Store.Append(ctx, audit.Record{Trigger: tt.first.Trigger, Actor: tt.first.Actor,
					Action: audit.ActionCreateVulScanTask, Params: params, IdempotencyKey: "shared", Outcome: audit.OutcomePending})
				if err != nil {
					t.Fatal(err)
				}
			} else {
				a, err := r.Service.Start(ctx, all, "shared", tt.first)
				if err != nil {
					t.Fatal(err)
				}
				first = a.Record
			}
			calls := r.Emulator.Calls(createAction)
			a, err := r.Service.Start(ctx, tt.req, "shared", tt.then)
			if scan.ErrorCode(err) != tt.want {
				t.Fatalf("%s's request: %v, want %q", tt.then.Actor, err, tt.want)
			}
			if tt.replay != (a.Replayed && a.ID() == first.ID) {
				t.Errorf("%s's request: attempt %d (replayed %v); answered from %s's attempt %d: %v, want %v",
					tt.then.Actor, a.ID(), a.Replayed, tt.first.Actor, first.ID, !tt.replay, tt.replay)
			}
			if tt.want == "" && !tt.replay {
				if a.Record.Actor != tt.then.Actor || a.State() != audit.OutcomeSucceeded || a.Record.RelatedID != 0 ||
					r.Emulator.Calls(createAction) != calls+1 {
					t.Errorf("%s's request: %+v, want a scan of his own, unrelated to %s's", tt.then.Actor, a.Record, tt.first.Actor)
				}
			}
			r.Verify(t)
		})
	}
}

// A lost answer's message sends the caller to the TCSS console, and tells what a retry does: with
// the same key it only gets this answer again (it never calls TCSS), so starting a scan anyway
// takes a new key. Without a key, a retry is a new attempt that may start a second scan.
func TestALostAnswerSaysWhatARetryDoes(t *testing.T) {
	ctx := context.Background()
	all := scan.Request{LocalImageScanType: "ALL"}
	message := func(err error) string {
		var se *scan.Error
		if !errors.As(err, &se) || se.Code != scan.EUNKNOWN {
			t.Fatalf("err = %v, want %s", err, scan.EUNKNOWN)
		}
		return se.Message
	}
	t.Run("with a key", func(t *testing.T) {
		r := newRig(t)
		r.Emulator.InjectFault(createAction, tcsstest.Fault{Drop: true})
		_, err := r.Service.Start(ctx, all, "lost", caller)
		first := message(err)
		r.Emulator.ClearFaults()
		_, err = r.Service.Start(ctx, all, "lost", caller)
		for _, msg := range []string{first, message(err)} {
			for _, says := range []string{"TCSS console", "same idempotency key", "starts nothing", "new idempotency key"} {
				if !strings.Contains(msg, says) {
					t.Errorf("message %q does not say %q", msg, says)
				}
			}
		}
		if n := r.Emulator.Calls(createAction); n != 1 {
			t.Errorf("TCSS saw %d calls, want 1: the retry replays", n)
		}
	})
	t.Run("without a key", func(t *testing.T) {
		r := newRig(t)
		r.Emulator.InjectFault(createAction, tcsstest.Fault{Drop: true})
		_, err := r.Service.Start(ctx, all, "", caller)
		if msg := message(err); !strings.Contains(msg, "TCSS console") || strings.Contains(msg, "idempotency key") {
			t.Errorf("message %q; want the console, and no key it did not use", msg)
		}
	})
}
