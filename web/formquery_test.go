package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// The form's pre-fill (GET /?…) and the pickers (GET /pick/{kind}?…) refuse a query
// url.ParseQuery cannot read whole: r.URL.Query() silently dropped the values after a ";" or
// with a bad escape, and the form came back with fields the link had filled left empty.
func TestFormAndPickerQueryThatCannotBeReadIsRefused(t *testing.T) {
	h := newHarness(t)
	queries := []struct{ name, query string }{
		{"semicolon separator", "LocalImageScanType=ALL;LocalTaskID=7"},
		{"bad escape in a value", "LocalImageScanType=ALL&LocalImageIDs=sha256%zz"},
		{"more parameters than the parser reads", "LocalImageScanType=ALL" + strings.Repeat("&", 10_001)},
	}
	for _, route := range []string{"/", "/pick/local", "/pick/registry", "/pick/cluster"} {
		for _, q := range queries {
			t.Run(route+"/"+q.name, func(t *testing.T) {
				wantUnreadableQueryRefused(t, h, route+"?"+q.query)
			})
		}
	}
	// A query that can be read still fills the form.
	resp := h.get("/?LocalImageScanType=ALL&LocalTaskID=7")
	if text := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(text, `value="7"`) {
		t.Fatalf("status %d, want 200 with the task ID filled: %.300q", resp.StatusCode, text)
	}
}
