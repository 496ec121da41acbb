package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore"
	"github.com/vulscan/vulscan/functions/tcss"
)

// defaultAuditDSN is the audit store on a workstation: a SQLite file in the working directory.
const defaultAuditDSN = "sqlite:vulscan-audit.db"

// openAuditStore opens the audit store dsn names: sqlite:PATH (relative to the working
// directory) or a postgres:// or postgresql:// URL. The directory of a SQLite file must exist:
// creating it would let a mistyped mount path send the audit log to a disk that vanishes with
// the instance.
func openAuditStore(ctx context.Context, dsn string) (audit.Store, error) {
	return openAuditStoreWith(ctx, dsn, sqlstore.OpenSQLite, sqlstore.OpenPostgres)
}

// readAuditStore opens the audit store dsn names as openAuditStore does, but for reading only,
// as a verifier must: no migration, and append-only guards found missing stay missing, for
// guardsFinding to report (sqlstore.OpenSQLiteExisting).
func readAuditStore(ctx context.Context, dsn string) (audit.Store, error) {
	return openAuditStoreWith(ctx, dsn, sqlstore.OpenSQLiteExisting, sqlstore.OpenPostgresExisting)
}

type storeOpenFunc func(ctx context.Context, where string) (*sqlstore.Store, error)

func openAuditStoreWith(ctx context.Context, dsn string, openSQLite, openPostgres storeOpenFunc) (audit.Store, error) {
	if err := checkAuditDSN(dsn); err != nil {
		return nil, err
	}
	path, ok := strings.CutPrefix(dsn, "sqlite:")
	if !ok {
		return storeOrNil(openPostgres(ctx, dsn)) // checkAuditDSN lets only postgres:// and postgresql:// by
	}
	if path == "" {
		return nil, fmt.Errorf("audit DSN %q names no file: want sqlite:PATH", dsn)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("audit DSN %q: %w", dsn, err)
	}
	dir := filepath.Dir(abs)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("audit log directory %s does not exist (vulscan does not create it)", dir)
	}
	return storeOrNil(openSQLite(ctx, abs))
}

// guardedStore is a store whose database also refuses changes by itself (*sqlstore.Store).
type guardedStore interface {
	// MissingGuards names the append-only guards the database lacks now.
	MissingGuards(ctx context.Context) ([]string, error)
	// RestoredGuards names those opening it found missing and put back.
	RestoredGuards() []string
	// ForeignTriggers names the triggers and rules on the log's tables that vulscan did not write.
	ForeignTriggers(ctx context.Context) ([]string, error)
}

// warnRestoredGuards logs, as a warning, the append-only guards opening store found missing
// and put back: someone with the database's credentials removed them, and the log may have been
// changed meanwhile, which vulscan audit verify checks.
func warnRestoredGuards(store audit.Store, logger *slog.Logger) {
	g, ok := store.(guardedStore)
	if !ok || len(g.RestoredGuards()) == 0 {
		return
	}
	logger.Warn("audit log: its append-only guards were missing and have been put back; "+
		"someone removed them and could have changed records or checkpoints meanwhile: run vulscan audit verify (with --anchor, --key or --witness)",
		"guards", strings.Join(g.RestoredGuards(), ","))
}

// checkAuditDSN refuses, without any I/O, a DSN that no store of this build can open: an
// unknown scheme, or sqlite: in the release build, which has no SQLite driver (checked before
// any path: no path can help).
func checkAuditDSN(dsn string) error {
	if len(dsn) > maxAuditDSN {
		// Name only the scheme, as below: the rest may hold a password, or be the whole length.
		scheme, _, _ := strings.Cut(dsn, ":")
		if !plainScheme(scheme) {
			scheme = "no recognisable scheme"
		}
		return fmt.Errorf("the DSN (%s) is %d bytes, more than the %d an audit DSN may have", scheme, len(dsn), maxAuditDSN)
	}
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		if !sqlstore.HasSQLite {
			return sqlstore.ErrNoSQLite
		}
		return nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return nil
	}
	// Name only the scheme: the rest of an unknown DSN may hold a password.
	scheme, _, found := strings.Cut(dsn, ":")
	if !found || !plainScheme(scheme) {
		scheme = "no recognisable scheme"
	}
	return fmt.Errorf("unsupported audit DSN (%s): want sqlite:PATH or postgres://…", scheme)
}

// maxAuditDSN bounds an audit DSN: a sqlite: path longer than PATH_MAX opens nothing, and a
// postgres:// URL is far shorter; a longer one is refused before any message repeats it.
const maxAuditDSN = 4096

// auditDSNSource names where the audit DSN came from, for the errors about the store it names:
// "" when a flag gave it (the command's own flag, which the caller names if it must), else
// VULSCAN_AUDIT_DSN, or the default when that is not set.
func auditDSNSource(flagDSN, envDSN string) string {
	switch {
	case flagDSN != "":
		return ""
	case strings.TrimSpace(envDSN) != "":
		return "VULSCAN_AUDIT_DSN"
	}
	return "VULSCAN_AUDIT_DSN (not set: the default " + defaultAuditDSN + ")"
}

// auditDSNError names, in front of err, where the DSN of the store it is about came from.
func (a *app) auditDSNError(err error) error {
	return withDSNSource(a.settings.auditDSNFrom, err)
}

// withDSNSource is err about the store of a DSN that came from source (auditDSNSource).
func withDSNSource(source string, err error) error {
	if source == "" || err == nil {
		return err
	}
	return fmt.Errorf("%s: %w", source, err)
}

// checkAuditSettings checks the audit store's settings without opening it, so that a mistake in
// them stops a function before it reports ready, like any other setting.
// from names where dsn came from (auditDSNSource).
func checkAuditSettings(dsn, from string, getenv func(string) string) error {
	if err := checkAuditDSN(dsn); err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	if _, err := witnessOn(getenv); err != nil {
		return err
	}
	_, err := signingKey(getenv)
	return err
}

// storeOrNil returns a nil interface (not a nil *Store inside one) when opening failed, so that
// callers' "store != nil" checks mean what they say.
func storeOrNil(s *sqlstore.Store, err error) (audit.Store, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

// plainScheme reports whether s looks like a URL scheme, so that it is safe to print.
func plainScheme(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// checkpointedStore is an audit store that keeps signed checkpoints (*sqlstore.Store).
type checkpointedStore interface {
	audit.Store
	audit.CheckpointStore
}

// The checkpoint policy vulscan signs with when VULSCAN_AUDIT_SIGNING_KEY is set.
const (
	checkpointEveryText    = "1000"
	checkpointIntervalText = "15 minutes"
)

var checkpointPolicy = audit.CheckpointPolicy{Every: audit.DefaultCheckpointEvery, Interval: audit.DefaultCheckpointInterval}

// signingKey reads VULSCAN_AUDIT_SIGNING_KEY: nil when it is not set. Both keys are 32 bytes of
// base64, so the verify key given in its place parses; when VULSCAN_AUDIT_VERIFY_KEY is also set
// and is the same key, it is refused: checkpoints signed with it would verify against no key.
func signingKey(getenv func(string) string) (ed25519.PrivateKey, error) {
	text := strings.TrimSpace(getenv(audit.EnvSigningKey))
	if text == "" {
		return nil, nil
	}
	key, err := audit.ParseSigningKey(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", audit.EnvSigningKey, err)
	}
	if verify, err := audit.ParseVerifyKey(getenv(audit.EnvVerifyKey)); err == nil && bytes.Equal(key.Seed(), verify) {
		return nil, fmt.Errorf("%s is the verify key (it equals %s), not the signing key: give the secret key, "+
			"the %s= line vulscan audit keygen printed beside the verify key", audit.EnvSigningKey, audit.EnvVerifyKey, audit.EnvSigningKey)
	}
	return key, nil
}

// withCheckpoints wraps store so that it signs checkpoints by checkpointPolicy when
// VULSCAN_AUDIT_SIGNING_KEY is set; a failed checkpoint is logged, the record stays stored. It
// also returns the Checkpointer (nil without a key), whose Run a serving process starts.
func withCheckpoints(store audit.Store, getenv func(string) string, logger *slog.Logger) (audit.Store, *audit.Checkpointer, error) {
	key, err := signingKey(getenv)
	if err != nil || key == nil {
		return store, nil, err
	}
	cs, ok := store.(checkpointedStore)
	if !ok {
		return nil, nil, fmt.Errorf("%s is set, but this audit store keeps no checkpoints", audit.EnvSigningKey)
	}
	c := audit.NewCheckpointer(cs, key, checkpointPolicy, nil)
	return c.Wrap(func(err error) {
		logger.Error("audit checkpoint not signed", "err", err)
	}), c, nil
}

// checkpointTick is how often a serving process looks whether the time-based checkpoint is due
// (audit.Checkpointer.Run): it is signed at most this late.
const checkpointTick = time.Minute

// startCheckpoints makes a serving process sign the time-based checkpoint also when no append
// comes to do it (issue 8), until the app closes. Without a signing key it does nothing.
func (a *app) startCheckpoints(ctx context.Context) {
	if a.opening == nil && a.checkpointer == nil {
		return // the store is open, and keeps no checkpoints
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		// A function instance opens its store in the background (startApp), and the
		// checkpointer comes with it.
		if a.opening != nil && a.opening.await(ctx) != nil || a.checkpointer == nil {
			return
		}
		a.checkpointer.Run(ctx, checkpointTick, func(err error) {
			a.logger.Error("audit checkpoint not signed", "err", err)
		})
	}()
	a.stopCheckpoints = func() { cancel(); <-done }
}

// withWitness wraps store so that every record and checkpoint is also written as a witness line
// (audit.WithWitness) to out, unless VULSCAN_AUDIT_WITNESS=off. On SCF and Lambda the process's
// output goes to Cloud Log Service or CloudWatch Logs: a copy outside the database.
func withWitness(store audit.Store, getenv func(string) string, out io.Writer, logger *slog.Logger) (audit.Store, error) {
	on, err := witnessOn(getenv)
	if err != nil || !on {
		return store, err
	}
	return audit.WithWitness(store, out, func(err error) {
		logger.Error("audit witness line not written", "err", err)
	}), nil
}

// witnessOn reads VULSCAN_AUDIT_WITNESS: on (the default) or off.
func witnessOn(getenv func(string) string) (bool, error) {
	switch v := strings.TrimSpace(getenv("VULSCAN_AUDIT_WITNESS")); v {
	case "", "on":
		return true, nil
	case "off":
		return false, nil
	default:
		return false, fmt.Errorf("VULSCAN_AUDIT_WITNESS=%q: want on (the default) or off", scanShort(v))
	}
}

// scanShort bounds a value repeated in a message.
func scanShort(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// sharePace makes pacer book its TCSS call slots through the audit store when the store can
// (*sqlstore.Store, or a function's store while it opens): every process writing to one log then
// keeps one pace, TCSS's 20 calls per second per action, together (issue 8).
func sharePace(pacer *tcss.Pacer, store audit.Store, logger *slog.Logger) {
	if b, ok := store.(tcss.SlotBooker); ok {
		pacer.Share(b, func(err error) { logger.Warn("TCSS pace not shared", "err", err) })
	}
}
