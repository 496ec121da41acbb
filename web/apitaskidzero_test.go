package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
)

// POST /api/scans refuses a task ID of 0, as the form and the CLI's flags do: the request read
// 0 as "no task", so {"LocalTaskID":0,"RegistryImageScanType":"ALL"} started the registry scan
// alone, a scan other than the re-run asked for. The refusal is recorded and TCSS not called.
func TestAPIRefusesTaskIDZero(t *testing.T) {
	tests := []struct{ name, body, field string }{
		{"local beside a registry scan", `{"LocalTaskID":0,"RegistryImageScanType":"ALL"}`, "LocalTaskID"},
		{"registry beside a local scan", `{"RegistryTaskID":0,"LocalImageScanType":"ALL"}`, "RegistryTaskID"},
		{"minus zero alone", `{"LocalTaskID":-0}`, "LocalTaskID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			resp := h.postJSON(tc.body)
			text := body(t, resp)
			var got struct {
				Errors []struct{ Field, Message string }
			}
			if err := json.Unmarshal([]byte(text), &got); err != nil {
				t.Fatalf("%v: %.200q", err, text)
			}
			if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want a refusal: %.300q", resp.StatusCode, text)
			}
			if len(got.Errors) != 1 || got.Errors[0].Field != tc.field || !strings.Contains(got.Errors[0].Message, "is 0, which is no task") {
				t.Errorf("errors %+v, want one for %s saying 0 is no task", got.Errors, tc.field)
			}
			if n := h.creates(); n != 0 {
				t.Errorf("TCSS called %d times", n)
			}
			if recs := h.records(); len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected {
				t.Errorf("%d records, want one rejection", len(recs))
			}
		})
	}
	// A positive task ID is still taken.
	h := newHarness(t)
	if resp := h.postJSON(`{"LocalTaskID":7}`); resp.StatusCode >= 400 && strings.Contains(body(t, resp), "no task") {
		t.Errorf("a task ID of 7 was refused as no task")
	}
}
