package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/scan"
)

// apiError is the one shape of JSON errors.
type apiError struct {
	Code   string            `json:"code"`
	Errors []scan.FieldError `json:"errors"`
	ID     int64             `json:"id"`
}

func decodeJSON[T any](t *testing.T, resp *http.Response) T {
	t.Helper()
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var v T
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAPIStartStatusCodes(t *testing.T) {
	withKey := func(k string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Idempotency-Key", k) }
	}
	for _, tc := range []struct {
		name       string
		setup      func(h *harness) // before the request
		opts       []harnessOption
		body       string
		mods       []func(*http.Request)
		status     int
		code       string // error code; "" for success
		field      string // a field the errors must name
		message    string // words a message must contain
		retryAfter string
		creates    int
	}{
		{name: "created", body: `{"RegistryImageScanType":"NOT_SCAN"}`, status: 201, creates: 1},
		{name: "created from a body with a UTF-8 byte-order mark", body: "\ufeff" + `{"RegistryImageScanType":"NOT_SCAN"}`, status: 201, creates: 1},
		{name: "a byte-order mark before a list", body: "\ufeff[1]", status: 400, code: "bad_request", message: "must be a JSON object"},
		{name: "a byte-order mark before broken JSON", body: "\ufeff{\"a\"", status: 400, code: "bad_request", message: "ends too early"},
		{name: "unknown field", body: `{"registryImageScanType":"ALL"}`, status: 400, code: "bad_request", field: "registryImageScanType"},
		{name: "wrong type", body: `{"RegistryImageIDs":["12"]}`, status: 400, code: "bad_request", field: "RegistryImageIDs"},
		{name: "not JSON", body: `LocalImageScanType=ALL`, status: 400, code: "bad_request"},
		{name: "a list, not an object", body: `[1]`, status: 400, code: "bad_request"},
		{name: "null, not an object", body: `null`, status: 400, code: "bad_request"},
		{name: "an object that selects nothing", body: `{}`, status: 422, code: scan.EINVALID},
		{name: "too large", body: `{"LocalImageIDs":["` + strings.Repeat("a", 600<<10) + `"]}`, status: 413, code: "too_large"},
		{name: "not JSON content type", body: `{}`, mods: []func(*http.Request){func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }},
			status: 415, code: "unsupported_media_type"},
		{name: "invalid", body: `{"LocalImageScanType":"IMAGEIDS"}`, status: 422, code: scan.EINVALID, field: "LocalImageIDs"},
		{name: "unknown field with control characters", body: `{"a\u007fb\u0085c":1}`, status: 400, code: "bad_request", field: `a\x7fb\u0085c`},
		{name: "two keys", body: `{"LocalImageScanType":"ALL"}`, mods: []func(*http.Request){withKey("a"), func(r *http.Request) { r.Header.Add("Idempotency-Key", "b") }},
			status: 400, code: "bad_request", field: "Idempotency-Key"},
		{name: "not JSON, and a key too long", body: `LocalImageScanType=ALL`, mods: []func(*http.Request){withKey(strings.Repeat("k", 200))},
			status: 400, code: "bad_request", field: "Idempotency-Key"},
		{name: "an unknown field, and a key with a control character", body: `{"registryImageScanType":"ALL"}`, mods: []func(*http.Request){withKey("a\x01b")},
			status: 400, code: "bad_request", field: "Idempotency-Key"},
		{name: "key too long", body: `{"LocalImageScanType":"ALL"}`, mods: []func(*http.Request){withKey(strings.Repeat("k", 200))},
			status: 422, code: scan.EINVALID, field: "Idempotency-Key"},
		{name: "conflict", setup: func(h *harness) { h.postJSON(`{"LocalImageScanType":"ALL"}`, withKey("k")) },
			body: `{"LocalImageScanType":"NOT_SCAN"}`, mods: []func(*http.Request){withKey("k")}, status: 409, code: scan.ECONFLICT, creates: 1},
		{name: "replay", setup: func(h *harness) { h.postJSON(`{"LocalImageScanType":"ALL"}`, withKey("k")) },
			body: `{"LocalImageScanType":"ALL"}`, mods: []func(*http.Request){withKey("k")}, status: 200, creates: 1},
		{name: "rate limited", setup: func(h *harness) { h.emu.InjectFault("CreateVulScanTask", faultCode("RequestLimitExceeded")) },
			body: `{"LocalImageScanType":"ALL"}`, status: 429, code: scan.ERATELIMITED, retryAfter: "1", creates: 1},
		{name: "rate limited for the account", setup: func(h *harness) {
			h.emu.InjectFault("CreateVulScanTask", faultCode("RequestLimitExceeded.UinLimitExceeded"))
		}, body: `{"LocalImageScanType":"ALL"}`, status: 429, code: scan.ERATELIMITED, retryAfter: "1", creates: 1},
		{name: "rate limited for the address", setup: func(h *harness) {
			h.emu.InjectFault("CreateVulScanTask", faultCode("RequestLimitExceeded.IPLimitExceeded"))
		}, body: `{"LocalImageScanType":"ALL"}`, status: 429, code: scan.ERATELIMITED, retryAfter: "1", creates: 1},
		{name: "TCSS refused", setup: func(h *harness) { h.emu.InjectFault("CreateVulScanTask", faultCode("FailedOperation")) },
			body: `{"LocalImageScanType":"ALL"}`, status: 502, code: scan.EUPSTREAM, creates: 1},
		{name: "answer lost", setup: func(h *harness) { h.emu.InjectFault("CreateVulScanTask", faultDrop()) },
			body: `{"LocalImageScanType":"ALL"}`, status: 504, code: scan.EUNKNOWN, creates: 1},
		{name: "audit log unavailable", opts: []harnessOption{withScanLog(func(l scan.AuditLog) scan.AuditLog { return failingAppend{l} })},
			body: `{"LocalImageScanType":"ALL"}`, status: 503, code: scan.EUNAVAILABLE, retryAfter: "5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opts...)
			if tc.setup != nil {
				tc.setup(h)
			}
			resp := h.postJSON(tc.body, tc.mods...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, body(t, resp))
			}
			if got := resp.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
			if n := h.creates(); n != tc.creates {
				t.Errorf("CreateVulScanTask calls = %d, want %d", n, tc.creates)
			}
			if tc.code == "" {
				ans := decodeJSON[struct {
					ID             int64  `json:"id"`
					Outcome        string `json:"outcome"`
					LocalTaskID    int64  `json:"LocalTaskID"`
					RegistryTaskID int64  `json:"RegistryTaskID"`
					RequestID      string `json:"RequestId"`
				}](t, resp)
				if ans.ID == 0 || ans.Outcome != "succeeded" || ans.RequestID == "" || ans.LocalTaskID+ans.RegistryTaskID == 0 {
					t.Errorf("answer = %+v", ans)
				}
				if loc := resp.Header.Get("Location"); loc != "scans/"+formatInt(ans.ID) {
					t.Errorf("Location = %q", loc)
				}
				return
			}
			e := decodeJSON[apiError](t, resp)
			if e.Code != tc.code || len(e.Errors) == 0 {
				t.Fatalf("error = %+v, want code %s", e, tc.code)
			}
			if tc.field != "" && !hasField(e.Errors, tc.field) {
				t.Errorf("errors %+v do not name %s", e.Errors, tc.field)
			}
			for _, fe := range e.Errors {
				if fe.Message == "" {
					t.Errorf("empty message in %+v", e.Errors)
				}
			}
			if tc.message != "" && !strings.Contains(e.Errors[0].Message, tc.message) {
				t.Errorf("message %q does not say %q", e.Errors[0].Message, tc.message)
			}
			recorded := tc.creates > 0 && tc.code != scan.ECONFLICT || tc.status == 400 || tc.status == 422
			if recorded && e.ID == 0 {
				t.Error("the error does not name the recorded attempt")
			}
		})
	}
}

func hasField(errs []scan.FieldError, field string) bool {
	for _, e := range errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

func TestAPIGetScan(t *testing.T) {
	h := newHarness(t)
	created := decodeJSON[struct {
		ID int64 `json:"id"`
	}](t, h.postJSON(`{"LocalImageScanType":"NOT_SCAN","LocalImageContainerRunning":true}`))

	resp := h.get("/api/scans/" + formatInt(created.ID))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	got := decodeJSON[struct {
		ID          int64        `json:"id"`
		Outcome     string       `json:"outcome"`
		Trigger     string       `json:"trigger"`
		Actor       string       `json:"actor"`
		Params      scan.Request `json:"params"`
		LocalTaskID int64        `json:"LocalTaskID"`
		Status      *struct{ Status string }
	}](t, resp)
	if got.ID != created.ID || got.Outcome != "succeeded" || got.Trigger != "api" || got.Actor != "anonymous" {
		t.Errorf("attempt = %+v", got)
	}
	if got.Params.LocalImageScanType != "NOT_SCAN" || !got.Params.LocalImageContainerRunning {
		t.Errorf("params = %+v", got.Params)
	}
	if got.Status == nil || got.Status.Status != "SCANNING" {
		t.Errorf("status = %+v", got.Status)
	}

	// Only the id as the API writes it names the attempt: not 01 or +1 for 1.
	id := formatInt(created.ID)
	for _, path := range []string{"/api/scans/999", "/api/scans/x", "/api/nope", "/api/scans/0" + id, "/api/scans/+" + id, "/api/scans/0"} {
		resp := h.get(path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status = %d", path, resp.StatusCode)
		}
		if e := decodeJSON[apiError](t, resp); e.Code != scan.ENOTFOUND || len(e.Errors) != 1 {
			t.Errorf("%s: error = %+v", path, e)
		}
	}
}
