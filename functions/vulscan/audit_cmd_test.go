package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"

	"github.com/vulscan/vulscan/internal/citest"
)

var auditT0 = time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)

// seedAuditLog writes four records to a new SQLite log and returns its path:
// 1 form pending (Mar 1), 2 form succeeded (Mar 2), 3 api rejected (Mar 2), 4 timer pending (Mar 3).
func seedAuditLog(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.db")
	store, err := openAuditStore(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	recs := []audit.Record{
		{Trigger: audit.TriggerForm, Actor: "alice", Outcome: audit.OutcomePending},
		{Trigger: audit.TriggerForm, Actor: "alice", Outcome: audit.OutcomeSucceeded, PendingID: 1, LocalTaskID: 36002},
		{Trigger: audit.TriggerAPI, Actor: "-2+3", Outcome: audit.OutcomeRejected, ErrorCode: "invalid"},
		{Trigger: audit.TriggerTimer, Actor: "system:timer/nightly", Outcome: audit.OutcomePending},
	}
	for i, r := range recs {
		r.Time = auditT0.Add(time.Duration(i) * 12 * time.Hour)
		r.Action = audit.ActionCreateVulScanTask
		r.Params = json.RawMessage(`{"LocalImageScanType":"ALL"}`)
		if _, err := store.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

type auditRun struct {
	exit           int
	stdout, stderr string
}

// runAuditBinary runs `vulscan audit args…` with only PATH and the given variables set, in dir.
func runAuditBinary(t *testing.T, dir string, vars []string, args ...string) auditRun {
	t.Helper()
	return runVulscanBinary(t, dir, vars, append([]string{"audit"}, args...)...)
}

// tamper runs SQL on the log as an attacker at a shell would, one who covers their tracks: the
// append-only triggers go first, and are put back after (as a server's open does), so that what
// verify finds is in the data alone. See dropGuards for one who leaves them dropped.
func tamper(t *testing.T, path, stmts string) {
	t.Helper()
	runSQLite(t, path, "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; "+stmts)
	store, err := openAuditStore(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
}

// runSQLite runs stmts on the log with the sqlite3 shell (.ci/run installs it), else through
// database/sql on the same file.
func runSQLite(t *testing.T, path, stmts string) {
	t.Helper()
	if shell, err := exec.LookPath("sqlite3"); err == nil {
		if out, err := exec.Command(shell, path, stmts).CombinedOutput(); err != nil {
			t.Fatalf("sqlite3: %v\n%s", err, out)
		}
		return
	}
	if citest.Set() {
		t.Fatal("the sqlite3 shell is missing; .ci/run installs it")
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmts); err != nil {
		t.Fatalf("tampering: %v", err)
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	path := seedAuditLog(t)
	dir := filepath.Dir(path)
	r := runAuditBinary(t, dir, []string{"VULSCAN_AUDIT_DSN=sqlite:" + path}, "verify")
	if r.exit != 0 || !strings.HasPrefix(r.stdout, "ok: 4 records\nanchor: 4:") {
		t.Fatalf("verify of a good log: exit %d\n%s%s", r.exit, r.stdout, r.stderr)
	}
	// The default DSN is a file in the working directory; a relative --dsn is read from there too.
	// The log is the database file with its write-ahead log, which SQLite keeps between runs.
	for _, suffix := range []string{"", "-wal"} {
		if err := os.Rename(path+suffix, filepath.Join(dir, "vulscan-audit.db"+suffix)); err != nil {
			t.Fatal(err)
		}
	}
	if r := runAuditBinary(t, dir, nil, "verify"); r.exit != 0 || !strings.HasPrefix(r.stdout, "ok: 4 records") {
		t.Errorf("verify with the default DSN: exit %d\n%s%s", r.exit, r.stdout, r.stderr)
	}
	if r := runAuditBinary(t, dir, []string{"VULSCAN_AUDIT_DSN=sqlite:elsewhere.db"}, "verify", "--dsn", "sqlite:vulscan-audit.db"); r.exit != 0 {
		t.Errorf("--dsn did not win over VULSCAN_AUDIT_DSN: exit %d\n%s%s", r.exit, r.stdout, r.stderr)
	}
}

// verify counts the records made against an emulator: the chain holds them like any other, but
// no scan of theirs ran on Tencent Cloud.
func TestAuditVerifyCommandCountsEmulatorRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	store, err := openAuditStore(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for i, endpoint := range []string{"emulator:http://127.0.0.1:9100", "tcss.tencentcloudapi.com", "emulator:http://127.0.0.1:9100", ""} {
		r := audit.Record{Time: auditT0.Add(time.Duration(i) * time.Minute), Trigger: audit.TriggerCLI, Actor: "alice",
			Action: audit.ActionCreateVulScanTask, Outcome: audit.OutcomePending, Endpoint: endpoint,
			Params: json.RawMessage(`{"LocalImageScanType":"ALL"}`)}
		if _, err := store.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	r := runAuditBinary(t, filepath.Dir(path), []string{"VULSCAN_AUDIT_DSN=sqlite:" + path}, "verify")
	if r.exit != 0 || !strings.Contains(r.stdout, "ok: 4 records\n") ||
		!strings.Contains(r.stdout, "\nemulator: 2 of the records were made against a TCSS emulator, not Tencent Cloud\n") {
		t.Fatalf("verify: exit %d\n%s%s; want ok with 2 emulator records counted", r.exit, r.stdout, r.stderr)
	}
	if r := runAuditBinary(t, filepath.Dir(path), nil, "verify", "--dsn", "sqlite:"+seedAuditLog(t)); strings.Contains(r.stdout, "emulator") {
		t.Errorf("a log without emulator records: %s", r.stdout)
	}
}

func TestAuditVerifyCommandNamesTheTamperedRecord(t *testing.T) {
	cases := []struct {
		name, sql, want string
	}{
		{"a row edited", `UPDATE audit_log SET actor = 'mallory' WHERE id = 2;`, "record 2 edited: "},
		{"a row deleted", `DELETE FROM audit_log WHERE id = 3;`, "record 3 missing: "},
		{"two rows swapped", `UPDATE audit_log SET id = -1 WHERE id = 2; UPDATE audit_log SET id = 2 WHERE id = 3;
			UPDATE audit_log SET id = 3 WHERE id = -1;`, "record 2 out of order: "},
		// IDs start at 1: a row below that was never written by vulscan, yet export lists it.
		{"a row inserted with ID 0", `INSERT INTO audit_log SELECT 0, time_ns, trigger_type, 'mallory', source_ip, user_agent,
			action, params, idempotency_key, outcome, pending_id, local_task_id, registry_task_id, tcss_request_id, error_code,
			error_message, function_request_id, endpoint, credential, access, related_id, prev_hash, hash
			FROM audit_log WHERE id = 2;`, "record 0 inserted: "},
		{"a row inserted with a negative ID", `INSERT INTO audit_log (id, time_ns, trigger_type, actor, outcome, prev_hash, hash)
			VALUES (-5, 1, 'cli', 'mallory', 'succeeded', '', '');`, "record -5 inserted: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := seedAuditLog(t)
			tamper(t, path, c.sql)
			r := runAuditBinary(t, filepath.Dir(path), nil, "verify", "--dsn", "sqlite:"+path)
			if r.exit != 1 || !strings.HasPrefix(r.stdout, c.want) {
				t.Errorf("exit %d, stdout %q; want 1 and %q…\n%s", r.exit, r.stdout, c.want, r.stderr)
			}
		})
	}
}

func TestAuditVerifyCommandChecksAnAnchor(t *testing.T) {
	path := seedAuditLog(t)
	dir, dsn := filepath.Dir(path), "sqlite:"+path
	first := runAuditBinary(t, dir, nil, "verify", "--dsn", dsn)
	anchor, ok := strings.CutPrefix(strings.Split(first.stdout, "\n")[1], "anchor: ")
	if first.exit != 0 || !ok {
		t.Fatalf("verify printed no anchor: exit %d\n%s", first.exit, first.stdout)
	}
	if r := runAuditBinary(t, dir, nil, "verify", "--dsn", dsn, "--anchor", anchor); r.exit != 0 ||
		!strings.Contains(r.stdout, "anchor "+anchor+": matched") {
		t.Fatalf("the log's own anchor was refused or not reported as matched: exit %d\n%s%s", r.exit, r.stdout, r.stderr)
	}
	// Cutting off the newest record leaves a valid chain; only the anchor shows it.
	tamper(t, path, `DELETE FROM audit_log WHERE id = 4;`)
	if r := runAuditBinary(t, dir, nil, "verify", "--dsn", dsn); r.exit != 0 {
		t.Fatalf("a truncated chain is valid in itself: exit %d\n%s", r.exit, r.stdout)
	}
	r := runAuditBinary(t, dir, nil, "verify", "--dsn", dsn, "--anchor", anchor)
	if r.exit != 1 || !strings.HasPrefix(r.stdout, "record 4 missing: ") {
		t.Errorf("truncation past the anchor: exit %d, stdout %q", r.exit, r.stdout)
	}
	// A chain rebuilt with fresh hashes no longer holds the anchored hash.
	if r := runAuditBinary(t, dir, nil, "verify", "--dsn", dsn, "--anchor", "3:"+strings.Repeat("a", 64)); r.exit != 1 ||
		!strings.HasPrefix(r.stdout, "record 3 rewritten: ") {
		t.Errorf("a hash the chain does not hold: exit %d, stdout %q", r.exit, r.stdout)
	}
	if r := runAuditBinary(t, dir, nil, "verify", "--dsn", dsn, "--anchor", "3:abc"); r.exit != 2 {
		t.Errorf("a malformed anchor: exit %d, want 2\n%s", r.exit, r.stderr)
	}
}

func TestAuditExportCommand(t *testing.T) {
	path := seedAuditLog(t)
	dsn := []string{"VULSCAN_AUDIT_DSN=sqlite:" + path}
	dir := filepath.Dir(path)

	exportedIDs := func(args ...string) []int64 {
		t.Helper()
		r := runAuditBinary(t, dir, dsn, append([]string{"export"}, args...)...)
		if r.exit != 0 {
			t.Fatalf("export %v: exit %d\n%s", args, r.exit, r.stderr)
		}
		ids := []int64{}
		for line := range strings.Lines(r.stdout) {
			var rec audit.Record
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("export %v: line %q: %v", args, line, err)
			}
			if rec.ComputeHash() != rec.Hash {
				t.Errorf("export %v: record %d does not match its hash", args, rec.ID)
			}
			ids = append(ids, rec.ID)
		}
		return ids
	}
	cases := []struct {
		args []string
		want []int64
	}{
		{nil, []int64{1, 2, 3, 4}},
		{[]string{"--format", "jsonl", "--outcome", "pending"}, []int64{1, 4}},
		{[]string{"--trigger", "form"}, []int64{1, 2}},
		{[]string{"--since", "2026-03-02", "--until", "2026-03-02"}, []int64{2, 3}},
		{[]string{"--since", "2026-03-02T10:00:00Z", "--until", "2026-03-02T22:00:00Z"}, []int64{2}},
		{[]string{"--actor", "alice", "--outcome", "succeeded"}, []int64{2}},
		{[]string{"--outcome", "failed"}, []int64{}},
		{[]string{"--task-id", "36002"}, []int64{2}},
	}
	for _, c := range cases {
		if got := exportedIDs(c.args...); !slices.Equal(got, c.want) {
			t.Errorf("export %v = records %v, want %v", c.args, got, c.want)
		}
	}

	r := runAuditBinary(t, dir, dsn, "export", "--format", "csv", "--trigger", "api")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if r.exit != 0 || err != nil || len(rows) != 2 {
		t.Fatalf("csv export: exit %d, %v\n%s%s", r.exit, err, r.stdout, r.stderr)
	}
	if rows[0][0] != "id" || rows[1][0] != "3" || rows[1][3] != "'-2+3" || rows[1][9] != "rejected" {
		t.Errorf("csv export = %q, want record 3 with the formula-like actor neutralised", rows)
	}
}

// The CSV export's apostrophe, which keeps a formula-like cell from running in a spreadsheet, is
// reversible: an actor that starts with an apostrophe gets one too, so that no two actors export
// as the same cell.
func TestAuditExportCSVKeepsActorsApart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	store, err := openAuditStore(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	actors := []string{"=1+1", "'=1+1", "'alice", "alice"}
	for i, actor := range actors {
		r := audit.Record{Time: auditT0.Add(time.Duration(i) * time.Minute), Trigger: audit.TriggerCLI, Actor: actor,
			Action: audit.ActionCreateVulScanTask, Outcome: audit.OutcomeRejected, Params: json.RawMessage(`{}`)}
		if _, err := store.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	r := runAuditBinary(t, filepath.Dir(path), nil, "export", "--format", "csv", "--dsn", "sqlite:"+path)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if r.exit != 0 || err != nil || len(rows) != len(actors)+1 {
		t.Fatalf("csv export: exit %d, %v\n%s%s", r.exit, err, r.stdout, r.stderr)
	}
	want := []string{"'=1+1", "''=1+1", "''alice", "alice"}
	for i, w := range want {
		if got := rows[i+1][3]; got != w {
			t.Errorf("actor %q exported as %q, want %q", actors[i], got, w)
		}
	}
}

func TestAuditCommandRefusesBadInput(t *testing.T) {
	path := seedAuditLog(t)
	dsn := []string{"VULSCAN_AUDIT_DSN=sqlite:" + path}
	dir := filepath.Dir(path)
	cases := []struct {
		args []string
		exit int
		msg  string
	}{
		{nil, 2, "usage:"},
		{[]string{"rewrite"}, 2, `unknown subcommand "rewrite"`},
		{[]string{"verify", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"verify", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"export", "--format", "xml"}, 2, `unknown export format "xml"`},
		{[]string{"export", "--since", "yesterday"}, 2, "--since: bad time"},
		{[]string{"export", "--until", "2026-02-30"}, 2, "--until: bad time"},
		{[]string{"export", "--since", "2026-12-05", "--until", "2026-12-01"}, 2, "--since 2026-12-05 is not before --until 2026-12-01"},
		{[]string{"export", "--since", "2026-03-02T10:00:00Z", "--until", "2026-03-02T10:00:00Z"}, 2, "--since 2026-03-02T10:00:00Z is not before --until"},
		{[]string{"export", "--outcome", "done"}, 2, `--outcome: unknown outcome "done"`},
		{[]string{"export", "--trigger", "cron"}, 2, `--trigger: unknown trigger "cron"`},
		{[]string{"verify", "--dsn", "sqlite:" + filepath.Join(dir, "none.db")}, 1, "no audit log at"},
		{[]string{"verify", "--dsn", "mysql://root:hunter2@db/audit"}, 1, "unsupported audit DSN (mysql)"},
	}
	for _, c := range cases {
		r := runAuditBinary(t, dir, dsn, c.args...)
		if r.exit != c.exit || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("audit %v: exit %d, stderr %q; want %d and %q", c.args, r.exit, r.stderr, c.exit, c.msg)
		}
		if strings.Contains(r.stderr, "hunter2") {
			t.Errorf("audit %v printed the DSN's password: %s", c.args, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); !os.IsNotExist(err) {
		t.Errorf("verify of a missing log created it: %v", err)
	}
}

func TestOpenAuditStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Chdir(dir)
	s, err := openAuditStore(ctx, "sqlite:rel.db")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, "rel.db")); err != nil {
		t.Errorf("sqlite:rel.db is not in the working directory: %v", err)
	}
	for _, bad := range []string{"sqlite:", "sqlite:missing/dir/a.db", "mysql://u:secret@h/db", "u:secret@h", "secret", ""} {
		s, err := openAuditStore(ctx, bad)
		if err == nil {
			s.Close()
			t.Errorf("openAuditStore(%q) succeeded", bad)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("openAuditStore(%q) error shows the secret: %v", bad, err)
		}
	}
	u, err := url.Parse(sqlstoretest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, scheme := range []string{"postgres", "postgresql"} {
		u.Scheme = scheme
		s, err := openAuditStore(ctx, u.String())
		if err != nil {
			t.Errorf("openAuditStore(%s…): %v", scheme, err)
			continue
		}
		if _, err := s.Verify(ctx); err != nil {
			t.Errorf("%s store: Verify: %v", scheme, err)
		}
		s.Close()
	}
}

// keygen's two lines are an env file: scans sign checkpoints with the first, verify --key checks
// them with the second and names a cut-off chain and a forged checkpoint.
func TestSignedCheckpointsEndToEnd(t *testing.T) {
	f := newCLIFixture(t)
	gen := runAuditBinary(t, f.dir, nil, "keygen")
	lines := strings.Split(strings.TrimSpace(gen.stdout), "\n")
	if gen.exit != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "VULSCAN_AUDIT_SIGNING_KEY=") || !strings.HasPrefix(lines[1], "VULSCAN_AUDIT_VERIFY_KEY=") {
		t.Fatalf("keygen: exit %d, %q", gen.exit, gen.stdout)
	}
	signing, verify := lines[0], lines[1]
	for range 3 {
		if r := f.run(t, []string{signing}, "--LocalImageScanType", "ALL"); r.exit != exitOK {
			t.Fatalf("scan: exit %d: %s", r.exit, r.stderr)
		}
	}
	env := append(append([]string{}, f.env...), signing)
	// The first record got a checkpoint by itself (none before); one more on demand covers all six.
	if r := runAuditBinary(t, f.dir, env, "checkpoint"); r.exit != 0 || !strings.HasPrefix(r.stdout, "checkpoint 2: records up to 6") {
		t.Fatalf("checkpoint: exit %d, %q %q", r.exit, r.stdout, r.stderr)
	}
	verifyEnv := append(append([]string{}, f.env...), verify)
	r := runAuditBinary(t, f.dir, verifyEnv, "verify")
	if r.exit != 0 || !strings.Contains(r.stdout, "checkpoints: 2 good; the newest covers records up to 6") ||
		!strings.Contains(r.stdout, "0 records stand after it") {
		t.Fatalf("verify --key: exit %d, %q %q", r.exit, r.stdout, r.stderr)
	}
	if r := runAuditBinary(t, f.dir, f.env, "verify", "--key", strings.TrimPrefix(verify, "VULSCAN_AUDIT_VERIFY_KEY=")); r.exit != 0 {
		t.Errorf("verify with --key: exit %d, %q", r.exit, r.stdout)
	}
	// Both keys are 32 bytes of base64: the signing key given by mistake is named as such.
	r = runAuditBinary(t, f.dir, f.env, "verify", "--key", strings.TrimPrefix(signing, "VULSCAN_AUDIT_SIGNING_KEY="))
	if r.exit != 1 || !strings.Contains(r.stdout, "the key given is its signing key (VULSCAN_AUDIT_SIGNING_KEY), not its verify key: give "+verify+",") {
		t.Errorf("verify --key with the signing key: exit %d, %q", r.exit, r.stdout)
	}

	path := filepath.Join(f.dir, "audit.db")
	tamper(t, path, `DELETE FROM audit_log WHERE id = 6;`)
	r = runAuditBinary(t, f.dir, verifyEnv, "verify")
	if r.exit != 1 || !strings.Contains(r.stdout, "checkpoint 2 truncated: it covers records up to 6") {
		t.Errorf("verify after cutting record 6: exit %d, %q", r.exit, r.stdout)
	}
	tamper(t, path, `DROP TRIGGER audit_checkpoints_no_update; UPDATE audit_checkpoints SET head_id = 5, records = 5 WHERE seq = 2;`)
	r = runAuditBinary(t, f.dir, verifyEnv, "verify")
	if r.exit != 1 || !strings.Contains(r.stdout, "checkpoint 2 forged") {
		t.Errorf("verify after editing checkpoint 2: exit %d, %q", r.exit, r.stdout)
	}
}

// Both keys are 32 bytes of base64, so the verify key given as VULSCAN_AUDIT_SIGNING_KEY parses;
// beside an equal VULSCAN_AUDIT_VERIFY_KEY it is refused, by checkpoint and at a start alike.
func TestTheVerifyKeyGivenAsTheSigningKeyIsRefused(t *testing.T) {
	f := newCLIFixture(t)
	if r := f.run(t, nil, "--LocalImageScanType", "ALL"); r.exit != exitOK {
		t.Fatalf("scan: exit %d: %s", r.exit, r.stderr)
	}
	gen := runAuditBinary(t, f.dir, nil, "keygen")
	verify := strings.TrimPrefix(strings.Split(strings.TrimSpace(gen.stdout), "\n")[1], "VULSCAN_AUDIT_VERIFY_KEY=")
	keys := append(append([]string{}, f.env...), "VULSCAN_AUDIT_SIGNING_KEY="+verify, "VULSCAN_AUDIT_VERIFY_KEY="+verify)
	want := "VULSCAN_AUDIT_SIGNING_KEY is the verify key (it equals VULSCAN_AUDIT_VERIFY_KEY)"
	if r := runAuditBinary(t, f.dir, keys, "checkpoint"); r.exit != exitRejected || !strings.Contains(r.stderr, want) {
		t.Errorf("checkpoint: exit %d, %q %q; want %d and %q", r.exit, r.stdout, r.stderr, exitRejected, want)
	}
	// A server that started would serve for ever: the deadline turns that into a failure.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, vulscanBinary(t))
	cmd.Env = append(keys, "VULSCAN_ADDR=127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	var exitErr *exec.ExitError
	if err := cmd.Run(); !errors.As(err, &exitErr) || ctx.Err() != nil || !strings.Contains(stderr.String(), want) {
		t.Errorf("HTTP mode: %v, stderr %q; want it to stop at start with %q", err, stderr.String(), want)
	}
}

// Every record is also a witness line in the process's logs; verify --witness compares an export
// of them with the store and names what one side lacks.
func TestWitnessEndToEnd(t *testing.T) {
	f := newCLIFixture(t)
	var logs strings.Builder
	for range 3 {
		r := f.run(t, nil, "--LocalImageScanType", "ALL")
		if r.exit != exitOK {
			t.Fatalf("scan: exit %d: %s", r.exit, r.stderr)
		}
		logs.WriteString(r.stderr) // the CLI's witness goes with its logs; SCF's with stdout
	}
	lines := strings.SplitAfter(logs.String(), "\n")
	var witness []string
	for _, l := range lines {
		if strings.Contains(l, `{"witness":"vulscan-audit/v1"`) {
			witness = append(witness, "2026-12-03T10:00:00Z\tINFO\t"+l) // as a log service prefixes it
		}
	}
	if len(witness) != 6 {
		t.Fatalf("%d witness lines, want 6 (3 attempts, 2 records each):\n%s", len(witness), logs.String())
	}
	write := func(lines []string) string {
		path := filepath.Join(t.TempDir(), "witness.log")
		if err := os.WriteFile(path, []byte("unrelated log line\n"+strings.Join(lines, "")), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if r := runAuditBinary(t, f.dir, f.env, "verify", "--witness", write(witness)); r.exit != 0 || !strings.Contains(r.stdout, "witness: all 6 records match") {
		t.Fatalf("verify --witness: exit %d, %q %q", r.exit, r.stdout, r.stderr)
	}
	// Each instance has a log stream of its own: an export of several need not be in ID order.
	reversed := slices.Clone(witness)
	slices.Reverse(reversed)
	if r := runAuditBinary(t, f.dir, f.env, "verify", "--witness", write(reversed)); r.exit != 0 || !strings.Contains(r.stdout, "witness: all 6 records match") {
		t.Errorf("verify --witness with the lines newest first: exit %d, %q %q", r.exit, r.stdout, r.stderr)
	}
	without4 := append(append([]string{}, witness[:3]...), witness[4:]...)
	if r := runAuditBinary(t, f.dir, f.env, "verify", "--witness", write(without4)); r.exit != 1 ||
		!strings.Contains(r.stdout, "witness: record 4 is in the store but missing from the witness") {
		t.Errorf("verify with line 4 removed: exit %d, %q", r.exit, r.stdout)
	}
	// A log service keeps the witness for its retention: an export of the last days starts
	// after the log does, and the older records are no finding.
	if r := runAuditBinary(t, f.dir, f.env, "verify", "--witness", write(witness[2:])); r.exit != 0 ||
		!strings.Contains(r.stdout, "witness: the 2 records before record 3 are older than the witness") ||
		!strings.Contains(r.stdout, "witness: all 4 records from record 3 on match") {
		t.Errorf("verify with the witness of records 3-6: exit %d, %q", r.exit, r.stdout)
	}
	tamper(t, filepath.Join(f.dir, "audit.db"), `DELETE FROM audit_log WHERE id = 6;`)
	if r := runAuditBinary(t, f.dir, f.env, "verify", "--witness", write(witness)); r.exit != 1 ||
		!strings.Contains(r.stdout, "witness: record 6 is in the witness but missing from the store") {
		t.Errorf("verify after deleting record 6: exit %d, %q", r.exit, r.stdout)
	}
}

// audit migrate copies a SQLite log to PostgreSQL with its IDs, hashes and checkpoints: the copy
// verifies, with the same anchor, and its checkpoints still check against the key.
func TestAuditMigrateToPostgres(t *testing.T) {
	f := newCLIFixture(t)
	gen := runAuditBinary(t, f.dir, nil, "keygen")
	keys := strings.Split(strings.TrimSpace(gen.stdout), "\n")
	for range 3 {
		if r := f.run(t, []string{keys[0]}, "--LocalImageScanType", "ALL"); r.exit != exitOK {
			t.Fatalf("scan: exit %d: %s", r.exit, r.stderr)
		}
	}
	source := runAuditBinary(t, f.dir, f.env, "verify")
	pg := sqlstoretest.PostgresDSN(t)
	r := runAuditBinary(t, f.dir, f.env, "migrate", "--from", "sqlite:"+filepath.Join(f.dir, "audit.db"), "--to", pg)
	if r.exit != 0 || !strings.HasPrefix(r.stdout, "copied 6 records and 1 checkpoints; the copy verifies: ok: 6 records") {
		t.Fatalf("migrate: exit %d, %q %q", r.exit, r.stdout, r.stderr)
	}
	copied := runAuditBinary(t, f.dir, append(append([]string{}, f.env...), keys[1]), "verify", "--dsn", pg)
	anchor := strings.SplitN(source.stdout, "\n", 3)[1]
	if copied.exit != 0 || !strings.Contains(copied.stdout, anchor) || !strings.Contains(copied.stdout, "checkpoints: 1 good") {
		t.Errorf("verify of the copy: exit %d, %q; want the source's %q and a good checkpoint", copied.exit, copied.stdout, anchor)
	}
	again := runAuditBinary(t, f.dir, f.env, "migrate", "--from", "sqlite:"+filepath.Join(f.dir, "audit.db"), "--to", pg)
	if again.exit != 1 || !strings.Contains(again.stderr, "not empty") {
		t.Errorf("migrate into a full log: exit %d, %q", again.exit, again.stderr)
	}
}

// audit migrate copies nothing from a log that does not verify, so the target stays empty and
// usable; a target holding records is refused with a message that says what to do.
func TestAuditMigrateRefusesAnEditedSource(t *testing.T) {
	f := newCLIFixture(t)
	for range 3 {
		if r := f.run(t, nil, "--LocalImageScanType", "ALL"); r.exit != exitOK {
			t.Fatalf("scan: exit %d: %s", r.exit, r.stderr)
		}
	}
	source := filepath.Join(f.dir, "audit.db")
	migrate := func(target string) auditRun {
		return runAuditBinary(t, f.dir, f.env, "migrate", "--from", "sqlite:"+source, "--to", "sqlite:"+filepath.Join(f.dir, target))
	}
	if ok := migrate("copy.db"); ok.exit != 0 {
		t.Fatalf("migrate: exit %d, %q", ok.exit, ok.stderr)
	}
	again := migrate("copy.db")
	if again.exit != exitFailed || !strings.Contains(again.stderr, "holds records up to 6") || strings.Contains(again.stderr, "<nil>") {
		t.Errorf("migrate into a full log: exit %d, %q", again.exit, again.stderr)
	}

	tamper(t, source, `UPDATE audit_log SET actor = 'mallory' WHERE id = 4;`)
	r := migrate("edited-copy.db")
	if r.exit != exitFailed || !strings.Contains(r.stderr, "does not verify") || !strings.Contains(r.stderr, "nothing copied") {
		t.Fatalf("migrate of an edited log: exit %d, %q", r.exit, r.stderr)
	}
	target := "sqlite:" + filepath.Join(f.dir, "edited-copy.db")
	if v := runAuditBinary(t, f.dir, f.env, "verify", "--dsn", target); v.exit != 0 || !strings.Contains(v.stdout, "ok: 0 records") {
		t.Errorf("the target after the refusal: exit %d, %q %q; want an empty log", v.exit, v.stdout, v.stderr)
	}
}

// Someone who drops the append-only guards and leaves them dropped: verify says so and fails,
// but leaves the log as it found it (a verifier alters no evidence); export still exports, with a
// warning; the next command that writes puts the guards back and warns, naming them.
// seededLogOn seeds a four-record log (seedAuditLog) on backend, "sqlite" or "postgres" (copied
// there with audit migrate), and returns the directory to run in and the log's DSN.
func seededLogOn(t *testing.T, backend string) (dir, dsn string) {
	t.Helper()
	path := seedAuditLog(t)
	dir, dsn = filepath.Dir(path), "sqlite:"+path
	if backend == "postgres" {
		dsn = sqlstoretest.PostgresDSN(t)
		if r := runAuditBinary(t, dir, nil, "migrate", "--from", "sqlite:"+path, "--to", dsn); r.exit != 0 {
			t.Fatalf("copying the log to PostgreSQL: exit %d, %s%s", r.exit, r.stdout, r.stderr)
		}
	}
	return dir, dsn
}

func TestAuditVerifyNamesMissingGuards(t *testing.T) {
	cases := []struct {
		name, backend string
		drop          []string // the guards dropped, or made to refuse nothing by tamper
		tamper        []string // statements that disarm the guards without dropping them
	}{
		{"sqlite, every guard", "sqlite", []string{"audit_log_no_update", "audit_log_no_delete", "audit_checkpoints_no_update", "audit_checkpoints_no_delete"}, nil},
		{"sqlite, the checkpoints' only", "sqlite", []string{"audit_checkpoints_no_update", "audit_checkpoints_no_delete"}, nil},
		{"postgres, every guard", "postgres", []string{"audit_log_no_change", "audit_log_no_truncate", "audit_checkpoints_no_change", "audit_checkpoints_no_truncate"}, nil},
		{"postgres, the log's truncate guard only", "postgres", []string{"audit_log_no_truncate"}, nil},
		// A guard of the right name that refuses nothing is no guard: the name alone proves nothing.
		{"sqlite, a guard re-created to refuse nothing", "sqlite", []string{"audit_log_no_delete"},
			[]string{`DROP TRIGGER audit_log_no_delete`, `CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
				WHEN 0 BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`}},
		{"postgres, a guard firing in replica sessions only", "postgres", []string{"audit_log_no_change"},
			[]string{`ALTER TABLE audit_log ENABLE REPLICA TRIGGER audit_log_no_change`}},
		{"postgres, a guard re-created for INSERT only", "postgres", []string{"audit_log_no_change"},
			[]string{`CREATE OR REPLACE TRIGGER audit_log_no_change AFTER INSERT ON audit_log FOR EACH ROW WHEN (false)
				EXECUTE FUNCTION audit_log_append_only()`}},
		{"postgres, the guards' function replaced to raise nothing", "postgres",
			[]string{"audit_log_no_change", "audit_log_no_truncate", "audit_checkpoints_no_change", "audit_checkpoints_no_truncate"},
			[]string{`CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir, dsn := seededLogOn(t, c.backend)
			if c.tamper == nil {
				dropGuards(t, c.backend, dsn, c.drop)
			} else {
				execOn(t, c.backend, dsn, c.tamper)
			}
			want := "guards missing: " + strings.Join(c.drop, ", ") + "."
			for range 2 { // the second run finds them missing still: the first changed nothing
				r := runAuditBinary(t, dir, nil, "verify", "--dsn", dsn)
				if r.exit != 1 || !strings.HasPrefix(r.stdout, "ok: 4 records\n"+want) {
					t.Fatalf("verify: exit %d, %q %q; want 1 and %q", r.exit, r.stdout, r.stderr, want)
				}
			}
			if r := runAuditBinary(t, dir, nil, "export", "--dsn", dsn); r.exit != 0 || strings.Count(r.stdout, "\n") != 4 ||
				!strings.Contains(r.stderr, "warning: "+want) {
				t.Errorf("export: exit %d, %d lines, stderr %q; want 0, 4 records and a warning", r.exit, strings.Count(r.stdout, "\n"), r.stderr)
			}
			r := runAuditBinary(t, dir, nil, "reconcile", "--dsn", dsn)
			if r.exit != 0 || !strings.Contains(r.stderr, "append-only guards were missing") || !strings.Contains(r.stderr, strings.Join(c.drop, ",")) {
				t.Errorf("reconcile (it writes): exit %d, stderr %q; want a warning naming %v", r.exit, r.stderr, c.drop)
			}
			if r := runAuditBinary(t, dir, nil, "verify", "--dsn", dsn); r.exit != 0 || strings.Contains(r.stdout, "guards") {
				t.Errorf("verify after a writing open put the guards back: exit %d, %q", r.exit, r.stdout)
			}
		})
	}
}

// audit migrate reads its source as verify does: guards found missing there stay missing (the
// evidence verify reports), and a source without them is refused, naming them, with nothing
// copied: its records may have been changed while the guards were down.
func TestAuditMigrateRefusesASourceWithMissingGuards(t *testing.T) {
	cases := []struct {
		name, backend string
		drop          []string
	}{
		{"sqlite", "sqlite", []string{"audit_log_no_update", "audit_log_no_delete"}},
		{"postgres", "postgres", []string{"audit_checkpoints_no_truncate"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir, dsn := seededLogOn(t, c.backend)
			dropGuards(t, c.backend, dsn, c.drop)
			want := "guards missing: " + strings.Join(c.drop, ", ") + "."
			target := filepath.Join(dir, "copy.db")
			r := runAuditBinary(t, dir, nil, "migrate", "--from", dsn, "--to", "sqlite:"+target)
			if r.exit != exitFailed || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "nothing copied") {
				t.Errorf("migrate: exit %d, %q %q; want %d, %q and nothing copied", r.exit, r.stdout, r.stderr, exitFailed, want)
			}
			if v := runAuditBinary(t, dir, nil, "verify", "--dsn", dsn); v.exit != exitFailed || !strings.Contains(v.stdout, want) {
				t.Errorf("verify of the source after migrate: exit %d, %q; want the guards still reported missing", v.exit, v.stdout)
			}
			if _, err := os.Stat(target); !os.IsNotExist(err) {
				t.Errorf("the refused migrate created its target: %v", err)
			}
		})
	}
}

// dropGuards drops the named append-only triggers as someone with the database's credentials
// would, and leaves them dropped.
func dropGuards(t *testing.T, backend, dsn string, names []string) {
	t.Helper()
	var stmts []string
	for _, name := range names {
		switch {
		case backend == "sqlite":
			stmts = append(stmts, "DROP TRIGGER "+name)
		case strings.HasPrefix(name, "audit_checkpoints_"):
			stmts = append(stmts, "DROP TRIGGER "+name+" ON audit_checkpoints")
		default:
			stmts = append(stmts, "DROP TRIGGER "+name+" ON audit_log")
		}
	}
	execOn(t, backend, dsn, stmts)
}

// execOn runs stmts on the log at dsn as someone with the database's credentials would.
func execOn(t *testing.T, backend, dsn string, stmts []string) {
	t.Helper()
	if backend == "sqlite" {
		runSQLite(t, strings.TrimPrefix(dsn, "sqlite:"), strings.Join(stmts, "; ")+";")
		return
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// A newer vulscan reading a log an older one wrote (a laptop's CLI against a function not yet
// upgraded) refuses it, saying how to read it, and leaves the file as it was: a verifier changes
// nothing, and an auditor may hold only read access.
func TestAuditVerifyLeavesALogAnOlderVulscanWroteAsItIs(t *testing.T) {
	old, err := os.ReadFile(filepath.Join("..", "audit", "sqlstore", "testdata", "main-22761e8.db"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "old.db")
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runAuditBinary(t, dir, nil, "verify", "--dsn", "sqlite:"+path)
	if r.exit != exitFailed || r.stdout != "" || !strings.Contains(r.stderr, "reading it does not migrate it") {
		t.Errorf("verify of an older log: exit %d, %q %q; want %d and a refusal", r.exit, r.stdout, r.stderr, exitFailed)
	}
	if now, err := os.ReadFile(path); err != nil || !bytes.Equal(now, old) {
		t.Errorf("verify changed the older log (%v)", err)
	}
	// The advice names commands that exist, and following it makes the log readable.
	if strings.Contains(r.stderr, "vulscan serve") || !strings.Contains(r.stderr, "vulscan audit reconcile") {
		t.Errorf("verify's advice: %q; want vulscan audit reconcile and no command vulscan lacks", r.stderr)
	}
	if w := runAuditBinary(t, dir, nil, "reconcile", "--dsn", "sqlite:"+path); w.exit != exitOK {
		t.Fatalf("reconcile, as advised: exit %d, %q %q", w.exit, w.stdout, w.stderr)
	}
	if v := runAuditBinary(t, dir, nil, "verify", "--dsn", "sqlite:"+path); v.exit != exitOK || !strings.HasPrefix(v.stdout, "ok: ") {
		t.Errorf("verify after the advised reconcile: exit %d, %q %q", v.exit, v.stdout, v.stderr)
	}
}

// Someone deletes schema_migrations' newest row: the tables still carry the newest schema, but
// the log claims an older one. The commands that only read the log (verify, export, schedules,
// migrate's source) report it and fail; none migrates the log, which would put the row back and
// hide what was done to it.
func TestReadOnlyCommandsDoNotMigrateALogMissingASchemaRow(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			dir, dsn := seededLogOn(t, backend)
			execOn(t, backend, dsn, []string{`DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)`})
			vars := []string{"VULSCAN_SCHEDULES=nightly=0 0 2 * * * *"}
			for _, args := range [][]string{
				{"audit", "verify", "--dsn", dsn},
				{"audit", "export", "--dsn", dsn},
				{"schedules", "--dsn", dsn},
				{"audit", "migrate", "--from", dsn, "--to", "sqlite:" + filepath.Join(dir, "copy.db")},
			} {
				r := runVulscanBinary(t, dir, vars, args...)
				if r.exit != exitFailed || !strings.Contains(r.stderr, "rows of schema_migrations were deleted") || strings.Contains(r.stderr, "migrating") {
					t.Errorf("%v: exit %d, %q %q; want %d and the finding", args, r.exit, r.stdout, r.stderr, exitFailed)
				}
			}
			if n := schemaRows(t, backend, dsn); n != 6 {
				t.Errorf("schema_migrations holds %d rows after the reads; want the 6 left by the deletion", n)
			}
		})
	}
}

// runVulscanBinary runs `vulscan args…` with only PATH and the given variables set, in dir.
func runVulscanBinary(t *testing.T, dir string, vars []string, args ...string) auditRun {
	t.Helper()
	cmd := exec.Command(vulscanBinary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, vars...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := auditRun{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.exit = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("running vulscan: %v", err)
	}
	return r
}

// schemaRows counts the rows of the log's schema_migrations.
func schemaRows(t *testing.T, backend, dsn string) int {
	t.Helper()
	driver, where := "postgres", dsn
	if backend == "sqlite" {
		driver, where = "sqlite", strings.TrimPrefix(dsn, "sqlite:")
	}
	db, err := sql.Open(driver, where)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Every audit subcommand prints its help on stdout (exit 0), as `vulscan audit --help` does, and
// a bad flag as one line on stderr (exit 2) rather than that line followed by the whole usage.
func TestAuditSubcommandHelpAndBadFlags(t *testing.T) {
	for _, tt := range []struct {
		args       []string
		wantExit   int
		wantStdout string
		wantStderr string
	}{
		{[]string{"verify", "--help"}, exitOK, "  vulscan audit verify [--anchor ID:HASH]", ""},
		{[]string{"export", "-h"}, exitOK, "  vulscan audit export [--format jsonl|csv]", ""},
		{[]string{"reconcile", "--help"}, exitOK, "  vulscan audit reconcile [--older-than DURATION]", ""},
		{[]string{"migrate", "--help"}, exitOK, "  vulscan audit migrate --from DSN --to DSN", ""},
		{[]string{"keygen", "--help"}, exitOK, "  vulscan audit keygen", ""},
		{[]string{"reconcile", "--older-than", "1x"}, exitRejected, "",
			"vulscan audit reconcile: invalid value \"1x\" for flag -older-than: parse error (vulscan audit reconcile --help lists the flags)\n"},
		{[]string{"export", "--actor"}, exitRejected, "",
			"vulscan audit export: flag needs an argument: -actor (vulscan audit export --help lists the flags)\n"},
		{[]string{"export", "--task-id", "abc"}, exitRejected, "",
			"vulscan audit export: invalid value \"abc\" for flag -task-id: parse error (vulscan audit export --help lists the flags)\n"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			e, stdout, stderr := testEnv("", nil)
			if code := runAudit(context.Background(), tt.args, e); code != tt.wantExit {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.wantExit, stdout, stderr)
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) || (tt.wantStdout == "") != (stdout.Len() == 0) {
				t.Errorf("stdout %q, want %q", stdout, tt.wantStdout)
			}
			if stderr.String() != tt.wantStderr {
				t.Errorf("stderr %q, want %q", stderr, tt.wantStderr)
			}
		})
	}
}

// `vulscan audit verify` on a log it cannot open says why; it asks "is there an audit log here?"
// only of a database it reached that holds none, not of a PostgreSQL server that is down, where
// the question sent the operator on call looking for a wrong DSN instead of the outage.
func TestAuditVerifyOnALogItCannotOpen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close() // nothing listens there now: a server that is down
	empty := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dsn, want string
		hint            bool
	}{
		{"PostgreSQL down", "postgres://vulscan:pw@" + down + "/vulscan?sslmode=disable&connect_timeout=5", "refused", false},
		{"a database with no log", "sqlite:" + empty, "no such table", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			code := run(context.Background(), []string{"audit", "verify", "--dsn", tc.dsn}, env2(nil, &out, &errOut))
			msg := errOut.String()
			if code != exitFailed || !strings.Contains(msg, tc.want) || strings.Contains(msg, "is there an audit log here?") != tc.hint {
				t.Errorf("exit %d: %q; want exit %d naming %q, asking whether there is a log: %v", code, msg, exitFailed, tc.want, tc.hint)
			}
		})
	}
}

// A command that writes meets a log whose schema_migrations lost rows: the newest (the tables
// still carry that migration, so running it again changes nothing) or one below the newest. It
// refuses, with the read-only commands' words, and leaves the rows as the deletion did: putting
// them back would erase the evidence. The read-only commands refuse a lost row below the newest
// too.
func TestWritersDoNotPutBackDeletedSchemaRows(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, tc := range []struct {
			name, deleted string
			readersToo    bool
		}{
			{"the newest row", `(SELECT max(version) FROM schema_migrations)`, false},
			{"a row below the newest", `5`, true},
		} {
			t.Run(backend+", "+tc.name, func(t *testing.T) {
				t.Parallel()
				dir, dsn := seededLogOn(t, backend)
				execOn(t, backend, dsn, []string{`DELETE FROM schema_migrations WHERE version = ` + tc.deleted})
				cmds := [][]string{
					{"audit", "reconcile", "--dsn", dsn},
					{"scan", "--dsn", dsn, "--LocalImageScanType", "ALL"},
				}
				if tc.readersToo {
					cmds = append(cmds, []string{"audit", "verify", "--dsn", dsn})
				}
				vars := []string{"VULSCAN_TCSS_ENDPOINT=emulator", "VULSCAN_AUDIT_WITNESS=off"}
				for _, args := range cmds {
					r := runVulscanBinary(t, dir, vars, args...)
					if r.exit != exitFailed || !strings.Contains(r.stderr, "rows of schema_migrations were deleted") {
						t.Errorf("%v: exit %d, %q %q; want %d and the finding", args, r.exit, r.stdout, r.stderr, exitFailed)
					}
				}
				if n := schemaRows(t, backend, dsn); n != 6 {
					t.Errorf("schema_migrations holds %d rows after the writers; want the 6 left by the deletion", n)
				}
			})
		}
	}
}
