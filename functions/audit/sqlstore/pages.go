package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/vulscan/vulscan/functions/audit"
)

// The full walk on SQLite reads the audit table's pages, not its rows.
//
// Reading a row through database/sql costs a call into the (pure Go) SQLite library per column,
// twenty-three per record, and that was three quarters of a walk's time (178k records/s at a
// million records). Having SQLite build each record's encoding in SQL was slower still (see
// links.go). SQLite's own file format is documented and stable
// (https://www.sqlite.org/fileformat2.html), and the sqlite_dbpage table hands over its pages
// through the same pager, inside the same read transaction, that a SELECT would use: the walk
// reads each page of the table's b-tree once, in key order, and decodes the records in Go.
//
// Trust: the walk only ever takes the fast path for a record it decoded completely and plainly:
// the whole record on its page (no overflow pages), every column present, integers where the
// schema has integers and text where it has text, id the rowid. Anything else (a huge record, a
// record written before a column was added, a value of an unexpected type) gets no encoding, and
// the verifier reads that record whole through SQL and judges it as VerifyChain always did.
// TestLinkEncodingMatchesGo proves that the decoded encodings are those of the rows SQL returns,
// for hostile values too.

// errNoPageWalk: this database's file cannot be walked page by page (another text encoding, or
// a table layout the walk does not know); the caller falls back to reading rows.
var errNoPageWalk = errors.New("sqlstore: the audit table cannot be walked page by page")

// pageWalk is one walk of the audit table's b-tree.
type pageWalk struct {
	page   driver.StmtQueryContext // SELECT data FROM sqlite_dbpage WHERE pgno = ?
	arg    []driver.NamedValue
	dest   []driver.Value
	usable int         // the usable bytes of a page (page size less the reserved bytes)
	fields []pageField // the table's columns in record order
	after  int64
	fn     func(*audit.Link) error
	link   audit.Link
	enc    []byte // the encoding being built, reused
	values [][]byte
	ints   []int64
}

// pageField is a column of the table as a record holds it: which field of encoding version 2 it
// is (an index into v2Fields), or -1 for a column the encoding does not hold (hash).
type pageField struct {
	v2      int
	integer bool
}

// walkPages calls fn with the link of every record above afterID in ID order, reading the
// table's pages inside one read transaction. It returns errNoPageWalk before calling fn when the
// file is not one it can read.
func (c chain) walkPages(ctx context.Context, afterID int64, fn func(*audit.Link) error) error {
	conn, err := c.s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// A deferred BEGIN (not BeginTx, which the DSN makes IMMEDIATE and so a writer) holds one read
	// snapshot for the whole walk, as a single SELECT would.
	if _, err := conn.ExecContext(ctx, `BEGIN`); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
	w := &pageWalk{after: afterID, fn: fn}
	root, err := w.prepare(ctx, conn)
	if err != nil {
		return err
	}
	// Pages are read through the driver itself: database/sql's per-query bookkeeping and its
	// second copy of each page cost as much as SQLite reading it.
	return conn.Raw(func(dc any) error {
		prep, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return errNoPageWalk
		}
		st, err := prep.PrepareContext(ctx, `SELECT data FROM sqlite_dbpage WHERE pgno = ?`)
		if err != nil {
			return fmt.Errorf("sqlstore: reading the audit table's pages: %w", err)
		}
		defer st.Close()
		if w.page, ok = st.(driver.StmtQueryContext); !ok {
			return errNoPageWalk
		}
		w.arg, w.dest = []driver.NamedValue{{Ordinal: 1}}, make([]driver.Value, 1)
		first, err := w.read(ctx, 1)
		if err != nil {
			return err
		}
		if len(first) != w.usable || len(first) < 100 {
			return errNoPageWalk
		}
		w.usable -= int(first[20]) // the header's reserved bytes at the end of every page
		return w.node(ctx, root, 0)
	})
}

// prepare checks that the file is one the walk reads and returns the table's root page.
func (w *pageWalk) prepare(ctx context.Context, conn *sql.Conn) (int64, error) {
	var encoding string
	var pageSize int
	if err := conn.QueryRowContext(ctx, `PRAGMA encoding`).Scan(&encoding); err != nil {
		return 0, err
	}
	if err := conn.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
		return 0, err
	}
	if encoding != "UTF-8" {
		return 0, errNoPageWalk
	}
	var root int64
	if err := conn.QueryRowContext(ctx, `SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = 'audit_log'`).Scan(&root); err != nil {
		return 0, err
	}
	rows, err := conn.QueryContext(ctx, `SELECT name, type, pk FROM pragma_table_info('audit_log') ORDER BY cid`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	byColumn := map[string]int{}
	for i, f := range v2Fields {
		byColumn[f.column] = i
	}
	seen := map[int]bool{}
	for rows.Next() {
		var name, typ string
		var pk int
		if err := rows.Scan(&name, &typ, &pk); err != nil {
			return 0, err
		}
		i, ok := byColumn[name]
		switch {
		case name == "hash":
			w.fields = append(w.fields, pageField{v2: -1})
			continue
		case !ok:
			return 0, errNoPageWalk
		case name == "id" && (len(w.fields) != 0 || typ != "INTEGER" || pk != 1):
			// id must be the rowid, which the record holds as NULL.
			return 0, errNoPageWalk
		}
		seen[i] = true
		w.fields = append(w.fields, pageField{v2: i, integer: v2Fields[i].integer})
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(seen) != len(v2Fields) {
		return 0, errNoPageWalk
	}
	w.values, w.ints = make([][]byte, len(v2Fields)), make([]int64, len(v2Fields))
	w.usable = pageSize // less the reserved bytes, once page 1 is read
	return root, nil
}

// read returns page pgno as the read transaction sees it.
func (w *pageWalk) read(ctx context.Context, pgno int64) ([]byte, error) {
	w.arg[0].Value = pgno
	rows, err := w.page.QueryContext(ctx, w.arg)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading page %d: %w", pgno, err)
	}
	defer rows.Close()
	if err := rows.Next(w.dest); err != nil {
		return nil, fmt.Errorf("sqlstore: reading page %d: %w", pgno, err)
	}
	data, ok := w.dest[0].([]byte)
	if !ok {
		return nil, fmt.Errorf("sqlstore: reading page %d: got %T", pgno, w.dest[0])
	}
	return data, nil
}

// errCorrupt: a page is not what a table b-tree page must be.
func errCorrupt(pgno int64, what string) error {
	return fmt.Errorf("sqlstore: the audit table's page %d is damaged: %s", pgno, what)
}

// node walks the subtree at page pgno in key order.
func (w *pageWalk) node(ctx context.Context, pgno int64, depth int) error {
	if depth > 64 {
		return errCorrupt(pgno, "the b-tree is deeper than any SQLite writes")
	}
	p, err := w.read(ctx, pgno)
	if err != nil {
		return err
	}
	if len(p) < 12 {
		return errCorrupt(pgno, "too short")
	}
	cells := int(binary.BigEndian.Uint16(p[3:5]))
	switch p[0] {
	case 0x05: // interior page: cells of (left child, key), then the right-most child
		if 12+2*cells > len(p) {
			return errCorrupt(pgno, "cell pointers past the page's end")
		}
		for i := range cells {
			off := int(binary.BigEndian.Uint16(p[12+2*i:]))
			if off+4 >= len(p) {
				return errCorrupt(pgno, "cell past the page's end")
			}
			child := int64(binary.BigEndian.Uint32(p[off:]))
			key, n := varint(p[off+4:])
			if n == 0 {
				return errCorrupt(pgno, "bad key")
			}
			if key <= w.after { // every key of the left child is at most key
				continue
			}
			if err := w.node(ctx, child, depth+1); err != nil {
				return err
			}
		}
		return w.node(ctx, int64(binary.BigEndian.Uint32(p[8:12])), depth+1)
	case 0x0d: // leaf page: cells of (payload size, rowid, payload)
		if 8+2*cells > len(p) {
			return errCorrupt(pgno, "cell pointers past the page's end")
		}
		for i := range cells {
			off := int(binary.BigEndian.Uint16(p[8+2*i:]))
			if err := w.cell(p, pgno, off); err != nil {
				return err
			}
		}
		return nil
	}
	return errCorrupt(pgno, "not a table b-tree page")
}

// cell hands over the link of the leaf cell at off.
func (w *pageWalk) cell(p []byte, pgno int64, off int) error {
	if off >= len(p) {
		return errCorrupt(pgno, "cell past the page's end")
	}
	size, n := varint(p[off:])
	if n == 0 || size < 0 {
		return errCorrupt(pgno, "bad payload size")
	}
	off += n
	rowid, n := varint(p[off:])
	if n == 0 {
		return errCorrupt(pgno, "bad rowid")
	}
	off += n
	if rowid <= w.after {
		return nil
	}
	w.link = audit.Link{ID: rowid}
	// The payload is whole on this page only up to a size that depends on the usable page size
	// (the file format's X = U-35 for table leaves); a larger one continues on overflow pages,
	// which the walk leaves to SQL.
	if size <= int64(w.usable-35) && off+int(size) <= len(p) {
		w.decode(p[off : off+int(size)])
	}
	return w.fn(&w.link)
}

// decode fills w.link from a record's payload, with an encoding only when every value is plain.
func (w *pageWalk) decode(rec []byte) {
	hdrSize, n := varint(rec)
	if n == 0 || hdrSize < int64(n) || hdrSize > int64(len(rec)) {
		return
	}
	hdr, body := rec[n:hdrSize], rec[hdrSize:]
	var hash []byte
	for _, f := range w.fields {
		t, n := varint(hdr)
		if n == 0 {
			return // fewer values than columns: a record older than a column (its default applies)
		}
		hdr = hdr[n:]
		size := serialSize(t)
		if size < 0 || size > len(body) {
			return
		}
		value := body[:size]
		body = body[size:]
		switch {
		case f.v2 == 0: // id: the rowid, stored as NULL
			if t != 0 {
				return
			}
			w.ints[0] = w.link.ID
		case f.v2 < 0: // hash
			if t < 13 || t%2 == 0 {
				return
			}
			hash = value
		case f.integer:
			v, ok := serialInt(t, value)
			if !ok {
				return
			}
			w.ints[f.v2] = v
		default:
			if t < 13 || t%2 == 0 { // only text is plain text
				return
			}
			w.values[f.v2] = value
		}
	}
	if len(hdr) != 0 {
		return // more values than columns
	}
	b := w.enc[:0]
	b = appendField(b, "version", []byte(audit.EncodingV2))
	var num [20]byte
	for i, f := range v2Fields {
		if f.integer {
			b = appendField(b, f.name, strconv.AppendInt(num[:0], w.ints[i], 10))
		} else {
			b = appendField(b, f.name, w.values[i])
		}
	}
	w.enc = b
	w.link.TimeNs, w.link.PrevHash, w.link.Hash, w.link.Encoding = w.ints[1], w.values[len(v2Fields)-1], hash, b
	endpoint := w.values[17]
	w.link.Emulated = len(endpoint) >= len(audit.EmulatorPrefix) && string(endpoint[:len(audit.EmulatorPrefix)]) == audit.EmulatorPrefix
}

// appendField appends "name:len:value\n", as audit's encodings do.
func appendField(b []byte, name string, value []byte) []byte {
	b = append(b, name...)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(len(value)), 10)
	b = append(b, ':')
	b = append(b, value...)
	return append(b, '\n')
}

// varint decodes SQLite's big-endian variable-length integer; n is 0 when b ends first.
func varint(b []byte) (v int64, n int) {
	var u uint64
	for i := 0; i < 9; i++ {
		if i >= len(b) {
			return 0, 0
		}
		if i == 8 {
			return int64(u<<8 | uint64(b[i])), 9
		}
		u = u<<7 | uint64(b[i]&0x7f)
		if b[i] < 0x80 {
			return int64(u), i + 1
		}
	}
	return 0, 0
}

// serialSize is the size of a value of serial type t, or -1 for the reserved types.
func serialSize(t int64) int {
	switch {
	case t >= 12:
		return int((t - 12) / 2)
	case t <= 4:
		return int(t)
	case t == 5:
		return 6
	case t == 6, t == 7:
		return 8
	case t == 8, t == 9:
		return 0
	}
	return -1
}

// serialInt decodes an integer value (big-endian two's complement, or the constants 0 and 1).
func serialInt(t int64, b []byte) (int64, bool) {
	switch {
	case t == 8:
		return 0, true
	case t == 9:
		return 1, true
	case t >= 1 && t <= 6:
		v := int64(int8(b[0])) // sign-extend the first byte
		for _, c := range b[1:] {
			v = v<<8 | int64(c)
		}
		return v, true
	}
	return 0, false
}
