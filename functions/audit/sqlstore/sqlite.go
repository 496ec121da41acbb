package sqlstore

import "errors"

// ErrNoSQLite is OpenSQLite's answer in the release build, which links no SQLite driver
// (sqlite_release.go). It names the fix in one line, for the start-up error of a deployed
// function given a sqlite: DSN.
var ErrNoSQLite = errors.New("this release build has no SQLite driver: a deployed function keeps its audit log in PostgreSQL " +
	"(VULSCAN_AUDIT_DSN=postgres://…, docs/deploy.md); SQLite is part of the developer build (go build ./functions/vulscan)")
