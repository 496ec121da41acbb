// Package sqlstore keeps vulscan's audit log in an SQL database: SQLite (modernc.org/sqlite, the
// embedded default, developer build only) or PostgreSQL (lib/pq). Both share one implementation of audit.Store; a small
// dialect holds what differs (placeholders, the write lock, the append-only triggers).
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/vulscan/vulscan/functions/audit"
)

// Store is an audit.Store on database/sql.
type Store struct {
	db *sql.DB
	d  dialect
	// mu serialises this process's write transactions (a batch of appends, an import, a
	// checkpoint), so that they queue here instead of spinning on the database's write lock; the
	// database lock still orders writers in other processes.
	mu    sync.Mutex
	batch batcher // appends waiting for the commit under way (writer.go)
	w     writer  // the append path's connection and statements
	// ckpt checkpoints a serving process's SQLite WAL in the background (walcheckpoint.go);
	// nil in a one-shot, whose commits checkpoint inline.
	ckpt *walCheckpointer
	// wal syncs a SQLite log's WAL for the append path, outside the write lock (walsync.go);
	// nil for PostgreSQL, whose commit waits for its own WAL flush.
	wal *walSync
	now func() time.Time
	// restored names the append-only guards Open found missing and put back (RestoredGuards).
	restored []string
}

var _ audit.Store = (*Store)(nil)

// sqliteParams: WAL lets readers run beside the writer; busy_timeout (busyTimeout, which
// OpenSQLite puts first) makes a second process wait for the write lock instead of failing.
// SQLite's lock is not fair between processes: a process whose appends queue on its own mutex
// re-takes the lock the moment it commits, while the other polls with sleeps of up to 100 ms, so
// on a loaded machine the wait can last seconds; 20 s keeps such a wait from failing an append,
// and callers' contexts still bound it. synchronous(FULL) makes a committed record survive a power
// cut (the append path's connection commits with NORMAL and syncs the WAL itself after the write
// lock is released, when its records need it: walsync.go); _txlock=immediate makes every
// transaction (only Append and the schema use them) take the write lock at BEGIN, so two appends
// cannot both read the same chain head. wal_autocheckpoint(64): the WAL outlives each process
// (keepwal.go) and every new process reads it back when it opens the log (SQLite rebuilds the -shm
// index of a WAL no process has open, frame by frame, checksums included), about 5.6 us of a
// one-shot's CPU per frame: 1.3 ms for 243 frames against 8 (perf stat, 30 one-shots each on
// copies of one log). An attempt writes about 13 frames (its pending record, its pace booking, its
// outcome); at 256 pages a one-shot read back 128 on average, at 64 it reads 32 and checkpoints
// (the pages' copy and two fsyncs) every fifth attempt instead of every twentieth: one-shot CPU
// median -7 to -9%, wall not worse (same log, interleaved runs). A serving process checkpoints in
// the background instead and raises its writing connection's threshold (walcheckpoint.go).
// journal_size_limit: a checkpoint cannot move past the snapshot of a reader (a long `audit
// export`, the audit page's download), so while one reads, every commit grows the WAL file, and
// SQLite keeps a file's size when it restarts the WAL from its start (17.6 MB after an export
// beside 400 scans, kept for good, and read back by every process that opens the log). With the
// limit, the writer that restarts the WAL once the readers have gone and a checkpoint has copied
// it all truncates the file to walSizeLimit: one ftruncate, no extra checkpoint or sync, and
// nothing on the append path of a log whose WAL never outgrew it.
const sqliteParams = "_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
	"&_pragma=synchronous(FULL)&_pragma=wal_autocheckpoint(64)&_pragma=journal_size_limit(" + walSizeLimitText + ")&_txlock=immediate"

// walSizeLimit bounds the size a SQLite log's WAL file keeps once a reader that held it back
// has gone: 4 MiB, the size of the server's backstop threshold (checkpointBackstop: 1000 pages
// of 4 KiB), so that a WAL the checkpoints keep up with is never truncated.
const (
	walSizeLimit     = 4 << 20
	walSizeLimitText = "4194304"
)

// busyTimeout is how long a SQLite connection waits for another process's lock (sqliteParams),
// and how long a new connection is retried while SQLite refuses it (sqliteConnector.Connect).
const busyTimeout = 20 * time.Second

// OpenSQLite opens (creating if needed) the SQLite audit log at path; its directory must exist.
// The release build has no SQLite driver (sqlite_release.go): there it fails with ErrNoSQLite.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if err := checkSQLitePath(path); err != nil {
		return nil, err
	}
	db, err := sqliteDB(fmt.Sprintf("%s?_pragma=busy_timeout(%d)&%s", path, busyTimeout.Milliseconds(), sqliteParams))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	s, err := open(ctx, db, sqliteDialect(), "SQLite "+filepath.Base(path))
	if err != nil {
		return nil, err
	}
	var file string
	if err := db.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil || file == "" {
		db.Close()
		return nil, fmt.Errorf("sqlstore: SQLite %s: reading the database file's name for its WAL (%q): %w", filepath.Base(path), file, err)
	}
	s.wal = newWALSync(file)
	return s, nil
}

func checkSQLitePath(path string) error {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return fmt.Errorf("sqlstore: bad SQLite path %q: want a file path without ? or #", path)
	}
	return nil
}

// OpenPostgres opens the PostgreSQL audit log at dsn (postgres://…), creating its table if
// needed in the connection's current schema (set search_path in the DSN to choose another).
// Parameters the driver does not know (search_path, default_transaction_read_only, …) are sent
// to the server as run-time parameters; without sslmode the connection requires TLS.
//
// The driver is lib/pq rather than pgx: the store needs only database/sql, and pgx with its
// type system and pool was 0.8 MB of a deploy zip that must stay under 5 MB (lib/pq: 0.2 MB).
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := postgresDB(dsn)
	if err != nil {
		return nil, err
	}
	return open(ctx, db, postgresDialect, "PostgreSQL")
}

func postgresDB(dsn string) (*sql.DB, error) {
	c, err := pq.NewConnector(dsn)
	if err != nil {
		// The DSN itself is not repeated: it may hold a password (url.Error quotes its input).
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("sqlstore: opening PostgreSQL: the DSN does not parse: %w", err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(8)
	return db, nil
}

// ErrOlderSchema is the refusal of a read-only open of a log at an older schema version (a
// newer vulscan reading a log an older one wrote): it cannot be read without its migration.
var ErrOlderSchema = errors.New("older schema")

// OpenSQLiteExisting opens the SQLite audit log at path for reading only, as a verifier must:
// its connections are query-only, it runs no migration and puts back no missing guard
// (MissingGuards names them). The file must hold a log at this vulscan's schema version.
func OpenSQLiteExisting(ctx context.Context, path string) (*Store, error) {
	if err := checkSQLitePath(path); err != nil {
		return nil, err
	}
	// query_only comes last: the WAL pragma before it changes nothing in a log that is in WAL
	// mode already, as every log this store wrote is.
	db, err := sqliteDB(fmt.Sprintf("%s?_pragma=busy_timeout(%d)&%s&_pragma=query_only(1)", path, busyTimeout.Milliseconds(), sqliteParams))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	return openExisting(ctx, db, sqliteDialect(), "SQLite "+filepath.Base(path))
}

// OpenPostgresExisting opens the PostgreSQL audit log at dsn (as OpenPostgres) for reading
// only: it runs no migration and puts back no missing guard (MissingGuards names them). The
// schema must hold a log at this vulscan's schema version.
func OpenPostgresExisting(ctx context.Context, dsn string) (*Store, error) {
	db, err := postgresDB(dsn)
	if err != nil {
		return nil, err
	}
	return openExisting(ctx, db, postgresDialect, "PostgreSQL")
}

// openExisting checks that db holds a log at the newest schema version, and changes nothing.
func openExisting(ctx context.Context, db *sql.DB, d dialect, what string) (*Store, error) {
	s := &Store{db: db, d: d, now: time.Now}
	fail := func(err error) (*Store, error) {
		db.Close()
		return nil, fmt.Errorf("sqlstore: reading %s audit log: %w", what, err)
	}
	ms, err := loadMigrations(d.name)
	if err != nil {
		return fail(err)
	}
	latest := ms[len(ms)-1].version
	v, rows, err := versionRows(ctx, db)
	if err != nil {
		// A log from before numbered migrations has audit_log but no version table.
		var one int
		if db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE id < 0`).Scan(&one) == nil {
			return fail(fmt.Errorf("the log is from before numbered schema versions, and reading it does not migrate it: "+
				"open it once with a command that writes (vulscan audit reconcile, or a server started on it): %w", ErrOlderSchema))
		}
	}
	switch {
	case err != nil && db.PingContext(ctx) != nil:
		return fail(err) // the database cannot be reached (down, refusing): the cause says so
	case err != nil:
		return fail(fmt.Errorf("%w (is there an audit log here?)", err))
	case v > latest:
		return fail(fmt.Errorf("the database's schema is version %d, newer than this vulscan knows (%d): upgrade vulscan", v, latest))
	case rows != v:
		return fail(deletedVersionRows(fmt.Sprintf("it holds %d of the rows of versions 1 to %d", rows, v)))
	case v < latest:
		return fail(fmt.Errorf("the database's schema is version %d, older than this vulscan's (%d), and reading it does not migrate it: "+
			"if a vulscan older than this one wrote it, open it once with a command that writes (vulscan audit reconcile, or a server started on it) or read it "+
			"with that vulscan; if this vulscan (or a newer one) wrote it, rows of schema_migrations were deleted, and the database's metadata "+
			"was changed by hand: %w", v, latest, ErrOlderSchema))
	}
	return s, nil
}

func open(ctx context.Context, db *sql.DB, d dialect, what string) (*Store, error) {
	s := &Store{db: db, d: d, now: time.Now}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: preparing %s audit log: %w", what, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.stopCheckpoints()
	err := s.closeWriter()
	if s.wal != nil {
		err = errors.Join(err, s.wal.close())
	}
	return errors.Join(err, s.db.Close())
}

// The range of times Unix nanoseconds can hold, with a margin.
var (
	minTime = time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// prepare checks rec and puts it in its stored form.
func (s *Store) prepare(rec audit.Record) (audit.Record, error) {
	if !rec.Outcome.Valid() {
		return audit.Record{}, fmt.Errorf("sqlstore: append: unknown outcome %q", rec.Outcome)
	}
	if !rec.Trigger.Valid() {
		return audit.Record{}, fmt.Errorf("sqlstore: append: unknown trigger %q", rec.Trigger)
	}
	params, err := audit.CanonicalJSON(rec.Params)
	if err != nil {
		return audit.Record{}, fmt.Errorf("sqlstore: append: %w", err)
	}
	rec.Params = params
	if rec.Time.IsZero() {
		rec.Time = s.now()
	}
	rec.Time = rec.Time.UTC() // also drops the monotonic reading
	if rec.Time.Before(minTime) || rec.Time.After(maxTime) {
		return audit.Record{}, fmt.Errorf("sqlstore: append: time %s out of range", rec.Time)
	}
	return rec, nil
}

// checkRefs refuses (first result) a pending record whose idempotency key is still bound, an
// outcome that names no pending record, and a reconciliation's closing record for an attempt
// that already has an outcome (audit.ErrAlreadyClosed); the second result is a database error. It runs in
// the append transaction, which holds the write lock, so no other writer can bind the key
// between the check and the insert; it sees the records of its own batch inserted before it.
func (s *Store) checkRefs(ctx context.Context, tx *sql.Tx, rec audit.Record) (refused, err error) {
	if rec.Outcome == audit.OutcomePending && rec.IdempotencyKey != "" {
		bound, err := s.keyBound(ctx, tx, rec.Actor, rec.IdempotencyKey)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: append: %w", err)
		}
		if bound {
			return fmt.Errorf("sqlstore: append: %w", audit.ErrDuplicateKey), nil
		}
	}
	if rec.PendingID != 0 {
		var n int
		err := tx.StmtContext(ctx, s.w.stmts.pendingExists).QueryRowContext(ctx, rec.PendingID).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: append: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("sqlstore: append: pending_id %d names no pending record", rec.PendingID), nil
		}
		if rec.ErrorCode == audit.CodeNoOutcomeRecorded {
			var outcome string
			err := tx.StmtContext(ctx, s.w.stmts.newestOutcomeState).QueryRowContext(ctx, rec.PendingID).Scan(&outcome)
			switch {
			case err == nil:
				return fmt.Errorf("sqlstore: append: attempt %d is %s: %w", rec.PendingID, outcome, audit.ErrAlreadyClosed), nil
			case !errors.Is(err, sql.ErrNoRows):
				return nil, fmt.Errorf("sqlstore: append: reading the outcome of record %d: %w", rec.PendingID, err)
			}
		}
	}
	return nil, nil
}

// Statements the idempotency rule runs on every keyed append. Each repeats its partial index's
// conditions (idempotency_key <> ”, pending_id <> 0), so that SQLite and a generic PostgreSQL
// plan both use the index, whatever the log's size.
//
// A key is scoped to its actor. The key index (idempotency_key, id) finds the key's pending
// records and the actor is checked on each: keys are chosen per request (a UUID, a schedule's
// name and time), so the records sharing one are a handful, and an index with the actor would
// only cost every pending record's insert a wider entry (and a migration).
const (
	newestPendingByKey = `SELECT ` + columns + ` FROM audit_log
		WHERE outcome = 'pending' AND idempotency_key = ? AND idempotency_key <> '' AND actor = ?
		ORDER BY id DESC LIMIT 1`
	newestOutcomeOf = `SELECT ` + columns + ` FROM audit_log
		WHERE pending_id = ? AND pending_id <> 0 ORDER BY id DESC LIMIT 1`
	newestOutcomeState = `SELECT outcome FROM audit_log WHERE pending_id = ? AND pending_id <> 0 ORDER BY id DESC LIMIT 1`
	// keyState is newestOutcomeState of newestPendingByKey's record, in one statement (keyBound,
	// KeyBound): no row when there is none, NULL while it has no outcome.
	keyState = `SELECT (SELECT o.outcome FROM audit_log o WHERE o.pending_id = p.id AND o.pending_id <> 0 ORDER BY o.id DESC LIMIT 1)
		FROM audit_log p WHERE p.outcome = 'pending' AND p.idempotency_key = ? AND p.idempotency_key <> '' AND p.actor = ?
		ORDER BY p.id DESC LIMIT 1`
	// chainHead is where Append and Import continue the chain.
	chainHead = `SELECT id, time_ns, hash FROM audit_log ORDER BY id DESC LIMIT 1`
	// pendingExists checks the record an outcome names.
	pendingExists = `SELECT COUNT(*) FROM audit_log WHERE id = ? AND outcome = 'pending'`
	// byID reads one record.
	byID = `SELECT ` + columns + ` FROM audit_log WHERE id = ?`
)

// keyBound reports whether actor's key is bound to an attempt that started or may have started
// a scan: actor's newest pending record holding it has no outcome yet, or its outcome is
// succeeded or unknown. A failed outcome (TCSS refused, rate limited, or the request was never
// sent) frees it. Other actors' records with the same key do not count. One statement
// (keyState), inside the append's transaction, which holds the write lock.
func (s *Store) keyBound(ctx context.Context, tx *sql.Tx, actor, key string) (bool, error) {
	bound, err := boundByState(tx.StmtContext(ctx, s.w.stmts.keyState).QueryRowContext(ctx, key, actor))
	if err != nil {
		return false, fmt.Errorf("reading the state of the key's attempt: %w", err)
	}
	return bound, nil
}

// boundByState applies keyBound's rule to a row of keyState: no row (no pending record holds
// the key) is unbound; NULL (no outcome yet) is bound, and so is any outcome but failed.
func boundByState(row *sql.Row) (bool, error) {
	var outcome sql.NullString
	err := row.Scan(&outcome)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	}
	return !outcome.Valid || audit.Outcome(outcome.String) != audit.OutcomeFailed, nil
}

func rowValues(r audit.Record) []any {
	return []any{r.ID, r.Time.UnixNano(), string(r.Trigger), r.Actor, r.SourceIP, r.UserAgent, r.Action,
		string(r.Params), r.IdempotencyKey, string(r.Outcome), r.PendingID, r.LocalTaskID, r.RegistryTaskID,
		r.TCSSRequestID, r.ErrorCode, r.ErrorMessage, r.FunctionRequestID, r.Endpoint, r.Credential, r.Access,
		r.RelatedID, r.PrevHash, r.Hash}
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanRecord(row scanner) (audit.Record, error) {
	var r audit.Record
	var ns int64
	var trigger, params, outcome string
	err := row.Scan(&r.ID, &ns, &trigger, &r.Actor, &r.SourceIP, &r.UserAgent, &r.Action, &params,
		&r.IdempotencyKey, &outcome, &r.PendingID, &r.LocalTaskID, &r.RegistryTaskID, &r.TCSSRequestID,
		&r.ErrorCode, &r.ErrorMessage, &r.FunctionRequestID, &r.Endpoint, &r.Credential, &r.Access,
		&r.RelatedID, &r.PrevHash, &r.Hash)
	if err != nil {
		return audit.Record{}, err
	}
	r.Time = time.Unix(0, ns).UTC()
	r.Trigger, r.Outcome, r.Params = audit.Trigger(trigger), audit.Outcome(outcome), json.RawMessage(params)
	return r, nil
}

// one returns the single record the query selects.
func (s *Store) one(ctx context.Context, op, where string, args ...any) (audit.Record, error) {
	return s.first(ctx, op, `SELECT `+columns+` FROM audit_log WHERE `+where, args...)
}

// first returns the first record the whole query selects.
func (s *Store) first(ctx context.Context, op, query string, args ...any) (audit.Record, error) {
	r, err := scanRecord(s.db.QueryRowContext(ctx, s.d.bind(query), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Record{}, fmt.Errorf("sqlstore: %s: %w", op, audit.ErrNotFound)
	}
	if err != nil {
		return audit.Record{}, fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	return r, nil
}

// Get implements audit.Store.
func (s *Store) Get(ctx context.Context, id int64) (audit.Record, error) {
	return s.first(ctx, fmt.Sprintf("get %d", id), byID, id)
}

// PendingByKey implements audit.Store: actor's newest pending record holding key.
func (s *Store) PendingByKey(ctx context.Context, actor, key string) (audit.Record, error) {
	if key == "" {
		return audit.Record{}, fmt.Errorf("sqlstore: pending by key: empty key: %w", audit.ErrNotFound)
	}
	return s.first(ctx, "pending by key", newestPendingByKey, key, actor)
}

// KeyBound implements audit.Store: the append's keyBound, outside an append. PendingByKey and
// the state of its newest outcome are read in one query (keyState).
func (s *Store) KeyBound(ctx context.Context, actor, key string) (bool, error) {
	if key == "" {
		return false, nil
	}
	bound, err := boundByState(s.db.QueryRowContext(ctx, s.d.bind(keyState), key, actor))
	if err != nil {
		return false, fmt.Errorf("sqlstore: key bound: %w", err)
	}
	return bound, nil
}

// OutcomeOf implements audit.Store. Should there be several (the Store does not forbid a later
// correction), the newest is returned.
func (s *Store) OutcomeOf(ctx context.Context, pendingID int64) (audit.Record, error) {
	if pendingID == 0 {
		return audit.Record{}, fmt.Errorf("sqlstore: outcome of 0: %w", audit.ErrNotFound)
	}
	return s.first(ctx, fmt.Sprintf("outcome of %d", pendingID), newestOutcomeOf, pendingID)
}

// query builds the SELECT for f, ordered by ID in the given direction. Every filter is written
// so that an index serves it (see migrations/*/0003_filter_indexes.sql): a time bound becomes an
// ID bound (firstIDAt), because times never go backwards along the chain.
func (s *Store) query(f audit.Filter, order string) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, arg ...any) {
		where = append(where, cond)
		args = append(args, arg...)
	}
	if f.Outcome != "" {
		add(`outcome = ?`, string(f.Outcome))
	}
	if f.Trigger != "" {
		add(`trigger_type = ?`, string(f.Trigger))
	}
	if f.Actor != "" {
		add(`actor = ?`, f.Actor)
	}
	if f.TaskID != 0 {
		add(`id IN (SELECT id FROM audit_log WHERE local_task_id = ? AND local_task_id <> 0
			UNION SELECT id FROM audit_log WHERE registry_task_id = ? AND registry_task_id <> 0)`, f.TaskID, f.TaskID)
	}
	if !f.Since.IsZero() {
		since := clampTime(f.Since).UnixNano()
		add(`id >= (`+firstIDAt+`)`, since, since)
	}
	if !f.Until.IsZero() {
		until := clampTime(f.Until).UnixNano()
		add(`id < (`+firstIDAt+`)`, until, until)
	}
	if f.BeforeID > 0 {
		add(`id < ?`, f.BeforeID)
	}
	if f.AfterID > 0 {
		add(`id > ?`, f.AfterID)
	}
	q := `SELECT ` + columns + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY id ` + order
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	return s.d.bind(q), args
}

// firstIDAt selects, for a time T in Unix nanoseconds (its two ?, both T), the ID bound m that
// splits the log at T: records with IDs below m are before T, the others at or after it (past
// every ID when no record is). Times never go backwards along the chain, so a binary search over
// the IDs finds it, each probe a seek in the table's own order (its primary key): about 20 probes
// at a million records, and no index on time for every record to write (migration 0007). t(m),
// the time of the first record at or after ID m, grows with m, so the search keeps
// t(lo) < T <= t(hi), with lo = 0 and hi = the newest ID + 1 standing for before and after every
// record, until hi = lo + 1.
const firstIDAt = `WITH RECURSIVE probe (lo, hi) AS (
		SELECT CAST(0 AS BIGINT), COALESCE((SELECT MAX(id) FROM audit_log), 0) + 1
		UNION ALL
		SELECT CASE WHEN (SELECT time_ns FROM audit_log WHERE id >= (lo + hi) / 2 ORDER BY id LIMIT 1) >= ?
				THEN lo ELSE (lo + hi) / 2 END,
			CASE WHEN (SELECT time_ns FROM audit_log WHERE id >= (lo + hi) / 2 ORDER BY id LIMIT 1) >= ?
				THEN (lo + hi) / 2 ELSE hi END
		FROM probe WHERE hi - lo > 1)
	SELECT MIN(hi) FROM probe`

func clampTime(t time.Time) time.Time {
	if t.Before(minTime) {
		return minTime
	}
	if t.After(maxTime) {
		return maxTime
	}
	return t
}

// List implements audit.Store.
func (s *Store) List(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	var out []audit.Record
	q, args := s.query(f, "DESC")
	err := s.each(ctx, q, args, func(r audit.Record) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list: %w", err)
	}
	return out, nil
}

// Each implements audit.Store.
func (s *Store) Each(ctx context.Context, f audit.Filter, fn func(audit.Record) error) error {
	q, args := s.query(f, "ASC")
	return s.each(ctx, q, args, fn)
}

func (s *Store) each(ctx context.Context, q string, args []any, fn func(audit.Record) error) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return fmt.Errorf("reading a record: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Verify implements audit.Store with audit.VerifyChain.
func (s *Store) Verify(ctx context.Context) (audit.Report, error) {
	return audit.VerifyChain(ctx, chain{s})
}

// VerifyFrom implements audit.Store with audit.VerifyChainFrom.
func (s *Store) VerifyFrom(ctx context.Context, from audit.Report) (audit.Report, error) {
	return audit.VerifyChainFrom(ctx, chain{s}, from)
}

// chain is the Store as audit.VerifyChain reads it.
type chain struct{ s *Store }

func (c chain) Walk(ctx context.Context, afterID int64, fn func(audit.Record) error) error {
	return c.s.Each(ctx, audit.Filter{AfterID: afterID}, fn)
}

func (c chain) ByHash(ctx context.Context, h string) (audit.Record, error) {
	return c.s.one(ctx, "by hash", `hash = ? ORDER BY id LIMIT 1`, h)
}
