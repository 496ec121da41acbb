package sqlstore

import (
	"context"
	"errors"

	"github.com/vulscan/vulscan/functions/audit"
)

// The full walk of `vulscan audit verify` reads links (audit.Link): a record's place in the chain
// and its version 2 encoding. On SQLite they are decoded from the table's pages (pages.go), so
// that Go no longer reads twenty-three columns a row through database/sql (three quarters of a
// walk's time). Having the database build the encoding in SQL (concat and octet_length) was
// measured and dropped: slower than reading the columns on SQLite (99-136k against 136-159k
// records/s at a million: the transpiled VDBE's concat and number-to-text conversions) and no
// faster on PostgreSQL on this two-core machine (98-110k against 107-140k at 200,000), whose
// server shares the cores. PostgreSQL reads whole records and builds the encoding in Go.

// v2Fields is encoding version 2's fields in its order (audit/hash.go, encodeV2), each with its
// column; the page walk builds the encoding from them.
var v2Fields = []struct {
	name, column string
	integer      bool
}{
	{"id", "id", true},
	{"time_ns", "time_ns", true},
	{"trigger", "trigger_type", false},
	{"actor", "actor", false},
	{"source_ip", "source_ip", false},
	{"user_agent", "user_agent", false},
	{"action", "action", false},
	{"params", "params", false},
	{"idempotency_key", "idempotency_key", false},
	{"outcome", "outcome", false},
	{"pending_id", "pending_id", true},
	{"local_task_id", "local_task_id", true},
	{"registry_task_id", "registry_task_id", true},
	{"tcss_request_id", "tcss_request_id", false},
	{"error_code", "error_code", false},
	{"error_message", "error_message", false},
	{"function_request_id", "function_request_id", false},
	{"endpoint", "endpoint", false},
	{"credential", "credential", false},
	{"access", "access", false},
	{"related_id", "related_id", true},
	{"prev_hash", "prev_hash", false},
}

// WalkLinks implements audit.LinkSource: on SQLite from the table's pages (pages.go); elsewhere,
// or for a file the page walk does not read, from whole records.
func (c chain) WalkLinks(ctx context.Context, afterID int64, fn func(*audit.Link) error) error {
	if c.s.d.name == sqliteName {
		err := c.walkPages(ctx, afterID, fn)
		if !errors.Is(err, errNoPageWalk) {
			return err
		}
	}
	return c.linksFromRecords(ctx, afterID, fn)
}

// linksFromRecords reads whole records and hands over their links, the encoding built in Go.
func (c chain) linksFromRecords(ctx context.Context, afterID int64, fn func(*audit.Link) error) error {
	var enc []byte
	return c.Walk(ctx, afterID, func(r audit.Record) error {
		enc = r.EncodeV2(enc[:0])
		return fn(&audit.Link{ID: r.ID, TimeNs: r.Time.UnixNano(), PrevHash: []byte(r.PrevHash), Hash: []byte(r.Hash),
			Emulated: r.Emulated(), Encoding: enc})
	})
}

// Record implements audit.LinkSource.
func (c chain) Record(ctx context.Context, id int64) (audit.Record, error) {
	return c.s.Get(ctx, id)
}
