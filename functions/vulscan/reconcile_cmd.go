package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

const reconcileUsage = `  vulscan audit reconcile [--older-than DURATION] [--since T] [--dsn DSN]
  vulscan audit reconcile --from-log FILE [--dsn DSN]
      Close every attempt still pending after DURATION (default and least ` + "%[1]s" + `, the longest call)
      as "unknown": its process ended or its store failed mid-call, so no outcome was recorded
      (servers do this at start for the last week, and the audit page on its background pass).
      A shorter DURATION is refused: it would close calls still in flight, whose own outcome
      would then contradict the "unknown". Attempts pending for less are left open, and named
      with the time from which a run could close them.
      With --from-log, put back the outcomes the function wrote to its log (stderr) when the
      store would not take them ("-" reads stdin): each is checked against its pending record;
      one that contradicts the outcome already recorded for its attempt is named with the fields
      that differ, and reconcile fails (exit 1).
`

// runAuditReconcile is `vulscan audit reconcile`.
func runAuditReconcile(ctx context.Context, args []string, e env) int {
	fs, dsn := auditFlags("reconcile", e)
	olderThan := fs.Duration("older-than", scan.MaxCallDuration, "close attempts pending longer than this")
	since := fs.String("since", "", "only attempts opened at or after this time (RFC 3339 or YYYY-MM-DD); default: the whole log")
	fromLog := fs.String("from-log", "", "a platform log file holding stranded outcomes (- for stdin)")
	if code, ok := parseAuditFlags(fs, args, e); !ok {
		return code
	}
	if *fromLog != "" && (isSet(fs, "since") || isSet(fs, "older-than")) {
		// They choose which pending attempts to close; --from-log closes none of those, it puts
		// back every stranded outcome of FILE. Ignoring them would look like a filter that is not.
		fmt.Fprintln(e.stderr, "vulscan audit reconcile: --from-log cannot be combined with --since or --older-than: "+
			"those choose the pending attempts to close as unknown; --from-log puts back every outcome in its file. Run them separately")
		return exitRejected
	}
	if *olderThan < 0 {
		fmt.Fprintf(e.stderr, "vulscan audit reconcile: --older-than %s is negative: give how long an attempt must have been pending "+
			"to be closed, at least %s (the longest call), e.g. --older-than 1h\n", *olderThan, scan.MaxCallDuration)
		return exitRejected
	}
	if *olderThan < scan.MaxCallDuration {
		fmt.Fprintf(e.stderr, "vulscan audit reconcile: --older-than must be at least %s, the longest call: "+
			"an attempt pending for %s may still be in flight, and its call would record an outcome after the unknown\n",
			scan.MaxCallDuration, *olderThan)
		return exitRejected
	}
	var sinceTime time.Time
	if *since != "" {
		var err error
		if sinceTime, err = audit.ParseSince(*since); err != nil {
			fmt.Fprintf(e.stderr, "vulscan audit reconcile: --since: %v\n", err)
			return exitRejected
		}
	}
	store, err := openExistingAuditStore(ctx, *dsn, e)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit reconcile: %v\n", err)
		return exitFailed
	}
	defer store.Close()
	svc := scan.NewService(nil, store, e.clock, newLogger(e.stderr))

	var rep scan.ReconcileReport
	var open scan.LeftOpen
	if *fromLog != "" {
		var in io.Reader = e.stdin
		if *fromLog != "-" {
			f, err := os.Open(*fromLog)
			if err != nil {
				fmt.Fprintf(e.stderr, "vulscan audit reconcile: %v\n", err)
				return exitFailed
			}
			defer f.Close()
			in = f
		}
		rep, err = svc.ReconcileFromLog(ctx, in)
	} else {
		finder, ok := store.(scan.StalePendingFinder)
		if !ok {
			fmt.Fprintln(e.stderr, "vulscan audit reconcile: this audit store cannot list pending attempts")
			return exitFailed
		}
		rep, err = svc.ReconcileStale(ctx, finder, *olderThan, sinceTime)
		if err == nil {
			open, err = svc.LeftOpen(ctx, finder, *olderThan, sinceTime)
		}
	}
	for _, id := range rep.Restored {
		fmt.Fprintf(e.stdout, "restored: the outcome of attempt %d\n", id)
	}
	for _, id := range rep.Closed {
		fmt.Fprintf(e.stdout, "closed: attempt %d as unknown (no outcome was recorded)\n", id)
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(e.stdout, "skipped: %s\n", s)
	}
	for _, d := range rep.Disagreements {
		fmt.Fprintf(e.stdout, "disagrees: %s\n", d)
	}
	for _, u := range rep.Unreadable {
		fmt.Fprintf(e.stdout, "unreadable: %s\n", u)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit reconcile: %v\n", err)
		return exitFailed
	}
	failed := false
	if n := len(rep.Unreadable); n > 0 {
		fmt.Fprintf(e.stderr, "vulscan audit reconcile: %d stranded-outcome line(s) of the log do not decode (the others were "+
			"restored or skipped as listed): their outcomes may be missing from the audit log; read them in the log, and "+
			"after fixing a line (another writer's output interleaved with it, say) run this command again on it\n", n)
		failed = true
	}
	if n := len(rep.Disagreements); n > 0 {
		noun := "outcome disagrees"
		if n > 1 {
			noun = "outcomes disagree"
		}
		fmt.Fprintf(e.stderr, "vulscan audit reconcile: %d stranded %s with the outcome recorded for its attempt: "+
			"the platform's log and the audit log tell different stories; neither was changed: find out which is right "+
			"(vulscan audit verify, the TCSS task)\n", n, noun)
		failed = true
	}
	if failed {
		return exitFailed
	}
	if len(open.IDs) > 0 {
		fmt.Fprintln(e.stdout, leftOpenLine(open, *olderThan))
	}
	fmt.Fprintf(e.stdout, "ok: %d closed, %d restored, %d skipped\n", len(rep.Closed), len(rep.Restored), len(rep.Skipped))
	return exitOK
}

// leftOpenLine says which attempts a reconciliation left pending, and from when a run could
// close those still pending then.
func leftOpenLine(open scan.LeftOpen, olderThan time.Duration) string {
	const listed = 10
	ids := make([]string, 0, listed+1)
	for _, id := range open.IDs[:min(len(open.IDs), listed)] {
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	if len(open.IDs) > listed {
		ids = append(ids, "…")
	}
	count, noun := strconv.Itoa(len(open.IDs)), "attempts"
	if open.More {
		count += " or more"
	}
	if len(open.IDs) == 1 {
		noun = "attempt"
	}
	// Rounded up to the second, so that a run at the time printed is late enough.
	after := open.Closable.UTC().Add(time.Second - 1).Truncate(time.Second)
	return fmt.Sprintf("left open: %s %s pending for less than %s (%s %s); run again after %s",
		count, noun, olderThan, noun, strings.Join(ids, ", "), after.Format(time.RFC3339))
}
