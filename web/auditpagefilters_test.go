package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
)

// The audit page refuses a parameter it does not take, as GET /api/audit and the downloads do:
// a misspelt filter was ignored and every record listed under a filter form that looked
// applied. A refused over-long filter is shown back cut, not whole: a 200 KB actor made a
// 203 KB page.
func TestAuditPageRefusesUnknownParametersAndBoundsWhatItShowsBack(t *testing.T) {
	h := newHarness(t)
	sqlstoretest.Fill(t, h.store, 20)
	long := strings.Repeat("a", 200_000)
	tests := []struct {
		name     string
		query    string
		wantText string // in the refusal
		maxBody  int    // 0: not checked
	}{
		{"misspelt filter", "outcomes=failed", "outcomes", 0},
		{"misspelt filter beside a real one", "trigger=api&actr=alice", "actr", 0},
		{"mis-cased filter", "Outcome=failed", "Outcome", 0},
		{"over-long actor", "actor=" + long, "longer than 256", 64 << 10},
		{"over-long outcome", "outcome=" + long, "is not one of", 64 << 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.get("/audit?" + tc.query)
			text := body(t, resp)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body starts %.200q", resp.StatusCode, text)
			}
			if !strings.Contains(text, tc.wantText) {
				t.Errorf("the refusal does not say %q: %.300q", tc.wantText, text)
			}
			if strings.Contains(text, "user-0") {
				t.Errorf("the refusal lists records: %.300q", text)
			}
			if tc.maxBody > 0 && len(text) > tc.maxBody {
				t.Errorf("the page is %d bytes, want at most %d", len(text), tc.maxBody)
			}
		})
	}
	// The page's own filters and paging are still taken.
	resp := h.get("/audit?outcome=&trigger=&actor=&task=&from=&to=&limit=5")
	if text := body(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200: %.300q", resp.StatusCode, text)
	}
}
