package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

// A timer run left pending by an invocation that ended mid-call (a function killed at its
// timeout) is not "Waiting for TCSS" on /schedules: no call lasts that long, and its own page
// says "No answer recorded". /schedules said "Waiting for TCSS" for it until a reconciliation,
// which nothing on that page starts. A run still within the longest call is waited for.
func TestSchedulesPageSaysARunNoCallCanAnswerHasNoAnswer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		age   time.Duration
		badge string
	}{
		{"a call that may still be answered", scan.MaxCallDuration - time.Second, "Waiting for TCSS"},
		{"a call exactly as old as the longest", scan.MaxCallDuration, "Waiting for TCSS"},
		{"a call no process is making any more", scan.MaxCallDuration + time.Second, "No answer recorded"},
		{"a call a nanosecond past the longest", scan.MaxCallDuration + time.Nanosecond, "No answer recorded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, withSchedules("nightly=0 0 2 * * * *"))
			h.now = time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC).Add(tc.age)
			if _, err := h.store.Append(context.Background(), audit.Record{Time: h.now.Add(-tc.age), Trigger: audit.TriggerTimer,
				Actor: "system:timer/nightly", Action: audit.ActionCreateVulScanTask,
				Params: json.RawMessage(`{"RegistryImageScanType":"NOT_SCAN"}`), Outcome: audit.OutcomePending}); err != nil {
				t.Fatal(err)
			}
			schedules := document(t, h.get("/schedules"))
			if got := strings.TrimSpace(schedules.Find("#schedule-nightly table.runs tbody tr .badge").Text()); got != tc.badge {
				t.Errorf("/schedules: the run's badge is %q, want %q", got, tc.badge)
			}
			if got := document(t, h.get("/scans/1")).Find("#badge").Text(); got != tc.badge {
				t.Errorf("/scans/1: badge %q, want %q as on /schedules", got, tc.badge)
			}
		})
	}
}
