package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// The note beside "Check again" says what is going on: a scan for an attempt TCSS has started,
// the wait for TCSS's answer for one still pending. It said "The scan is still going on." for
// both, so a page whose call to TCSS was in flight (a second tab, a retry answered in_progress)
// claimed a scan that may never start.
func TestCheckAgainNoteSaysWhatIsGoingOn(t *testing.T) {
	for _, tc := range []struct {
		name    string
		attempt func(h *harness)
		want    string
		notWant string
	}{
		{"pending: waiting for TCSS", func(h *harness) {
			if _, err := h.store.Append(context.Background(), audit.Record{Time: h.now.Add(-time.Second), Trigger: audit.TriggerAPI,
				Actor: "apikey:ci", Action: audit.ActionCreateVulScanTask, Params: []byte(`{"LocalImageScanType":"NOT_SCAN"}`),
				IdempotencyKey: "k", Outcome: audit.OutcomePending}); err != nil {
				t.Fatal(err)
			}
		}, "until TCSS answers", "scan is still going on"},
		{"succeeded: the scan runs", func(h *harness) {
			if resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`); resp.StatusCode != http.StatusCreated {
				t.Fatalf("POST /api/scans: status %d", resp.StatusCode)
			}
		}, "The scan is still going on.", "until TCSS answers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			tc.attempt(h)
			doc := document(t, h.get("/scans/1"))
			note := strings.TrimSpace(doc.Find("#live-note").Text())
			if !strings.Contains(note, tc.want) || strings.Contains(note, tc.notWant) {
				t.Errorf("the note says %q; want %q, not %q", note, tc.want, tc.notWant)
			}
		})
	}
}
