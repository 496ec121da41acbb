package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// The form's address (GET /?…) fills in only the entries the form takes: a misspelt or unknown
// parameter, an entry given twice and one longer than any a scan takes are refused (400) and
// named, as the audit page refuses what it does not take, and none of them is written back.
func TestFormPrefillRefusesWhatItDoesNotTake(t *testing.T) {
	long := strings.Repeat("sha256:"+strings.Repeat("a", 64)+",", 1000) // 72 KB
	tests := []struct {
		name, query string
		status      int
		says        []string // in the error summary
		filled      map[string]string
	}{
		{"the form's entries", "LocalImageScanType=IMAGEIDS&LocalImageIDs=" + url.QueryEscape("sha256:"+strings.Repeat("a", 64)) + "&IsLatest=true",
			http.StatusOK, nil, map[string]string{"LocalImageIDs": "sha256:" + strings.Repeat("a", 64)}},
		{"a misspelt entry", "LocalImageScanType=IMAGEIDS&LocalImageID=sha256:x", http.StatusBadRequest,
			[]string{"LocalImageID", "is not an entry of the scan form"}, map[string]string{"LocalImageIDs": ""}},
		{"a mis-cased entry", "localtaskid=7", http.StatusBadRequest, []string{"localtaskid"}, map[string]string{"LocalTaskID": ""}},
		{"the idempotency key", "IdempotencyKey=nightly-1&LocalImageScanType=ALL", http.StatusBadRequest, []string{"cannot be set by the address"}, nil},
		{"an entry given twice", "LocalTaskID=7&LocalTaskID=8", http.StatusBadRequest, []string{"given 2 times"}, map[string]string{"LocalTaskID": ""}},
		{"an over-long entry", "LocalImageIDs=" + url.QueryEscape(long), http.StatusBadRequest, []string{"longer than any entry a scan takes"},
			map[string]string{"LocalImageIDs": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			resp := h.get("/?" + tt.query)
			page := body(t, resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if len(page) > 100_000 {
				t.Errorf("the page is %d bytes", len(page))
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
			if err != nil {
				t.Fatal(err)
			}
			summary := doc.Find("#error-summary").Text()
			if tt.says == nil && summary != "" {
				t.Errorf("error summary %q on a form filled from its own entries", summary)
			}
			for _, want := range tt.says {
				if !strings.Contains(summary, want) {
					t.Errorf("error summary %q does not say %q", summary, want)
				}
			}
			for field, want := range tt.filled {
				if got := doc.Find("#" + field).Text(); got != want {
					t.Errorf("%s = %.80q, want %q", field, got, want)
				}
			}
		})
	}
}
