package web_test

import (
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
)

// A page past the oldest matching record (an old bookmark of /audit?before=…, a hand-edited
// cursor) says that no older record matches, not that none does: it said "No records match."
// above a "Newest" link to the records that do.
func TestAuditPagePastTheOldestRecordSaysNoOlderRecordMatches(t *testing.T) {
	h := newHarness(t)
	sqlstoretest.Fill(t, h.store, 20)
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"?before=1", "No records older than this page's start match"},
		{"?outcome=succeeded&before=2", "No records older than this page's start match"},
		{"?actor=nobody", "No records match."},
	} {
		doc := document(t, h.get("/audit"+tc.query))
		if got := doc.Find("#no-records").Text(); !strings.Contains(got, tc.want) {
			t.Errorf("GET /audit%s says %q, want %q", tc.query, got, tc.want)
		}
	}
}
