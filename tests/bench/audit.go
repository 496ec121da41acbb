package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// auditRecords is the size of the log the audit item measures: the audit issue's production
// size.
const auditRecords = 1_000_000

// auditBackend is one database the audit item measures: a log filled with auditRecords records
// and an empty one beside it, both reachable by vulscan's DSN.
type auditBackend struct {
	name                string
	fullDSN, emptyDSN   string
	full, empty         *sqlstore.Store
	verifyTarget        target
	cleanup             func()
	openFull, openEmpty func() (*sqlstore.Store, error)
}

// auditScale measures the audit log at a million records (issue 8) on SQLite and, when
// VULSCAN_TEST_POSTGRES_DSN is set, PostgreSQL: one attempt's two appends against the same on an
// empty log, the full `vulscan audit verify` walk, the `/audit` page's first view of a freshly
// started server, and the first answer to a 500-request burst. Each backend's log is filled once
// (the item's main cost) and reused by every row.
func (s *suite) auditScale() ([]row, error) {
	var rows []row
	var errs []error
	for _, name := range []string{"SQLite", "PostgreSQL"} {
		b, err := s.openAuditBackend(name)
		if err != nil {
			if name == "PostgreSQL" && os.Getenv(sqlstoretest.EnvDSN) == "" {
				rows = append(rows, notMeasured(name)...)
				continue
			}
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		r, err := s.measureAudit(b)
		b.cleanup()
		rows = append(rows, r...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	if len(errs) > 0 {
		return rows, fmt.Errorf("%v", errs)
	}
	return rows, nil
}

// auditItems names the rows, so that a backend not measured still shows each of them.
func auditItems(backend string) (appendItem, verifyItem, viewItem, burstItem string) {
	at := " at 1M records, " + backend
	return "audit: one attempt's two appends" + at, "audit: full verify walk (Store.Verify, as `vulscan audit verify`)" + at,
		"audit: `/audit` first view of a fresh server" + at, "audit: burst of 500, first answer" + at
}

func notMeasured(backend string) []row {
	a, v, p, b := auditItems(backend)
	note := "not measured: set " + sqlstoretest.EnvDSN
	return []row{{item: a, note: note}, {item: v, note: note}, {item: p, note: note}, {item: b, note: note}}
}

func (s *suite) openAuditBackend(name string) (*auditBackend, error) {
	ctx := context.Background()
	b := &auditBackend{name: name, verifyTarget: target{kind: "min", limit: 500_000}}
	if name == "SQLite" {
		full, empty := filepath.Join(s.dir, "audit-full.db"), filepath.Join(s.dir, "audit-empty.db")
		b.fullDSN, b.emptyDSN = "sqlite:"+full, "sqlite:"+empty
		b.openFull = func() (*sqlstore.Store, error) { return sqlstore.OpenSQLite(ctx, full) }
		b.openEmpty = func() (*sqlstore.Store, error) { return sqlstore.OpenSQLite(ctx, empty) }
		b.cleanup = func() { os.Remove(full); os.Remove(empty) }
	} else {
		dsn := os.Getenv(sqlstoretest.EnvDSN)
		if dsn == "" {
			return nil, fmt.Errorf("%s is not set", sqlstoretest.EnvDSN)
		}
		b.verifyTarget = target{} // the verify target is SQLite's
		fullDSN, dropFull, err := benchSchema(dsn)
		if err != nil {
			return nil, err
		}
		emptyDSN, dropEmpty, err := benchSchema(dsn)
		if err != nil {
			dropFull()
			return nil, err
		}
		b.fullDSN, b.emptyDSN = fullDSN, emptyDSN
		b.openFull = func() (*sqlstore.Store, error) { return sqlstore.OpenPostgres(ctx, fullDSN) }
		b.openEmpty = func() (*sqlstore.Store, error) { return sqlstore.OpenPostgres(ctx, emptyDSN) }
		b.cleanup = func() { dropFull(); dropEmpty() }
	}
	var err error
	if b.full, err = b.openFull(); err != nil {
		b.cleanup()
		return nil, err
	}
	if b.empty, err = b.openEmpty(); err != nil {
		b.full.Close()
		b.cleanup()
		return nil, err
	}
	closeStores := b.cleanup
	b.cleanup = func() { b.full.Close(); b.empty.Close(); closeStores() }
	s.log("audit: filling the %s log with %d records", name, auditRecords)
	if n, err := b.full.Import(ctx, sqlstoretest.Generate(auditRecords)); err != nil || n != auditRecords {
		b.cleanup()
		return nil, fmt.Errorf("filling the log: %d records: %v", n, err)
	}
	if name == "PostgreSQL" {
		// A log months old has been vacuumed and analyzed by autovacuum; a freshly filled one
		// would have it working through the table during the measurements.
		if err := vacuumAnalyze(b.fullDSN); err != nil {
			b.cleanup()
			return nil, err
		}
	}
	return b, nil
}

func vacuumAnalyze(dsn string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(`VACUUM ANALYZE audit_log`); err != nil {
		return fmt.Errorf("VACUUM ANALYZE: %w", err)
	}
	return nil
}

// benchSchema makes a schema of its own on the PostgreSQL server at dsn and returns a DSN whose
// search_path is that schema, and a function that drops it.
func benchSchema(dsn string) (string, func(), error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", sqlstoretest.EnvDSN, err)
	}
	admin, err := sql.Open("postgres", dsn)
	if err != nil {
		return "", nil, err
	}
	var random [6]byte
	_, _ = rand.Read(random[:])
	schema := "vulscan_bench_" + hex.EncodeToString(random[:])
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("creating schema %s: %w", schema, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	}, nil
}

func (s *suite) measureAudit(b *auditBackend) ([]row, error) {
	appendItem, verifyItem, viewItem, burstItem := auditItems(b.name)
	ctx := context.Background()
	var rows []row

	// Appends: a keyed pending record (with the idempotency check) and its outcome, alternately
	// on the full log and on the empty one.
	s.log("audit %s: appends", b.name)
	var full, empty []float64
	for i := range 200 {
		for _, side := range []struct {
			store *sqlstore.Store
			out   *[]float64
		}{{b.full, &full}, {b.empty, &empty}} {
			d, err := attempt(ctx, side.store, i)
			if err != nil {
				return rows, err
			}
			*side.out = append(*side.out, ms(d))
		}
	}
	rows = append(rows, row{item: appendItem, unit: "ms", ours: full, anchor: "the same on an empty log", base: empty,
		target: target{kind: "ratio", limit: 1.5}, note: "median compared"})

	// The full walk, as `vulscan audit verify` runs it.
	s.log("audit %s: verify", b.name)
	var rates []float64
	for range 3 {
		start := time.Now()
		rep, err := b.full.Verify(ctx)
		if err != nil || !rep.OK() {
			return rows, fmt.Errorf("verify: %v, %v", rep, err)
		}
		rates = append(rates, float64(rep.Records)/time.Since(start).Seconds())
	}
	rows = append(rows, row{item: verifyItem, unit: "records/s", ours: rates, target: b.verifyTarget})

	// The audit page's first view: a fresh server on the full log, against one on the empty log.
	s.log("audit %s: /audit first view", b.name)
	key := tcsstest.RandomKey()
	emu := httptest.NewServer(tcsstest.New(tcsstest.Options{Keys: []tcsstest.Key{key}}))
	defer emu.Close()
	var views, emptyViews []float64
	for range 5 {
		for _, side := range []struct {
			dsn string
			out *[]float64
		}{{b.fullDSN, &views}, {b.emptyDSN, &emptyViews}} {
			d, err := s.firstView(s.functionEnv(side.dsn, emu.URL, key))
			if err != nil {
				return rows, err
			}
			*side.out = append(*side.out, ms(d))
		}
	}
	rows = append(rows, row{item: viewItem, unit: "ms", ours: views, anchor: "the same on an empty log", base: emptyViews,
		target: target{kind: "max", limit: 100}})

	// A burst against a server on the full log: its first answer.
	s.log("audit %s: burst", b.name)
	v, err := s.startServer(s.functionEnv(b.fullDSN, emu.URL, key))
	if err != nil {
		return rows, err
	}
	r, err := s.loadgen(nil, "-mode", "api", "-url", v.url, "-rate", "0", "-n", "500", "-timeout", "2m")
	v.stop()
	if err != nil {
		return rows, err
	}
	first := time.Duration(-1)
	for _, at := range r.Answered {
		if first < 0 || at < first {
			first = at
		}
	}
	if first < 0 {
		return rows, fmt.Errorf("burst: no request answered: %v", r.Statuses)
	}
	rows = append(rows, row{item: burstItem, unit: "s", ours: []float64{first.Seconds()}, target: target{kind: "max", limit: 1}})
	if bad := notOK(r); bad != "" {
		// loadgen does not say which request failed: an early failure may be what was timed.
		return rows, fmt.Errorf("burst: %s", bad)
	}
	return rows, nil
}

// attempt appends one attempt's records, as scan.Service does, and returns how long both took.
func attempt(ctx context.Context, store *sqlstore.Store, i int) (time.Duration, error) {
	key := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)
	rec := audit.Record{Trigger: audit.TriggerAPI, Actor: "bench", Action: audit.ActionCreateVulScanTask,
		Params: json.RawMessage(`{"LocalImageScanType":"ALL"}`), IdempotencyKey: key, Outcome: audit.OutcomePending}
	start := time.Now()
	pending, err := store.Append(ctx, rec)
	if err != nil {
		return 0, fmt.Errorf("append: %w", err)
	}
	rec.Outcome, rec.PendingID, rec.LocalTaskID = audit.OutcomeSucceeded, pending.ID, int64(i+1)
	if _, err := store.Append(ctx, rec); err != nil {
		return 0, fmt.Errorf("append: %w", err)
	}
	return time.Since(start), nil
}

// firstView starts vulscan in HTTP mode and times its first `GET /audit`, to the end of the page.
func (s *suite) firstView(env []string) (time.Duration, error) {
	v, err := s.startServer(env)
	if err != nil {
		return 0, err
	}
	defer v.stop()
	start := time.Now()
	resp, err := http.Get(v.url + "/audit")
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /audit: %s, %v\n%s", resp.Status, err, v.out.String())
	}
	return d, nil
}
