package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/web"
)

// instantScans answers every Start at once, so that the benchmarks measure the web layer:
// parsing, validation, rendering and the middleware.
type instantScans struct{}

func (instantScans) Start(_ context.Context, req scan.Request, _ string, _ scan.Caller) (scan.Attempt, error) {
	if err := req.Normalize().Validate(); err != nil {
		return scan.Attempt{}, err
	}
	return scan.Attempt{Record: audit.Record{ID: 1, Outcome: audit.OutcomePending},
		Outcome: &audit.Record{ID: 2, PendingID: 1, Outcome: audit.OutcomeSucceeded, LocalTaskID: 36001}}, nil
}

func (instantScans) Reject(_ context.Context, _ string, _ scan.Caller, cause error) (scan.Attempt, error) {
	return scan.Attempt{}, cause
}

func (instantScans) Attempt(context.Context, int64) (scan.Attempt, error) { return scan.Attempt{}, nil }

func (instantScans) Status(context.Context, scan.Attempt) (scan.ScanInfo, error) {
	return scan.ScanInfo{}, nil
}

func benchHandler() http.Handler {
	return web.New(web.Config{Scans: instantScans{}, Logger: discard, Now: func() time.Time { return time.Unix(0, 0) }})
}

func BenchmarkRenderForm(b *testing.B) {
	h := benchHandler()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

func BenchmarkSubmitForm(b *testing.B) {
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = "sha256:" + strings.Repeat(string(rune('a'+i%6)), 63) + string(rune('0'+i%10))
	}
	for _, bc := range []struct {
		name   string
		vals   url.Values
		status int
	}{
		{"started", url.Values{"LocalImageScanType": {"IMAGEIDS"}, "LocalImageIDs": {strings.Join(ids, "\n")}}, http.StatusSeeOther},
		{"invalid", url.Values{"LocalImageScanType": {"IMAGEIDS"}, "LocalImageIDs": {"x\ny\nz"}, "RegistryTaskID": {"q"}}, http.StatusUnprocessableEntity},
		{"confirmation", url.Values{"LocalImageScanType": {"ALL"}}, http.StatusOK},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := benchHandler()
			bc.vals.Set("IdempotencyKey", "form-bench") // as the form's page writes it
			body := bc.vals.Encode()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if rec.Code != bc.status {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
	}
}
