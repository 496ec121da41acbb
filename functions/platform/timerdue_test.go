package platform

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/schedule"
)

// dueSchedules are the schedules the due-time tests configure: nightly at 02:00 UTC, and one at
// midnight for the edge of a day, month and year.
const dueSchedules = "nightly=0 0 2 * * * *;midnight=0 0 0 * * * *"

// scheduledDispatcher is a dispatcher with dueSchedules configured and its clock stopped at now.
func scheduledDispatcher(t *testing.T, scans ScanStarter, now time.Time) *Dispatcher {
	t.Helper()
	set, err := schedule.Parse(dueSchedules)
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Scans: scans, Schedules: set, Now: func() time.Time { return now }, Logger: quietLogger()})
}

// timerEvents builds a timer event for schedule name at the scheduled time at ("" for an event
// that gives none), in each platform's shape.
var timerEvents = map[Kind]func(name, at string) string{
	KindSCFTimer: func(name, at string) string {
		ev := map[string]any{"Type": "Timer", "TriggerName": name, "Message": `{"RegistryImageScanType":"NOT_SCAN"}`}
		if at != "" {
			ev["Time"] = at
		}
		return mustMarshal(ev)
	},
	KindEventBridge: func(name, at string) string {
		ev := map[string]any{"version": "0", "source": "aws.events", "detail-type": "Scheduled Event",
			"resources": []string{"arn:aws:events:ap-southeast-1:123456789012:rule/" + name},
			"detail":    json.RawMessage(`{"RegistryImageScanType":"NOT_SCAN"}`)}
		if at != "" {
			ev["time"] = at
		}
		return mustMarshal(ev)
	},
}

func mustMarshal(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// A timer starts a scan only at a due time of its schedule: its time at or up to schedule.Grace
// after a due time, not in the future, and not after the schedule's next due time has passed,
// keyed by the due time it stands for. Anything else is a forged or stale event: refused and
// recorded, naming the schedule, the time and the nearest due times, and TCSS is not called.
func TestATimerStartsOnlyAtADueTimeOfItsSchedule(t *testing.T) {
	tests := []struct {
		name     string
		schedule string
		at       string // the event's time; "" gives none
		now      string
		wantKey  string   // the started run's due time; "" when refused
		wantErr  []string // in the invocation's error and the rejection's message
	}{
		{name: "on time", schedule: "nightly", at: "2026-12-04T02:00:00Z", now: "2026-12-04T02:00:01Z",
			wantKey: "2026-12-04T02:00:00Z"},
		{name: "stamped seconds late, as EventBridge does", schedule: "nightly", at: "2026-12-04T02:00:06Z", now: "2026-12-04T02:00:07Z",
			wantKey: "2026-12-04T02:00:00Z"},
		{name: "late by exactly the grace", schedule: "nightly", at: "2026-12-04T02:15:00Z", now: "2026-12-04T02:15:00Z",
			wantKey: "2026-12-04T02:00:00Z"},
		{name: "a retry hours later keeps its run's time", schedule: "nightly", at: "2026-12-04T02:00:00Z", now: "2026-12-04T08:14:50Z",
			wantKey: "2026-12-04T02:00:00Z"},
		{name: "ahead of our clock within the skew", schedule: "nightly", at: "2026-12-04T02:00:00Z", now: "2026-12-04T01:59:30Z",
			wantKey: "2026-12-04T02:00:00Z"},
		{name: "a due time at midnight on New Year", schedule: "midnight", at: "2027-01-01T00:00:00Z", now: "2027-01-01T00:00:02Z",
			wantKey: "2027-01-01T00:00:00Z"},
		{name: "no time given, arriving within the grace", schedule: "nightly", at: "", now: "2026-12-04T02:03:00Z",
			wantKey: "2026-12-04T02:00:00Z"},

		{name: "late beyond the grace", schedule: "nightly", at: "2026-12-04T02:15:01Z", now: "2026-12-04T02:16:00Z",
			wantErr: []string{`"nightly"`, "2026-12-04T02:15:01Z", "2026-12-04T02:00:00Z and 2026-12-05T02:00:00Z", "at most 15 minutes past"}},
		{name: "eight hours off, as a trigger read in another time zone", schedule: "nightly", at: "2026-12-04T18:00:00Z", now: "2026-12-04T18:00:01Z",
			wantErr: []string{`"nightly"`, "2026-12-04T18:00:00Z", "not a due time of nightly (0 0 2 * * * * in VULSCAN_SCHEDULES, read in UTC)",
				"2026-12-04T02:00:00Z and 2026-12-05T02:00:00Z"}},
		{name: "early", schedule: "nightly", at: "2026-12-04T01:59:59Z", now: "2026-12-04T02:00:00Z",
			wantErr: []string{`"nightly"`, "2026-12-04T01:59:59Z", "2026-12-03T02:00:00Z and 2026-12-04T02:00:00Z"}},
		{name: "QA's forged time of today", schedule: "nightly", at: "2026-12-04T08:09:37Z", now: "2026-12-04T08:14:50Z",
			wantErr: []string{`"nightly"`, "2026-12-04T08:09:37Z", "2026-12-04T02:00:00Z and 2026-12-05T02:00:00Z"}},
		{name: "far past", schedule: "nightly", at: "1999-01-01T13:13:13Z", now: "2026-12-04T08:14:50Z",
			wantErr: []string{`"nightly"`, "1999-01-01T13:13:13Z", "1999-01-01T02:00:00Z and 1999-01-02T02:00:00Z"}},
		{name: "a due time in the far past", schedule: "nightly", at: "1999-01-01T02:00:00Z", now: "2026-12-04T08:14:50Z",
			wantErr: []string{`"nightly"`, "1999-01-01T02:00:00Z", "due again at 1999-01-02T02:00:00Z", "latest due time 2026-12-04T02:00:00Z"}},
		{name: "the due time before the latest", schedule: "nightly", at: "2026-12-03T02:00:00Z", now: "2026-12-04T02:15:01Z",
			wantErr: []string{`"nightly"`, "2026-12-03T02:00:00Z", "due again at 2026-12-04T02:00:00Z"}},
		{name: "far future", schedule: "nightly", at: "2031-05-05T05:05:05Z", now: "2026-12-04T08:14:50Z",
			wantErr: []string{`"nightly"`, "2031-05-05T05:05:05Z", "in the future", "last due at 2026-12-04T02:00:00Z", "next due at 2026-12-05T02:00:00Z"}},
		{name: "the next due time, ahead of time", schedule: "nightly", at: "2026-12-05T02:00:00Z", now: "2026-12-04T08:14:50Z",
			wantErr: []string{`"nightly"`, "2026-12-05T02:00:00Z", "in the future"}},
		{name: "a second before midnight on New Year's Eve", schedule: "midnight", at: "2026-12-31T23:59:59Z", now: "2027-01-01T00:00:02Z",
			wantErr: []string{`"midnight"`, "2026-12-31T23:59:59Z", "2026-12-31T00:00:00Z and 2027-01-01T00:00:00Z"}},
		{name: "not a time", schedule: "nightly", at: "t1", now: "2026-12-04T02:00:00Z",
			wantErr: []string{`"nightly"`, `"t1" is not a time`}},
		{name: "no time given, arriving long after the due time", schedule: "nightly", at: "", now: "2026-12-04T08:14:50Z",
			wantErr: []string{`"nightly"`, "gives no scheduled time", "2026-12-04T08:14:50Z", "2026-12-04T02:00:00Z and 2026-12-05T02:00:00Z"}},
	}
	for _, kind := range []Kind{KindSCFTimer, KindEventBridge} {
		for _, tt := range tests {
			t.Run(string(kind)+"/"+tt.name, func(t *testing.T) {
				w := newWorld(t)
				d := scheduledDispatcher(t, w.Service, utc(tt.now))
				raw := []byte(timerEvents[kind](tt.schedule, tt.at))
				if got, err := Classify(raw); got != kind {
					t.Fatalf("Classify = %q, %v; want %q", got, err, kind)
				}
				out, err := d.Handle(context.Background(), Invocation{RequestID: "req-1"}, raw)
				recs := w.Records(t)
				if tt.wantKey != "" {
					var res TimerResult
					if err != nil || json.Unmarshal(out, &res) != nil || res.Outcome != audit.OutcomeSucceeded {
						t.Fatalf("Handle = %s, %v; want a started scan", out, err)
					}
					if want := schedule.RunKey(tt.schedule, utc(tt.wantKey)); recs[0].IdempotencyKey != want {
						t.Errorf("key %q, want %q: the run is keyed by its due time", recs[0].IdempotencyKey, want)
					}
					if n := w.Emulator.Calls("CreateVulScanTask"); n != 1 {
						t.Errorf("TCSS called %d times, want 1", n)
					}
					return
				}
				if err == nil || out != nil {
					t.Fatalf("Handle = %s, %v; want the timer refused", out, err)
				}
				if len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected || recs[0].Trigger != audit.TriggerTimer ||
					recs[0].Actor != "system:timer/"+tt.schedule {
					t.Fatalf("records = %+v; want one rejection of the timer", recs)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) || !strings.Contains(recs[0].ErrorMessage, want) {
						t.Errorf("error %q, recorded %q; want both to say %q", err, recs[0].ErrorMessage, want)
					}
				}
				if n := w.Emulator.Calls("CreateVulScanTask"); n != 0 {
					t.Errorf("TCSS called %d times for a refused timer", n)
				}
			})
		}
	}
}

// Each due time starts one scan at most: a retry keeps its run's time, and an event stamped some
// seconds past the due time (or with the due time written another way) stands for the same run.
func TestADueTimeStartsOneScanWhateverTimeItsEventsCarry(t *testing.T) {
	for _, kind := range []Kind{KindSCFTimer, KindEventBridge} {
		t.Run(string(kind), func(t *testing.T) {
			w := newWorld(t)
			d := scheduledDispatcher(t, w.Service, utc("2026-12-04T02:20:00Z"))
			var first TimerResult
			for i, at := range []string{"2026-12-04T02:00:00Z", "2026-12-04T02:00:00Z", "2026-12-04T02:00:06Z", "2026-12-04T10:00:00+08:00", "2026-12-04T02:14:59.5Z"} {
				out, err := d.Handle(context.Background(), Invocation{RequestID: "req-" + at}, []byte(timerEvents[kind]("nightly", at)))
				var res TimerResult
				if err != nil || json.Unmarshal(out, &res) != nil {
					t.Fatalf("delivery at %s: %s, %v", at, out, err)
				}
				if i == 0 {
					first = res
				} else if !res.Replayed || res.Attempt != first.Attempt {
					t.Errorf("delivery at %s = %+v; want attempt %d replayed", at, res, first.Attempt)
				}
			}
			if n := w.Emulator.Calls("CreateVulScanTask"); n != 1 {
				t.Errorf("TCSS called %d times for one due time, want 1", n)
			}
		})
	}
}

// A bare invocation is not a timer: its ScheduledTime only keys it, and no schedule's due times
// hold it (it is recorded as trigger invoke under the invoker's identity).
func TestADirectInvocationIsNotHeldToDueTimes(t *testing.T) {
	w := newWorld(t)
	d := scheduledDispatcher(t, w.Service, utc("2026-12-04T08:14:50Z"))
	payload := `{"Schedule":"nightly","ScheduledTime":"1999-01-01T13:13:13Z","RegistryImageScanType":"NOT_SCAN"}`
	if _, err := d.Handle(context.Background(), Invocation{RequestID: "r-1"}, []byte(payload)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if recs := w.Records(t); recs[0].Trigger != audit.TriggerInvoke || recs[0].IdempotencyKey != "invoke/nightly@1999-01-01T13:13:13Z" {
		t.Errorf("record = %+v; want the invocation keyed by its own time", recs[0])
	}
}
