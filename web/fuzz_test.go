package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/web"
)

// countingScans stands in for the service in the fuzzer: it counts what the form asked of it.
type countingScans struct {
	starts, rejects int
	last            scan.Request
}

func (c *countingScans) Start(_ context.Context, req scan.Request, _ string, _ scan.Caller) (scan.Attempt, error) {
	c.starts++
	c.last = req
	return scan.Attempt{Record: audit.Record{ID: 1, Outcome: audit.OutcomePending}, Request: req}, nil
}

func (c *countingScans) Reject(_ context.Context, _ string, _ scan.Caller, cause error) (scan.Attempt, error) {
	c.rejects++
	return scan.Attempt{}, cause
}

func (c *countingScans) Attempt(context.Context, int64) (scan.Attempt, error) {
	return scan.Attempt{}, &scan.Error{Code: scan.ENOTFOUND}
}

func (c *countingScans) Status(context.Context, scan.Attempt) (scan.ScanInfo, error) {
	return scan.ScanInfo{}, &scan.Error{Code: scan.ENOTFOUND}
}

// formReads are the fields the form reads (others are ignored, once or twice).
var formReads = []string{
	"LocalImageScanType", "LocalImageIDs", "LocalClusterIDs", "ExcludeLocalImageIDs",
	"LocalImageContainerRunning", "LocalTaskID", "RegistryImageScanType", "RegistryImageIDs",
	"ExcludeRegistryImageIDs", "RegistryImageContainerRunning", "IsLatest", "RegistryTaskID",
	"IdempotencyKey", "confirm", "edit",
}

// FuzzFormDecode posts arbitrary bodies to the form, as FuzzDecodeValidate decodes arbitrary
// JSON: whatever the body, the answer is never a server error, every refusal (400, 422) is on
// the record exactly once, nothing is both refused and started, and a started request took each
// field's one and only value.
func FuzzFormDecode(f *testing.F) {
	for _, s := range []string{
		"LocalImageScanType=ALL&confirm=1&IdempotencyKey=k",
		"RegistryImageScanType=IMAGEIDS&RegistryImageIDs=12%2C13&IdempotencyKey=k",
		"RegistryImageScanType=NOT_SCAN&RegistryImageScanType=ALL",
		"IdempotencyKey=%zz&LocalImageScanType=ALL",
		"LocalImageScanType=ALL;IsLatest=true",
		"RegistryImageIDs=12,x,-1&LocalTaskID=abc",
		"LocalImageScanType=IMAGEIDS&LocalImageIDs=sha256:" + strings.Repeat("a", 64) + "%0Async",
		"edit=1&LocalImageScanType=ALL",
		"IdempotencyKey=%00%0d%0a&LocalTaskID=36002",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		scans := &countingScans{}
		h := web.New(web.Config{Scans: scans, Audit: nil, Logger: discard})
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)

		switch status := rec.Code; status {
		case http.StatusBadRequest, http.StatusUnprocessableEntity:
			if scans.rejects != 1 || scans.starts != 0 {
				t.Fatalf("status %d with %d rejects, %d starts; want one recorded refusal", status, scans.rejects, scans.starts)
			}
		case http.StatusSeeOther:
			if scans.starts != 1 || scans.rejects != 0 {
				t.Fatalf("303 with %d starts, %d rejects", scans.starts, scans.rejects)
			}
			vals, err := url.ParseQuery(body)
			if err != nil {
				t.Fatalf("started from a body that does not parse: %v", err)
			}
			for _, name := range formReads {
				if n := len(vals[name]); n > 1 {
					t.Fatalf("started although %s was sent %d times", name, n)
				}
			}
			if got, want := scans.last.LocalImageScanType, vals.Get("LocalImageScanType"); got != want {
				t.Fatalf("LocalImageScanType %q started, %q sent", got, want)
			}
		case http.StatusOK:
			// The confirmation step or the edit button: nothing decided yet, nothing recorded.
			if scans.starts+scans.rejects != 0 {
				t.Fatalf("200 with %d starts, %d rejects", scans.starts, scans.rejects)
			}
		default:
			t.Fatalf("status %d for body %q", status, body)
		}
	})
}
