package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// A registry-only attempt's page and API show its own task only, although TCSS reads the
// omitted local task ID as "the latest local task" (another attempt's).
func TestRegistryOnlyAttemptShowsOnlyItsOwnTask(t *testing.T) {
	h := newHarness(t)
	for _, body := range []string{`{"LocalImageScanType":"ALL"}`, `{"RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[12,13]}`} {
		if resp := h.postJSON(body); resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s = %d", body, resp.StatusCode)
		}
	}
	// Records 1-2 are the local attempt, 3-4 the registry one.
	doc := document(t, h.get("/scans/3"))
	status := doc.Find("#status").Text()
	if !strings.Contains(status, "Registry images scanned") {
		t.Errorf("the registry side is missing: %q", status)
	}
	for _, other := range []string{"Local images scanned", "Vulnerabilities (local)", "Images at risk"} {
		if strings.Contains(status, other) {
			t.Errorf("the registry-only page shows %q: %q", other, status)
		}
	}
	var ans struct {
		LocalTaskID int64
		Status      struct{ LocalTaskID, RegistryTaskID, LocalImageScanCount int64 } `json:"status"`
	}
	if err := json.Unmarshal([]byte(body(t, h.get("/api/scans/3"))), &ans); err != nil {
		t.Fatal(err)
	}
	if ans.LocalTaskID != 0 || ans.Status.LocalTaskID != 0 || ans.Status.RegistryTaskID == 0 {
		t.Errorf("GET /api/scans/3 names tasks %d / status %+v; want only its registry task", ans.LocalTaskID, ans.Status)
	}
}
