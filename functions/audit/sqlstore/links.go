package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/vulscan/vulscan/functions/audit"
)

// The full walk of `vulscan audit verify` reads links (audit.Link), not records: a record's place
// in the chain and its version 2 encoding, so that Go no longer reads twenty-three columns a row
// through database/sql (three quarters of a walk's time). On SQLite the encoding is decoded from
// the table's pages (pages.go); on PostgreSQL the server builds it (encodingV2SQL) and a row
// crosses as six values. A record whose link does not check out is read again whole and judged
// as before, so links only ever let intact version 2 records through faster:
// TestLinkEncodingMatchesGo proves both encodings equal to audit.Record.EncodeV2 byte for byte.

// v2Fields is encoding version 2's fields in its order (audit/hash.go, encodeV2), each with its
// column; integer columns are written as decimal text.
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

// encodingV2SQL is the SQL expression of a row's version 2 encoding, "name:byte length:value\n"
// per field. Both databases have concat (one allocation, where || would copy the growing string
// once per operand) and octet_length, which counts bytes where length counts characters. An
// integer's text is its decimal form in both. A NULL (which no record holds) makes its length
// empty, so that such a row never matches its hash and is judged by the full read.
var encodingV2SQL = func() string {
	var b strings.Builder
	b.WriteString("concat('")
	b.WriteString("version:" + fmt.Sprint(len(audit.EncodingV2)) + ":" + audit.EncodingV2 + "\n")
	for _, f := range v2Fields {
		value := f.column
		if f.integer {
			value = "CAST(" + f.column + " AS TEXT)"
		}
		fmt.Fprintf(&b, "%s:', octet_length(%s), ':', %s, '\n", f.name, value, value)
	}
	b.WriteString("')")
	return b.String()
}()

// walkLinks reads the links after an ID, in ID order.
var walkLinks = `SELECT id, time_ns, prev_hash, hash, CASE WHEN substr(endpoint, 1, 9) = '` + audit.EmulatorPrefix +
	`' THEN 1 ELSE 0 END, ` + encodingV2SQL + ` FROM audit_log WHERE id > ? ORDER BY id`

// WalkLinks implements audit.LinkSource: on SQLite from the table's pages (pages.go), on
// PostgreSQL with the encoding built by the server.
func (c chain) WalkLinks(ctx context.Context, afterID int64, fn func(*audit.Link) error) error {
	if c.s.d.name == sqliteDialect.name {
		err := c.walkPages(ctx, afterID, fn)
		if !errors.Is(err, errNoPageWalk) {
			return err
		}
		return c.linksFromRecords(ctx, afterID, fn)
	}
	return c.walkSQLLinks(ctx, afterID, fn)
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

// walkSQLLinks reads links whose encoding the database built (walkLinks).
func (c chain) walkSQLLinks(ctx context.Context, afterID int64, fn func(*audit.Link) error) error {
	rows, err := c.s.db.QueryContext(ctx, c.s.d.bind(walkLinks), afterID)
	if err != nil {
		return fmt.Errorf("sqlstore: walking the chain: %w", err)
	}
	defer rows.Close()
	var l audit.Link
	var prev, hash, encoding sql.RawBytes
	var emulated int64
	for rows.Next() {
		if err := rows.Scan(&l.ID, &l.TimeNs, &prev, &hash, &emulated, &encoding); err != nil {
			return fmt.Errorf("sqlstore: walking the chain: reading record after %d: %w", l.ID, err)
		}
		l.PrevHash, l.Hash, l.Encoding, l.Emulated = prev, hash, encoding, emulated == 1
		if err := fn(&l); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: walking the chain: %w", err)
	}
	return nil
}

// Record implements audit.LinkSource.
func (c chain) Record(ctx context.Context, id int64) (audit.Record, error) {
	return c.s.Get(ctx, id)
}
