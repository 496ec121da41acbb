package tests

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"

	"github.com/vulscan/vulscan/internal/citest"
)

// TestSCFFunctionURLEvents serves SCF function URL events (the HTTP entry of an event function
// since Tencent retired API-gateway triggers) through the real bootstrap and the fake runtime
// API: the page, a form POST (plain and base64), the JSON API, and the timer on the same
// function. It runs the developer build and, when `go tool task package` has built it, the
// bootstrap of dist/scf.zip: the zip that is deployed must answer them too.
func TestSCFFunctionURLEvents(t *testing.T) {
	t.Run("developer build", func(t *testing.T) { testSCFFunctionURL(t, vulscanBinary(t)) })
	t.Run("dist/scf.zip", func(t *testing.T) {
		root, err := repoRoot()
		if err != nil {
			t.Fatal(err)
		}
		zipPath := filepath.Join(root, "dist", "scf.zip")
		if _, err := os.Stat(zipPath); err != nil {
			citest.Missing(t, "%s is missing: run `go tool task package` first", zipPath)
		}
		bin := filepath.Join(t.TempDir(), "bootstrap")
		writeFile(t, bin, bootstrapFromZip(t, zipPath))
		if err := os.Chmod(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		testSCFFunctionURL(t, bin)
	})
}

func testSCFFunctionURL(t *testing.T, bin string) {
	fn := startSCF(t, bin, scfDeployedAccess...)

	var formKey string
	t.Run("GET / without a query string renders the form", func(t *testing.T) {
		resp := fn.http(t, "url-form-get", scfFunctionURLEvent("GET", "/", nil, nil, nil, false))
		resp.wantStatus(t, http.StatusOK)
		resp.wantHeader(t, "Content-Type", "text/html")
		formKey = resp.formKey(t)
	})

	t.Run("GET with a query string reaches the handler", func(t *testing.T) {
		query := map[string]any{"outcome": "succeeded", "trigger": "form"}
		resp := fn.http(t, "url-audit", scfFunctionURLEvent("GET", "/audit", nil, nil, query, false))
		resp.wantStatus(t, http.StatusOK)
		resp.wantHeader(t, "Content-Type", "text/html")
	})

	// A parameter SCF lists (given twice) reaches the handler twice: the audit page, which
	// takes each filter once, says so.
	t.Run("a listed query parameter reaches the handler as repeated", func(t *testing.T) {
		query := map[string]any{"outcome": "succeeded", "trigger": []string{"form", "api"}}
		resp := fn.http(t, "url-audit-repeated", scfFunctionURLEvent("GET", "/audit", nil, nil, query, false))
		resp.wantStatus(t, http.StatusBadRequest)
		if !strings.Contains(string(resp.body), "The parameter trigger is given 2 times") {
			t.Errorf("the audit page does not name the repeated parameter:\n%.2000s", resp.body)
		}
	})

	for _, base64Body := range []bool{false, true} {
		t.Run(fmt.Sprintf("form POST (base64 %v) starts a scan", base64Body), func(t *testing.T) {
			form := url.Values{
				"LocalImageScanType": {"IMAGEIDS"},
				"LocalImageIDs":      {"sha256:" + strings.Repeat("5e6f7a8b", 8)},
				"IdempotencyKey":     {fmt.Sprintf("%s-%v", formKey, base64Body)},
			}
			resp := fn.http(t, fmt.Sprintf("url-form-post-%v", base64Body),
				scfFunctionURLEvent("POST", "/", formHeaders(), []byte(form.Encode()), nil, base64Body))
			resp.wantStatus(t, http.StatusSeeOther)
			resp.attemptFromLocation(t)
		})
	}

	t.Run("POST /api/scans starts a scan", func(t *testing.T) {
		headers := map[string]string{"content-type": "application/json", "idempotency-key": "scf-url-api-1"}
		body := `{"LocalImageScanType":"CLUSTER","LocalClusterIDs":["cls-a1b2c3d4"]}`
		resp := fn.http(t, "url-api", scfFunctionURLEvent("POST", "/api/scans", headers, []byte(body), nil, false))
		resp.wantStatus(t, http.StatusCreated)
		var got struct {
			Outcome     string `json:"outcome"`
			LocalTaskID int64  `json:"LocalTaskID"`
		}
		resp.decodeJSON(t, &got)
		if got.Outcome != string(audit.OutcomeSucceeded) || got.LocalTaskID == 0 {
			t.Errorf("API answer %+v; want a succeeded attempt with a local task", got)
		}
	})

	t.Run("the timer on the same function starts a scan", func(t *testing.T) {
		res := fn.timer(t, "url-timer", scfTimerEvent(t))
		if res.Schedule != "nightly" || res.Outcome != audit.OutcomeSucceeded {
			t.Errorf("timer result %+v; want a succeeded scan for nightly", res)
		}
	})

	recs := auditRecords(t, fn.dsn)
	started := startedScans(t, recs)
	wantTriggers(t, started, map[audit.Trigger]int{audit.TriggerForm: 2, audit.TriggerAPI: 1, audit.TriggerTimer: 1})
	for _, r := range started {
		if r.Trigger != audit.TriggerTimer && r.SourceIP != scfURLRemoteAddr {
			t.Errorf("%s record %d from %q; want x-scf-remote-addr's %s", r.Trigger, r.ID, r.SourceIP, scfURLRemoteAddr)
		}
	}
	for _, r := range recs {
		// VULSCAN_TCSS_ENDPOINT is a plain URL here: recorded as given, not as an emulator.
		if r.Endpoint != fn.tcssURL || r.Emulated() {
			t.Errorf("record %d has endpoint %q; want %s", r.ID, r.Endpoint, fn.tcssURL)
		}
	}
	verifyAudit(t, fn.dsn)
}

// scfURLRemoteAddr is the client address the function URL events carry in x-scf-remote-addr.
const scfURLRemoteAddr = "198.51.100.77"

// scfFunctionURLEvent is the event an SCF function URL sends an event function for one request,
// shaped as Tencent's sample (https://www.tencentcloud.com/document/product/583/69491): lower-case
// headers with the client address in x-scf-remote-addr, no requestContext, and queryString only
// when the request has one.
func scfFunctionURLEvent(method, path string, headers map[string]string, body []byte, query map[string]any, base64Body bool) map[string]any {
	const host = "1250000000-abcd1234.ap-guangzhou.tencentscf.com"
	hdr := map[string]string{
		"accept":            "text/html,application/xhtml+xml,application/json",
		"accept-language":   "en-US,en",
		"host":              host,
		"user-agent":        "Mozilla/5.0 (X11; Linux x86_64)",
		"content-length":    fmt.Sprint(len(body)),
		"x-scf-remote-addr": scfURLRemoteAddr,
	}
	for k, v := range headers {
		hdr[k] = strings.ReplaceAll(v, "{host}", host)
	}
	event := map[string]any{"headers": hdr, "httpMethod": method, "path": path, "body": string(body)}
	if base64Body {
		event["body"] = base64.StdEncoding.EncodeToString(body)
		event["isBase64Encoded"] = true
	}
	if query != nil {
		event["queryString"] = query
	}
	return event
}

// scfDeployedAccess decides access the way a deliberately open deployment does, so that a
// deployed function serves its pages and API (a function with no decision refuses them).
var scfDeployedAccess = []string{"VULSCAN_PUBLIC=I-understand"}
