package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
)

// hotStatement is a statement a request runs, with arguments like a real request's.
type hotStatement struct {
	name string
	sql  string // with ? placeholders, before binding
	args []any
	// walk marks a statement without a filter that reads newest first and stops at its LIMIT: it
	// may walk the table (or its primary key) in order, but never sort it.
	walk bool
}

// hotStatements lists every statement on a hot path: the append and its idempotency check, the
// outcome lookup, the attempt page, and the audit filters with their keyset paging.
func hotStatements(s *Store) []hotStatement {
	since := sqlstoretest.FillStart.Add(1000 * time.Second)
	until := since.Add(time.Hour)
	list := func(name string, f audit.Filter, walk bool) hotStatement {
		if f.Limit == 0 {
			f.Limit = 51
		}
		q, args := s.query(f, "DESC")
		return hotStatement{name: "audit page " + name, sql: q, args: args, walk: walk}
	}
	return []hotStatement{
		{name: "append: chain head", sql: chainHead, walk: true},
		{name: "append and KeyBound: the key's newest pending record and its outcome", sql: keyState, args: []any{"key-4001", "user-01"}},
		{name: "append: an outcome's pending record already closed", sql: newestOutcomeState, args: []any{int64(4001)}},
		{name: "append: the pending record an outcome names", sql: pendingExists, args: []any{int64(4001)}},
		{name: "PendingByKey", sql: newestPendingByKey, args: []any{"key-4001", "user-01"}},
		{name: "OutcomeOf", sql: newestOutcomeOf, args: []any{int64(4001)}},
		{name: "Get", sql: byID, args: []any{int64(4001)}},
		{name: "reconcile: stale pending attempts in a window", sql: stalePending(s.d),
			args: []any{since.UnixNano(), since.UnixNano(), until.UnixNano(), until.UnixNano(), 100}},
		list("first view", audit.Filter{}, true),
		list("next page", audit.Filter{BeforeID: 3000}, true),
		list("outcome", audit.Filter{Outcome: audit.OutcomeFailed}, false),
		list("outcome, next page", audit.Filter{Outcome: audit.OutcomeFailed, BeforeID: 3000}, false),
		list("trigger", audit.Filter{Trigger: audit.TriggerTimer}, false),
		list("actor", audit.Filter{Actor: "user-07"}, false),
		list("since", audit.Filter{Since: since}, false),
		list("until", audit.Filter{Until: until}, false),
		list("time range", audit.Filter{Since: since, Until: until}, false),
		list("time range and outcome", audit.Filter{Since: since, Until: until, Outcome: audit.OutcomeSucceeded}, false),
		list("task ID", audit.Filter{TaskID: 4002}, false),
		list("everything at once", audit.Filter{Outcome: audit.OutcomeSucceeded, Trigger: audit.TriggerAPI,
			Actor: "user-02", Since: since, Until: until, TaskID: 4002, BeforeID: 4500}, false),
	}
}

// Every hot statement uses an index, at any size: SQLite's EXPLAIN QUERY PLAN and PostgreSQL's
// generic plan (the one a prepared statement settles on, which cannot see the arguments) show no
// full scan of audit_log, and no sort of it.
func TestHotStatementsUseIndexes(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		sqlstoretest.Fill(t, h.store, 5000)
		if h.d.name == "postgres" {
			h.exec(t, `ANALYZE audit_log`)
		}
		for _, st := range hotStatements(h.store) {
			plan := explain(t, h, st)
			if bad := fullScan(h.d.name, plan, st.walk); bad != "" {
				t.Errorf("%s: %s\nSQL: %s\nplan:\n%s", st.name, bad, strings.Join(strings.Fields(st.sql), " "), plan)
			}
		}
	})
}

// explain returns the plan of st as text, one line per node.
func explain(t *testing.T, h *harness, st hotStatement) string {
	t.Helper()
	ctx := context.Background()
	q := h.d.bind(st.sql)
	if h.d.name == "sqlite" {
		rows, err := h.raw.Query(`EXPLAIN QUERY PLAN `+q, st.args...)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, detail)
		}
		return strings.Join(lines, "\n")
	}
	// PostgreSQL: a prepared statement's generic plan, forced, as a long-lived connection pool ends
	// up using after five executions.
	conn, err := h.raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	name := fmt.Sprintf("hot_%d", time.Now().UnixNano())
	for _, stmt := range []string{`SET plan_cache_mode = force_generic_plan`, `PREPARE ` + name + ` AS ` + q} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %s: %v", st.name, stmt, err)
		}
	}
	lits := make([]string, len(st.args))
	for i, a := range st.args {
		lits[i] = sqlLiteral(a)
	}
	exec := `EXPLAIN EXECUTE ` + name
	if len(lits) > 0 {
		exec += `(` + strings.Join(lits, `, `) + `)`
	}
	rows, err := conn.QueryContext(ctx, exec)
	if err != nil {
		t.Fatalf("%s: %v", st.name, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func sqlLiteral(a any) string {
	switch v := a.(type) {
	case string:
		return `'` + strings.ReplaceAll(v, `'`, `''`) + `'`
	case int64, int:
		return fmt.Sprint(v)
	}
	panic(fmt.Sprintf("no literal for %T", a))
}

// fullScan names what in plan reads all of audit_log, or "".
func fullScan(dialect, plan string, walk bool) string {
	var prev string // the last scan node
	for _, line := range strings.Split(plan, "\n") {
		line = strings.TrimSpace(line)
		if strings.Contains(line, "Scan") {
			prev = line
		}
		switch dialect {
		case "sqlite":
			if strings.HasPrefix(line, "USE TEMP B-TREE FOR ORDER BY") && walk {
				return "sorts the whole table"
			}
			// "SCAN audit_log" reads every row, through the table or a whole index; only an
			// unfiltered newest-first walk, which stops at its LIMIT, may.
			if strings.HasPrefix(line, "SCAN audit_log") && !walk {
				return "full scan: " + line
			}
		case "postgres":
			if strings.Contains(line, "Seq Scan on audit_log") {
				return "full scan: " + line
			}
			// Walking the primary key while filtering is a full scan in disguise when the
			// filter matches rarely.
			if strings.HasPrefix(line, "Filter:") && !walk && strings.Contains(prev, "using audit_log_pkey") {
				return "filters while walking the primary key: " + line
			}
			if walk && strings.Contains(line, "Sort") {
				return "sorts: " + line
			}
		}
	}
	return ""
}

// The check above would catch a statement no index serves.
func TestFullScanIsCaught(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		sqlstoretest.Fill(t, h.store, 2000)
		if h.d.name == "postgres" {
			h.exec(t, `ANALYZE audit_log`)
		}
		st := hotStatement{name: "by error message", sql: `SELECT ` + columns + ` FROM audit_log WHERE error_message = ? ORDER BY id DESC LIMIT 51`,
			args: []any{"too many requests"}}
		if plan := explain(t, h, st); fullScan(h.d.name, plan, false) == "" {
			t.Errorf("a filter on an unindexed column passed as indexed; plan:\n%s", plan)
		}
	})
}
