package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/schedule"
)

func init() {
	commands["schedules"] = command{summary: "show each schedule's latest runs, missed runs and next run", run: runSchedules}
}

const schedulesUsage = `usage:
  vulscan schedules [--dsn DSN]
      For every schedule in VULSCAN_SCHEDULES (name=CRON;…, SCF's 7-field cron, UTC): the next
      expected run, each due time of the last week with no run recorded ("No run recorded for
      2026-12-04 02:00 UTC."), and the latest runs with their outcome and task IDs, read from the
      audit log. Exit 0 when nothing was missed, 1 when a run was missed or the log could not be
      read, 2 for a bad command line, a bad VULSCAN_SCHEDULES or a misspelt setting.

DSN is sqlite:PATH or postgres://…; default: VULSCAN_AUDIT_DSN, else ` + defaultAuditDSN + `, a file in
the working directory
`

// schedulesNow is the clock of `vulscan schedules`; tests replace it.
var schedulesNow = time.Now

func runSchedules(ctx context.Context, args []string, e env) int {
	fs, dsn := storeFlags("vulscan schedules", schedulesUsage, e)
	if code, ok := parseAuditFlags(fs, args, e); !ok {
		return code
	}
	// Before VULSCAN_SCHEDULES is read: misspelt, it reads as empty, and "No schedules are
	// configured" would exit 0 having checked nothing.
	if e.environ != nil {
		if err := unknownSetting(e.environ()); err != nil {
			fmt.Fprintf(e.stderr, "vulscan schedules: %v\n", err)
			return exitRejected
		}
	}
	set, err := schedule.Parse(e.getenv(schedule.Setting))
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan schedules: %v\n", err)
		return exitRejected
	}
	if len(set) == 0 {
		fmt.Fprintf(e.stdout, "No schedules are configured: set %s as the function has it (a deploy file writes it beside its timer: serverless.yml, serverless.aws.yml), e.g. nightly=0 0 2 * * * *\n", schedule.Setting)
		return exitOK
	}
	// It only reads the log, as export does: putting missing append-only guards back (as a
	// writing open does) would erase the finding `vulscan audit verify` reports them by.
	store, err := readExistingAuditStore(ctx, *dsn, e)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan schedules: %v\n", err)
		return exitFailed
	}
	defer store.Close()
	switch guards, err := guardsFinding(ctx, store); {
	case err != nil:
		fmt.Fprintf(e.stderr, "vulscan schedules: warning: %v\n", err)
	case guards != "":
		fmt.Fprintf(e.stderr, "vulscan schedules: warning: %s\n", guards)
	}
	now := schedulesNow()
	hs, err := schedule.Histories(ctx, store, set, now)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan schedules: %v\n", err)
		return exitFailed
	}
	missed := false
	for i, h := range hs {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		printHistory(e.stdout, h, now)
		missed = missed || len(h.Missed) > 0
	}
	if missed {
		return exitFailed
	}
	return exitOK
}

// staleOutcome is what the command says of a run pending for longer than any call to TCSS
// lasts (scan.MaxCallDuration): the process that made it ended or its store failed mid-call,
// and no answer will come. The pages say "No answer recorded" of it too (web's staleBadge).
const staleOutcome = "no answer recorded (pending longer than any TCSS call lasts; vulscan audit reconcile closes it as unknown)"

func printHistory(w io.Writer, h schedule.History, now time.Time) {
	fmt.Fprintf(w, "%s (%s)\n", h.Schedule.Name, h.Schedule.Cron)
	if h.Next.IsZero() {
		fmt.Fprintln(w, "  next run: none (the expression is never due again)")
	} else {
		fmt.Fprintf(w, "  next run: %s\n", h.Next.Format("2006-01-02 15:04:05 UTC"))
	}
	for _, m := range h.Missed {
		fmt.Fprintf(w, "  MISSED: %s\n", schedule.DescribeMissed(m))
	}
	if len(h.Runs) == 0 {
		fmt.Fprintln(w, "  no run recorded")
	}
	for _, r := range h.Runs {
		var tasks []string
		if r.LocalTaskID != 0 {
			tasks = append(tasks, fmt.Sprintf("local task %d", r.LocalTaskID))
		}
		if r.RegistryTaskID != 0 {
			tasks = append(tasks, fmt.Sprintf("registry task %d", r.RegistryTaskID))
		}
		if r.Error != "" {
			tasks = append(tasks, r.Error)
		}
		outcome := string(r.Outcome)
		if r.Outcome == audit.OutcomePending && now.Sub(r.At) > scan.MaxCallDuration {
			outcome = staleOutcome
		}
		fmt.Fprintf(w, "  run %s: attempt %d %s %s\n", r.At.Format("2006-01-02 15:04:05 UTC"), r.Attempt, outcome, strings.Join(tasks, ", "))
	}
}
