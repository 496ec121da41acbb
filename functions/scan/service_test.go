package scan_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/scan/scantest"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

const createAction = "CreateVulScanTask"

var testNow = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// newRig is the real path: the service over the TCSS client and emulator, with a SQLite log,
// signing with a temporary key as SCF's role does.
func newRig(t *testing.T) *scantest.World {
	t.Helper()
	return scantest.New(t, scantest.Options{Now: func() time.Time { return testNow }, TemporaryKey: true})
}

var caller = scan.Caller{Trigger: audit.TriggerAPI, Actor: "alice", SourceIP: "192.0.2.7", UserAgent: "curl/8", FunctionRequestID: "req-1"}

func outcomes(recs []audit.Record) []audit.Outcome {
	out := make([]audit.Outcome, len(recs))
	for i, r := range recs {
		out[i] = r.Outcome
	}
	return out
}

func sameOutcomes(got []audit.Outcome, want ...audit.Outcome) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func TestStartOutcomes(t *testing.T) {
	all := scan.Request{LocalImageScanType: "ALL"}
	tests := []struct {
		name      string
		req       scan.Request
		fault     *tcsstest.Fault
		wantCode  string // scan error code, "" for success
		wantCalls int
		want      []audit.Outcome
		check     func(t *testing.T, a scan.Attempt, recs []audit.Record)
	}{
		{
			name: "a valid request starts a scan and records pending then succeeded",
			req:  scan.Request{LocalImageScanType: " ALL ", RegistryImageScanType: "NOT_SCAN"}, wantCalls: 1,
			want: []audit.Outcome{audit.OutcomePending, audit.OutcomeSucceeded},
			check: func(t *testing.T, a scan.Attempt, recs []audit.Record) {
				out := recs[1]
				if out.LocalTaskID <= 0 || out.RegistryTaskID <= 0 || out.TCSSRequestID == "" {
					t.Errorf("succeeded record lacks task IDs or RequestId: %+v", out)
				}
				if out.PendingID != recs[0].ID || a.ID() != recs[0].ID {
					t.Errorf("outcome refers to %d, attempt %d, pending %d", out.PendingID, a.ID(), recs[0].ID)
				}
				var params scan.Request
				if err := json.Unmarshal(recs[0].Params, &params); err != nil || params.LocalImageScanType != "ALL" {
					t.Errorf("params not the normalized request: %s (%v)", recs[0].Params, err)
				}
				p := recs[0]
				if p.Trigger != audit.TriggerAPI || p.Actor != "alice" || p.SourceIP != "192.0.2.7" ||
					p.UserAgent != "curl/8" || p.FunctionRequestID != "req-1" || p.Action != "CreateVulScanTask" {
					t.Errorf("caller not recorded: %+v", p)
				}
			},
		},
		{
			name: "an invalid request is recorded as rejected and never reaches TCSS",
			req:  scan.Request{LocalImageScanType: "IMAGEIDS"}, wantCode: scan.EINVALID, wantCalls: 0,
			want: []audit.Outcome{audit.OutcomeRejected},
			check: func(t *testing.T, a scan.Attempt, recs []audit.Record) {
				if recs[0].ErrorCode != scan.CodeInvalidRequest || !strings.Contains(recs[0].ErrorMessage, "LocalImageIDs") {
					t.Errorf("rejection reason not recorded: %q %q", recs[0].ErrorCode, recs[0].ErrorMessage)
				}
			},
		},
		{
			name: "a TCSS error is recorded as failed with Tencent's code and message",
			req:  all, fault: &tcsstest.Fault{Code: "ResourceUnavailable", Message: "TCSS is not activated"},
			wantCode: scan.EUPSTREAM, wantCalls: 1,
			want: []audit.Outcome{audit.OutcomePending, audit.OutcomeFailed},
			check: func(t *testing.T, a scan.Attempt, recs []audit.Record) {
				if recs[1].ErrorCode != "ResourceUnavailable" || recs[1].ErrorMessage != "TCSS is not activated" || recs[1].TCSSRequestID == "" {
					t.Errorf("failure not recorded: %+v", recs[1])
				}
			},
		},
		{
			name: "RequestLimitExceeded twice then success starts one scan",
			req:  all, fault: &tcsstest.Fault{Code: "RequestLimitExceeded", Message: "slow down", Times: 2},
			wantCalls: 3,
			want:      []audit.Outcome{audit.OutcomePending, audit.OutcomeSucceeded},
		},
		{
			name: "rate limiting that does not stop is a rate-limited failure",
			req:  all, fault: &tcsstest.Fault{Code: "RequestLimitExceeded", Message: "slow down"},
			wantCode: scan.ERATELIMITED, wantCalls: 4,
			want: []audit.Outcome{audit.OutcomePending, audit.OutcomeFailed},
		},
		{
			name: "a dropped connection is recorded as unknown, not retried",
			req:  all, fault: &tcsstest.Fault{Drop: true},
			wantCode: scan.EUNKNOWN, wantCalls: 1,
			want: []audit.Outcome{audit.OutcomePending, audit.OutcomeUnknown},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			if tt.fault != nil {
				r.Emulator.InjectFault(createAction, *tt.fault)
			}
			a, err := r.Service.Start(context.Background(), tt.req, "", caller)
			if got := scan.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("error code %q, want %q (err %v)", got, tt.wantCode, err)
			}
			if got := r.Emulator.Calls(createAction); got != tt.wantCalls {
				t.Errorf("TCSS saw %d calls, want %d", got, tt.wantCalls)
			}
			recs := r.Records(t)
			if !sameOutcomes(outcomes(recs), tt.want...) {
				t.Fatalf("records %v, want %v", outcomes(recs), tt.want)
			}
			if a.State() != tt.want[len(tt.want)-1] {
				t.Errorf("attempt state %q, want %q", a.State(), tt.want[len(tt.want)-1])
			}
			r.Verify(t)
			if tt.check != nil {
				tt.check(t, a, recs)
			}
		})
	}
}

// failingLog is an audit log that cannot be written.
type failingLog struct{ scan.AuditLog }

func (failingLog) Append(context.Context, audit.Record) (audit.Record, error) {
	return audit.Record{}, errors.New("disk full")
}

// notDurableLog commits the pending record but reports that it could not be made durable, as
// a SQLite store whose WAL sync failed does; outcomes are taken.
type notDurableLog struct{ scan.AuditLog }

func (l notDurableLog) Append(ctx context.Context, rec audit.Record) (audit.Record, error) {
	got, err := l.AuditLog.Append(ctx, rec)
	if err == nil && rec.Outcome == audit.OutcomePending {
		err = fmt.Errorf("sync: %w", audit.ErrNotDurable)
	}
	return got, err
}

// A pending record committed but not durable: TCSS is not called, the caller is told the log is
// unavailable, and the attempt is closed as failed (not sent), so that its idempotency key is
// free for the retry.
func TestStartClosesAnAttemptWhoseRecordIsNotDurable(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	svc := scan.NewService(scannerCounting{t: t}, notDurableLog{r.Store}, func() time.Time { return testNow }, nil)
	_, err := svc.Start(ctx, scan.Request{LocalImageScanType: "ALL"}, "nightly-2026-12-03", caller)
	var e *scan.Error
	if !errors.As(err, &e) || e.Code != scan.EUNAVAILABLE {
		t.Fatalf("got %v, want EUNAVAILABLE", err)
	}
	recs, err := r.Store.List(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameOutcomes(outcomes(recs), audit.OutcomeFailed, audit.OutcomePending) || recs[0].ErrorCode != scan.CodeNotSent {
		t.Fatalf("records %v (error code %q), want the pending record closed as failed, %s", outcomes(recs), recs[0].ErrorCode, scan.CodeNotSent)
	}
	if _, err := r.Service.Start(ctx, scan.Request{LocalImageScanType: "ALL"}, "nightly-2026-12-03", caller); err != nil {
		t.Errorf("the retry with the same key: %v, want a scan started", err)
	}
}

func TestStartFailsClosedWhenTheAuditLogIsUnavailable(t *testing.T) {
	r := newRig(t)
	svc := scan.NewService(scannerCounting{t: t}, failingLog{r.Store}, func() time.Time { return testNow }, nil)
	_, err := svc.Start(context.Background(), scan.Request{LocalImageScanType: "ALL"}, "", caller)
	var e *scan.Error
	if !errors.As(err, &e) || e.Code != scan.EUNAVAILABLE || !strings.Contains(e.Message, "audit log is unavailable") {
		t.Fatalf("got %v, want EUNAVAILABLE saying the audit log is unavailable", err)
	}
}

// scannerCounting fails the test if TCSS is ever called.
type scannerCounting struct{ t *testing.T }

func (s scannerCounting) CreateVulScanTask(context.Context, scan.Request) (scan.TaskIDs, error) {
	s.t.Error("TCSS was called although the audit log could not be written")
	return scan.TaskIDs{}, nil
}

func (s scannerCounting) DescribeVulScanInfo(context.Context, int64, int64) (scan.ScanInfo, error) {
	return scan.ScanInfo{}, nil
}

// A caller that goes away while TCSS has the request (a client that disconnects, a gateway that
// gives up) does not cut the call short: TCSS's answer, and the task IDs of the scan it started,
// are recorded, where an unknown outcome would have lost them.
func TestStartRecordsTheOutcomeWhenTheCallerGoesAway(t *testing.T) {
	r := newRig(t)
	r.Emulator.InjectFault(createAction, tcsstest.Fault{Latency: time.Second})
	// The caller goes away once TCSS has the request (a deadline would race the pending
	// record's fsync on a loaded machine).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for r.Emulator.Calls(createAction) == 0 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	a, err := r.Service.Start(ctx, scan.Request{LocalImageScanType: "ALL"}, "", caller)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if ctx.Err() == nil {
		t.Fatal("the caller's context was not cancelled: the test proves nothing")
	}
	if got := outcomes(r.Records(t)); !sameOutcomes(got, audit.OutcomePending, audit.OutcomeSucceeded) || a.Outcome.LocalTaskID == 0 {
		t.Fatalf("records %v, local task %d; want pending then succeeded, with TCSS's task ID", got, a.Outcome.LocalTaskID)
	}
}

func TestIdempotency(t *testing.T) {
	ctx := context.Background()
	all := scan.Request{LocalImageScanType: "ALL"}

	t.Run("the same key and request replays the first attempt without calling TCSS", func(t *testing.T) {
		r := newRig(t)
		first, err := r.Service.Start(ctx, all, "k1", caller)
		if err != nil {
			t.Fatal(err)
		}
		// Equal intent spelled differently is the same request.
		again, err := r.Service.Start(ctx, scan.Request{LocalImageScanType: "ALL "}, "k1", caller)
		if err != nil {
			t.Fatal(err)
		}
		if !again.Replayed || again.ID() != first.ID() || again.Outcome.LocalTaskID != first.Outcome.LocalTaskID {
			t.Errorf("replay %+v, first %+v", again, first)
		}
		if n := r.Emulator.Calls(createAction); n != 1 {
			t.Errorf("TCSS saw %d calls, want 1", n)
		}
	})

	t.Run("concurrent double submit starts one scan", func(t *testing.T) {
		r := newRig(t)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				_, err := r.Service.Start(ctx, all, "double-click", caller)
				if c := scan.ErrorCode(err); c != "" && c != scan.EINPROGRESS {
					t.Errorf("unexpected error %v", err)
				}
			})
		}
		wg.Wait()
		if n := r.Emulator.Calls(createAction); n != 1 {
			t.Errorf("TCSS saw %d calls, want 1", n)
		}
		r.Verify(t)
	})

	t.Run("a key whose attempt is still pending answers in progress", func(t *testing.T) {
		r := newRig(t)
		params, _ := json.Marshal(all.Normalize())
		params, _ = audit.CanonicalJSON(params)
		pending, err := r.Store.Append(ctx, audit.Record{Trigger: audit.TriggerAPI, Actor: caller.Actor, Action: audit.ActionCreateVulScanTask,
			Params: params, IdempotencyKey: "k2", Outcome: audit.OutcomePending})
		if err != nil {
			t.Fatal(err)
		}
		a, err := r.Service.Start(ctx, all, "k2", caller)
		if scan.ErrorCode(err) != scan.EINPROGRESS || a.ID() != pending.ID || !a.Replayed {
			t.Fatalf("got %+v, %v; want EINPROGRESS for attempt %d", a, err, pending.ID)
		}
		if n := r.Emulator.Calls(createAction); n != 0 {
			t.Errorf("TCSS saw %d calls, want 0", n)
		}
	})

	t.Run("the same key with another request is a conflict, recorded as rejected", func(t *testing.T) {
		r := newRig(t)
		if _, err := r.Service.Start(ctx, all, "k3", caller); err != nil {
			t.Fatal(err)
		}
		_, err := r.Service.Start(ctx, scan.Request{RegistryImageScanType: "ALL"}, "k3", caller)
		if scan.ErrorCode(err) != scan.ECONFLICT {
			t.Fatalf("got %v, want ECONFLICT", err)
		}
		recs := r.Records(t)
		last := recs[len(recs)-1]
		if last.Outcome != audit.OutcomeRejected || last.ErrorCode != scan.CodeIdempotencyConflict {
			t.Errorf("conflict not recorded: %+v", last)
		}
		if n := r.Emulator.Calls(createAction); n != 1 {
			t.Errorf("TCSS saw %d calls, want 1", n)
		}
	})

	t.Run("protection survives reopening the store", func(t *testing.T) {
		r := newRig(t)
		first, err := r.Service.Start(ctx, all, "k4", caller)
		if err != nil {
			t.Fatal(err)
		}
		r.Store.Close()
		reopened := scantest.OpenStore(t, r.Path)
		svc := scan.NewService(scannerCounting{t: t}, reopened, nil, nil)
		again, err := svc.Start(ctx, all, "k4", caller)
		if err != nil || !again.Replayed || again.ID() != first.ID() {
			t.Fatalf("after reopening: %+v, %v", again, err)
		}
	})

	t.Run("an overlong key is refused with the request's other problems", func(t *testing.T) {
		r := newRig(t)
		_, err := r.Service.Start(ctx, scan.Request{LocalImageScanType: "EVERYTHING"}, strings.Repeat("k", 200), caller)
		var e *scan.Error
		if !errors.As(err, &e) || e.Code != scan.EINVALID || len(e.Fields) < 2 {
			t.Fatalf("got %v, want EINVALID naming the scan type and the key", err)
		}
		if e.Fields[len(e.Fields)-1].Field != "IdempotencyKey" {
			t.Errorf("fields %v lack IdempotencyKey", e.Fields)
		}
	})
}

func TestRejectRecordsAnUndecodableRequest(t *testing.T) {
	r := newRig(t)
	_, cause := scan.DecodeJSON([]byte(`{"LocalImageScanType":7}`), nil)
	a, err := r.Service.Reject(context.Background(), "k", caller, cause)
	if err != cause {
		t.Fatalf("Reject returned %v, want the cause %v", err, cause)
	}
	recs := r.Records(t)
	if len(recs) != 1 || a.ID() != recs[0].ID {
		t.Fatalf("records %+v, attempt %d", recs, a.ID())
	}
	rec := recs[0]
	if rec.Outcome != audit.OutcomeRejected || rec.ErrorCode != scan.CodeInvalidRequest ||
		!strings.Contains(rec.ErrorMessage, "LocalImageScanType") || string(rec.Params) != `{"LocalImageScanType":"7"}` || rec.Actor != "alice" {
		t.Errorf("rejection recorded as %+v", rec)
	}
	if n := r.Emulator.Calls(createAction); n != 0 {
		t.Errorf("TCSS saw %d calls", n)
	}
}

func TestSecretsNeverReachTheAuditLog(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if _, err := r.Service.Start(ctx, scan.Request{LocalImageScanType: "ALL"}, "", caller); err != nil {
		t.Fatal(err)
	}
	r.Emulator.InjectFault(createAction, tcsstest.Fault{Code: "AuthFailure", Message: "denied"})
	_, _ = r.Service.Start(ctx, scan.Request{RegistryImageScanType: "ALL"}, "", caller)
	_, _ = r.Service.Start(ctx, scan.Request{LocalImageScanType: "bad"}, "", caller)
	for _, rec := range r.Records(t) {
		blob, _ := json.Marshal(rec)
		for _, secret := range []string{r.Key.SecretKey, r.Key.Token} {
			if strings.Contains(string(blob), secret) {
				t.Fatalf("record %d holds a secret: %s", rec.ID, blob)
			}
		}
	}
}

func TestAttemptAndStatus(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	started, err := r.Service.Start(ctx, scan.Request{LocalImageScanType: "ALL"}, "", caller)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{started.ID(), started.Outcome.ID} {
		a, err := r.Service.Attempt(ctx, id)
		if err != nil || a.ID() != started.ID() || a.State() != audit.OutcomeSucceeded || a.Request.LocalImageScanType != "ALL" {
			t.Errorf("Attempt(%d) = %+v, %v", id, a, err)
		}
	}
	info, err := r.Service.Status(ctx, started)
	if err != nil || info.LocalTaskID != started.Outcome.LocalTaskID || info.Status == "" {
		t.Errorf("Status = %+v, %v", info, err)
	}
	if _, err := r.Service.Attempt(ctx, 999); scan.ErrorCode(err) != scan.ENOTFOUND {
		t.Errorf("Attempt(999) error %v, want ENOTFOUND", err)
	}
	rejected, _ := r.Service.Start(ctx, scan.Request{}, "", caller)
	if _, err := r.Service.Status(ctx, rejected); scan.ErrorCode(err) != scan.ENOTFOUND {
		t.Errorf("Status of a rejected attempt: %v, want ENOTFOUND", err)
	}
}

// TCSS reads an omitted task ID as "the latest task of that side"; a one-sided attempt must not
// show the other side's latest task (issue 12: a registry-only page showed a local task's counts).
func TestStatusShowsOnlyTheSidesTheAttemptStarted(t *testing.T) {
	var ahead atomic.Int64 // how far the emulator's clock runs ahead of the signing clock
	r := scantest.New(t, scantest.Options{Emulator: func(o *tcsstest.Options) {
		o.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	}})
	ctx := context.Background()
	local, err := r.Service.Start(ctx, scan.Request{LocalImageScanType: "ALL"}, "", caller)
	if err != nil {
		t.Fatal(err)
	}
	registry, err := r.Service.Start(ctx, scan.Request{RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: []uint64{12, 13}}, "", caller)
	if err != nil {
		t.Fatal(err)
	}
	// Both scans finish (the emulator's scans take 2 minutes; signatures stay valid for 5).
	ahead.Store(int64(150 * time.Second))
	tests := []struct {
		name               string
		attempt            scan.Attempt
		wantLocal, wantReg int64
		wantCombinedWith   int64
		localZero, regZero bool
	}{
		{"registry only", registry, 0, registry.Outcome.RegistryTaskID, local.Outcome.LocalTaskID, true, false},
		{"local only", local, local.Outcome.LocalTaskID, 0, registry.Outcome.RegistryTaskID, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := r.Service.Status(ctx, tt.attempt)
			if err != nil {
				t.Fatal(err)
			}
			if info.LocalTaskID != tt.wantLocal || info.RegistryTaskID != tt.wantReg {
				t.Errorf("task IDs %d/%d, want %d/%d", info.LocalTaskID, info.RegistryTaskID, tt.wantLocal, tt.wantReg)
			}
			if info.CombinedWith != tt.wantCombinedWith {
				t.Errorf("CombinedWith %d, want %d", info.CombinedWith, tt.wantCombinedWith)
			}
			localCounts := info.LocalImageScanCount + info.FoundVulCount + info.FoundRiskImageCount + info.IgnoreVulCount
			regCounts := info.RegistryImageScanCount + info.RegistryFoundVulCount
			if tt.localZero && localCounts != 0 || tt.regZero && regCounts != 0 {
				t.Errorf("the side not started has counts: %+v", info)
			}
			if !tt.localZero && info.LocalImageScanCount == 0 || !tt.regZero && info.RegistryImageScanCount == 0 {
				t.Errorf("the started side has no counts: %+v", info)
			}
			// The finished local side is broken down by severity; a registry-only attempt has none.
			if tt.localZero != (info.LocalSeverities == nil) {
				t.Errorf("local severities %+v for an attempt whose local side was started: %v", info.LocalSeverities, !tt.localZero)
			}
		})
	}
}

func TestStatusRefusesAnAnswerAboutAnotherTask(t *testing.T) {
	svc := scan.NewService(wrongTaskScanner{}, nil, nil, nil)
	a := scan.Attempt{Record: audit.Record{ID: 1, Outcome: audit.OutcomePending},
		Outcome: &audit.Record{ID: 2, Outcome: audit.OutcomeSucceeded, RegistryTaskID: 7}}
	if _, err := svc.Status(context.Background(), a); scan.ErrorCode(err) != scan.EUPSTREAM {
		t.Fatalf("Status = %v, want EUPSTREAM", err)
	}
	a.Outcome.RegistryTaskID = 0
	if _, err := svc.Status(context.Background(), a); scan.ErrorCode(err) != scan.ENOTFOUND {
		t.Fatalf("Status of a success naming no task = %v, want ENOTFOUND", err)
	}
}

// wrongTaskScanner answers DescribeVulScanInfo about task 8 whatever it is asked.
type wrongTaskScanner struct{ scan.Scanner }

func (wrongTaskScanner) DescribeVulScanInfo(context.Context, int64, int64) (scan.ScanInfo, error) {
	return scan.ScanInfo{Status: "SCANNED", RegistryTaskID: 8}, nil
}

func BenchmarkStart(b *testing.B) {
	w := serverWorld(b)
	for b.Loop() {
		if _, err := w.Service.Start(context.Background(), scan.Request{LocalImageScanType: "ALL"}, "", caller); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartParallel is the audited path's throughput under concurrent callers, as a server
// sees it: parallelTCSSCallers goroutines start scans at once (pacing off), so their pending
// records can share group commits. Its anchor is tcss's BenchmarkCreateVulScanTaskParallel, the
// signed call alone with the same number of callers.
func BenchmarkStartParallel(b *testing.B) {
	w := serverWorld(b)
	b.SetParallelism(parallelCallersPerCPU)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := w.Service.Start(context.Background(), scan.Request{LocalImageScanType: "ALL"}, "", caller); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// serverWorld is the scan path as a server runs it, for the benchmarks: its store checkpoints
// the WAL in the background (a one-shot's checkpoints run inside its commits), and the
// emulator's rate limit is off (TCSS allows 20 calls a second; the benchmarks measure vulscan,
// not that limit).
func serverWorld(b *testing.B) *scantest.World {
	w := scantest.New(b, scantest.Options{Emulator: func(o *tcsstest.Options) { o.RatePerSecond = 1 << 30 }})
	w.Store.CheckpointInBackground()
	return w
}

// parallelCallersPerCPU is the callers per CPU of the parallel benchmarks here and in tcss.
const parallelCallersPerCPU = 8

// provenanceScanner is a Scanner that tells where its calls go, as tcss.Client does.
type provenanceScanner struct {
	scan.Scanner
	endpoint, credential string
}

func (p provenanceScanner) TCSSEndpoint() string     { return p.endpoint }
func (p provenanceScanner) CredentialSource() string { return p.credential }

// Every record of an attempt names how its caller was admitted and, when the scanner tells, the
// TCSS endpoint and credential source it used.
func TestRecordsAccessAndProvenance(t *testing.T) {
	ctx := context.Background()
	c := caller
	c.Access = "apikey"
	cases := []struct {
		name                 string
		wrap                 func(scan.Scanner) scan.Scanner
		endpoint, credential string
	}{
		{"a scanner that tells its provenance", func(s scan.Scanner) scan.Scanner {
			return provenanceScanner{s, "emulator:http://127.0.0.1:9100", "static-key:AKIDab"}
		}, "emulator:http://127.0.0.1:9100", "static-key:AKIDab"},
		{"a scanner that does not", func(s scan.Scanner) scan.Scanner {
			return struct{ scan.Scanner }{s} // hides tcss.Client's own Provenance
		}, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := scantest.New(t, scantest.Options{Now: func() time.Time { return testNow }, Scanner: tc.wrap})
			if _, err := r.Service.Start(ctx, scan.Request{LocalImageScanType: "ALL"}, "", c); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Service.Start(ctx, scan.Request{LocalImageScanType: "NOPE"}, "", c); scan.ErrorCode(err) != scan.EINVALID {
				t.Fatalf("got %v, want EINVALID", err)
			}
			recs := r.Records(t)
			if got := outcomes(recs); !sameOutcomes(got, audit.OutcomePending, audit.OutcomeSucceeded, audit.OutcomeRejected) {
				t.Fatalf("outcomes %v", got)
			}
			for _, rec := range recs {
				if rec.Access != "apikey" || rec.Endpoint != tc.endpoint || rec.Credential != tc.credential {
					t.Errorf("record %d: access %q, endpoint %q, credential %q; want apikey, %q, %q",
						rec.ID, rec.Access, rec.Endpoint, rec.Credential, tc.endpoint, tc.credential)
				}
				if rec.Emulated() != (tc.endpoint != "") {
					t.Errorf("record %d: Emulated() = %v", rec.ID, rec.Emulated())
				}
			}
			r.Verify(t)
		})
	}
}

// The service validates the normalized request, whose lists are sorted and without repeats: a
// message names a bad entry by its value, never by a position the caller did not send it at.
func TestRefusalsNameEntriesByValue(t *testing.T) {
	r := newRig(t)
	_, err := r.Service.Start(context.Background(), scan.Request{
		LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{"sha256:" + strings.Repeat("a", 64), "zzz", "bad"},
		RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: []uint64{5, 6, 7, 0},
	}, "", caller)
	var e *scan.Error
	if !errors.As(err, &e) || e.Code != scan.EINVALID {
		t.Fatalf("Start: %v; want EINVALID", err)
	}
	want := map[string]string{"LocalImageIDs": `"bad" is not valid; "zzz" is not valid`, "RegistryImageIDs": "holds 0"}
	for _, f := range e.Fields {
		if strings.Contains(f.Message, "entry") {
			t.Errorf("%s: %q numbers an entry", f.Field, f.Message)
		}
		if w, ok := want[f.Field]; ok && !strings.Contains(f.Message, w) {
			t.Errorf("%s: %q, want %q", f.Field, f.Message, w)
		}
		delete(want, f.Field)
	}
	if len(want) > 0 {
		t.Errorf("no problem named for %v", want)
	}
}
