package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

func withService(o scan.Options) harnessOption {
	return func(c *harnessConfig) { c.service = o }
}

// A TCSS that answers later than the call may last: the API answers 504 naming the attempt and
// the form redirects to the attempt's page, instead of the connection being cut with no answer;
// the record says unknown.
func TestSlowTCSSStillGetsTheCallerAnAnswer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		post    func(h *harness) *http.Response
		status  int
		attempt func(t *testing.T, resp *http.Response) int64
	}{
		{"API", func(h *harness) *http.Response {
			return h.postJSON(`{"RegistryImageScanType":"NOT_SCAN"}`)
		}, http.StatusGatewayTimeout, func(t *testing.T, resp *http.Response) int64 {
			var e struct{ ID int64 }
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatal(err)
			}
			return e.ID
		}},
		{"form", func(h *harness) *http.Response {
			return h.postForm(url.Values{"RegistryImageScanType": {"NOT_SCAN"}, "IdempotencyKey": {"slow-1"}})
		}, http.StatusSeeOther, func(t *testing.T, resp *http.Response) int64 {
			id, err := strconv.ParseInt(resp.Header.Get("Location")[len("./scans/"):], 10, 64)
			if err != nil {
				t.Fatalf("Location %q", resp.Header.Get("Location"))
			}
			return id
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, withService(scan.Options{CallTimeout: 200 * time.Millisecond}))
			h.emu.InjectFault("CreateVulScanTask", tcsstest.Fault{Latency: time.Hour})
			resp := tc.post(h)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			id := tc.attempt(t, resp)
			recs := h.records()
			if len(recs) != 2 || recs[0].ID != id || recs[1].Outcome != audit.OutcomeUnknown || recs[1].PendingID != id {
				t.Errorf("attempt %d, records %+v; want attempt %d pending then unknown", id, recs, id)
			}
		})
	}
}

// An attempt reconciliation closed says so in plain words, and its page does not poll.
func TestAReconciledAttemptSaysItEnded(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	pending, err := h.store.Append(ctx, audit.Record{Trigger: audit.TriggerAPI, Action: audit.ActionCreateVulScanTask,
		Params: []byte(`{"LocalImageScanType":"ALL"}`), Outcome: audit.OutcomePending})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.Append(ctx, audit.Record{Trigger: audit.TriggerAPI, Action: audit.ActionCreateVulScanTask,
		Params: pending.Params, Outcome: audit.OutcomeUnknown, PendingID: pending.ID,
		ErrorCode: scan.CodeNoOutcomeRecorded, ErrorMessage: "No outcome was recorded."}); err != nil {
		t.Fatal(err)
	}
	page := body(t, h.get("/scans/"+strconv.FormatInt(pending.ID, 10)))
	for _, want := range []string{"ended without an answer recorded", "vulscan audit reconcile --from-log records it here"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "data-poll") || strings.Contains(page, "Waiting for TCSS") {
		t.Error("the page still waits for TCSS")
	}
}

// lockedAfterPending is a store that takes the pending record and is then locked by another
// writer: an append waits for the lock for as long as its context lets it (SQLite's busy
// timeout of 20 s, a PostgreSQL lock wait) and fails when that ends.
type lockedAfterPending struct {
	scan.AuditLog
	unbounded atomic.Int32 // appends made with no deadline: they would have waited for ever
	mu        sync.Mutex
	waits     []lockWait // the appends that waited
}

// lockWait is an append that waited on the lock: when it began, and until when it could wait.
type lockWait struct{ began, deadline time.Time }

func (l *lockedAfterPending) Append(ctx context.Context, rec audit.Record) (audit.Record, error) {
	if rec.Outcome == audit.OutcomePending {
		return l.AuditLog.Append(ctx, rec)
	}
	began := time.Now()
	d, ok := ctx.Deadline()
	if !ok {
		l.unbounded.Add(1)
		return audit.Record{}, errors.New("database is locked (waited with no deadline)")
	}
	l.mu.Lock()
	l.waits = append(l.waits, lockWait{began: began, deadline: d})
	l.mu.Unlock()
	<-ctx.Done()
	return audit.Record{}, fmt.Errorf("database is locked: %w", ctx.Err())
}

// waited returns the appends that waited on the lock.
func (l *lockedAfterPending) waited() []lockWait {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]lockWait(nil), l.waits...)
}

// An outcome append that waits on a locked store ends within the outcome's budget, so that the
// caller is answered before the server's write timeout cuts the connection (it was cut after a
// TCSS call of 40 s and a SQLite busy wait of 20 s), and the attempt is not left open longer
// than scan.MaxCallDuration, past which reconciliation would close it as unknown under the
// call's feet.
func TestAnOutcomeWaitingOnALockedStoreEndsWithinItsBudget(t *testing.T) {
	for _, tc := range []struct {
		name string
		post func(h *harness) *http.Response
	}{
		{"API", func(h *harness) *http.Response {
			return h.postJSON(`{"RegistryImageScanType":"NOT_SCAN"}`, func(r *http.Request) { r.Header.Set("Idempotency-Key", "locked-1") })
		}},
		{"form", func(h *harness) *http.Response {
			return h.postForm(url.Values{"RegistryImageScanType": {"NOT_SCAN"}, "IdempotencyKey": {"locked-1"}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log *lockedAfterPending
			var stranded bytes.Buffer
			h := newHarness(t,
				withScanLog(func(l scan.AuditLog) scan.AuditLog { log = &lockedAfterPending{AuditLog: l}; return log }),
				withService(scan.Options{OutcomeBudget: 50 * time.Millisecond, Stranded: &stranded}))
			resp := tc.post(h)
			resp.Body.Close()
			if n := log.unbounded.Load(); n != 0 {
				t.Errorf("%d outcome appends had no deadline; want each bounded by the outcome's budget", n)
			}
			if recs, err := scan.ReadStranded(&stranded); err != nil || len(recs) != 1 || recs[0].Outcome != audit.OutcomeSucceeded {
				t.Errorf("stranded outcomes %+v (%v); want the succeeded one, for reconcile --from-log", recs, err)
			}
		})
	}
}

// On Lambda and SCF the request's context ends half a second before the platform stops the
// function: an outcome append waiting on a locked store must give up by then, so that the
// outcome reaches the function's log as a stranded line (for reconcile --from-log) and the
// caller gets an answer, instead of both being lost when the platform kills the invocation
// mid-wait. (The outcome's own budget, 8 s, is longer than what a 29 s function has left after
// a slow call.) A call that answers close to the deadline still gives the append
// minOutcomeTry (scan's 250 ms) from when it began: checked against when each append began,
// not against the moment the test started, which under load (the race detector on two busy
// cores) left the call too little time and failed the test.
func TestAnOutcomeWaitingOnALockedStoreEndsByTheRequestsDeadline(t *testing.T) {
	const minOutcomeTry = 250 * time.Millisecond // scan's least try for an outcome
	var log *lockedAfterPending
	var stranded bytes.Buffer
	h := newHarness(t,
		withScanLog(func(l scan.AuditLog) scan.AuditLog { log = &lockedAfterPending{AuditLog: l}; return log }),
		withService(scan.Options{Stranded: &stranded}))
	deadline := time.Now().Add(300 * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	resp := h.postJSON(`{"RegistryImageScanType":"NOT_SCAN"}`, func(r *http.Request) { *r = *r.WithContext(ctx) })
	resp.Body.Close()
	if n := log.unbounded.Load(); n != 0 {
		t.Errorf("%d outcome appends had no deadline", n)
	}
	waits := log.waited()
	if len(waits) == 0 {
		t.Error("no outcome append waited on the lock")
	}
	for _, w := range waits {
		if bound := w.began.Add(minOutcomeTry); w.deadline.After(deadline) && w.deadline.After(bound) {
			t.Errorf("an outcome append began at %s and waited until %s, past the request's deadline %s and its least try (%s)",
				w.began.Format(time.StampMicro), w.deadline.Format(time.StampMicro), deadline.Format(time.StampMicro), bound.Format(time.StampMicro))
		}
	}
	if recs, err := scan.ReadStranded(&stranded); err != nil || len(recs) != 1 {
		t.Errorf("stranded outcomes %+v (%v); want the one", recs, err)
	}
}

// When the outcome cannot be recorded, the answer says what TCSS did: answered (with the task
// IDs), or never answered, which is not "TCSS answered (unknown)".
func TestAnOutcomeTheLogCouldNotTakeSaysWhatTCSSDid(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   *tcsstest.Fault
		want    []string
		wantNot string
	}{
		{"TCSS answered", nil, []string{"TCSS answered (succeeded) but the audit log could not record it", "RegistryTaskID"}, "was lost"},
		{"TCSS's answer was lost", &tcsstest.Fault{Drop: true},
			[]string{"TCSS's answer was lost, so a scan may or may not have started, and the audit log could not record even that"}, "TCSS answered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t,
				withScanLog(func(l scan.AuditLog) scan.AuditLog { return &lockedAfterPending{AuditLog: l} }),
				withService(scan.Options{OutcomeBudget: 50 * time.Millisecond, Stranded: &bytes.Buffer{}}))
			if tc.fault != nil {
				h.emu.InjectFault("CreateVulScanTask", *tc.fault)
			}
			resp := h.postJSON(`{"RegistryImageScanType":"NOT_SCAN"}`, func(r *http.Request) { r.Header.Set("Idempotency-Key", "k") })
			var e struct {
				Errors []struct{ Message string }
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || len(e.Errors) != 1 {
				t.Fatalf("answer %+v (%v)", e, err)
			}
			msg := e.Errors[0].Message
			for _, want := range tc.want {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, tc.wantNot) {
				t.Errorf("message %q says %q", msg, tc.wantNot)
			}
		})
	}
}

// committedThenLost is a store whose pending append goes through but whose answer is lost (the
// connection dropped during the COMMIT that PostgreSQL carried out).
type committedThenLost struct{ scan.AuditLog }

func (l committedThenLost) Append(ctx context.Context, rec audit.Record) (audit.Record, error) {
	stored, err := l.AuditLog.Append(ctx, rec)
	if err == nil && rec.Outcome == audit.OutcomePending && rec.IdempotencyKey == "lost-commit" {
		return audit.Record{}, errors.New("sqlstore: append: commit: unexpected EOF")
	}
	return stored, err
}

// A pending record the store kept although its append failed is closed as not sent: TCSS was
// never called, so the caller's retry with the same key makes a new attempt. Left pending, it
// was closed as unknown after 50 s, and the key stayed bound to "a scan may have started" for
// good: every retry was refused (409, then 504) for a scan that never existed.
func TestAPendingRecordKeptDespiteAFailedAppendFreesItsKey(t *testing.T) {
	h := newHarness(t, withScanLog(func(l scan.AuditLog) scan.AuditLog { return committedThenLost{l} }))
	withKey := func(r *http.Request) { r.Header.Set("Idempotency-Key", "lost-commit") }
	resp := h.postJSON(`{"RegistryImageScanType":"NOT_SCAN"}`, withKey)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || h.creates() != 0 {
		t.Fatalf("status %d, %d TCSS calls; want 503 and none", resp.StatusCode, h.creates())
	}
	recs := h.records()
	if len(recs) != 2 || recs[1].PendingID != recs[0].ID || recs[1].Outcome != audit.OutcomeFailed || recs[1].ErrorCode != scan.CodeNotSent {
		t.Fatalf("records %+v; want the kept pending record closed as failed, not sent", recs)
	}
	// The retry is a new attempt (this store loses its answer again: 503), not a replay of one
	// that never reached TCSS (409 in progress, then 504 unknown for good).
	again := h.postJSON(`{"RegistryImageScanType":"NOT_SCAN"}`, withKey)
	again.Body.Close()
	if again.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("retry with the key: status %d, want 503 for a new attempt; the key is still bound", again.StatusCode)
	}
}
