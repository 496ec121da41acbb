package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

func TestSchedulesCommand(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "audit.db")
	store, err := openAuditStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	run := func(at time.Time, task int64) {
		open, err := store.Append(ctx, audit.Record{Time: at, Trigger: audit.TriggerTimer, Actor: "system:timer/nightly",
			Action: audit.ActionCreateVulScanTask, Params: json.RawMessage(`{}`), Outcome: audit.OutcomePending})
		if err != nil {
			t.Fatal(err)
		}
		done := open
		done.ID, done.PrevHash, done.Hash, done.PendingID, done.Outcome, done.LocalTaskID = 0, "", "", open.ID, audit.OutcomeSucceeded, task
		if _, err := store.Append(ctx, done); err != nil {
			t.Fatal(err)
		}
	}
	run(time.Date(2026, 12, 3, 2, 0, 3, 0, time.UTC), 36001)
	run(time.Date(2026, 12, 5, 2, 0, 3, 0, time.UTC), 36002)
	store.Close()
	defer func(f func() time.Time) { schedulesNow = f }(schedulesNow)

	for _, tt := range []struct {
		name     string
		now      time.Time
		schedule string
		wantExit int
		want     []string
		stderr   string
	}{
		{"a missed night", time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC), "nightly=0 0 2 * * * *", exitFailed, []string{
			"nightly (0 0 2 * * * *)",
			"  next run: 2026-12-06 02:00:00 UTC",
			"  MISSED: No run recorded for 2026-12-04 02:00 UTC.",
			"  run 2026-12-05 02:00:03 UTC: attempt 3 succeeded local task 36002",
			"  run 2026-12-03 02:00:03 UTC: attempt 1 succeeded local task 36001",
		}, ""},
		{"nothing missed", time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC), "nightly=0 0 2 * * * *", exitOK, []string{
			"  next run: 2026-12-04 02:00:00 UTC",
		}, ""},
		{"no schedules", time.Now(), "", exitOK, []string{"No schedules are configured"}, ""},
		{"a bad setting", time.Now(), "nightly=0 0 2 * * *", exitRejected, nil, "6 fields"},
		{"SCF's last day of the month", time.Now(), "monthend=0 0 2 L * * *", exitRejected, nil,
			`day of month: "L": SCF's L (last), W (nearest weekday) and # (nth weekday) are not supported`},
		{"SCF's nearest weekday", time.Now(), "payday=0 0 2 15W * * *", exitRejected, nil, `"15W": SCF's L (last), W`},
		{"SCF's last Friday", time.Now(), "lastfri=0 0 2 * * 5L *", exitRejected, nil, `day of week: "5L": SCF's L`},
		{"SCF's second Monday", time.Now(), "patch=0 0 2 ? * 1#2 *", exitRejected, nil, `day of week: "1#2": SCF's L`},
		{"a schedule that is never due", time.Now(), "nightly=0 0 2 * * * *;monthend=0 0 2 31 2 * *", exitRejected, nil,
			`VULSCAN_SCHEDULES: schedule "monthend": cron expression "0 0 2 31 2 * *" is never due`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			schedulesNow = func() time.Time { return tt.now }
			e, stdout, stderr := testEnv("", map[string]string{"VULSCAN_SCHEDULES": tt.schedule})
			if code := runSchedules(ctx, []string{"--dsn", dsn}, e); code != tt.wantExit {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.wantExit, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, stdout)
				}
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr)
			}
		})
	}
}

// TestSchedulesCommandLine: the command line is checked before any setting or store is read.
// Help goes to stdout, as `vulscan --help` does; a bad flag is one line on stderr.
func TestSchedulesCommandLine(t *testing.T) {
	for _, tt := range []struct {
		args       []string
		wantExit   int
		wantStdout string
		wantStderr string
	}{
		{[]string{"-h"}, exitOK, "usage:\n  vulscan schedules [--dsn DSN]", ""},
		{[]string{"--help"}, exitOK, "usage:\n  vulscan schedules [--dsn DSN]", ""},
		{[]string{"extra"}, exitRejected, "", "vulscan schedules: unexpected argument \"extra\"\n"},
		{[]string{"--nope"}, exitRejected, "", "vulscan schedules: flag provided but not defined: -nope (vulscan schedules --help lists the flags)\n"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			e, stdout, stderr := testEnv("", map[string]string{"VULSCAN_SCHEDULES": "nightly=0 0 2 * * * *"})
			if code := runSchedules(context.Background(), tt.args, e); code != tt.wantExit {
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

// A run counts for the due time its timer came for, as its idempotency key names it (the
// platform keys a timer run by its due time), not for whichever due time it was recorded near:
// a timer refused as no due time of its schedule ran nothing, and on a schedule due more often
// than the grace a run is recorded nearer other due times than its own.
func TestSchedulesCommandCountsARunForItsOwnDueTime(t *testing.T) {
	type attempt struct {
		at      string // when it was recorded
		key     string
		outcome audit.Outcome
	}
	tests := []struct {
		name     string
		schedule string
		now      string
		logBegan string // a CLI record's time before the attempts; "": the first attempt begins the log
		attempts []attempt
		wantExit int
		want     []string
		dontWant string
	}{
		{
			// SCF read the trigger's cron in UTC, not Beijing time: its events came at 02:00 UTC,
			// eight hours off every due time of VULSCAN_SCHEDULES, and were refused. docs/deploy.md
			// tells operators that `vulscan schedules` shows exactly this as missed runs.
			name: "timers refused as eight hours off", schedule: "nightly=0 0 18 * * * *", now: "2026-12-05T09:00:00Z", logBegan: "2026-12-03T12:00:00Z",
			attempts: []attempt{
				{"2026-12-04T02:00:01Z", "timer/nightly@2026-12-04T02:00:00Z", audit.OutcomeRejected},
				{"2026-12-05T02:00:01Z", "timer/nightly@2026-12-05T02:00:00Z", audit.OutcomeRejected},
			},
			wantExit: exitFailed,
			want: []string{"MISSED: No run recorded for 2026-12-04 18:00 UTC.", "MISSED: No run recorded for 2026-12-03 18:00 UTC.",
				"run 2026-12-05 02:00:01 UTC: attempt 3 rejected forbidden"},
		},
		{
			name: "a run refused for its argument at its due time is that due time's run", schedule: "nightly=0 0 2 * * * *", now: "2026-12-04T09:00:00Z", logBegan: "2026-12-03T12:00:00Z",
			attempts: []attempt{{"2026-12-04T02:00:01Z", "timer/nightly@2026-12-04T02:00:00Z", audit.OutcomeRejected}},
			wantExit: exitOK, want: []string{"run 2026-12-04 02:00:01 UTC: attempt 2 rejected"}, dontWant: "MISSED",
		},
		{
			name: "every five minutes, from the log's first run", schedule: "every5=0 */5 * * * * *", now: "2026-12-04T02:50:00Z",
			attempts: []attempt{
				{"2026-12-04T02:00:00.2Z", "timer/every5@2026-12-04T02:00:00Z", audit.OutcomeSucceeded},
				{"2026-12-04T02:05:00.2Z", "timer/every5@2026-12-04T02:05:00Z", audit.OutcomeSucceeded},
				{"2026-12-04T02:10:00.2Z", "timer/every5@2026-12-04T02:10:00Z", audit.OutcomeSucceeded},
				{"2026-12-04T02:15:00.2Z", "timer/every5@2026-12-04T02:15:00Z", audit.OutcomeSucceeded},
				{"2026-12-04T02:20:00.2Z", "timer/every5@2026-12-04T02:20:00Z", audit.OutcomeSucceeded},
				{"2026-12-04T02:25:00.2Z", "timer/every5@2026-12-04T02:25:00Z", audit.OutcomeSucceeded},
				{"2026-12-04T02:30:00.2Z", "timer/every5@2026-12-04T02:30:00Z", audit.OutcomeSucceeded},
				{"2026-12-04T02:35:00.2Z", "timer/every5@2026-12-04T02:35:00Z", audit.OutcomeSucceeded},
			},
			wantExit: exitOK, dontWant: "MISSED",
		},
	}
	defer func(f func() time.Time) { schedulesNow = f }(schedulesNow)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "audit.db")
			store, err := openAuditStore(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			name, _, _ := strings.Cut(tt.schedule, "=")
			// Each due time since the log began was owed a run.
			if began, err := time.Parse(time.RFC3339, tt.logBegan); err == nil {
				if _, err := store.Append(ctx, audit.Record{Time: began, Trigger: audit.TriggerCLI, Actor: "ops",
					Action: audit.ActionCreateVulScanTask, Params: json.RawMessage(`{}`), Outcome: audit.OutcomeRejected, ErrorCode: "invalid"}); err != nil {
					t.Fatal(err)
				}
			}
			for _, a := range tt.attempts {
				at, _ := time.Parse(time.RFC3339Nano, a.at)
				rec := audit.Record{Time: at, Trigger: audit.TriggerTimer, Actor: "system:timer/" + name, Action: audit.ActionCreateVulScanTask,
					Params: json.RawMessage(`{"RegistryImageScanType":"NOT_SCAN"}`), IdempotencyKey: a.key, Outcome: a.outcome}
				if a.outcome == audit.OutcomeRejected {
					rec.ErrorCode = "forbidden"
				} else {
					rec.Outcome = audit.OutcomePending
				}
				open, err := store.Append(ctx, rec)
				if err != nil {
					t.Fatal(err)
				}
				if a.outcome != audit.OutcomeRejected {
					done := open
					done.ID, done.PrevHash, done.Hash, done.PendingID, done.Outcome, done.LocalTaskID = 0, "", "", open.ID, a.outcome, 36000+open.ID
					if _, err := store.Append(ctx, done); err != nil {
						t.Fatal(err)
					}
				}
			}
			store.Close()
			now, _ := time.Parse(time.RFC3339, tt.now)
			schedulesNow = func() time.Time { return now }
			e, stdout, stderr := testEnv("", map[string]string{"VULSCAN_SCHEDULES": tt.schedule})
			code := runSchedules(ctx, []string{"--dsn", dsn}, e)
			if code != tt.wantExit {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.wantExit, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, stdout)
				}
			}
			if tt.dontWant != "" && strings.Contains(stdout.String(), tt.dontWant) {
				t.Errorf("output has %q:\n%s", tt.dontWant, stdout)
			}
		})
	}
}

// A schedule due every minute leaves more records in a week than the command reads: due times
// older than the oldest record it read are not known to be missed, and are not reported so.
func TestSchedulesCommandCallsNothingMissedBeyondTheRecordsItRead(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "audit.db")
	store, err := openAuditStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	const runs = 600 // every minute for ten hours, on time: 1200 records
	for i := range runs {
		due := start.Add(time.Duration(i) * time.Minute)
		open, err := store.Append(ctx, audit.Record{Time: due.Add(500 * time.Millisecond), Trigger: audit.TriggerTimer,
			Actor: "system:timer/often", Action: audit.ActionCreateVulScanTask, Params: json.RawMessage(`{"RegistryImageScanType":"NOT_SCAN"}`),
			IdempotencyKey: "timer/often@" + due.Format(time.RFC3339), Outcome: audit.OutcomePending})
		if err != nil {
			t.Fatal(err)
		}
		done := open
		done.ID, done.PrevHash, done.Hash, done.PendingID, done.Outcome, done.RegistryTaskID = 0, "", "", open.ID, audit.OutcomeSucceeded, 36000+open.ID
		done.Time = due.Add(time.Second)
		if _, err := store.Append(ctx, done); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	defer func(f func() time.Time) { schedulesNow = f }(schedulesNow)
	schedulesNow = func() time.Time { return start.Add(runs*time.Minute - 30*time.Second) }
	e, stdout, stderr := testEnv("", map[string]string{"VULSCAN_SCHEDULES": "often=0 * * * * * *"})
	if code := runSchedules(ctx, []string{"--dsn", dsn}, e); code != exitOK || strings.Contains(stdout.String(), "MISSED") {
		t.Errorf("exit %d, want %d and no missed run: every due time had its run\n%s%s", code, exitOK, stdout, stderr)
	}
}

// `vulscan schedules` only reads the log, as export does: append-only guards it finds missing
// stay missing (the evidence `vulscan audit verify` reports them by), with a warning on stderr.
func TestSchedulesCommandLeavesMissingGuardsMissing(t *testing.T) {
	for _, c := range []struct {
		backend string
		drop    []string
	}{
		{"sqlite", []string{"audit_log_no_update", "audit_log_no_delete"}},
		{"postgres", []string{"audit_log_no_truncate"}},
	} {
		t.Run(c.backend, func(t *testing.T) {
			dir, dsn := seededLogOn(t, c.backend)
			dropGuards(t, c.backend, dsn, c.drop)
			want := "guards missing: " + strings.Join(c.drop, ", ") + "."
			// Due only in 2099: nothing missed, whenever the seeded log began.
			e, stdout, stderr := testEnv("", map[string]string{"VULSCAN_SCHEDULES": "yearly=0 0 2 1 1 * 2099"})
			if code := runSchedules(context.Background(), []string{"--dsn", dsn}, e); code != exitOK ||
				!strings.Contains(stderr.String(), "vulscan schedules: warning: "+want) {
				t.Errorf("schedules: exit %d, stderr %q; want 0 and a warning %q\n%s", code, stderr, want, stdout)
			}
			if r := runAuditBinary(t, dir, nil, "verify", "--dsn", dsn); r.exit != exitFailed || !strings.Contains(r.stdout, want) {
				t.Errorf("verify after schedules: exit %d, %q; want the guards still reported missing", r.exit, r.stdout)
			}
		})
	}
}

// A run pending for longer than any call to TCSS lasts (scan.MaxCallDuration) will get no
// answer: the command says so, as /schedules and the run's page do ("No answer recorded"), not
// "pending"; a younger one is still pending. Neither is a missed run: the exit status is 0.
func TestSchedulesCommandSaysARunNoCallCanAnswerHasNoAnswer(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "audit.db")
	store, err := openAuditStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 4, 2, 0, 1, 0, time.UTC)
	if _, err := store.Append(ctx, audit.Record{Time: at, Trigger: audit.TriggerTimer, Actor: "system:timer/nightly",
		Action: audit.ActionCreateVulScanTask, Params: json.RawMessage(`{}`), IdempotencyKey: "timer/nightly@2026-12-04T02:00:00Z",
		Outcome: audit.OutcomePending}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	defer func(f func() time.Time) { schedulesNow = f }(schedulesNow)
	for _, tt := range []struct {
		name     string
		age      time.Duration
		want     string
		dontWant string
	}{
		{"a call could still answer", 49 * time.Second, "attempt 1 pending ", "no answer recorded"},
		{"no call can answer any more", 51 * time.Second, "attempt 1 no answer recorded (pending longer than any TCSS call lasts", "pending \n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			schedulesNow = func() time.Time { return at.Add(tt.age) }
			e, stdout, stderr := testEnv("", map[string]string{"VULSCAN_SCHEDULES": "nightly=0 0 2 * * * *"})
			if code := runSchedules(ctx, []string{"--dsn", dsn}, e); code != exitOK {
				t.Fatalf("exit %d, want %d\n%s%s", code, exitOK, stdout, stderr)
			}
			if !strings.Contains(stdout.String(), tt.want) || strings.Contains(stdout.String(), tt.dontWant) {
				t.Errorf("output, want %q and not %q:\n%s", tt.want, tt.dontWant, stdout)
			}
		})
	}
}
