package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

// An attempt pending for longer than any call lasts was left by a process that ended mid-call:
// its page says so and stops polling, until a reconciliation closes it. It said "Waiting for TCSS
// to answer. … The scan is still going on." and polled for ever. A younger pending attempt is
// still waited for.
func TestAPendingAttemptNoCallCanAnswerSaysSo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		age     time.Duration
		live    bool
		badge   string
		message string
	}{
		{"a call that may still be answered", scan.MaxCallDuration - time.Second, true, "Waiting for TCSS", "TCSS has not answered yet."},
		// The bound is the service's (scan.Stale): at exactly the longest call, a retry still finds it in progress.
		{"a call exactly as old as the longest", scan.MaxCallDuration, true, "Waiting for TCSS", "TCSS has not answered yet."},
		{"a call no process is making any more", scan.MaxCallDuration + time.Second, false, "No answer recorded", "at its next reconciliation"},
		{"a call a nanosecond past the longest", scan.MaxCallDuration + time.Nanosecond, false, "No answer recorded", "at its next reconciliation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if _, err := h.store.Append(context.Background(), audit.Record{Time: h.now.Add(-tc.age), Trigger: audit.TriggerAPI,
				Actor: "apikey:ci", Action: audit.ActionCreateVulScanTask, Params: []byte(`{"LocalImageScanType":"NOT_SCAN"}`),
				IdempotencyKey: "k", Outcome: audit.OutcomePending}); err != nil {
				t.Fatal(err)
			}
			doc := document(t, h.get("/scans/1"))
			_, polls := doc.Find("#live").Attr("data-poll")
			if polls != tc.live || (doc.Find("#live-note").Length() == 1) != tc.live {
				t.Errorf("polls %v, says the scan is going on %v; want %v", polls, doc.Find("#live-note").Length() == 1, tc.live)
			}
			if got := doc.Find("#badge").Text(); got != tc.badge {
				t.Errorf("badge %q, want %q", got, tc.badge)
			}
			if got := doc.Find("#status-error").Text(); !strings.Contains(got, tc.message) {
				t.Errorf("status %q, want it to say %q", got, tc.message)
			}
		})
	}
}
