package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// A form post without its key is recorded with why nothing was started, and only the form says
// what to do about it: the record's message told the attempt's page (and the audit log, its
// downloads and GET /api/scans) to "Check the values below and submit again", where no values
// are below and there is nothing to submit.
func TestFormWithoutItsKeyIsRecordedWithoutTheFormsInstruction(t *testing.T) {
	const why, instruction = "so nothing was started.", "Check the values below and submit again."
	h := newHarness(t)
	resp := h.postForm(url.Values{"IdempotencyKey": {""}, "RegistryImageScanType": {"NOT_SCAN"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", resp.StatusCode)
	}
	if notice := document(t, resp).Find("#error-summary").Text(); !strings.Contains(notice, why+" "+instruction) {
		t.Errorf("the form's notice %q does not say why and what to do", notice)
	}
	recs := h.records()
	if len(recs) != 1 {
		t.Fatalf("%d records, want the refusal", len(recs))
	}
	for _, tc := range []struct{ name, text string }{
		{"the record", recs[0].ErrorMessage},
		{"the attempt's page", document(t, h.get("/scans/"+strconv.FormatInt(recs[0].ID, 10))).Find("#reason").Text()},
	} {
		if !strings.Contains(tc.text, why) || strings.Contains(tc.text, instruction) {
			t.Errorf("%s says %q; want why nothing was started, without the form's instruction", tc.name, tc.text)
		}
	}
}
