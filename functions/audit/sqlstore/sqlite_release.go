//go:build release

package sqlstore

import "database/sql"

// HasSQLite: the release build (`task package`, tag release) leaves the SQLite driver out.
// A deployed function needs an audit log that outlives its instance, which is PostgreSQL
// (docs/deploy.md), and modernc.org/sqlite is about 2.8 MB of a deploy zip that must stay
// under 5 MB.
const HasSQLite = false

func sqliteDB(string) (*sql.DB, error) { return nil, ErrNoSQLite }

// notWritable: only SQLite's errors need putting in words (PostgreSQL's say it themselves).
func notWritable(err error) error { return err }
