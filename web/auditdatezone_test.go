package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
)

// The audit page's date filters take UTC days, as the table's times and GET /api/audit do, and
// the page says so at each input: the labels said only "From" and "To", so a team in Beijing
// (UTC+8) filtering on its own date missed the records of its morning (before 08:00 local time,
// the previous UTC day) and got eight hours of the next day instead.
func TestAuditPageSaysItsDateFiltersAreUTCDays(t *testing.T) {
	h := newHarness(t)
	sqlstoretest.Fill(t, h.store, 3)
	for _, page := range []struct {
		query  string
		status int
	}{
		{"", http.StatusOK},
		{"?from=2026-01-01&to=2026-01-31", http.StatusOK},
		{"?from=yesterday", http.StatusBadRequest}, // the filters shown again with their problem
	} {
		query := page.query
		resp := h.get("/audit" + query)
		if resp.StatusCode != page.status {
			t.Fatalf("GET /audit%s: status %d, want %d", query, resp.StatusCode, page.status)
		}
		doc := document(t, resp)
		for _, tc := range []struct{ input, want string }{
			{"filter-from", "UTC"},
			{"filter-to", "UTC"},
			{"filter-to", "included"},
		} {
			label := doc.Find(`label[for="` + tc.input + `"]`).Text()
			if !strings.Contains(label, tc.want) {
				t.Errorf("GET /audit%s: the label of #%s is %q, want it to say %q", query, tc.input, label, tc.want)
			}
		}
	}
}
