package main

import (
	"context"
	"flag"
	"fmt"
	"iter"

	"github.com/vulscan/vulscan/functions/audit"
)

const migrateUsage = `  vulscan audit migrate --from DSN --to DSN
      Copy a whole audit log, with its IDs, hashes and checkpoints, to another store (e.g. from
      sqlite:PATH to postgres://…), whose log must be empty; then verify the copy. The source is
      only read, as verify reads it; one that does not verify, or whose append-only guards are
      missing, is refused with nothing copied.
`

// importer is a store that takes records with their IDs and hashes (*sqlstore.Store).
type importer interface {
	audit.Store
	audit.CheckpointStore
	Import(ctx context.Context, recs iter.Seq2[audit.Record, error]) (int64, error)
}

func runAuditMigrate(ctx context.Context, args []string, e env) int {
	fs := flag.NewFlagSet("vulscan audit migrate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), auditUsage()) }
	from := fs.String("from", "", "the store to copy: sqlite:PATH or postgres://…")
	to := fs.String("to", "", "the empty store to copy into: sqlite:PATH or postgres://…")
	if code, ok := parseAuditFlags(fs, args, e); !ok {
		return code
	}
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(e.stderr, "vulscan audit migrate: "+format+"\n", args...)
		return code
	}
	if *from == "" || *to == "" {
		return fail(exitRejected, "both --from and --to are required")
	}
	if *from == *to {
		return fail(exitRejected, "--from and --to name the same store")
	}
	// Read the source as verify does: the writing open would put back guards found missing,
	// erasing the evidence verify reports.
	src, err := readExistingAuditStore(ctx, *from, e)
	if err != nil {
		return fail(exitFailed, "--from: %v", err)
	}
	defer src.Close()
	// Without its guards the source's records may have been changed, and a copy that verifies
	// would look like a sound log: refuse before the target is so much as created.
	if guards, err := guardsFinding(ctx, src); err != nil {
		return fail(exitFailed, "--from: checking its append-only guards: %v; nothing copied", err)
	} else if guards != "" {
		return fail(exitFailed, "--from: %s; nothing copied: check the log with vulscan audit verify (--anchor, --key, "+
			"--witness) first, then let a command that writes (vulscan audit reconcile) put the guards back", guards)
	}
	dst, err := openAuditStore(ctx, *to)
	if err != nil {
		return fail(exitFailed, "--to: %v", err)
	}
	defer dst.Close()
	target, ok := dst.(importer)
	if !ok {
		return fail(exitFailed, "--to: this store cannot import records")
	}
	head, err := target.List(ctx, audit.Filter{Limit: 1})
	switch {
	case err != nil:
		return fail(exitFailed, "--to: reading the target log: %v", err)
	case len(head) > 0:
		return fail(exitFailed, "--to: the target log is not empty (it holds records up to %d): migrate copies into an empty log; "+
			"if an earlier migrate stopped part way, remove that copy (the SQLite file, or the PostgreSQL schema's tables) and run it again", head[0].ID)
	}
	// A source that does not verify would stop the copy part way, and records cannot be taken
	// out of an audit log again: check it whole before writing anything.
	if rep, err := src.Verify(ctx); err != nil {
		return fail(exitFailed, "--from: verifying the log: %v; nothing copied", err)
	} else if !rep.OK() {
		return fail(exitFailed, "--from: the log does not verify (%v); nothing copied: run vulscan audit verify on it", rep)
	}
	n, err := target.Import(ctx, func(yield func(audit.Record, error) bool) {
		err := src.Each(ctx, audit.Filter{}, func(r audit.Record) error {
			if !yield(r, nil) {
				return errStopped
			}
			return nil
		})
		if err != nil && err != errStopped {
			yield(audit.Record{}, err)
		}
	})
	partial := "the target holds a partial copy: remove it (the SQLite file, or the PostgreSQL schema's tables) before running migrate again"
	if err != nil {
		return fail(exitFailed, "copied %d records, then: %v; %s", n, err, partial)
	}
	checkpoints, err := copyCheckpoints(ctx, src, target)
	if err != nil {
		return fail(exitFailed, "copied %d records, then: %v; %s", n, err, partial)
	}
	rep, err := target.Verify(ctx)
	if err != nil {
		return fail(exitFailed, "verifying the copy: %v", err)
	}
	if !rep.OK() || rep.Records != n {
		return fail(exitFailed, "the copy does not verify: %v", rep)
	}
	fmt.Fprintf(e.stdout, "copied %d records and %d checkpoints; the copy verifies: %v, anchor %s\n", n, checkpoints, rep, rep.Anchor())
	return exitOK
}

var errStopped = fmt.Errorf("stopped")

// copyCheckpoints copies every checkpoint of src (if it keeps any) to dst, in order.
func copyCheckpoints(ctx context.Context, src audit.Store, dst audit.CheckpointStore) (int, error) {
	cs, ok := src.(audit.CheckpointStore)
	if !ok {
		return 0, nil
	}
	n := 0
	err := cs.EachCheckpoint(ctx, func(c audit.Checkpoint) error {
		if _, err := dst.AppendCheckpoint(ctx, c); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("copying checkpoints: %w", err)
	}
	return n, nil
}
