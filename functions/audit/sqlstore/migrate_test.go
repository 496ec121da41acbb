package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
)

// mainFixture is a SQLite audit log written by vulscan's main at commit 22761e8, the last schema
// before numbered migrations: 8 records in hash encoding version 1, idempotency keys bound by a
// unique index (k-1 succeeded, k-2 failed, k-3 still pending).
const mainFixture = "testdata/main-22761e8.db"

// legacyColumns are the columns main wrote at 22761e8.
const legacyColumns = `id, time_ns, trigger_type, actor, source_ip, user_agent, action, params, idempotency_key,
	outcome, pending_id, local_task_id, registry_task_id, tcss_request_id, error_code, error_message,
	function_request_id, prev_hash, hash`

func copyFixture(t *testing.T) string {
	t.Helper()
	src, err := os.Open(mainFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "audit.db")
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// legacyPostgres builds, in a fresh schema, the PostgreSQL audit log main wrote at 22761e8 (its
// DDL is migration 0001 plus the guards) holding the fixture's rows, and returns its DSN.
func legacyPostgres(t *testing.T) string {
	t.Helper()
	dsn := sqlstoretest.PostgresDSN(t)
	pg, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	ms, err := loadMigrations("postgres")
	if err != nil {
		t.Fatal(err)
	}
	// The function and audit_log's two triggers were main's guards; the rest came later.
	first, err := ms[0].text()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range append([]string{first}, postgresDialect.guards[:3]...) {
		if _, err := pg.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	lite, err := sql.Open("sqlite", copyFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	rows, err := lite.Query(`SELECT ` + legacyColumns + ` FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	insert := postgresDialect.bind(`INSERT INTO audit_log (` + legacyColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	for rows.Next() {
		v := make([]any, 19)
		p := make([]any, len(v))
		for i := range v {
			p[i] = &v[i]
		}
		if err := rows.Scan(p...); err != nil {
			t.Fatal(err)
		}
		if _, err := pg.Exec(insert, v...); err != nil {
			t.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return dsn
}

// A log written before migrations opens, migrates forward and keeps its chain; old records verify
// in encoding version 1, new ones chain onto them in version 2, and the keys follow the new rule.
func TestMigratesALogWrittenByMain(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T) (*Store, error)
	}{
		{"sqlite", func(t *testing.T) (*Store, error) { return OpenSQLite(context.Background(), copyFixture(t)) }},
		{"postgres", func(t *testing.T) (*Store, error) { return OpenPostgres(context.Background(), legacyPostgres(t)) }},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, err := b.open(t)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if v, err := s.SchemaVersion(ctx); err != nil || v != latestVersion(t, s) {
				t.Errorf("SchemaVersion = %d, %v; want %d", v, err, latestVersion(t, s))
			}
			if rep, err := s.Verify(ctx); err != nil || !rep.OK() || rep.Records != 8 {
				t.Fatalf("Verify after migrating = %v, %v; want ok: 8 records", rep, err)
			}
			old, err := s.Get(ctx, 8)
			if err != nil || old.Endpoint != "" || old.Access != "" || old.RelatedID != 0 || old.IdempotencyKey != "k-3" {
				t.Errorf("Get(8) = %+v, %v; want the fixture's record with empty new fields", old, err)
			}
			keys := []struct {
				actor, key string // the fixture's actor of the key (a key is scoped to its actor)
				wantBound  bool
			}{{"key-ops", "k-1", true}, {"system:timer/nightly", "k-2", false}, {"key-ops", "k-3", true}}
			for _, k := range keys {
				r := rec(0)
				r.Actor, r.IdempotencyKey, r.Access, r.Endpoint = k.actor, k.key, "apikey", "emulator:http://127.0.0.1:9100"
				_, err := s.Append(ctx, r)
				if got := errors.Is(err, audit.ErrDuplicateKey); got != k.wantBound || (err != nil && !got) {
					t.Errorf("pending record with key %s: %v; want bound = %v", k.key, err, k.wantBound)
				}
			}
			rep, err := s.Verify(ctx)
			if err != nil || !rep.OK() || rep.Records != 9 {
				t.Errorf("Verify after appending = %v, %v; want ok: 9 records", rep, err)
			}
			if r, err := s.Get(ctx, 9); err != nil || r.PrevHash != old.Hash || r.Access != "apikey" || !r.Emulated() {
				t.Errorf("Get(9) = %+v, %v; want the new record, chained to record 8", r, err)
			}
		})
	}
}

func latestVersion(t *testing.T, s *Store) int64 {
	t.Helper()
	ms, err := loadMigrations(s.d.name)
	if err != nil {
		t.Fatal(err)
	}
	return ms[len(ms)-1].version
}

// Instances that start at once on a new database migrate it exactly once, and none fails.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	const instances = 4
	backends := []struct {
		name string
		open func(t *testing.T) func() (*Store, error)
	}{
		{"sqlite", func(t *testing.T) func() (*Store, error) {
			path := filepath.Join(t.TempDir(), "audit.db")
			return func() (*Store, error) { return OpenSQLite(context.Background(), path) }
		}},
		{"postgres", func(t *testing.T) func() (*Store, error) {
			dsn := sqlstoretest.PostgresDSN(t)
			return func() (*Store, error) { return OpenPostgres(context.Background(), dsn) }
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			open := b.open(t)
			stores := make([]*Store, instances)
			errs := make([]error, instances)
			var wg sync.WaitGroup
			for i := range instances {
				wg.Go(func() { stores[i], errs[i] = open() })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("instance %d: %v", i, err)
				}
				defer stores[i].Close()
			}
			var n, newest int64
			if err := stores[0].db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &newest); err != nil {
				t.Fatal(err)
			}
			if want := latestVersion(t, stores[0]); n != want || newest != want {
				t.Errorf("schema_migrations holds %d rows up to version %d; want each of 1..%d once", n, newest, want)
			}
			for i, s := range stores {
				mustAppend(t, s, rec(i))
			}
			if rep, err := stores[0].Verify(context.Background()); err != nil || !rep.OK() || rep.Records != instances {
				t.Errorf("Verify = %v, %v", rep, err)
			}
		})
	}
}

// A current schema is only checked, not rebuilt, at open; a schema newer than the binary is
// refused rather than written with the wrong columns.
func TestOpenChecksTheSchemaVersion(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		h.store.Close()
		// Dropping an index a migration made is not repaired by the next open: no DDL runs when the
		// version is current (and this index is not a guard).
		h.exec(t, `DROP INDEX audit_log_actor`)
		s := h.reopen(t)
		var n int
		q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'audit_log_actor'`
		if h.d.name == "postgres" {
			q = `SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'audit_log_actor'`
		}
		if err := h.raw.QueryRow(q).Scan(&n); err != nil || n != 0 {
			t.Errorf("index audit_log_actor: %d, %v; want still dropped (open ran DDL on a current schema)", n, err)
		}
		s.Close()

		h.exec(t, `INSERT INTO schema_migrations (version, name, applied_at_ns) VALUES (99, 'from_the_future', 0)`)
		_, err := h.open(context.Background())
		if err == nil || !strings.Contains(err.Error(), "newer than this vulscan knows") {
			t.Errorf("opening a version 99 schema: %v, want it refused as newer", err)
		}
	})
}

// A log made by schema version 6 (its time index in place) migrates to version 7: the index is
// dropped, the records verify, and the time filters and reconciliation's window still find
// them, now through the IDs.
func TestMigratesAVersion6LogOffItsTimeIndex(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		p := mustAppend(t, h.store, rec(0))
		o := rec(1)
		o.Outcome, o.PendingID = audit.OutcomeSucceeded, p.ID
		mustAppend(t, h.store, o)
		stale := mustAppend(t, h.store, rec(2))
		h.store.Close()
		// Version 6 is version 7 with audit_log_time (migration 0003) and without 0007's row.
		h.exec(t, `CREATE INDEX audit_log_time ON audit_log (time_ns, id)`)
		h.exec(t, `DELETE FROM schema_migrations WHERE version = 7`)
		indexes := func() int {
			t.Helper()
			q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'audit_log_time'`
			if h.d.name == "postgres" {
				q = `SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'audit_log_time'`
			}
			var n int
			if err := h.raw.QueryRow(q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if indexes() != 1 {
			t.Fatal("the version 6 log has no audit_log_time")
		}

		s := h.reopen(t)
		if v, err := s.SchemaVersion(ctx); err != nil || v != 7 {
			t.Errorf("SchemaVersion = %d, %v; want 7", v, err)
		}
		if n := indexes(); n != 0 {
			t.Errorf("audit_log_time is still there after migrating")
		}
		if rep, err := s.Verify(ctx); err != nil || !rep.OK() || rep.Records != 3 {
			t.Errorf("Verify = %v, %v; want ok: 3 records", rep, err)
		}
		if got, err := s.List(ctx, audit.Filter{Since: t0.Add(time.Minute)}); err != nil || len(got) != 2 || got[0].ID != stale.ID {
			t.Errorf("List since the second record = %v, %v; want records 3 and 2", ids(got), err)
		}
		if got, err := s.StalePending(ctx, time.Time{}, t0.Add(time.Hour), 10); err != nil || len(got) != 1 || got[0].ID != stale.ID {
			t.Errorf("StalePending = %v, %v; want record %d", ids(got), err, stale.ID)
		}
	})
}

// A process that opens a new log while another is still creating it waits for the other, as it
// waits for any writer. Switching a new file to WAL takes the write lock from inside a read,
// where SQLite refuses at once with SQLITE_BUSY instead of calling the busy handler; that failed
// `vulscan scan` processes started together on a new log (4 of 2,400 opens, six processes at a
// time on a loaded machine). Here the other process is a connection holding the write lock of a
// file not yet in WAL mode, as the first opener does while it switches.
func TestOpenWaitsForALogBeingCreated(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "audit.db")
	// A rollback journal, as a new file starts, and a busy timeout, as every vulscan process has:
	// the creator's COMMIT waits for the opener's read lock to go (the opener retries with none
	// held). Without it the COMMIT failed at once when it met that lock (15 runs in 600 under load).
	raw, err := sql.Open("sqlite", fmt.Sprintf("%s?_pragma=busy_timeout(%d)", path, busyTimeout.Milliseconds()))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	creator, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer creator.Close()
	for _, q := range []string{`CREATE TABLE being_created (x)`, `BEGIN IMMEDIATE`, `INSERT INTO being_created VALUES (1)`} {
		if _, err := creator.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	type opened struct {
		s   *Store
		err error
	}
	done := make(chan opened, 1)
	go func() {
		s, err := OpenSQLite(ctx, path)
		done <- opened{s, err}
	}()
	select {
	case o := <-done:
		t.Fatalf("OpenSQLite returned while another connection was still creating the log: %v", o.err)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := creator.ExecContext(ctx, `COMMIT`); err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.err != nil {
		t.Fatalf("OpenSQLite after the creator committed: %v", o.err)
	}
	defer o.s.Close()
	mustAppend(t, o.s, rec(0))
	if rep, err := o.s.Verify(ctx); err != nil || !rep.OK() || rep.Records != 1 {
		t.Errorf("Verify = %v, %v; want ok: 1 record", rep, err)
	}
}
