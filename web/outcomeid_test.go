package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
)

// The audit page lists an attempt's outcome record under an ID of its own. Asked for by that ID,
// the attempt's page and its JSON answered under the outcome's address as if it were the
// attempt's, without a word of the record asked for: both now redirect to the attempt's address,
// so that old links keep working and each attempt has one address.
func TestOutcomeIDRedirectsToItsAttempt(t *testing.T) {
	h := newHarness(t)
	resp := h.postForm(url.Values{"LocalImageScanType": {"IMAGEIDS"}, "LocalImageIDs": {localImage('a')}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form post: status %d, want 303", resp.StatusCode)
	}
	recs := h.records()
	if len(recs) != 2 || recs[1].Outcome != audit.OutcomeSucceeded || recs[1].PendingID != recs[0].ID {
		t.Fatalf("records %+v, want a pending record and its outcome", recs)
	}
	attempt, outcome := strconv.FormatInt(recs[0].ID, 10), strconv.FormatInt(recs[1].ID, 10)
	for _, tc := range []struct {
		name, path, location string
		status               int
	}{
		{"page of the outcome record", "/scans/" + outcome, attempt, http.StatusMovedPermanently},
		{"JSON of the outcome record", "/api/scans/" + outcome, attempt, http.StatusMovedPermanently},
		{"page of the attempt", "/scans/" + attempt, "", http.StatusOK},
		{"JSON of the attempt", "/api/scans/" + attempt, "", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.get(tc.path)
			if resp.StatusCode != tc.status || resp.Header.Get("Location") != tc.location {
				t.Errorf("GET %s: status %d, Location %q; want %d, %q", tc.path, resp.StatusCode,
					resp.Header.Get("Location"), tc.status, tc.location)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("GET %s: Cache-Control %q, want no-store", tc.path, cc)
			}
		})
	}
}
