package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// The audit page shown again with filter problems says so in its title, as the form's does
// ("Error: …"), and marks each filter that has a problem invalid: it kept the title "Audit log"
// and left every input unmarked, so a screen reader user who tabbed back into the filters heard
// nothing of which one to fix, and a sighted one saw no box picked out.
func TestAuditPageMarksTheFiltersThatHaveProblems(t *testing.T) {
	h := newHarness(t)
	inputs := []string{"outcome", "trigger", "actor", "task", "from", "to"}
	for _, tc := range []struct {
		name    string
		query   string
		status  int
		title   string
		invalid []string
	}{
		{"no problem", "?task=12&from=2026-01-01", http.StatusOK, "Audit log", nil},
		{"a bad task and start date", "?task=twelve&from=yesterday&actor=alice", http.StatusBadRequest, "Error: Audit log", []string{"task", "from"}},
		{"an unknown outcome and trigger", "?outcome=done&trigger=cron", http.StatusBadRequest, "Error: Audit log", []string{"outcome", "trigger"}},
		{"an end before the start", "?from=2026-02-01&to=2026-01-01", http.StatusBadRequest, "Error: Audit log", []string{"to"}},
		{"an unknown parameter only", "?actr=alice", http.StatusBadRequest, "Error: Audit log", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.get("/audit" + tc.query)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			doc := document(t, resp)
			if got := doc.Find("title").Text(); !strings.HasPrefix(got, tc.title+" ·") {
				t.Errorf("title %q, want it to start %q", got, tc.title)
			}
			for _, name := range inputs {
				want := strings.Contains(" "+strings.Join(tc.invalid, " ")+" ", " "+name+" ")
				got := doc.Find("#filter-"+name).AttrOr("aria-invalid", "") == "true"
				if got != want {
					t.Errorf("#filter-%s aria-invalid %v, want %v", name, got, want)
				}
			}
		})
	}
}
