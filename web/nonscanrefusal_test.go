package web_test

import (
	"net/http"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
)

// Only a refused request that could have started a scan (the form's POST / and POST /api/scans)
// is recorded. A post from another site, with a wrong Host or without credentials, to a route
// that starts nothing, or a read with a wrong Host, is answered and logged, not recorded: the
// record said someone tried to start a scan from the form or the API, and anyone could grow the
// audit log with them.
func TestRefusalsRecordOnlyRequestsThatCouldStartAScan(t *testing.T) {
	refusals := []struct {
		name   string
		modify func(*http.Request)
		status int
	}{
		{"another site", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, http.StatusForbidden},
		{"another origin", func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }, http.StatusForbidden},
		{"wrong Host", func(r *http.Request) { r.Host = "attacker.example" }, http.StatusMisdirectedRequest},
		{"no credentials", func(r *http.Request) { r.Header.Del("Authorization") }, http.StatusUnauthorized},
	}
	routes := []struct {
		method, path string
		recorded     bool
	}{
		{http.MethodPost, "/", true},
		{http.MethodPost, "/api/scans", true},
		{http.MethodPost, "/audit", false},
		{http.MethodPost, "/scans/1", false},
		{http.MethodPost, "/schedules", false},
		{http.MethodPost, "/api/audit", false},
		{http.MethodPost, "/api/scans/1", false},
		{http.MethodPost, "/no-such-page", false},
		{http.MethodPut, "/", false},
		{http.MethodDelete, "/api/scans", false},
		{http.MethodPatch, "/api/scans", false},
	}
	for _, refusal := range refusals {
		for _, route := range routes {
			t.Run(refusal.name+"/"+route.method+" "+route.path, func(t *testing.T) {
				h := newHarness(t, allModes(t), withAllowedHosts("example.com"))
				r := newRequest(route.method, route.path, `{}`)
				r.Header.Set("Content-Type", "application/json")
				bearer(testAPIKey)(r)
				refusal.modify(r)
				resp := h.do(r)
				if resp.StatusCode != refusal.status {
					t.Errorf("status %d, want %d", resp.StatusCode, refusal.status)
				}
				recs := h.records()
				switch {
				case route.recorded && (len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected):
					t.Errorf("records %+v, want the one refusal", recs)
				case !route.recorded && len(recs) != 0:
					t.Errorf("recorded %s %s attempt %d (%q): the request could not start a scan",
						recs[0].Trigger, recs[0].Outcome, recs[0].ID, recs[0].ErrorMessage)
				}
			})
		}
	}
	t.Run("wrong Host/GET /audit.csv", func(t *testing.T) {
		h := newHarness(t, allModes(t), withAllowedHosts("example.com"))
		r := newRequest(http.MethodGet, "/audit.csv", "")
		bearer(testAPIKey)(r)
		r.Host = "attacker.example"
		if resp := h.do(r); resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("status %d, want 421", resp.StatusCode)
		}
		if recs := h.records(); len(recs) != 0 {
			t.Errorf("recorded %d attempts for a read", len(recs))
		}
	})
}
