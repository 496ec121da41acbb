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
func TestSchedulesCommandLine(t *testing.T) {
	for _, tt := range []struct {
		args       []string
		wantExit   int
		wantStderr string
	}{
		{[]string{"-h"}, exitOK, "vulscan schedules [--dsn DSN]"},
		{[]string{"extra"}, exitRejected, `vulscan schedules: unexpected argument "extra"`},
		{[]string{"--nope"}, exitRejected, "flag provided but not defined: -nope"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			e, stdout, stderr := testEnv("", map[string]string{"VULSCAN_SCHEDULES": "nightly=0 0 2 * * * *"})
			if code := runSchedules(context.Background(), tt.args, e); code != tt.wantExit {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.wantExit, stdout, stderr)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, stderr)
			}
		})
	}
}
