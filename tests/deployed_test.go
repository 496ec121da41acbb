package tests

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
)

// TestDeployedFunctionRefusesUntilAccessIsDecided starts the SCF bootstrap as a deployment with
// no access decision (no VULSCAN_AUTH, no VULSCAN_PUBLIC): the pages and the API answer 403 with
// what the operator must decide, in HTML and JSON, and say it in the log; a refused scan start is
// recorded and reaches no TCSS; the timer still starts its scan. With VULSCAN_PUBLIC=I-understand
// the same function serves everyone, and every record says access "public".
func TestDeployedFunctionRefusesUntilAccessIsDecided(t *testing.T) {
	bin := vulscanBinary(t)
	t.Run("undecided", func(t *testing.T) {
		fn := startSCF(t, bin, "VULSCAN_AUTH=")

		page := fn.http(t, "closed-page", scfFunctionURLEvent("GET", "/", nil, nil, nil, false))
		page.wantStatus(t, http.StatusForbidden)
		page.wantHeader(t, "Content-Type", "text/html")
		wantAccessHelp(t, "page", string(page.body))

		headers := map[string]string{"content-type": "application/json", "idempotency-key": "closed-1"}
		api := fn.http(t, "closed-api", scfFunctionURLEvent("POST", "/api/scans", headers, []byte(`{"LocalImageScanType":"ALL"}`), nil, false))
		api.wantStatus(t, http.StatusForbidden)
		api.wantHeader(t, "Content-Type", "application/json")
		var problem map[string]any
		api.decodeJSON(t, &problem)
		wantAccessHelp(t, "API answer", fmt.Sprint(problem))

		res := fn.timer(t, "closed-timer", scfTimerEvent(t))
		if res.Outcome != audit.OutcomeSucceeded {
			t.Errorf("timer result %+v; want the nightly scan started: timers need no access decision", res)
		}
		if n := fn.tcss.Calls(createAction); n != 1 {
			t.Errorf("TCSS got %d CreateVulScanTask calls; want 1, the timer's", n)
		}
		recs := auditRecords(t, fn.dsn)
		if n := countRecords(recs, audit.TriggerAPI, audit.OutcomeRejected); n != 1 {
			t.Errorf("%d rejected API records; want 1, the refused scan start", n)
		}
		if out := fn.output(); !strings.Contains(out, "VULSCAN_AUTH is not set") || !strings.Contains(out, "access to this deployment is not decided") {
			t.Errorf("the log does not say why the pages are refused:\n%s", out)
		}
	})

	t.Run("public", func(t *testing.T) {
		fn := startSCF(t, bin, "VULSCAN_AUTH=", "VULSCAN_PUBLIC=I-understand")
		fn.http(t, "open-page", scfFunctionURLEvent("GET", "/", nil, nil, nil, false)).wantStatus(t, http.StatusOK)
		headers := map[string]string{"content-type": "application/json", "idempotency-key": "open-1"}
		fn.http(t, "open-api", scfFunctionURLEvent("POST", "/api/scans", headers, []byte(`{"LocalImageScanType":"NOT_SCAN"}`), nil, false)).
			wantStatus(t, http.StatusCreated)
		for _, r := range auditRecords(t, fn.dsn) {
			if r.Trigger == audit.TriggerAPI && (r.Access != "public" || r.Actor != "anonymous") {
				t.Errorf("record %d: access %q, actor %q; want public, anonymous", r.ID, r.Access, r.Actor)
			}
		}
	})

	t.Run("HTTP server on all interfaces", func(t *testing.T) {
		addr := freeAddr(t)
		_, port, _ := strings.Cut(addr, ":")
		cmd := exec.Command(bin)
		cmd.Dir = t.TempDir()
		cmd.Env = append(localEnv(), "VULSCAN_ADDR=0.0.0.0:"+port, "VULSCAN_AUDIT_DSN=sqlite:"+filepath.Join(cmd.Dir, "audit.db"))
		p := startProcess(t, cmd)
		var status int
		var body string
		waitUntil(t, "vulscan to serve on port "+port, func() error {
			select {
			case <-p.exited:
				t.Fatalf("vulscan exited: %v\n%s", p.err, p.Output())
			default:
			}
			resp, err := http.Get("http://" + addr + "/api/audit")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var v map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&v)
			status, body = resp.StatusCode, fmt.Sprint(v)
			return nil
		})
		if status != http.StatusForbidden {
			t.Errorf("GET /api/audit on a server listening on all interfaces with no access decision: %d %s; want 403", status, body)
		}
		wantAccessHelp(t, "API answer", body)
	})
}

func wantAccessHelp(t *testing.T, what, text string) {
	t.Helper()
	for _, want := range []string{"VULSCAN_AUTH", "VULSCAN_PUBLIC=I-understand", "docs/deploy.md"} {
		if !strings.Contains(text, want) {
			t.Errorf("%s does not say how to decide access (no %q):\n%.1500s", what, want, text)
		}
	}
}
