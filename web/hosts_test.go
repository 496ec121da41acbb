package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

func withAllowedHosts(hosts ...string) harnessOption {
	return func(c *harnessConfig) { c.web.AllowedHosts = hosts }
}

// A DNS-rebinding page reaches the local server under the attacker's name, with a matching
// Origin: the Host allow-list refuses it (421) before anything else runs, on the record when it
// could have started a scan.
func TestHostAllowListRefusesRebinding(t *testing.T) {
	for _, tc := range []struct {
		name, method, path, host, body string
		status                         int
		refused                        bool
	}{
		{"the form on the listening address", http.MethodGet, "/", "127.0.0.1:8080", "", http.StatusOK, false},
		{"a loopback name, any case, trailing dot", http.MethodGet, "/", "LOCALHOST.:8080", "", http.StatusOK, false},
		{"an added name on any port", http.MethodGet, "/audit", "scanner.corp.example:443", "", http.StatusOK, false},
		{"a rebinding page posting the form", http.MethodPost, "/", "attacker.example:8080", "LocalImageScanType=ALL&confirm=1", http.StatusMisdirectedRequest, true},
		{"a rebinding page downloading the log", http.MethodGet, "/audit.csv", "attacker.example:8080", "", http.StatusMisdirectedRequest, true},
		{"a rebinding page calling the API", http.MethodPost, "/api/scans", "attacker.example:8080", `{"LocalImageScanType":"ALL"}`, http.StatusMisdirectedRequest, true},
		{"a loopback name on another port", http.MethodGet, "/", "127.0.0.1:9999", "", http.StatusMisdirectedRequest, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, withAllowedHosts("127.0.0.1:8080", "localhost:8080", "[::1]:8080", "scanner.corp.example"))
			r := newRequest(tc.method, tc.path, tc.body)
			r.Host = tc.host
			r.Header.Set("Origin", "http://"+tc.host)
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			if strings.HasPrefix(tc.path, "/api/") {
				r.Header.Set("Content-Type", "application/json")
			} else if tc.method == http.MethodPost {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp := h.do(r)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if h.creates() != 0 {
				t.Errorf("TCSS called %d times", h.creates())
			}
			recs := h.records()
			if !tc.refused {
				return
			}
			if tc.method != http.MethodPost {
				// A read starts no scan: refused, logged, not recorded.
				if len(recs) != 0 {
					t.Errorf("a refused read recorded as %+v", recs)
				}
				return
			}
			if len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected || recs[0].ErrorCode != scan.CodeForbidden ||
				!strings.Contains(recs[0].ErrorMessage, "attacker.example") && !strings.Contains(recs[0].ErrorMessage, "9999") {
				t.Errorf("refusal recorded as %+v", recs)
			}
			if strings.HasPrefix(tc.path, "/api/") {
				var e struct{ Code string }
				json.NewDecoder(resp.Body).Decode(&e)
				if e.Code != "misdirected" {
					t.Errorf("API error code %q", e.Code)
				}
			}
		})
	}
}

// A known path asked with a method it does not take answers 405 with Allow, not 404.
func TestWrongMethodAnswers405WithAllow(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodPut, "/", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{http.MethodPost, "/audit", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodDelete, "/scans/1", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodGet, "/api/scans", http.StatusMethodNotAllowed, "POST"},
		{http.MethodPatch, "/api/audit", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodGet, "/no-such-page", http.StatusNotFound, ""},
		{http.MethodPost, "/api/no-such-thing", http.StatusNotFound, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := newRequest(tc.method, tc.path, "")
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			resp := h.do(r)
			if resp.StatusCode != tc.status || resp.Header.Get("Allow") != tc.allow {
				t.Errorf("%d Allow %q, want %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"), tc.status, tc.allow)
			}
		})
	}
}
