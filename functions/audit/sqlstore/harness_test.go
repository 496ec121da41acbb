package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
)

// harness is one backend under test: the store, and a raw connection to the same database for
// playing the attacker with plain SQL.
type harness struct {
	store  *Store
	raw    *sql.DB
	d      dialect
	reopen func(t *testing.T) *Store
	// open opens another store on the same database and returns its error, for tests of opening.
	open func(context.Context) (*Store, error)
	dsn  string // what OpenSQLite (the file's path) or OpenPostgres takes
	path string // the SQLite file, "" for PostgreSQL
}

// exec runs raw SQL (with ? placeholders) as an attacker with database access would.
func (h *harness) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := h.raw.Exec(h.d.bind(q), args...); err != nil {
		t.Fatalf("raw %q: %v", q, err)
	}
}

// dropGuards removes the append-only triggers, as an attacker with the sqlite3 shell or psql
// would before editing rows.
func (h *harness) dropGuards(t *testing.T) {
	t.Helper()
	if h.d.name == "sqlite" {
		h.exec(t, `DROP TRIGGER audit_log_no_update`)
		h.exec(t, `DROP TRIGGER audit_log_no_delete`)
		return
	}
	h.exec(t, `DROP TRIGGER audit_log_no_change ON audit_log`)
	h.exec(t, `DROP TRIGGER audit_log_no_truncate ON audit_log`)
}

// insertRaw writes r as a row exactly as given, bypassing Append.
func (h *harness) insertRaw(t *testing.T, r audit.Record) {
	t.Helper()
	h.exec(t, `INSERT INTO audit_log (`+columns+`) VALUES (`+placeholders+`)`, rowValues(r)...)
}

// eachBackend runs test against SQLite and, when VULSCAN_TEST_POSTGRES_DSN is set, PostgreSQL.
func eachBackend(t *testing.T, test func(t *testing.T, h *harness)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		test(t, newSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		test(t, newPostgres(t))
	})
}

func newSQLite(t *testing.T) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.db")
	h := newHarness(t, sqliteDialect(), "sqlite", path+"?_pragma=busy_timeout(5000)", func(ctx context.Context) (*Store, error) {
		return OpenSQLite(ctx, path)
	})
	h.dsn, h.path = path, path
	return h
}

// newPostgres gives each test its own schema of the server at VULSCAN_TEST_POSTGRES_DSN.
func newPostgres(t *testing.T) *harness {
	t.Helper()
	dsn := sqlstoretest.PostgresDSN(t)
	h := newHarness(t, postgresDialect, "postgres", dsn, func(ctx context.Context) (*Store, error) {
		return OpenPostgres(ctx, dsn)
	})
	h.dsn = dsn
	return h
}

// newHarness opens the store, and a raw connection through driver and rawDSN.
func newHarness(t *testing.T, d dialect, driver, rawDSN string, openStore func(context.Context) (*Store, error)) *harness {
	t.Helper()
	open := func(t *testing.T) *Store {
		s, err := openStore(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	raw, err := sql.Open(driver, rawDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return &harness{store: open(t), raw: raw, d: d, reopen: open, open: openStore}
}
