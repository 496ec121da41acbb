package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The form speaks in its own labels; the API keeps the API's names.
func TestFormErrorsUseTheFormsLabels(t *testing.T) {
	h := newHarness(t)
	doc := document(t, h.postForm(url.Values{"LocalImageScanType": {"IMAGEIDS"}}))
	summary := doc.Find("#error-summary li").Text()
	want := "Local image IDs: is required when “Which local images to scan” is “Listed images”"
	if !strings.Contains(summary, want) {
		t.Errorf("summary %q does not say %q", summary, want)
	}
	inline := doc.Find("#LocalImageIDs-error").Text()
	for _, text := range []string{summary, inline} {
		if strings.Contains(text, "LocalImageScanType") || strings.Contains(text, "IMAGEIDS") {
			t.Errorf("a form message uses the API's names: %q", text)
		}
	}
	resp := h.postJSON(`{"LocalImageScanType":"IMAGEIDS"}`)
	if b := body(t, resp); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, "is required when LocalImageScanType is IMAGEIDS") {
		t.Errorf("API answer %d %s; want the API's names", resp.StatusCode, b)
	}
}
