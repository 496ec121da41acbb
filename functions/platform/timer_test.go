package platform

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/scan/scantest"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// newWorld is the real audited path: scan.Service calling the TCSS emulator through the real
// client, with a SQLite audit log.
func newWorld(t *testing.T) *scantest.World { return scantest.New(t, scantest.Options{}) }

func quietLogger() *slog.Logger { return scantest.Discard }

func dispatcher(w *scantest.World) *Dispatcher {
	return New(Options{Scans: w.Service, Logger: quietLogger()})
}

func TestTimersStartAnAuditedScan(t *testing.T) {
	tests := []struct {
		fixture   string
		kind      Kind
		requestID string
		actor     string
		key       string
		params    string
	}{
		{"scf-timer.json", KindSCFTimer, "scf-req-1", "system:timer/nightly", "timer/nightly@2019-02-21T11:49:00Z",
			`{"RegistryImageScanType":"NOT_SCAN"}`},
		{"scf-timer-lowercase.json", KindSCFTimer, "scf-req-2", "system:timer/weekly-registry", "timer/weekly-registry@2019-02-21T11:49:00Z",
			`{"IsLatest":true,"RegistryImageScanType":"ALL"}`},
		{"eventbridge-scheduled-scan.json", KindEventBridge, "aws-req-1", "system:timer/vulscan-nightly", "timer/vulscan-nightly@2026-03-10T02:00:00Z",
			`{"LocalImageScanType":"NOT_SCAN"}`},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			w := newWorld(t)
			raw := fixture(t, tt.fixture)
			if kind, err := Classify(raw); kind != tt.kind {
				t.Fatalf("Classify = %q, %v; want %q", kind, err, tt.kind)
			}
			out, err := dispatcher(w).Handle(context.Background(), Invocation{RequestID: tt.requestID}, raw)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			var res TimerResult
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatal(err)
			}
			if res.Outcome != audit.OutcomeSucceeded || res.Replayed || res.Attempt != 1 ||
				res.LocalTaskID+res.RegistryTaskID == 0 || "system:timer/"+res.Schedule != tt.actor {
				t.Errorf("result = %+v", res)
			}
			recs := w.Records(t)
			if len(recs) != 2 {
				t.Fatalf("audit log has %d records, want pending + succeeded", len(recs))
			}
			for _, r := range recs {
				if r.Trigger != audit.TriggerTimer || r.Actor != tt.actor || r.IdempotencyKey != tt.key ||
					r.FunctionRequestID != tt.requestID || string(r.Params) != tt.params {
					t.Errorf("record %d: trigger %q actor %q key %q function request %q params %s", r.ID,
						r.Trigger, r.Actor, r.IdempotencyKey, r.FunctionRequestID, r.Params)
				}
			}
			if n := w.Emulator.Calls("CreateVulScanTask"); n != 1 {
				t.Errorf("TCSS called %d times", n)
			}
		})
	}
}

// Asynchronous invocations are retried by the platform with the same event (and, on Lambda, the
// same request ID): the retries must answer from the first attempt.
func TestARetriedTimerStartsOneScan(t *testing.T) {
	for _, name := range []string{"scf-timer.json", "eventbridge-scheduled-scan.json", "schedule-input.json"} {
		// schedule-input.json is an invocation, not a timer; a retried invocation replays alike.
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			d := dispatcher(w)
			raw := fixture(t, name)
			var first TimerResult
			for try := range 3 {
				// SCF gives a retry a new request ID; the key comes from the scheduled time then.
				reqID := "req-1"
				if strings.HasPrefix(name, "scf") {
					reqID = "req-" + string(rune('1'+try))
				}
				out, err := d.Handle(context.Background(), Invocation{RequestID: reqID}, raw)
				if err != nil {
					t.Fatalf("try %d: %v", try, err)
				}
				var res TimerResult
				if err := json.Unmarshal(out, &res); err != nil {
					t.Fatal(err)
				}
				if try == 0 {
					first = res
					continue
				}
				if !res.Replayed || res.Attempt != first.Attempt || res.LocalTaskID != first.LocalTaskID ||
					res.RegistryTaskID != first.RegistryTaskID {
					t.Errorf("try %d = %+v, want a replay of %+v", try, res, first)
				}
			}
			if n := w.Emulator.Calls("CreateVulScanTask"); n != 1 {
				t.Errorf("TCSS called %d times for one scheduled run retried twice", n)
			}
			// One attempt (pending, succeeded), then one replay record per retry naming it.
			recs := w.Records(t)
			if len(recs) != 4 {
				t.Fatalf("audit log has %d records, want one attempt (2 records) and 2 replays", len(recs))
			}
			for _, r := range recs[2:] {
				if r.Outcome != audit.OutcomeReplayed || r.RelatedID != first.Attempt {
					t.Errorf("record %d = %s related to %d, want a replay of attempt %d", r.ID, r.Outcome, r.RelatedID, first.Attempt)
				}
			}
		})
	}
}

func TestTwoRunsOfOneScheduleStartTwoScans(t *testing.T) {
	w := newWorld(t)
	d := dispatcher(w)
	for _, at := range []string{"2019-02-21T02:00:00Z", "2019-02-22T02:00:00Z"} {
		ev := `{"Type":"Timer","TriggerName":"nightly","Time":"` + at + `","Message":"{\"RegistryImageScanType\":\"NOT_SCAN\"}"}`
		if _, err := d.Handle(context.Background(), Invocation{RequestID: at}, []byte(ev)); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.Emulator.Calls("CreateVulScanTask"); n != 2 {
		t.Errorf("TCSS called %d times, want 2", n)
	}
}

func TestBadTimerArgumentsAreAuditedAsRejected(t *testing.T) {
	tests := []struct {
		name    string
		event   string
		actor   string
		wantErr string // in the invocation's error
	}{
		{"unknown field", string(fixture(t, "scf-timer-bad-argument.json")), "system:timer/nightly", "RegistryImageScanTyp: is not a field"},
		{"argument not JSON", `{"Type":"Timer","TriggerName":"nightly","Time":"t1","Message":"LocalImageScanType=ALL"}`,
			"system:timer/nightly", "not valid JSON"},
		{"no argument", `{"Type":"Timer","TriggerName":"bare","Time":"t1","Message":""}`, "system:timer/bare", "empty"},
		{"no Message at all", `{"Type":"Timer","TriggerName":"bare","Time":"t1"}`, "system:timer/bare", "empty"},
		{"a null argument", `{"Type":"Timer","TriggerName":"nightly","Time":"t1","Message":"null"}`, "system:timer/nightly", "must be a JSON object"},
		{"invalid scan", `{"Type":"Timer","TriggerName":"nightly","Time":"t1","Message":"{\"LocalImageScanType\":\"EVERYTHING\"}"}`,
			"system:timer/nightly", "LocalImageScanType"},
		{"scheduled event without a scan", string(fixture(t, "eventbridge-scheduled-event.json")), "system:timer/my-scheduled-rule", "selects no images"},
		{"schedule input with a wrong type", `{"Schedule":"nightly","IsLatest":"yes"}`, "system:invoke", "IsLatest: must be true or false"},
		{"schedule input without a name", `{"IsLatest":"yes"}`, "system:invoke", "IsLatest"},
		{"a task ID of 0", `{"Type":"Timer","TriggerName":"nightly","Time":"t1","Message":"{\"LocalTaskID\":0,\"RegistryImageScanType\":\"ALL\"}"}`,
			"system:timer/nightly", "LocalTaskID: is 0, which is no task"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			out, err := dispatcher(w).Handle(context.Background(), Invocation{RequestID: "req-bad"}, []byte(tt.event))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || out != nil {
				t.Fatalf("Handle = %s, %v; want an error mentioning %q", out, err, tt.wantErr)
			}
			recs := w.Records(t)
			if len(recs) != 1 {
				t.Fatalf("audit log has %d records, want one rejection", len(recs))
			}
			r := recs[0]
			wantTrigger := audit.TriggerTimer
			if tt.actor == invokeActor {
				wantTrigger = audit.TriggerInvoke
			}
			if r.Outcome != audit.OutcomeRejected || r.Trigger != wantTrigger || r.Actor != tt.actor ||
				r.FunctionRequestID != "req-bad" || r.ErrorCode != scan.CodeInvalidRequest ||
				!strings.Contains(r.ErrorMessage, tt.wantErr) {
				t.Errorf("record = %+v; want the reason %q in it", r, tt.wantErr)
			}
			if n := w.Emulator.Calls("CreateVulScanTask"); n != 0 {
				t.Errorf("TCSS called %d times for a bad argument", n)
			}
		})
	}
}

func TestTimerFailuresFailTheInvocation(t *testing.T) {
	w := newWorld(t)
	w.Emulator.InjectFault("CreateVulScanTask", tcsstest.Fault{Code: "FailedOperation", Message: "license expired"})
	_, err := dispatcher(w).Handle(context.Background(), Invocation{RequestID: "r1"}, fixture(t, "scf-timer.json"))
	if scan.ErrorCode(err) != scan.EUPSTREAM || !strings.Contains(err.Error(), "timer nightly") {
		t.Errorf("err = %v, want the upstream failure named after the timer", err)
	}
	recs := w.Records(t)
	if len(recs) != 2 || recs[1].Outcome != audit.OutcomeFailed {
		t.Errorf("records = %+v", recs)
	}
}

func TestRunKeysAreBounded(t *testing.T) {
	long := strings.Repeat("n", 200)
	tests := []struct{ name, prefix, schedule, at, requestID, want string }{
		{"scheduled time", timerKeyPrefix, "nightly", "2019-02-21T11:49:00Z", "r", "timer/nightly@2019-02-21T11:49:00Z"},
		{"request ID stands in", timerKeyPrefix, "nightly", "", "r-1", "timer/nightly@request:r-1"},
		{"nothing to key on", timerKeyPrefix, "nightly", "", "", ""},
		{"an invocation", invokeKeyPrefix, "nightly", "2019-02-21T11:49:00Z", "r", "invoke/nightly@2019-02-21T11:49:00Z"},
	}
	for _, tt := range tests {
		if got := runKey(tt.prefix, tt.schedule, tt.at, tt.requestID); got != tt.want {
			t.Errorf("%s: runKey = %q, want %q", tt.name, got, tt.want)
		}
	}
	for _, prefix := range []string{timerKeyPrefix, invokeKeyPrefix} {
		k1, k2 := runKey(prefix, long, "t1", ""), runKey(prefix, long, "t2", "")
		if len(k1) > scan.MaxIdempotencyKeyLen || k1 == k2 || !strings.HasPrefix(k1, prefix+"sha256:") {
			t.Errorf("long keys %q, %q: want distinct hashed keys", k1, k2)
		}
	}
}

func TestTimersWithoutAScanServiceFail(t *testing.T) {
	_, err := New(Options{}).Handle(context.Background(), Invocation{}, fixture(t, "scf-timer.json"))
	if err == nil || !strings.Contains(err.Error(), "no scan service") {
		t.Errorf("err = %v", err)
	}
}

// recordingStarter is a ScanStarter that records its calls and rejects every request, for tests
// that need no audit store.
type recordingStarter struct {
	mu    sync.Mutex
	calls []scan.Caller
}

func (s *recordingStarter) Start(_ context.Context, _ scan.Request, _ string, c scan.Caller) (scan.Attempt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	return scan.Attempt{}, errors.New("recordingStarter starts nothing")
}

func (s *recordingStarter) Reject(_ context.Context, _ string, c scan.Caller, cause error) (scan.Attempt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	return scan.Attempt{}, cause
}

func TestUnknownEventsAreAuditedAsRejected(t *testing.T) {
	w := newWorld(t)
	events := []string{`{"Records":[{"eventSource":"aws:sqs","body":"x"}]}`, `[1,2]`, `"text"`}
	for _, ev := range events {
		out, err := dispatcher(w).Handle(context.Background(), Invocation{RequestID: "req-" + ev[:2]}, []byte(ev))
		if !errors.Is(err, ErrUnknownEvent) || out != nil {
			t.Fatalf("Handle(%s) = %s, %v; want ErrUnknownEvent", ev, out, err)
		}
	}
	recs := w.Records(t)
	if len(recs) != len(events) {
		t.Fatalf("%d records, want %d", len(recs), len(events))
	}
	for i, r := range recs {
		if r.Outcome != audit.OutcomeRejected || r.Trigger != audit.TriggerEvent || r.Actor != "system:platform" ||
			r.FunctionRequestID != "req-"+events[i][:2] || !strings.Contains(r.ErrorMessage, "unknown event shape") {
			t.Errorf("record %d: %+v", r.ID, r)
		}
	}
	if n := w.Emulator.Calls("CreateVulScanTask"); n != 0 {
		t.Errorf("TCSS saw %d calls", n)
	}
}

// A scheduled run whose first delivery meets a TCSS refusal is retried by the platform with the
// same event: the refusal freed the run's key, so the retry starts the scan. Exactly one scan,
// both attempts on the record, the second linked to the first.
func TestATimerRefusedOnceStartsOnItsPlatformRetry(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		fault   tcsstest.Fault
	}{
		{"scf-timer.json", tcsstest.Fault{Code: "InternalError", Message: "An internal error occurred", Times: 1}},
		{"eventbridge-scheduled-scan.json", tcsstest.Fault{Code: "InternalError", Message: "An internal error occurred", Times: 1}},
		{"scf-timer.json", tcsstest.Fault{Code: "RequestLimitExceeded", Message: "slow down", Times: 4}},
	} {
		t.Run(tc.fixture+" "+tc.fault.Code, func(t *testing.T) {
			w := newWorld(t)
			w.Emulator.InjectFault("CreateVulScanTask", tc.fault)
			d := dispatcher(w)
			raw := fixture(t, tc.fixture)
			if _, err := d.Handle(context.Background(), Invocation{RequestID: "delivery-1"}, raw); scan.ErrorCode(err) == "" {
				t.Fatalf("first delivery: %v, want the refusal as the invocation's error", err)
			}
			out, err := d.Handle(context.Background(), Invocation{RequestID: "delivery-2"}, raw)
			if err != nil {
				t.Fatalf("platform retry: %v", err)
			}
			var res TimerResult
			if err := json.Unmarshal(out, &res); err != nil || res.Outcome != audit.OutcomeSucceeded || res.Replayed {
				t.Fatalf("retry result %+v (%v)", res, err)
			}
			recs := w.Records(t)
			if len(recs) != 4 {
				t.Fatalf("%d records, want two attempts (pending, failed, pending, succeeded)", len(recs))
			}
			first, second := recs[0], recs[2]
			if recs[1].Outcome != audit.OutcomeFailed || recs[3].Outcome != audit.OutcomeSucceeded ||
				second.RelatedID != first.ID || second.IdempotencyKey != first.IdempotencyKey || res.Attempt != second.ID {
				t.Errorf("records %+v", recs)
			}
			// Every faulted call was refused; exactly one more reached TCSS and started the scan.
			if n := w.Emulator.Calls("CreateVulScanTask"); n != tc.fault.Times+1 {
				t.Errorf("TCSS saw %d calls, want %d refused and 1 that started the scan", n, tc.fault.Times)
			}
		})
	}
}

// A scan request sent as the whole payload is a direct invocation, whoever sent it: trigger
// invoke under the platform's identity for the caller, never system:timer/…, and a broad scan
// needs the same confirmation as anywhere else.
func TestADirectInvocationIsNotATimer(t *testing.T) {
	for _, tc := range []struct {
		name     string
		payload  string
		inv      Invocation
		actor    string
		key      string
		outcome  audit.Outcome
		wantErr  string
		tcssCall int
	}{
		{"a narrow scan runs as trigger invoke", string(fixture(t, "schedule-input.json")), Invocation{RequestID: "aws-req-2"},
			"system:invoke", "invoke/nightly@request:aws-req-2", audit.OutcomeSucceeded, "", 1},
		{"a broad scan posing as the nightly timer is refused", `{"Schedule":"nightly","LocalImageScanType":"ALL"}`, Invocation{RequestID: "r-1"},
			"system:invoke", "invoke/nightly@request:r-1", audit.OutcomeRejected, `Confirm: this scans every image`, 0},
		{"a broad scan with the scheduler's time and no confirmation is refused", string(fixture(t, "schedule-input-scheduler-time.json")), Invocation{RequestID: "r-2"},
			"system:invoke", "invoke/hourly-local@2026-03-10T03:00:00Z", audit.OutcomeRejected, "Confirm", 0},
		{"a confirmed broad scan runs", `{"Schedule":"adhoc","LocalImageScanType":"ALL","Confirm":"yes"}`, Invocation{RequestID: "r-3"},
			"system:invoke", "invoke/adhoc@request:r-3", audit.OutcomeSucceeded, "", 1},
		{"the platform's identity of the caller is the actor", `{"RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[7]}`,
			Invocation{RequestID: "r-4", Identity: "cognito:us-east-1:abc"}, "invoke:cognito:us-east-1:abc", "invoke/unnamed@request:r-4", audit.OutcomeSucceeded, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			out, err := dispatcher(w).Handle(context.Background(), tc.inv, []byte(tc.payload))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Handle = %s, %v; want an error with %q", out, err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			recs := w.Records(t)
			if len(recs) == 0 {
				t.Fatal("nothing recorded")
			}
			for _, r := range recs {
				if r.Trigger != audit.TriggerInvoke || r.Actor != tc.actor || r.IdempotencyKey != tc.key || r.Access != "invoke" {
					t.Errorf("record %d: trigger %q actor %q key %q access %q", r.ID, r.Trigger, r.Actor, r.IdempotencyKey, r.Access)
				}
			}
			if last := recs[len(recs)-1]; last.Outcome != tc.outcome {
				t.Errorf("outcome %s, want %s", last.Outcome, tc.outcome)
			}
			if n := w.Emulator.Calls("CreateVulScanTask"); n != tc.tcssCall {
				t.Errorf("TCSS called %d times, want %d", n, tc.tcssCall)
			}
		})
	}
}

// The platform's name for a trigger decides which schedule a timer run is: an argument cannot
// run a trigger as another schedule (a trigger added in the console with a copied argument would
// otherwise pass for a listed one), and names the run only when the platform names nothing.
func TestThePlatformsTriggerNameDecidesTheSchedule(t *testing.T) {
	const scanArg = `\"RegistryImageScanType\":\"NOT_SCAN\"`
	tests := []struct {
		name    string
		event   string
		actor   string // of every record
		refused bool   // recorded as rejected, TCSS not called, the invocation fails
	}{
		{"SCF trigger with no Schedule in its argument",
			`{"Type":"Timer","TriggerName":"nightly","Time":"2026-11-01T02:00:00Z","Message":"{` + scanArg + `}"}`,
			"system:timer/nightly", false},
		{"SCF trigger whose argument repeats its name",
			`{"Type":"Timer","TriggerName":"nightly","Time":"2026-11-01T02:00:00Z","Message":"{\"Schedule\":\"nightly\",` + scanArg + `}"}`,
			"system:timer/nightly", false},
		{"SCF trigger whose argument names another schedule is refused under its own name",
			`{"Type":"timer","TriggerName":"adhoc","Time":"2026-11-01T02:00:00Z","Message":"{\"Schedule\":\"nightly\",` + scanArg + `}"}`,
			"system:timer/adhoc", true},
		{"EventBridge rule whose detail names another schedule is refused under the rule's name",
			`{"source":"aws.events","detail-type":"Scheduled Event","time":"2026-11-01T02:00:00Z",` +
				`"resources":["arn:aws:events:ap-southeast-1:123456789012:rule/adhoc"],"detail":{"Schedule":"nightly","RegistryImageScanType":"NOT_SCAN"}}`,
			"system:timer/adhoc", true},
		{"EventBridge constant input (no rule named) is named by its detail",
			`{"source":"aws.events","detail-type":"Scheduled Event","detail":{"Schedule":"nightly","RegistryImageScanType":"NOT_SCAN"}}`,
			"system:timer/nightly", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			out, err := dispatcher(w).Handle(context.Background(), Invocation{RequestID: "req-1"}, []byte(tt.event))
			if tt.refused != (err != nil) {
				t.Fatalf("Handle = %s, %v; refused %v", out, err, tt.refused)
			}
			if tt.refused && (scan.ErrorCode(err) != scan.EFORBIDDEN || !strings.Contains(err.Error(), "Schedule")) {
				t.Errorf("err = %v; want a refusal naming the Schedule field", err)
			}
			recs := w.Records(t)
			wantRecords := map[bool]int{false: 2, true: 1}[tt.refused]
			if len(recs) != wantRecords {
				t.Fatalf("audit log has %d records, want %d", len(recs), wantRecords)
			}
			for _, r := range recs {
				if r.Trigger != audit.TriggerTimer || r.Actor != tt.actor {
					t.Errorf("record %d: trigger %q actor %q; want timer, %q", r.ID, r.Trigger, r.Actor, tt.actor)
				}
			}
			if tt.refused && (recs[0].Outcome != audit.OutcomeRejected || recs[0].ErrorCode != scan.CodeForbidden) {
				t.Errorf("record = %+v; want rejected as forbidden", recs[0])
			}
			wantCalls := map[bool]int{false: 1, true: 0}[tt.refused]
			if n := w.Emulator.Calls("CreateVulScanTask"); n != wantCalls {
				t.Errorf("TCSS called %d times; want %d", n, wantCalls)
			}
		})
	}
}

// A timer event that does not decode (a field of the wrong type, as a hand-made test event may
// have) starts nothing and fails the invocation, and is recorded as a rejected timer attempt
// under the schedule it names, as an event of no known shape is recorded: every refusal of an
// invocation that could start a scan is on the record.
func TestAMalformedTimerEventIsRecordedAsRefused(t *testing.T) {
	tests := []struct {
		name, event, actor, says string
	}{
		{"SCF Message that is a number", `{"Type":"Timer","TriggerName":"nightly","Time":"2026-12-04T02:00:00Z","Message":42}`,
			"system:timer/nightly", "the timer Message must be a string"},
		{"SCF Time that is a number", `{"Type":"Timer","TriggerName":"nightly","Time":1764813600,"Message":"{}"}`,
			"system:timer/nightly", "cannot unmarshal number"},
		{"SCF TriggerName that is a number", `{"Type":"Timer","TriggerName":7,"Time":"2026-12-04T02:00:00Z","Message":"{}"}`,
			"system:timer/unnamed", "cannot unmarshal number"},
		{"EventBridge time that is a number", `{"source":"aws.events","detail-type":"Scheduled Event","time":1764813600,` +
			`"resources":["arn:aws:events:ap-southeast-1:123456789012:rule/nightly"],"detail":{}}`, "system:timer/nightly", "cannot unmarshal number"},
		{"EventBridge resources that are a string", `{"source":"aws.events","detail-type":"Scheduled Event","time":"2026-12-04T02:00:00Z",` +
			`"resources":"arn:aws:events:ap-southeast-1:123456789012:rule/nightly","detail":{}}`, "system:timer/unnamed", "cannot unmarshal string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			out, err := dispatcher(w).Handle(context.Background(), Invocation{RequestID: "req-bad"}, []byte(tt.event))
			if err == nil || out != nil {
				t.Fatalf("Handle = %s, %v; want the invocation failed", out, err)
			}
			recs := w.Records(t)
			if len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected || recs[0].Trigger != audit.TriggerTimer ||
				recs[0].Actor != tt.actor || recs[0].FunctionRequestID != "req-bad" || !strings.Contains(recs[0].ErrorMessage, tt.says) {
				t.Fatalf("records = %+v; want one rejected timer attempt of %s saying %q", recs, tt.actor, tt.says)
			}
			if n := w.Emulator.Calls("CreateVulScanTask"); n != 0 {
				t.Errorf("TCSS called %d times for a malformed timer event", n)
			}
		})
	}
}

// What a failed run says, in the invocation's error and the function's log, follows what may have
// happened: an operator reading "not started" after TCSS's answer was lost would start the run
// by hand, and a second scan with it; and a direct invocation is not called a timer.
func TestAFailedRunSaysWhetherAScanMayHaveStarted(t *testing.T) {
	for _, tc := range []struct {
		name      string
		payload   string
		fault     tcsstest.Fault
		wantErr   string // the invocation error's start
		wantLog   string // the log line's message
		wantState audit.Outcome
		advice    bool // the error says how to retry a run keyed by its request ID safely
	}{
		{"a timer whose answer was lost", string(fixture(t, "scf-timer.json")), tcsstest.Fault{Drop: true},
			"timer nightly: ", "scheduled scan may have started: its outcome is not known", audit.OutcomeUnknown, false},
		{"a timer TCSS refused", string(fixture(t, "scf-timer.json")), tcsstest.Fault{Code: "FailedOperation", Message: "license expired"},
			"timer nightly: ", "scheduled scan not started", audit.OutcomeFailed, false},
		{"a direct invocation whose answer was lost", `{"Schedule":"adhoc","RegistryImageScanType":"NOT_SCAN"}`, tcsstest.Fault{Drop: true},
			"invoke adhoc: ", "scheduled scan may have started: its outcome is not known", audit.OutcomeUnknown, true},
		{"a direct invocation with a ScheduledTime whose answer was lost", `{"Schedule":"adhoc","ScheduledTime":"2026-12-04T02:00:00Z","RegistryImageScanType":"NOT_SCAN"}`,
			tcsstest.Fault{Drop: true}, "invoke adhoc: ", "scheduled scan may have started: its outcome is not known", audit.OutcomeUnknown, false},
		{"a direct invocation TCSS refused", `{"Schedule":"adhoc","RegistryImageScanType":"NOT_SCAN"}`, tcsstest.Fault{Code: "FailedOperation", Message: "license expired"},
			"invoke adhoc: ", "scheduled scan not started", audit.OutcomeFailed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.Emulator.InjectFault("CreateVulScanTask", tc.fault)
			var logs strings.Builder
			d := New(Options{Scans: w.Service, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			_, err := d.Handle(context.Background(), Invocation{RequestID: "r1"}, []byte(tc.payload))
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("error %v; want one starting %q", err, tc.wantErr)
			}
			if got := strings.Contains(err.Error(), `invoking again is a new attempt`) &&
				strings.Contains(err.Error(), `give the payload a "ScheduledTime"`); got != tc.advice {
				t.Errorf("error %q: says how to retry a request-keyed run safely: %v, want %v", err, got, tc.advice)
			}
			var line struct{ Msg string }
			for l := range strings.Lines(logs.String()) {
				if strings.Contains(l, `"level":"ERROR"`) {
					if err := json.Unmarshal([]byte(l), &line); err != nil {
						t.Fatal(err)
					}
				}
			}
			if line.Msg != tc.wantLog {
				t.Errorf("logged %q; want %q\n%s", line.Msg, tc.wantLog, logs.String())
			}
			if recs := w.Records(t); len(recs) != 2 || recs[1].Outcome != tc.wantState {
				t.Errorf("records %+v; want pending then %s", recs, tc.wantState)
			}
		})
	}
}

// A payload that is no scan request is named for what it is: a timer's argument, fixed in the
// trigger, or a direct invocation's payload, fixed by its sender.
func TestAnUndecodablePayloadIsNamedForItsTrigger(t *testing.T) {
	for _, tc := range []struct {
		name, payload, wantErr, wantLog string
	}{
		{"a timer", `{"Type":"Timer","TriggerName":"nightly","Time":"2019-02-21T11:49:00Z","Message":"{\"Bogus\":1}"}`,
			"timer nightly: the argument is not a scan request: ", "timer argument is not a scan request: fix the trigger's argument"},
		{"a direct invocation", `{"Schedule":"adhoc","RegistryImageScanType":"NOT_SCAN","Bogus":1}`,
			"invoke adhoc: the payload is not a scan request: ", "invocation payload is not a scan request: fix the payload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			var logs strings.Builder
			d := New(Options{Scans: w.Service, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			_, err := d.Handle(context.Background(), Invocation{RequestID: "r1"}, []byte(tc.payload))
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("error %v; want one starting %q", err, tc.wantErr)
			}
			if !strings.Contains(logs.String(), `"msg":"`+tc.wantLog+`"`) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, logs.String())
			}
			if recs := w.Records(t); len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected {
				t.Errorf("records %+v; want one rejection", recs)
			}
		})
	}
}
