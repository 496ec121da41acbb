package sqlstore

import (
	"strconv"
	"strings"
	"sync"
)

// dialect is what differs between the databases; the SQL is otherwise shared. Statements are
// written with ? placeholders; the schema is in migrations/<name>/.
type dialect struct {
	name string
	// numbered placeholders ($1, $2, …) instead of ?.
	numbered bool
	// appendLock runs first in every Append transaction, so that writers in other processes wait
	// for the chain's head ("" when BeginTx already takes the write lock).
	appendLock string
	// lazyCommit runs first in an append transaction that holds outcome records only, so that
	// its commit does not wait for the disk (see writer.go); "" when the dialect sets that
	// otherwise (SQLite: a connection's synchronous level).
	lazyCommit string
	// migrateLock runs first in the migration transaction, so that processes opening a database at
	// once do not race migrating it ("" when BeginTx already takes the write lock).
	migrateLock string
	// guards refuse UPDATE and DELETE inside the database itself (defence in depth: the Store has
	// no such API, and these stop a careless or confused client; a database owner can still drop
	// them, which Verify then catches in the data). They are idempotent.
	guards []string
	// guardNames are the triggers guards creates, and presentGuards selects the names of those
	// the database holds, enabled: Open puts back any missing (and says which, RestoredGuards);
	// OpenExisting only reports them (MissingGuards).
	guardNames    []string
	presentGuards string
	// foreignTriggers selects the names of the triggers (and, on PostgreSQL, rules) on the
	// log's tables that are not guards: vulscan writes none, and one can make the database skip
	// or change records as they are written.
	foreignTriggers string
	// writeProbe is a write that changes nothing once rolled back and that a read-only file,
	// connection or role refuses (see Store.CheckWritable).
	writeProbe []string
	// greatest is the function of the larger of two values.
	greatest string
	// schemaShape selects one text naming every table column and index of the log's schema
	// (schema_migrations aside): a migration that leaves it as it was had been applied already.
	schemaShape string
}

// sqliteName is the SQLite dialect's name, which the code compares against without building it.
const sqliteName = "sqlite"

// sqliteDialect: the DSN's _txlock=immediate makes BeginTx a BEGIN IMMEDIATE, which takes the
// write lock, for appends and migrations alike. Built on first use: a deployed function keeps its
// log in PostgreSQL, and its start would otherwise build the SQLite guards' statements for nothing.
var sqliteDialect = sync.OnceValue(func() dialect {
	return dialect{
		name:     sqliteName,
		greatest: "max",
		schemaShape: `SELECT COALESCE(group_concat(type || ' ' || name || ' ' || COALESCE(sql, ''), char(10)), '') FROM
		(SELECT type, name, sql FROM sqlite_master WHERE name != 'schema_migrations' ORDER BY type, name)`,
		// Re-writing the header's user_version needs a writable file (rolled back, so unchanged).
		writeProbe: []string{`PRAGMA user_version = 0`},
		// A trigger of a guard's name with another body (WHEN 0, no RAISE) refuses nothing: it is
		// dropped and written again, and counts as missing until it is (sqliteGuardsPresent).
		guards:        sqliteGuards(sqliteGuardDefs),
		guardNames:    sqliteGuardNames(sqliteGuardDefs),
		presentGuards: sqliteGuardsPresent(sqliteGuardDefs),
		foreignTriggers: `SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('audit_log', 'audit_checkpoints')
		AND name NOT IN (` + sqlList(sqliteGuardNames(sqliteGuardDefs)) + `)
		ORDER BY name`,
	}
})

// sqliteGuardDefs are the append-only guards, each exactly as sqlite_master keeps its statement.
var sqliteGuardDefs = []string{
	`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
		 BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
	`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
		 BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
	`CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
		 BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END`,
	`CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
		 BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END`,
}

// sqliteGuards puts each guard in place, replacing any trigger of its name: one that holds
// another statement would keep refusing nothing. Migrate runs them only when a guard is not in
// place as written (Store.current).
func sqliteGuards(defs []string) []string {
	var out []string
	for _, def := range defs {
		out = append(out, `DROP TRIGGER IF EXISTS `+sqliteGuardName(def), def)
	}
	return out
}

// sqliteGuardName is the name of the trigger def creates.
func sqliteGuardName(def string) string { return strings.Fields(def)[2] }

// sqliteGuardNames are the names of the triggers defs create, in their order.
func sqliteGuardNames(defs []string) []string {
	var names []string
	for _, def := range defs {
		names = append(names, sqliteGuardName(def))
	}
	return names
}

// sqliteGuardsPresent selects the names of the guards in place as written: the name alone is
// no proof, since a trigger of that name can be written to refuse nothing.
func sqliteGuardsPresent(defs []string) string {
	var intact []string
	for _, def := range defs {
		intact = append(intact, sqliteGuardIntact(def))
	}
	return `SELECT name FROM sqlite_master WHERE type = 'trigger' AND (` + strings.Join(intact, ` OR `) + `)`
}

// sqliteGuardIntact is the condition on sqlite_master's row that holds for def's trigger only.
func sqliteGuardIntact(def string) string {
	return `(name = ` + sqlString(sqliteGuardName(def)) + ` AND sql = ` + sqlString(def) + `)`
}

// sqlString is s as an SQL string literal.
func sqlString(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// sqlList is names as a list of SQL string literals, for IN (…).
func sqlList(names []string) string {
	quoted := make([]string, len(names))
	for i, name := range names {
		quoted[i] = sqlString(name)
	}
	return strings.Join(quoted, ", ")
}

var postgresDialect = dialect{
	name:     "postgres",
	greatest: "GREATEST",
	schemaShape: `SELECT COALESCE(string_agg(x, E'\n' ORDER BY x), '') FROM (
		SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || COALESCE(column_default, '')
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name != 'schema_migrations'
		UNION ALL SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename != 'schema_migrations') s(x)`,
	numbered: true,
	// EXCLUSIVE mode lets readers through but no other writer; it is scoped to this schema's table.
	appendLock: `LOCK TABLE audit_log IN EXCLUSIVE MODE`,
	lazyCommit: `SET LOCAL synchronous_commit TO off`,
	// The append's own lock is refused in a read-only transaction and to a role without write
	// privileges on the table.
	writeProbe:  []string{`LOCK TABLE audit_log IN EXCLUSIVE MODE`},
	migrateLock: `SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.audit_log'))`,
	guards: []string{
		postgresGuardFunction,
		`CREATE OR REPLACE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
		 FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`,
		`CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
		 FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`,
		`CREATE OR REPLACE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE ON audit_checkpoints
		 FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`,
		`CREATE OR REPLACE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
		 FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`,
	},
	guardNames: postgresGuardNames,
	// A guard counts only as written: a trigger disabled (ALTER TABLE … DISABLE TRIGGER) or
	// firing in replica sessions only (ENABLE REPLICA TRIGGER), re-created of the same name for
	// other events, columns or a WHEN condition, or whose function was replaced so as to raise
	// nothing, refuses nothing in an ordinary session, and counts as missing. tgtype 27 is BEFORE
	// UPDATE OR DELETE FOR EACH ROW, 34 BEFORE TRUNCATE FOR EACH STATEMENT.
	presentGuards: `SELECT t.tgname::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
		WHERE t.tgrelid = CASE WHEN t.tgname::text LIKE 'audit_log_%' THEN 'audit_log'::regclass ELSE 'audit_checkpoints'::regclass END
		AND t.tgname IN (` + sqlList(postgresGuardNames) + `)
		AND t.tgenabled IN ('O', 'A') AND t.tgqual IS NULL AND t.tgattr::text = ''
		AND t.tgtype = CASE WHEN t.tgname::text LIKE '%_no_truncate' THEN 34 ELSE 27 END
		AND p.proname = 'audit_log_append_only' AND p.prosrc = ` + postgresGuardBody,
	foreignTriggers: `SELECT name FROM (
		SELECT tgname::text AS name FROM pg_trigger WHERE tgrelid IN ('audit_log'::regclass, 'audit_checkpoints'::regclass)
			AND NOT tgisinternal AND tgname NOT IN (` + sqlList(postgresGuardNames) + `)
		UNION ALL
		SELECT 'rule ' || rulename::text FROM pg_rewrite WHERE ev_class IN ('audit_log'::regclass, 'audit_checkpoints'::regclass)) f
		ORDER BY name`,
}

// postgresGuardNames are the triggers postgresDialect's guards create.
var postgresGuardNames = []string{"audit_log_no_change", "audit_log_no_truncate", "audit_checkpoints_no_change", "audit_checkpoints_no_truncate"}

// postgresGuardFunction is the function every PostgreSQL guard runs.
const postgresGuardFunction = `CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP; END $$`

// postgresGuardBody is postgresGuardFunction's body (pg_proc.prosrc) as an SQL literal.
var postgresGuardBody = sqlString(strings.Split(postgresGuardFunction, "$$")[1])

// bind rewrites ? placeholders for the dialect. The shared SQL has no ? inside string literals.
func (d dialect) bind(query string) string {
	if !d.numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
