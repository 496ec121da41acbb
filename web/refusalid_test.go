package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
)

// An API call refused before its body became a request (wrong Host, another site, wrong
// content type, too large, no credentials) is on the record, and its answer names that record
// by id, as every API error about a recorded attempt does.
func TestAPIRefusalsNameTheirRecord(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(*http.Request)
		body   string
		status int
	}{
		{"wrong Host", func(r *http.Request) { r.Host = "attacker.example:8080" }, `{}`, http.StatusMisdirectedRequest},
		{"another site", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, `{}`, http.StatusForbidden},
		{"wrong content type", func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, `{}`, http.StatusUnsupportedMediaType},
		{"too large", nil, `{"LocalImageIDs":"` + strings.Repeat("1,", 300_000) + `"}`, http.StatusRequestEntityTooLarge},
		{"no credentials", func(r *http.Request) { r.Header.Del("Authorization") }, `{}`, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, allModes(t), withAllowedHosts("example.com"))
			mods := []func(*http.Request){bearer(testAPIKey)}
			if tc.modify != nil {
				mods = append(mods, tc.modify)
			}
			resp := h.postJSON(tc.body, mods...)
			var e struct {
				Code string
				ID   int64
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatal(err)
			}
			recs := h.records()
			if len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected {
				t.Fatalf("records %+v, want the one refusal", recs)
			}
			if resp.StatusCode != tc.status || e.ID != recs[0].ID {
				t.Errorf("status %d, id %d; want %d naming record %d", resp.StatusCode, e.ID, tc.status, recs[0].ID)
			}
		})
	}
}
