package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
)

// A sign-out posted from another site is refused in a sign-out's words and is not recorded as a
// rejected form attempt at CreateVulScanTask: it cannot start a scan, and the record, with the
// form's "Submit the form from this site's own page", misled whoever read the audit log. A
// cross-site post of the form is still recorded.
func TestCrossSiteSignOutIsRefusedWithoutAScanRecord(t *testing.T) {
	p := startProvider(t)
	h := oidcHarness(t, p, []string{"@example.com"}, nil)
	c := sessionCookie(signIn(t, h, nil))
	if c == nil {
		t.Fatal("no session after sign-in")
	}
	for _, site := range []struct{ name, header, value string }{
		{"Sec-Fetch-Site", "Sec-Fetch-Site", "cross-site"},
		{"Origin", "Origin", "https://evil.example"},
	} {
		t.Run(site.name, func(t *testing.T) {
			out := httptest.NewRequest(http.MethodPost, "/auth/logout", nil)
			out.Host = "example.com"
			out.AddCookie(c)
			out.Header.Set(site.header, site.value)
			resp := h.do(out)
			text := body(t, resp)
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403: %.300q", resp.StatusCode, text)
			}
			if !strings.Contains(text, "sign-out came from another site") || strings.Contains(text, "Submit the form") {
				t.Errorf("the page does not speak of a sign-out: %.600q", text)
			}
			for _, k := range resp.Cookies() {
				if k.Name == c.Name && k.MaxAge < 0 {
					t.Error("the refused sign-out cleared the session")
				}
			}
			for _, rec := range h.records() {
				t.Errorf("recorded %s %s attempt %d: a sign-out is not a scan request", rec.Trigger, rec.Outcome, rec.ID)
			}
		})
	}
	form := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("LocalImageScanType=ALL"))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	form.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp := h.do(form); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site form post: status %d, want 403", resp.StatusCode)
	}
	if recs := h.records(); len(recs) != 1 || recs[0].Trigger != audit.TriggerForm {
		t.Fatalf("cross-site form post: %d records, want 1 form refusal", len(recs))
	}
}
