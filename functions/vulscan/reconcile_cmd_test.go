package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

// appendPending appends a pending attempt opened at t to the SQLite log at path and returns
// its ID.
func appendPending(t *testing.T, path string, at time.Time) int64 {
	t.Helper()
	store, err := openAuditStore(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rec, err := store.Append(context.Background(), audit.Record{Time: at, Trigger: audit.TriggerAPI, Actor: "ops",
		Action: audit.ActionCreateVulScanTask, Params: json.RawMessage(`{"LocalImageScanType":"ALL"}`), Outcome: audit.OutcomePending})
	if err != nil {
		t.Fatal(err)
	}
	return rec.ID
}

// stillPending reports whether attempt id of the SQLite log at path has no outcome yet.
func stillPending(t *testing.T, path string, id int64) bool {
	t.Helper()
	store, err := openAuditStore(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	_, err = store.OutcomeOf(context.Background(), id)
	if err != nil && !errors.Is(err, audit.ErrNotFound) {
		t.Fatal(err)
	}
	return err != nil
}

// An --older-than below the longest call would close an attempt still in flight as unknown,
// and its call would then record a second, contradicting outcome: refused, and nothing closed.
func TestReconcileRefusesAnOlderThanBelowTheLongestCall(t *testing.T) {
	path := seedAuditLog(t)
	dir := filepath.Dir(path)
	live := appendPending(t, path, time.Now())
	for _, tt := range []struct{ value, want string }{
		{"0s", "--older-than must be at least " + scan.MaxCallDuration.String()},
		{"49s", "--older-than must be at least " + scan.MaxCallDuration.String()},
		{"-5s", "--older-than -5s is negative: give how long an attempt must have been pending to be closed, at least " + scan.MaxCallDuration.String()},
	} {
		r := runAuditBinary(t, dir, nil, "reconcile", "--dsn", "sqlite:"+path, "--older-than", tt.value)
		if r.exit != exitRejected || !strings.Contains(r.stderr, tt.want) || strings.Contains(r.stdout, "closed") {
			t.Errorf("reconcile --older-than %s: exit %d, %q %q; want %d and %q", tt.value, r.exit, r.stdout, r.stderr, exitRejected, tt.want)
		}
	}
	if !stillPending(t, path, live) || !stillPending(t, path, 4) {
		t.Errorf("a refused reconcile closed attempts")
	}
	r := runAuditBinary(t, dir, nil, "reconcile", "--dsn", "sqlite:"+path, "--older-than", scan.MaxCallDuration.String())
	if r.exit != exitOK || !strings.Contains(r.stdout, "closed: attempt 4 as unknown") || !stillPending(t, path, live) {
		t.Errorf("reconcile --older-than %s: exit %d, %q %q; want attempt 4 closed, %d left", scan.MaxCallDuration, r.exit, r.stdout, r.stderr, live)
	}
}

// --since and --older-than choose the attempts to close as unknown; --from-log puts back the
// outcomes of a file and closes none: combined, they are refused, not silently ignored.
func TestReconcileFromLogRefusesTheFlagsOfClosing(t *testing.T) {
	path := seedAuditLog(t)
	dir := filepath.Dir(path)
	logFile := filepath.Join(dir, "function.log")
	if err := os.WriteFile(logFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{{"--since", "2026-12-01"}, {"--older-than", "1h"}, {"--older-than", "50s", "--since", "2026-12-01T00:00:00Z"}} {
		args := append([]string{"reconcile", "--dsn", "sqlite:" + path, "--from-log", logFile}, extra...)
		r := runAuditBinary(t, dir, nil, args...)
		if r.exit != exitRejected || !strings.Contains(r.stderr, "--from-log cannot be combined with --since or --older-than") || r.stdout != "" {
			t.Errorf("%v: exit %d, %q %q; want %d and the flags named", args, r.exit, r.stdout, r.stderr, exitRejected)
		}
	}
	if !stillPending(t, path, 4) {
		t.Errorf("a refused reconcile closed attempts")
	}
}

// Attempts pending for less than --older-than are left open (they may still be in flight): the
// report says how many, which, and when a run could close them, instead of a bare "0 closed".
func TestReconcileSaysWhatItLeftOpen(t *testing.T) {
	path := seedAuditLog(t)
	dir := filepath.Dir(path)
	opened := time.Now().UTC().Truncate(time.Second)
	live := appendPending(t, path, opened)
	r := runAuditBinary(t, dir, nil, "reconcile", "--dsn", "sqlite:"+path)
	want := fmt.Sprintf("left open: 1 attempt pending for less than %s (attempt %d); run again after %s\n",
		scan.MaxCallDuration, live, opened.Add(scan.MaxCallDuration).Format(time.RFC3339))
	if r.exit != exitOK || !strings.Contains(r.stdout, "closed: attempt 4 as unknown") || !strings.Contains(r.stdout, want) {
		t.Errorf("reconcile: exit %d, %q %q; want attempt 4 closed and %q", r.exit, r.stdout, r.stderr, want)
	}
	if !stillPending(t, path, live) {
		t.Errorf("attempt %d, opened a moment ago, was closed", live)
	}
}

// A stranded outcome that disagrees with the outcome already recorded for its attempt is not
// a harmless repeat: the platform log and the audit log tell different stories. reconcile names
// the fields that differ and fails; the same outcome again is still only skipped.
func TestReconcileFromLogNamesADisagreement(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "audit.db")
	store, err := openAuditStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := store.Append(ctx, audit.Record{Trigger: audit.TriggerCLI, Actor: "ops", Action: audit.ActionCreateVulScanTask,
		Params: []byte(`{"LocalImageScanType":"ALL"}`), IdempotencyKey: "k", Outcome: audit.OutcomePending})
	if err != nil {
		t.Fatal(err)
	}
	recorded := pending
	recorded.ID, recorded.Hash, recorded.PrevHash = 0, "", ""
	recorded.PendingID, recorded.Outcome, recorded.LocalTaskID, recorded.TCSSRequestID = pending.ID, audit.OutcomeSucceeded, 36002, "req-9"
	if recorded, err = store.Append(ctx, recorded); err != nil {
		t.Fatal(err)
	}
	store.Close()
	reconcile := func(stranded audit.Record) (int, string, string) {
		var line strings.Builder
		if err := scan.WriteStranded(&line, stranded); err != nil {
			t.Fatal(err)
		}
		var out, errOut strings.Builder
		e := env2(nil, &out, &errOut)
		e.stdin = strings.NewReader(line.String())
		code := run(ctx, []string{"audit", "reconcile", "--from-log", "-", "--dsn", dsn}, e)
		return code, out.String(), errOut.String()
	}

	same := recorded
	same.ID, same.Hash, same.PrevHash = 0, "", ""
	if code, out, errOut := reconcile(same); code != exitOK || !strings.Contains(out, "skipped: attempt 1: already recorded as succeeded (record 2)") {
		t.Errorf("the recorded outcome again: exit %d, %q %q; want 0 and skipped", code, out, errOut)
	}
	other := same
	other.LocalTaskID, other.TCSSRequestID = 36003, "req-10"
	code, out, errOut := reconcile(other)
	want := "disagrees: attempt 1: the log's outcome differs from the one recorded (record 2) in local_task_id (36003 in the log, 36002 recorded), tcss_request_id (\"req-10\" in the log, \"req-9\" recorded)"
	if code != exitFailed || !strings.Contains(out, want) || !strings.Contains(errOut, "1 stranded outcome disagrees") {
		t.Errorf("a disagreeing outcome: exit %d, %q %q; want %d and %q", code, out, errOut, exitFailed, want)
	}
}

// A server's start closes the attempts left pending in the last week before it serves (a
// function's init has 10 s on SCF): thousands of them, closed one transaction each, took
// seconds on PostgreSQL. They are closed together, so the store's group commit writes many
// in each transaction; each attempt still gets exactly one closing record, and the chain verifies.
func TestReconcileClosesManyAttemptsInFewTransactions(t *testing.T) {
	const stale = 300
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			dir, dsn := seededLogOn(t, backend) // attempt 4 is pending already
			ctx := context.Background()
			store, err := openAuditStore(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			opened := time.Now().UTC().Add(-2 * time.Hour)
			for range stale - 1 {
				if _, err := store.Append(ctx, audit.Record{Time: opened, Trigger: audit.TriggerTimer, Actor: "system:timer/nightly",
					Action: audit.ActionCreateVulScanTask, Params: json.RawMessage(`{"LocalImageScanType":"ALL"}`), Outcome: audit.OutcomePending}); err != nil {
					t.Fatal(err)
				}
			}
			store.Close()
			r := runAuditBinary(t, dir, nil, "reconcile", "--dsn", dsn)
			if r.exit != exitOK || strings.Count(r.stdout, "closed: attempt ") != stale {
				t.Fatalf("reconcile: exit %d, %d closed, stderr %q; want %d", r.exit, strings.Count(r.stdout, "closed: attempt "), r.stderr, stale)
			}
			if again := runAuditBinary(t, dir, nil, "reconcile", "--dsn", dsn); again.exit != exitOK || strings.Contains(again.stdout, "closed:") {
				t.Errorf("a second reconcile: exit %d, %q; want nothing left to close", again.exit, again.stdout)
			}
			if v := runAuditBinary(t, dir, nil, "verify", "--dsn", dsn); v.exit != exitOK {
				t.Errorf("verify: exit %d, %q %q", v.exit, v.stdout, v.stderr)
			}
			driver, where := "postgres", dsn
			if backend == "sqlite" {
				driver, where = "sqlite", strings.TrimPrefix(dsn, "sqlite:")
			}
			db, err := sql.Open(driver, where)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var closings, attempts int
			if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT pending_id) FROM audit_log WHERE error_code = '`+audit.CodeNoOutcomeRecorded+`'`).Scan(&closings, &attempts); err != nil {
				t.Fatal(err)
			}
			if closings != stale || attempts != stale {
				t.Errorf("%d closing records for %d attempts; want one each for %d", closings, attempts, stale)
			}
			if backend != "postgres" {
				return
			}
			// Each row's xmin is the transaction that wrote it.
			var txs int
			if err := db.QueryRow(`SELECT COUNT(DISTINCT xmin::text) FROM audit_log WHERE error_code = '` + audit.CodeNoOutcomeRecorded + `'`).Scan(&txs); err != nil {
				t.Fatal(err)
			}
			if txs > stale/4 { // grouped: 5 to 10 here; one each (300) before
				t.Errorf("the %d closing records took %d transactions; want them grouped (at most %d)", stale, txs, stale/4)
			}
		})
	}
}
