//go:build !release

package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"time"

	"modernc.org/libc"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite's write-ahead log is kept between processes. By default the last connection to close
// checkpoints the WAL into the database file and deletes it: two fsyncs (WAL, then database) in
// every process that wrote, and the next process creates the WAL again (a header fsync and a
// directory fsync). For a one-shot `vulscan scan` that was four of its six fsyncs. Kept, the WAL
// is checkpointed by SQLite's automatic checkpoint (every 1000 pages) in whichever process
// commits past it, and a new process reads the WAL's index back when it opens the log. Nothing
// committed depends on the close: a commit is durable once its own sync returns, as it is when
// a process is killed.

// sqliteConnector opens SQLite connections through a driver of the store's own, so that its
// connection hook applies to the audit log's connections only.
type sqliteConnector struct {
	drv *sqlite.Driver
	dsn string
}

// Connect opens a connection, waiting while SQLite refuses it with SQLITE_BUSY. A connection
// switches the log to WAL as it opens (sqliteParams), and on a file not yet in WAL mode that
// switch takes the write lock from inside a read, where SQLite does not call the busy handler
// (waiting there could deadlock) but refuses at once when another connection holds the lock. So
// processes that open a new log together, the first one creating it, failed (4 of 2,400 opens,
// six processes at a time on a loaded machine). The wait is the busy timeout's, within ctx.
func (c sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	deadline := time.Now().Add(busyTimeout)
	pause := time.Millisecond
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		conn, err := c.drv.Open(c.dsn)
		if !isBusy(err) || time.Now().After(deadline) {
			return conn, err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (waiting for it: %w)", err, ctx.Err())
		case <-t.C:
		}
		pause = min(2*pause, 25*time.Millisecond)
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (any extended code).
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

func (c sqliteConnector) Driver() driver.Driver { return c.drv }

// keepWALDriver is the SQLite driver whose connections keep the WAL (keepWAL).
var keepWALDriver = func() *sqlite.Driver {
	d := &sqlite.Driver{}
	d.RegisterConnectionHook(keepWAL)
	return d
}()

// keepWAL makes a new connection leave the WAL in place when it closes: it neither deletes the
// WAL (SQLITE_FCNTL_PERSIST_WAL) nor checkpoints it (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE).
func keepWAL(conn sqlite.ExecQuerierContext, _ string) error {
	fc, ok := conn.(sqlite.FileControl)
	if !ok {
		return fmt.Errorf("keeping the WAL: the SQLite driver's connection %T has no file control", conn)
	}
	if _, err := fc.FileControlPersistWAL("main", 1); err != nil {
		return fmt.Errorf("keeping the WAL: %w", err)
	}
	return noCheckpointOnClose(conn)
}

// noCheckpointOnClose sets SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE on conn. modernc.org/sqlite (v1.62)
// calls sqlite3_db_config for a few options of its own but exposes none, so this reads the
// connection's sqlite3 handle from the driver's conn (its field db) and calls the C API through
// the driver's own lib. Should a driver upgrade rename that field, this says so instead of
// guessing (TestTheWALOutlivesTheProcess fails).
func noCheckpointOnClose(conn any) error {
	v := reflect.ValueOf(conn)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("keeping the WAL: unexpected SQLite connection %T", conn)
	}
	field := v.Elem().FieldByName("db")
	if !field.IsValid() || field.Kind() != reflect.Uintptr || field.Uint() == 0 {
		return fmt.Errorf("keeping the WAL: the SQLite connection %T has no sqlite3 handle named db", conn)
	}
	tls := libc.NewTLS()
	defer tls.Close()
	// The option's arguments, (int onoff, int *pRes), as a C va_list: 8 bytes a slot.
	va := libc.Xmalloc(tls, 16)
	if va == 0 {
		return fmt.Errorf("keeping the WAL: out of memory")
	}
	defer libc.Xfree(tls, va)
	if rc := sqlite3.Xsqlite3_db_config(tls, uintptr(field.Uint()), sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
		libc.VaList(va, int32(1), uintptr(0))); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("keeping the WAL: sqlite3_db_config(SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE) returned %d", rc)
	}
	return nil
}
