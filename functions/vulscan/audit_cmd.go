package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

func init() {
	commands["audit"] = command{summary: "verify the audit log's hash chain, export it (jsonl, csv), or reconcile attempts left pending", run: runAudit}
}

var auditUsage = `usage:
  vulscan audit verify [--anchor ID:HASH] [--dsn DSN]
      Walk the hash chain. Prints "ok: N records", the chain's anchor, ID:HASH, and how many
      records were made against a TCSS emulator (exit 0), or the first bad record and what is
      wrong with it (exit 1). Keep the anchor somewhere outside the
      database now and then, and give it back with --anchor: it shows that the newest records
      were deleted, or the chain rebuilt with fresh hashes, which the chain alone cannot show.
  vulscan audit export [--format jsonl|csv] [--since T] [--until T] [--outcome O] [--trigger T]
                       [--actor A] [--task-id ID] [--dsn DSN]
      Stream matching records, oldest first, to stdout. T is RFC 3339 or a date (YYYY-MM-DD; a
      date for --until includes that whole day). ID is a TCSS LocalTaskID or RegistryTaskID.
` + fmt.Sprintf(reconcileUsage, scan.MaxCallDuration) + `
DSN is sqlite:PATH or postgres://…; default: VULSCAN_AUDIT_DSN, else ` + defaultAuditDSN + `
`

func runAudit(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, auditUsage)
		return exitRejected
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(ctx, args[1:], e)
	case "export":
		return runAuditExport(ctx, args[1:], e)
	case "reconcile":
		return runAuditReconcile(ctx, args[1:], e)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, auditUsage)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "vulscan audit: unknown subcommand %q\n\n%s", args[0], auditUsage)
	return exitRejected
}

// auditFlags is a flag set for an audit subcommand with the --dsn flag every one takes.
func auditFlags(name string, e env) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("vulscan audit "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, auditUsage) }
	dsn := fs.String("dsn", "", "audit store: sqlite:PATH or postgres://… (default: VULSCAN_AUDIT_DSN, else "+defaultAuditDSN+")")
	return fs, dsn
}

// parseAuditFlags parses args, refusing positional arguments; it reports the exit code to use
// when parsing failed.
func parseAuditFlags(fs *flag.FlagSet, args []string, e env) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitRejected, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitRejected, false
	}
	return exitOK, true
}

// openExistingAuditStore opens the store the flag, VULSCAN_AUDIT_DSN or the default names. A
// SQLite file must exist: reading a log that is not there is a mistaken path, not an empty log.
func openExistingAuditStore(ctx context.Context, flagDSN string, e env) (audit.Store, error) {
	dsn := firstNonEmpty(flagDSN, e.getenv("VULSCAN_AUDIT_DSN"), defaultAuditDSN)
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok && path != "" {
		if _, err := os.Stat(path); err != nil {
			abs, _ := filepath.Abs(path)
			return nil, fmt.Errorf("no audit log at %s: %w", abs, err)
		}
	}
	return openAuditStore(ctx, dsn)
}

func runAuditVerify(ctx context.Context, args []string, e env) int {
	fs, dsn := auditFlags("verify", e)
	var anchorText string
	fs.StringVar(&anchorText, "anchor", "", "ID:HASH printed by an earlier verify: the chain must still hold it")
	if code, ok := parseAuditFlags(fs, args, e); !ok {
		return code
	}
	var anchor audit.Anchor
	if anchorText != "" {
		var err error
		if anchor, err = audit.ParseAnchor(anchorText); err != nil {
			fmt.Fprintf(e.stderr, "vulscan audit verify: %v\n", err)
			return exitRejected
		}
	}
	store, err := openExistingAuditStore(ctx, *dsn, e)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit verify: %v\n", err)
		return exitFailed
	}
	defer store.Close()
	rep, err := store.Verify(ctx)
	if err == nil && anchor.ID != 0 && rep.OK() {
		rep.Problem, err = audit.CheckAnchor(ctx, store.Get, rep, anchor)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit verify: %v\n", err)
		return exitFailed
	}
	fmt.Fprintln(e.stdout, rep)
	if !rep.OK() {
		return exitFailed
	}
	if anchor.ID != 0 { // checked above: say so, or a match looks like no check at all
		fmt.Fprintf(e.stdout, "anchor %s: matched (record %d still holds that hash)\n", anchor, anchor.ID)
	}
	if a := rep.Anchor(); a.ID != 0 {
		fmt.Fprintf(e.stdout, "anchor: %s\n", a)
	}
	if rep.Emulated > 0 {
		// Sound links of the chain, but no scan of theirs ran on Tencent Cloud.
		fmt.Fprintf(e.stdout, "emulator: %d of the records were made against a TCSS emulator, not Tencent Cloud\n", rep.Emulated)
	}
	return exitOK
}

func runAuditExport(ctx context.Context, args []string, e env) int {
	fs, dsn := auditFlags("export", e)
	var format, since, until, outcome, trigger string
	var f audit.Filter
	fs.StringVar(&format, "format", string(audit.FormatJSONL), "jsonl or csv")
	fs.StringVar(&since, "since", "", "only records at or after this time (RFC 3339 or YYYY-MM-DD)")
	fs.StringVar(&until, "until", "", "only records before this time (RFC 3339), or up to the end of this day (YYYY-MM-DD)")
	fs.StringVar(&outcome, "outcome", "", "only this outcome: pending, rejected, failed, succeeded or unknown")
	fs.StringVar(&trigger, "trigger", "", "only this trigger: form, api, timer or cli")
	fs.StringVar(&f.Actor, "actor", "", "only this actor")
	fs.Int64Var(&f.TaskID, "task-id", 0, "only the records of this TCSS task (LocalTaskID or RegistryTaskID)")
	if code, ok := parseAuditFlags(fs, args, e); !ok {
		return code
	}
	fmtErr := func(err error) int {
		fmt.Fprintf(e.stderr, "vulscan audit export: %v\n", err)
		return exitRejected
	}
	if f.TaskID < 0 {
		return fmtErr(fmt.Errorf("--task-id: %d is not a TCSS task ID", f.TaskID))
	}
	fm, err := audit.ParseFormat(format)
	if err != nil {
		return fmtErr(err)
	}
	if since != "" {
		if f.Since, err = audit.ParseSince(since); err != nil {
			return fmtErr(fmt.Errorf("--since: %w", err))
		}
	}
	if until != "" {
		if f.Until, err = audit.ParseUntil(until); err != nil {
			return fmtErr(fmt.Errorf("--until: %w", err))
		}
	}
	if outcome != "" {
		if f.Outcome, err = audit.ParseOutcome(outcome); err != nil {
			return fmtErr(fmt.Errorf("--outcome: %w", err))
		}
	}
	if trigger != "" {
		if f.Trigger, err = audit.ParseTrigger(trigger); err != nil {
			return fmtErr(fmt.Errorf("--trigger: %w", err))
		}
	}
	store, err := openExistingAuditStore(ctx, *dsn, e)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit export: %v\n", err)
		return exitFailed
	}
	defer store.Close()
	if err := audit.Export(ctx, store, fm, f, e.stdout); err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit export: %v\n", err)
		return exitFailed
	}
	return exitOK
}
