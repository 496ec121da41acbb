package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

func init() {
	commands["audit"] = command{summary: "the audit log: verify its chain, export it (jsonl, csv), reconcile attempts left pending, migrate it, sign checkpoints (keygen, checkpoint); vulscan audit --help", run: runAudit}
}

// auditUsage() is `vulscan audit`'s help. A function, not a variable: formatting it at package
// initialisation was fmt's first use in every start, serving ones included, which never print it.
func auditUsage() string {
	return `usage:
  vulscan audit verify [--anchor ID:HASH] [--key PUBLIC] [--witness FILE] [--dsn DSN]
      Walk the hash chain. Prints "ok: N records", the chain's anchor, ID:HASH, and how many
      records were made against a TCSS emulator (exit 0), or the first bad record and what is
      wrong with it (exit 1); it also fails naming any append-only guard (the triggers that
      refuse UPDATE and DELETE) that is missing, and any other trigger or rule on the log's
      tables (vulscan writes none; one can skip records as they are written). It changes
      nothing in the log: no migration, no guard put back (a server or a writing command does
      that, with a warning). Keep the anchor somewhere outside the database now and then, and
      give it back with --anchor: it shows that the newest records were deleted, or the chain
      rebuilt with fresh hashes, which the chain alone cannot show.
      With --key (default: VULSCAN_AUDIT_VERIFY_KEY), also check every signed checkpoint: names
      forged or unsigned checkpoints, and a truncation or rewrite that reaches a surviving
      checkpoint's head, and says how many records stand after the newest checkpoint (exit 1 on
      any finding). It cannot tell that checkpoints were deleted: a cut or rewrite after the
      newest one left needs --anchor or --witness. With --witness, also compare the store
      with FILE, an export of the logs vulscan writes its witness lines to (lines holding
      {"witness":"vulscan-audit/v1",…}; others are skipped): names records missing from either
      side or differing (exit 1 on any). A witness kept for a retention window (the last 30
      days) starts after the log does: the records older than its first are counted, not
      compared, and do not fail it (the chain ties them to the first, whose hash is compared).
  vulscan audit keygen
      Print a new Ed25519 key pair as two lines for an env file: VULSCAN_AUDIT_SIGNING_KEY (keep
      it secret, give it to vulscan) and VULSCAN_AUDIT_VERIFY_KEY (for verify --key).
  vulscan audit checkpoint [--dsn DSN]
      Sign a checkpoint of the chain's head now with VULSCAN_AUDIT_SIGNING_KEY. With that key set,
      vulscan also signs one by itself at the first record, every ` + checkpointEveryText + ` records and when
      the last is older than ` + checkpointIntervalText + ` and records were added since (at an append, and
      in a serving process also from a background check every minute).
  vulscan audit export [--format jsonl|csv] [--since T] [--until T] [--outcome O] [--trigger T]
                       [--actor A] [--task-id ID] [--dsn DSN]
      Stream matching records, oldest first, to stdout. T is RFC 3339 or a date (YYYY-MM-DD; a
      date for --until includes that whole day). ID is a TCSS LocalTaskID or RegistryTaskID.
` + fmt.Sprintf(reconcileUsage, scan.MaxCallDuration) + migrateUsage + `
DSN is sqlite:PATH or postgres://…; default: VULSCAN_AUDIT_DSN, else ` + defaultAuditDSN + `, a file in
the working directory
`
}

func runAudit(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, auditUsage())
		return exitRejected
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(ctx, args[1:], e)
	case "export":
		return runAuditExport(ctx, args[1:], e)
	case "reconcile":
		return runAuditReconcile(ctx, args[1:], e)
	case "keygen":
		return runAuditKeygen(args[1:], e)
	case "migrate":
		return runAuditMigrate(ctx, args[1:], e)
	case "checkpoint":
		return runAuditCheckpoint(ctx, args[1:], e)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, auditUsage())
		return exitOK
	}
	fmt.Fprintf(e.stderr, "vulscan audit: unknown subcommand %q\n\n%s", args[0], auditUsage())
	return exitRejected
}

// auditFlags is a flag set for an audit subcommand with the --dsn flag every one takes.
func auditFlags(name string, e env) (*flag.FlagSet, *string) {
	return storeFlags("vulscan audit "+name, auditUsage(), e)
}

// storeFlags is the flag set of a command that reads the audit store: its --dsn flag, and usage
// printed for -h (see parseAuditFlags).
func storeFlags(command, usage string, e env) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage) }
	dsn := fs.String("dsn", "", "audit store: sqlite:PATH or postgres://… (default: VULSCAN_AUDIT_DSN, else "+defaultAuditDSN+")")
	return fs, dsn
}

// parseAuditFlags parses args, refusing positional arguments; it reports the exit code to use
// when parsing failed. -h prints the usage (fs.Usage, written to fs.Output()) on stdout, as
// `vulscan --help` and `vulscan audit --help` do, so that it can be paged or searched; a bad
// flag is one line on stderr, not that line followed by the whole usage, which scrolls it away.
func parseAuditFlags(fs *flag.FlagSet, args []string, e env) (int, bool) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(e.stdout)
			fs.Usage()
			return exitOK, false
		}
		fmt.Fprintf(e.stderr, "%s: %v (%s --help lists the flags)\n", fs.Name(), err, fs.Name())
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
// Append-only guards it finds missing it puts back, with a warning on stderr.
func openExistingAuditStore(ctx context.Context, flagDSN string, e env) (audit.Store, error) {
	dsn, err := existingAuditDSN(flagDSN, e)
	if err != nil {
		return nil, err
	}
	store, err := openAuditStore(ctx, dsn)
	if err != nil {
		return nil, withDSNSource(auditDSNSource(flagDSN, e.getenv("VULSCAN_AUDIT_DSN")), err)
	}
	warnRestoredGuards(store, newLogger(e.stderr))
	return store, nil
}

// readExistingAuditStore is openExistingAuditStore for the commands that only read the log
// (verify, export, schedules, migrate's source): it changes nothing, missing guards included
// (readAuditStore). A log whose schema_migrations names an older version than this vulscan's is
// refused, not migrated: an auditor may hold only read access, and a read that rewrote the
// schema's metadata would erase what someone did to it (a deleted schema_migrations row looks
// exactly like an older log).
func readExistingAuditStore(ctx context.Context, flagDSN string, e env) (audit.Store, error) {
	dsn, err := existingAuditDSN(flagDSN, e)
	if err != nil {
		return nil, err
	}
	store, err := readAuditStore(ctx, dsn)
	return store, withDSNSource(auditDSNSource(flagDSN, e.getenv("VULSCAN_AUDIT_DSN")), err)
}

// existingAuditDSN is the DSN the flag, VULSCAN_AUDIT_DSN or the default names, refused when it
// names a SQLite file that does not exist, or when the environment holds a VULSCAN_ variable
// vulscan does not read (a misspelt VULSCAN_AUDIT_DSN would read the default log instead).
func existingAuditDSN(flagDSN string, e env) (string, error) {
	if e.environ != nil {
		if err := unknownSetting(e.environ()); err != nil {
			return "", err
		}
	}
	dsn := firstNonEmpty(flagDSN, e.getenv("VULSCAN_AUDIT_DSN"), defaultAuditDSN)
	source := auditDSNSource(flagDSN, e.getenv("VULSCAN_AUDIT_DSN"))
	if err := checkAuditDSN(dsn); err != nil {
		return "", withDSNSource(source, err)
	}
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok && path != "" {
		if _, err := os.Stat(path); err != nil {
			abs, _ := filepath.Abs(path)
			return "", withDSNSource(source, fmt.Errorf("no audit log at %s: %w", abs, err))
		}
	}
	return dsn, nil
}

// guardsFinding describes the append-only guards store lacks and the triggers on its tables that
// vulscan did not write, "" when there are neither (or the store has no such guards).
func guardsFinding(ctx context.Context, store audit.Store) (string, error) {
	g, ok := store.(guardedStore)
	if !ok {
		return "", nil
	}
	missing, err := g.MissingGuards(ctx)
	if err != nil {
		return "", err
	}
	foreign, err := g.ForeignTriggers(ctx)
	if err != nil {
		return "", err
	}
	var findings []string
	if len(missing) > 0 {
		findings = append(findings, fmt.Sprintf("guards missing: %s. The database no longer refuses UPDATE and DELETE of the log, so records or "+
			"checkpoints may have been changed since the guards were removed. The chain check still finds an edited, deleted, "+
			"inserted or reordered record; it cannot find the newest records cut off or the chain rebuilt with fresh hashes "+
			"(--anchor, --key and --witness can). verify leaves the log as it is; a server or a command that writes puts "+
			"the guards back", strings.Join(missing, ", ")))
	}
	if len(foreign) > 0 {
		findings = append(findings, fmt.Sprintf("triggers vulscan did not write on the log's tables: %s. Someone with the database "+
			"added them; one can make the database skip or change records as they are written (vulscan refuses to start a scan "+
			"whose record was skipped). Read what they do, compare the log with --anchor, --key or --witness, and remove them "+
			"(nothing puts them away by itself)", strings.Join(foreign, ", ")))
	}
	return strings.Join(findings, "\n"), nil
}

func runAuditVerify(ctx context.Context, args []string, e env) int {
	fs, dsn := auditFlags("verify", e)
	var anchorText string
	fs.StringVar(&anchorText, "anchor", "", "ID:HASH printed by an earlier verify: the chain must still hold it")
	keyText := fs.String("key", "", "verify key (base64, from vulscan audit keygen) to check the signed checkpoints; default "+audit.EnvVerifyKey)
	witnessPath := fs.String("witness", "", "an export of the witness lines (stdout logs) to compare the store with")
	if code, ok := parseAuditFlags(fs, args, e); !ok {
		return code
	}
	var key ed25519.PublicKey
	if k := firstNonEmpty(*keyText, e.getenv(audit.EnvVerifyKey)); k != "" {
		var err error
		if key, err = audit.ParseVerifyKey(k); err != nil {
			fmt.Fprintf(e.stderr, "vulscan audit verify: %v\n", err)
			return exitRejected
		}
	}
	var anchor audit.Anchor
	if anchorText != "" {
		var err error
		if anchor, err = audit.ParseAnchor(anchorText); err != nil {
			fmt.Fprintf(e.stderr, "vulscan audit verify: %v\n", err)
			return exitRejected
		}
	}
	store, err := readExistingAuditStore(ctx, *dsn, e)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit verify: %v\n", err)
		return exitFailed
	}
	defer store.Close()
	rep, err := store.Verify(ctx)
	if err == nil && anchor.ID != 0 && rep.OK() {
		rep.Problem, err = audit.CheckAnchor(ctx, store.Get, rep, anchor)
	}
	var guards string
	if err == nil {
		guards, err = guardsFinding(ctx, store)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit verify: %v\n", err)
		return exitFailed
	}
	fmt.Fprintln(e.stdout, rep)
	if guards != "" {
		fmt.Fprintln(e.stdout, guards)
	}
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
	code := exitOK
	if guards != "" {
		code = exitFailed
	}
	if key != nil {
		code = max(code, reportCheckpoints(ctx, store, rep, key, e))
	}
	if *witnessPath != "" {
		code = max(code, reportWitness(ctx, store, *witnessPath, e))
	}
	return code
}

// reportWitness compares the store with the witness export at path and prints what differs.
func reportWitness(ctx context.Context, store audit.Store, path string, e env) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit verify: witness: %v\n", err)
		return exitFailed
	}
	defer f.Close()
	cs, _ := store.(audit.CheckpointStore)
	wr, err := audit.CompareWitness(ctx, store, cs, f)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit verify: %v\n", err)
		return exitFailed
	}
	for _, line := range wr.Findings() {
		fmt.Fprintln(e.stdout, "witness: "+line)
	}
	if wr.Older > 0 {
		fmt.Fprintf(e.stdout, "witness: the %d records before record %d are older than the witness (a log service keeps it for its "+
			"retention only): not compared one by one; each record's hash covers the one before it, so the chain ties them "+
			"to record %d, which is\n", wr.Older, wr.WitnessFrom, wr.WitnessFrom)
	}
	if !wr.OK() {
		return exitFailed
	}
	if wr.Older > 0 {
		fmt.Fprintf(e.stdout, "witness: all %d records from record %d on match\n", wr.Compared, wr.WitnessFrom)
		return exitOK
	}
	fmt.Fprintf(e.stdout, "witness: all %d records match\n", wr.Compared)
	return exitOK
}

// reportCheckpoints checks the store's signed checkpoints against key and the chain, and prints
// what it found.
func reportCheckpoints(ctx context.Context, store audit.Store, rep audit.Report, key ed25519.PublicKey, e env) int {
	cs, ok := store.(audit.CheckpointStore)
	if !ok {
		fmt.Fprintln(e.stderr, "vulscan audit verify: this store keeps no checkpoints")
		return exitFailed
	}
	cr, err := audit.CheckCheckpoints(ctx, cs, store.Get, rep, key)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit verify: %v\n", err)
		return exitFailed
	}
	for _, f := range cr.Findings {
		fmt.Fprintln(e.stdout, f)
	}
	switch {
	case cr.Newest == nil:
		fmt.Fprintf(e.stdout, "checkpoints: %d read, none signed by key %s: nothing vouches for the chain's head\n", cr.Checked, audit.KeyID(key))
		return exitFailed
	case !cr.OK():
		fmt.Fprintf(e.stdout, "checkpoints: %d read, %d findings\n", cr.Checked, len(cr.Findings))
		return exitFailed
	}
	fmt.Fprintf(e.stdout, "checkpoints: %d good; the newest covers records up to %d (signed %s); %d records stand after it\n",
		cr.Checked, cr.Newest.HeadID, cr.Newest.Time.Format(time.RFC3339), cr.After)
	return exitOK
}

func runAuditKeygen(args []string, e env) int {
	fs := flag.NewFlagSet("vulscan audit keygen", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), auditUsage()) }
	if code, ok := parseAuditFlags(fs, args, e); !ok {
		return code
	}
	signing, verify, err := audit.GenerateKeys(rand.Reader)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit keygen: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(e.stdout, "%s=%s\n%s=%s\n", audit.EnvSigningKey, signing, audit.EnvVerifyKey, verify)
	return exitOK
}

func runAuditCheckpoint(ctx context.Context, args []string, e env) int {
	fs, dsn := auditFlags("checkpoint", e)
	if code, ok := parseAuditFlags(fs, args, e); !ok {
		return code
	}
	key, err := signingKey(e.getenv)
	if err == nil && key == nil {
		err = fmt.Errorf("%s is not set (make a key pair with vulscan audit keygen)", audit.EnvSigningKey)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit checkpoint: %v\n", err)
		return exitRejected
	}
	store, err := openExistingAuditStore(ctx, *dsn, e)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit checkpoint: %v\n", err)
		return exitFailed
	}
	defer store.Close()
	cs, ok := store.(checkpointedStore)
	if !ok {
		fmt.Fprintln(e.stderr, "vulscan audit checkpoint: this store keeps no checkpoints")
		return exitFailed
	}
	c, err := audit.NewCheckpointer(cs, key, audit.CheckpointPolicy{}, nil).Checkpoint(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit checkpoint: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(e.stdout, "checkpoint %d: records up to %d, head %s, signed by key %s at %s\n",
		c.Seq, c.HeadID, c.HeadHash, c.KeyID, c.Time.Format(time.RFC3339))
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
	if since != "" && until != "" && !f.Until.After(f.Since) {
		// Records at or after --since and before --until: an empty range would export nothing
		// and look like a log with nothing in it.
		return fmtErr(fmt.Errorf("--since %s is not before --until %s: the range holds no time (swapped?)", since, until))
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
	store, err := readExistingAuditStore(ctx, *dsn, e)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit export: %v\n", err)
		return exitFailed
	}
	defer store.Close()
	// The export is still what the log holds; whether it can be trusted is verify's question.
	guards, err := guardsFinding(ctx, store)
	switch {
	case err != nil:
		fmt.Fprintf(e.stderr, "vulscan audit export: warning: %v\n", err)
	case guards != "":
		fmt.Fprintf(e.stderr, "vulscan audit export: warning: %s\n", guards)
	}
	if err := audit.Export(ctx, store, fm, f, e.stdout); err != nil {
		fmt.Fprintf(e.stderr, "vulscan audit export: %v\n", err)
		return exitFailed
	}
	return exitOK
}
