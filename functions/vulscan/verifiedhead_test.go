package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// A second server on the same log (a cold start, another instance) resumes the audit page's
// check from the head the first one kept in the database, instead of walking the whole log
// again. The proof is also the kept head's limit, as documented: an edit made to an older record
// after the first server verified it is not re-checked by the page; the full walk (what
// `vulscan audit verify` runs) still names it.
func TestASecondServerResumesFromTheKeptVerifiedHead(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.db")
	vars := []string{"VULSCAN_AUDIT_DSN=sqlite:" + path, "HOME=" + dir, "VULSCAN_AUDIT_WITNESS=off"}
	var errOut strings.Builder
	view := func(a *app) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/audit", nil)
		req.Host, req.RemoteAddr = "127.0.0.1:8080", "127.0.0.1:5000"
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("audit page %d", rec.Code)
		}
		return rec.Body.String()
	}
	waitFor := func(a *app, want string) string {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			page := view(a)
			if strings.Contains(page, want) || strings.Contains(page, "Hash chain broken") {
				return page
			}
			if time.Now().After(deadline) {
				t.Fatalf("the audit page never said %q:\n%s", want, errOut.String())
			}
		}
	}
	first, err := openApp(ctx, env2(vars, &errOut, &errOut), "")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := first.store.Append(ctx, audit.Record{Trigger: audit.TriggerCLI, Actor: "alice",
			Action: audit.ActionCreateVulScanTask, Params: []byte(`{"LocalImageScanType":"ALL"}`), Outcome: audit.OutcomeRejected}); err != nil {
			t.Fatal(err)
		}
	}
	const verified = "Hash chain verified up to record 3 at"
	if page := waitFor(first, verified); !strings.Contains(page, verified) {
		t.Fatalf("the first server did not verify the chain:\n%.3000s", page)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET actor = 'mallory' WHERE id = 1`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	second, err := openApp(ctx, env2(vars, &errOut, &errOut), "")
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if page := waitFor(second, verified); !strings.Contains(page, verified) {
		t.Fatalf("the second server walked the log again instead of resuming from record 3:\n%.3000s", page)
	}
	rep, err := second.store.Verify(ctx)
	if err != nil || rep.Problem == nil || rep.Problem.RecordID != 1 || rep.Problem.Kind != audit.KindEdited {
		t.Fatalf("the full walk = %v, %v; want record 1 edited", rep, err)
	}
}
