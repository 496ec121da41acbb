package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
)

// A refused form post's page names the audit record of the refusal, as the API's error body
// does (its id): the form's 422 page said what was wrong but not where the refusal is in the
// audit log, so a security engineer could not find it among the other refusals.
func TestFormRefusalNamesItsRecord(t *testing.T) {
	image := localImage('a')
	for _, tc := range []struct {
		name   string
		vals   url.Values
		modify func(*http.Request)
		status int
	}{
		{"an entry the form cannot read", url.Values{"LocalImageScanType": {"IMAGEIDS"}, "LocalImageIDs": {image}, "LocalTaskID": {"x"}},
			nil, http.StatusUnprocessableEntity},
		{"a request the rules refuse", url.Values{"LocalImageScanType": {"IMAGEIDS"}}, nil, http.StatusUnprocessableEntity},
		{"no idempotency key", url.Values{"LocalImageScanType": {"IMAGEIDS"}, "LocalImageIDs": {image}, "IdempotencyKey": {""}},
			nil, http.StatusUnprocessableEntity},
		{"a field sent twice", url.Values{"LocalImageScanType": {"IMAGEIDS", "ALL"}, "LocalImageIDs": {image}},
			nil, http.StatusUnprocessableEntity},
		{"not a form body", url.Values{"LocalImageScanType": {"ALL"}},
			func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			var mods []func(*http.Request)
			if tc.modify != nil {
				mods = append(mods, tc.modify)
			}
			resp := h.postForm(tc.vals, mods...)
			status := resp.StatusCode
			doc := document(t, resp)
			recs := h.records()
			if len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected {
				t.Fatalf("records %+v, want the one refusal", recs)
			}
			id := strconv.FormatInt(recs[0].ID, 10)
			link := doc.Find("#refusal-record a")
			href, _ := link.Attr("href")
			if status != tc.status || href != "./scans/"+id || link.Text() != "record "+id {
				t.Errorf("status %d, refusal link %q to %q; want %d, \"record %s\" to ./scans/%s",
					status, link.Text(), href, tc.status, id, id)
			}
		})
	}
}
