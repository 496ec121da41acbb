package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
)

// harness is one backend under test: the store, and a raw connection to the same database for
// playing the attacker with plain SQL.
type harness struct {
	store  *Store
	raw    *sql.DB
	d      dialect
	reopen func(t *testing.T) *Store
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
	h.exec(t, `INSERT INTO audit_log (`+columns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, rowValues(r)...)
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
	open := func(t *testing.T) *Store {
		s, err := OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	h := &harness{store: open(t), d: sqliteDialect, reopen: open}
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	h.raw = raw
	return h
}

// newPostgres gives each test its own schema of the server at VULSCAN_TEST_POSTGRES_DSN, so
// tests run in parallel without seeing each other's rows.
func newPostgres(t *testing.T) *harness {
	t.Helper()
	dsn := os.Getenv("VULSCAN_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("VULSCAN_TEST_POSTGRES_DSN is not set; CI must run the PostgreSQL store tests")
		}
		t.Skip("VULSCAN_TEST_POSTGRES_DSN not set")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := "audit_test_" + randomHex(t)
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("VULSCAN_TEST_POSTGRES_DSN must be a postgres:// URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	schemaDSN := u.String()
	open := func(t *testing.T) *Store {
		s, err := OpenPostgres(context.Background(), schemaDSN)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	h := &harness{store: open(t), d: postgresDialect, reopen: open}
	raw, err := sql.Open("pgx", schemaDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	h.raw = raw
	return h
}

func randomHex(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
