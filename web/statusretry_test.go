package web_test

import (
	"net/http"
	"testing"

	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// A status TCSS could not give when the page was drawn, but may give on a later check (an
// error, a timeout), leaves the page checking: it offers "Check again" and its script polls.
// The page offered neither, though the scan went on, and only a reload could show it again. A
// task TCSS no longer has is not checked again.
func TestAttemptPageChecksAgainAfterAStatusTCSSMayGiveLater(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault string
		live  bool
	}{
		{"TCSS's internal error", "InternalError", true},
		{"a task TCSS no longer has", "ResourceNotFound", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`); resp.StatusCode != http.StatusCreated {
				t.Fatalf("POST /api/scans: status %d", resp.StatusCode)
			}
			h.emu.InjectFault("DescribeVulScanInfo", tcsstest.Fault{Code: tc.fault, Message: "no status", Times: 1})
			doc := document(t, h.get("/scans/1"))
			if doc.Find("#status-error").Length() != 1 {
				t.Fatalf("the page shows no status error: %q", doc.Find("#live").Text())
			}
			_, polls := doc.Find("#live").Attr("data-poll")
			checkAgain := doc.Find("#check-again").Length() == 1
			if polls != tc.live || checkAgain != tc.live {
				t.Errorf("polls %v, offers Check again %v; want %v", polls, checkAgain, tc.live)
			}
		})
	}
}
