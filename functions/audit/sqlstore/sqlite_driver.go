//go:build !release

package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// HasSQLite: the developer build (CLI, `go tool task run`, tests) keeps the embedded store.
const HasSQLite = true

// sqliteDB is the SQLite database at dsn, its connections keeping the WAL (keepwal.go). The
// calling goroutine, which opens the store and then (in a one-shot, the only one) runs SQLite,
// has its stack grown first (sqlite_stack.go).
func sqliteDB(dsn string) (*sql.DB, error) {
	growStack(sqliteStack / stackFrame)
	return sql.OpenDB(sqliteConnector{drv: keepWALDriver, dsn: dsn}), nil
}

// notWritable says in words that the log refused a write because the file, directory or
// connection is read-only, the cause an operator must act on.
func notWritable(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_READONLY {
		return fmt.Errorf("the audit log is not writable: %w", err)
	}
	return err
}
