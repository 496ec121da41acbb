package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

// TestAPIInProgressSaysWhenToRetry: a retry that finds its key's attempt still waiting for TCSS
// is told when to come back (409 in_progress with Retry-After); a key used with other
// parameters, which no retry can change, is not.
func TestAPIInProgressSaysWhenToRetry(t *testing.T) {
	h := newHarness(t)
	params, err := json.Marshal(scan.Request{LocalImageScanType: "NOT_SCAN"})
	if err != nil {
		t.Fatal(err)
	}
	// An attempt of the same caller and key whose call to TCSS has not ended.
	if _, err := h.store.Append(context.Background(), audit.Record{Time: time.Now().UTC(), Trigger: audit.TriggerAPI,
		Actor: "anonymous", Action: "CreateVulScanTask", Params: params, IdempotencyKey: "k", Outcome: audit.OutcomePending}); err != nil {
		t.Fatal(err)
	}
	withKey := func(r *http.Request) { r.Header.Set("Idempotency-Key", "k") }
	for _, tc := range []struct {
		name, body, code, retryAfter string
	}{
		{"in progress", `{"LocalImageScanType":"NOT_SCAN"}`, scan.EINPROGRESS, "2"},
		{"conflict", `{"LocalImageScanType":"ALL"}`, scan.ECONFLICT, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.postJSON(tc.body, withKey)
			if resp.StatusCode != http.StatusConflict || resp.Header.Get("Retry-After") != tc.retryAfter {
				t.Fatalf("status %d, Retry-After %q; want 409, %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), tc.retryAfter, body(t, resp))
			}
			if e := decodeJSON[apiError](t, resp); e.Code != tc.code {
				t.Errorf("error = %+v, want code %s", e, tc.code)
			}
		})
	}
	if n := h.creates(); n != 0 {
		t.Errorf("CreateVulScanTask calls = %d, want 0", n)
	}
}
