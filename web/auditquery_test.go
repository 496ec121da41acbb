package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
)

// A query url.ParseQuery cannot read whole is refused by the audit page, its downloads and
// GET /api/audit, never answered as if the filters it carries were not there: r.URL.Query()
// silently dropped them, and outcome=failed; gave every record of the log.
func TestAuditQueryThatCannotBeReadIsRefused(t *testing.T) {
	h := newHarness(t)
	sqlstoretest.Fill(t, h.store, 20)
	queries := []struct{ name, query string }{
		{"semicolon separator", "outcome=failed;"},
		{"semicolon between filters", "outcome=failed;trigger=api"},
		{"bad escape in a filter", "outcome=failed&actor=%zz"},
		{"more parameters than the parser reads", "outcome=failed" + strings.Repeat("&", 10_001)},
	}
	for _, route := range []string{"/audit", "/audit.csv", "/audit.jsonl", "/api/audit"} {
		for _, q := range queries {
			t.Run(route+"/"+q.name, func(t *testing.T) {
				resp := h.get(route + "?" + q.query)
				text := body(t, resp)
				if resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("status %d, want 400; body starts %.200q", resp.StatusCode, text)
				}
				if !strings.Contains(text, "query could not be read") {
					t.Errorf("the answer does not say the query could not be read: %.300q", text)
				}
				if strings.Contains(text, "user-0") {
					t.Errorf("the refusal lists records: %.300q", text)
				}
			})
		}
	}
}
