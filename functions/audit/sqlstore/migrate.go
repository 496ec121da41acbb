package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// migrationFiles holds the schema's history, one directory per dialect: NNNN_name.sql, numbered
// from 0001 without gaps. A released migration is never edited; a change is a new file.
//
//go:embed migrations
var migrationFiles embed.FS

// migration is one numbered step of the schema.
type migration struct {
	version int64
	name    string
	file    string // its path in migrationFiles
}

// text reads the migration's SQL. Only a migrating start needs it: every other start learns the
// newest version from the file names alone.
func (m migration) text() (string, error) {
	b, err := fs.ReadFile(migrationFiles, m.file)
	return string(b), err
}

// loadMigrations returns the dialect's migrations in order.
func loadMigrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		version, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %s/%s: want NNNN_name.sql", dir, e.Name())
		}
		if want := int64(len(ms) + 1); version != want {
			return nil, fmt.Errorf("migration %s/%s: want number %d (no gaps, no repeats)", dir, e.Name(), want)
		}
		ms = append(ms, migration{version: version, name: name, file: path.Join(dir, e.Name())})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no migrations in %s", dir)
	}
	return ms, nil
}

// migrate brings the schema to the newest version and makes sure the append-only guards are in
// place. When both hold already (every start after the first), it costs one query and runs no
// DDL. Otherwise the pending migrations and the guards run in one transaction that holds the
// database's migration lock, so that instances starting at once apply each migration exactly once:
// the first takes the lock and migrates, the others wait, then find nothing left to do.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.d.name)
	if err != nil {
		return err
	}
	latest := ms[len(ms)-1].version
	// A missing schema_migrations table (a new database, or one written before migrations) is an
	// error here; the locked path below then creates it.
	if s.current(ctx, latest) {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning the migration: %w", err)
	}
	defer tx.Rollback()
	if s.d.migrateLock != "" {
		if _, err := tx.ExecContext(ctx, s.d.migrateLock); err != nil {
			return fmt.Errorf("taking the migration lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version       BIGINT PRIMARY KEY,
		name          TEXT NOT NULL,
		applied_at_ns BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	current, rows, err := versionRows(ctx, tx)
	if err != nil {
		return err
	}
	if current > latest {
		return fmt.Errorf("the database's schema is version %d, newer than this vulscan knows (%d): upgrade vulscan", current, latest)
	}
	if rows != current {
		return deletedVersionRows(fmt.Sprintf("it holds %d of the rows of versions 1 to %d", rows, current))
	}
	for _, m := range ms[current:] {
		text, err := m.text()
		if err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
		var before string
		if current > 0 { // a log is there: its schema shows whether m was applied to it already
			if before, err = s.schemaShape(ctx, tx); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, text); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
		if current > 0 {
			after, err := s.schemaShape(ctx, tx)
			if err != nil {
				return err
			}
			if after == before {
				return deletedVersionRows(fmt.Sprintf("it names version %d, yet migration %04d_%s changes nothing: it was applied "+
					"already", current, m.version, m.name))
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.bind(`INSERT INTO schema_migrations (version, name, applied_at_ns) VALUES (?, ?, ?)`),
			m.version, m.name, s.now().UnixNano()); err != nil {
			return fmt.Errorf("recording migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	// Every table exists now. A guard missing from a log that was there before (and had the
	// guard's table) was removed by someone: put it back, but say so (RestoredGuards).
	if current > 0 {
		missing, err := s.missingGuards(ctx, tx)
		if err != nil {
			return err
		}
		for _, name := range missing {
			if guardTableVersion(name) <= current {
				s.restored = append(s.restored, name)
			}
		}
	}
	for _, q := range s.d.guards {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("putting the append-only guards in place: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing the migration: %w", err)
	}
	return nil
}

// ErrDeletedVersionRows is the refusal of a log whose schema_migrations lost rows: someone
// changed the database's metadata by hand.
var ErrDeletedVersionRows = errors.New("schema_migrations rows deleted")

// deletedVersionRows is the refusal of a writing open that found rows of schema_migrations
// deleted (what says so in finding). Migrating would put them back and erase that evidence,
// as the read-only commands refuse to; a writer refuses as well, and changes nothing.
func deletedVersionRows(finding string) error {
	return fmt.Errorf("schema_migrations does not hold this log's history (%s): rows of schema_migrations were deleted, "+
		"and the database's metadata was changed by hand. vulscan does not put them back, which would erase that evidence: "+
		"find out who changed the database, check the log (vulscan audit verify with --anchor, --key or --witness), then put "+
		"the rows back by hand, one per migration file (version, name, applied_at_ns): %w", finding, ErrDeletedVersionRows)
}

// schemaShape returns the dialect's text of the schema's tables, columns and indexes.
func (s *Store) schemaShape(ctx context.Context, q querier) (string, error) {
	var shape string
	if err := q.QueryRowContext(ctx, s.d.schemaShape).Scan(&shape); err != nil {
		return "", fmt.Errorf("reading the schema: %w", err)
	}
	return shape, nil
}

// versionRows returns the newest version schema_migrations names and how many rows it has:
// versions 1 to newest, one row each, unless rows were deleted.
func versionRows(ctx context.Context, q querier) (newest, rows int64, err error) {
	err = q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0), COUNT(*) FROM schema_migrations`).Scan(&newest, &rows)
	if err != nil {
		return 0, 0, fmt.Errorf("reading the schema version: %w", err)
	}
	return newest, rows, nil
}

// current reports whether the schema is at version latest with every append-only guard in
// place; false also when it cannot tell (no schema_migrations table yet, for one). It asks both in
// one query: on every start after the first this is all migrate runs, and each statement costs
// SQLite a parse (a one-shot CLI run prepares few statements) and PostgreSQL a round trip.
func (s *Store) current(ctx context.Context, latest int64) bool {
	var v, rows int64
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT COALESCE(MAX(version), 0) FROM schema_migrations), (SELECT COUNT(*) FROM schema_migrations), `+
		`(SELECT COUNT(*) FROM (`+s.d.presentGuards+`) g)`).Scan(&v, &rows, &n)
	return err == nil && v == latest && rows == latest && n == len(s.d.guardNames)
}

// guardTableVersion is the migration that created the table the guard named protects: before
// it, the guard's absence is no sign of anything.
func guardTableVersion(guard string) int64 {
	if strings.HasPrefix(guard, "audit_checkpoints_") {
		return 4 // 0004_checkpoints
	}
	return 1
}

// querier is *sql.DB or *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// missingGuards returns the names of the append-only guards the database lacks, in
// dialect.guardNames order; every table must exist.
func (s *Store) missingGuards(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, s.d.presentGuards)
	if err != nil {
		return nil, fmt.Errorf("reading the append-only guards: %w", err)
	}
	defer rows.Close()
	present := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("reading the append-only guards: %w", err)
		}
		present[name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the append-only guards: %w", err)
	}
	var missing []string
	for _, name := range s.d.guardNames {
		if !present[name] {
			missing = append(missing, name)
		}
	}
	return missing, nil
}

// MissingGuards returns the names of the append-only guards (the triggers that refuse UPDATE,
// DELETE and, on PostgreSQL, TRUNCATE of the records and checkpoints) the database lacks now,
// nil when all are in place. A store opened with OpenSQLiteExisting or OpenPostgresExisting
// leaves them missing; one opened for writing has put them back (RestoredGuards).
func (s *Store) MissingGuards(ctx context.Context) ([]string, error) {
	missing, err := s.missingGuards(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	return missing, nil
}

// ForeignTriggers returns the names of the triggers on the log's tables that are not its
// append-only guards, and on PostgreSQL its rules ("rule NAME"), nil when there are none.
// vulscan writes none: someone who did can make the database skip records as they are written,
// or change them, which no guard refuses.
func (s *Store) ForeignTriggers(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.d.foreignTriggers)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading the log's triggers: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("sqlstore: reading the log's triggers: %w", err)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: reading the log's triggers: %w", err)
	}
	return names, nil
}

// RestoredGuards returns the names of the append-only guards that OpenSQLite or OpenPostgres
// found missing from an existing log and put back: someone removed them, and could have changed
// records or checkpoints meanwhile. The caller should say so where an operator sees it.
func (s *Store) RestoredGuards() []string { return s.restored }

// SchemaVersion returns the version of the schema the store's database holds.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	v, _, err := versionRows(ctx, s.db)
	return v, err
}
