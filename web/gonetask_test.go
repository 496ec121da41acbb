package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
)

// An old link to an attempt whose scan task TCSS no longer has (deleted, or no longer kept:
// DescribeVulScanInfo answers ResourceNotFound) says so, and that nothing is to be waited for,
// on the page and in GET /api/scans/{id}. It said "Live status unavailable: TCSS answered
// ResourceNotFound: …", the words of an outage to wait out, though the status will never come
// back, and nothing said where the scan's results might still be.
func TestOldAttemptWhoseTaskTCSSNoLongerHasSaysSo(t *testing.T) {
	h := newHarness(t)
	sqlstoretest.Fill(t, h.store, 2) // attempt 1, months ago: succeeded, local task 2, unknown to this TCSS
	doc := document(t, h.get("/scans/1"))
	page := doc.Find("#live").Text()
	var ans struct {
		Outcome     string `json:"outcome"`
		StatusError string `json:"status_error"`
	}
	if err := json.Unmarshal([]byte(body(t, h.get("/api/scans/1"))), &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Outcome != "succeeded" {
		t.Fatalf("attempt 1 is %s, want succeeded", ans.Outcome)
	}
	for where, text := range map[string]string{"the page's status": page, "the API's status_error": ans.StatusError} {
		for _, want := range []string{"no longer exists", "ResourceNotFound", "deleted", "TCSS console"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s does not say %q: %q", where, want, text)
			}
		}
		if strings.Contains(text, "unavailable") {
			t.Errorf("%s reads as an outage: %q", where, text)
		}
	}
	if doc.Find("#live[data-poll], #check-again").Length() != 0 {
		t.Errorf("the page polls or offers Check again for a task TCSS no longer has")
	}
	if resp := h.get("/scans/1"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /scans/1: status %d, want 200", resp.StatusCode)
	}
}
