package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"

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

// walkMmapSize bounds the memory map of a walk: SQLite maps at most this much of the file.
const walkMmapSize = 1 << 40

// pageWalk is one walk of the audit table's b-tree: the traversal, which reads the pages in key
// order through one connection and hands the leaves over in jobs of pagesPerJob; decoders, one
// per CPU, which turn a job's pages into links; and the delivery, which hands the links to fn in
// order.
type pageWalk struct {
	page   driver.StmtQueryContext // SELECT data FROM sqlite_dbpage WHERE pgno = ?
	arg    []driver.NamedValue
	dest   []driver.Value
	format pageFormat
	job    *pageJob        // the job being filled
	jobs   chan<- *pageJob // to the decoders
	order  chan<- *pageJob // to the delivery, in key order
	free   <-chan *pageJob // jobs to reuse
	stop   <-chan struct{} // closed when the delivery stops early
}

// pageFormat is what decoding a page needs to know of the file and the walk.
type pageFormat struct {
	usable int         // the usable bytes of a page (page size less the reserved bytes)
	fields []pageField // the table's columns in record order
	after  int64       // records up to this ID are skipped, when it is above 0
}

// skips reports whether the walk leaves out the record with this ID (a key of the b-tree). A walk
// after 0 leaves out nothing, as the SQL walk does (Store.Each's AfterID): a row with an ID below 1
// was never written by vulscan, and verify must read it to report it as inserted.
func (f *pageFormat) skips(id int64) bool {
	return f.after > 0 && id <= f.after
}

// pageField is a column of the table as a record holds it: which field of encoding version 2 it
// is (an index into v2Fields), or -1 for a column the encoding does not hold (hash).
type pageField struct {
	v2      int
	integer bool
}

// pageJob is a run of leaf pages and, once decoded, their links.
type pageJob struct {
	pages [][]byte
	pgnos []int64
	links []audit.Link
	spans [][2]int // each link's encoding in buf; {-1, -1} for none
	buf   []byte
	err   error
	done  chan struct{} // closed when decoded
}

// pagesPerJob is how many leaf pages a job holds (about 6 records each).
const pagesPerJob = 32

// walkPages calls fn with the link of every record above afterID in ID order, reading the
// table's pages inside one read transaction. It returns errNoPageWalk before calling fn when the
// file is not one it can read. fn is called from one goroutine at a time, not the caller's.
func (c chain) walkPages(ctx context.Context, afterID int64, fn func(*audit.Link) error) error {
	conn, err := c.s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Pages read through a memory map instead of one read(2) each, on this connection for this
	// walk only (the connection goes back to the pool as it was).
	var mmapSize int64
	if err := conn.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&mmapSize); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA mmap_size = `+strconv.FormatInt(walkMmapSize, 10)); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA mmap_size = `+strconv.FormatInt(mmapSize, 10))
	// A deferred BEGIN (not BeginTx, which the DSN makes IMMEDIATE and so a writer) holds one read
	// snapshot for the whole walk, as a single SELECT would.
	if _, err := conn.ExecContext(ctx, `BEGIN`); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
	w := &pageWalk{format: pageFormat{after: afterID}}
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
		if len(first) != w.format.usable || len(first) < 100 {
			return errNoPageWalk
		}
		w.format.usable -= int(first[20]) // the header's reserved bytes at the end of every page
		return w.run(ctx, root, fn)
	})
}

// run walks the tree from root with the decoders and the delivery beside it.
func (w *pageWalk) run(ctx context.Context, root int64, fn func(*audit.Link) error) error {
	decoders := runtime.GOMAXPROCS(0)
	inFlight := 2 * decoders
	jobs, order := make(chan *pageJob, inFlight), make(chan *pageJob, inFlight)
	free := make(chan *pageJob, inFlight+1)
	for range inFlight + 1 {
		free <- &pageJob{}
	}
	stop := make(chan struct{})
	w.jobs, w.order, w.free, w.stop = jobs, order, free, stop
	var decoding sync.WaitGroup
	for range decoders {
		d := pageDecoder{format: &w.format, values: make([][]byte, len(v2Fields)), ints: make([]int64, len(v2Fields))}
		decoding.Go(func() {
			for job := range jobs {
				d.decodeJob(job)
				close(job.done)
			}
		})
	}
	delivered := make(chan error, 1)
	go func() {
		var err error
		for job := range order {
			<-job.done
			if err == nil {
				err = job.err // a damaged page
				for i := 0; err == nil && i < len(job.links); i++ {
					err = fn(&job.links[i])
				}
				if err != nil {
					close(stop) // nothing after it will be delivered: stop reading pages
				}
			}
			free <- job
		}
		delivered <- err
	}()
	w.job = <-free
	w.job.reset()
	err := w.node(ctx, root, 0)
	if err == nil && len(w.job.pages) > 0 {
		err = w.send()
	}
	close(jobs)
	close(order)
	deliverErr := <-delivered
	decoding.Wait()
	if deliverErr != nil {
		return deliverErr // fn's error, or a damaged page, as fn would have met it in order
	}
	if errors.Is(err, errWalkStopped) {
		return nil
	}
	return err
}

// errWalkStopped: the delivery stopped early; run returns its error.
var errWalkStopped = errors.New("sqlstore: page walk stopped")

func (j *pageJob) reset() {
	j.pages, j.pgnos, j.links, j.spans, j.buf, j.err = j.pages[:0], j.pgnos[:0], j.links[:0], j.spans[:0], j.buf[:0], nil
	j.done = make(chan struct{})
}

// leaf adds a leaf page to the job being filled, and hands the job over when it is full.
func (w *pageWalk) leaf(p []byte, pgno int64) error {
	w.job.pages, w.job.pgnos = append(w.job.pages, p), append(w.job.pgnos, pgno)
	if len(w.job.pages) < pagesPerJob {
		return nil
	}
	if err := w.send(); err != nil {
		return err
	}
	select {
	case w.job = <-w.free:
	case <-w.stop:
		return errWalkStopped
	}
	w.job.reset()
	return nil
}

// send hands the job being filled to the delivery (first, so that order is kept) and a decoder.
func (w *pageWalk) send() error {
	select {
	case w.order <- w.job:
	case <-w.stop:
		return errWalkStopped
	}
	w.jobs <- w.job // a decoder is free or soon is: no more jobs than the delivery holds
	return nil
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
			w.format.fields = append(w.format.fields, pageField{v2: -1})
			continue
		case !ok:
			return 0, errNoPageWalk
		case name == "id" && (len(w.format.fields) != 0 || typ != "INTEGER" || pk != 1):
			// id must be the rowid, which the record holds as NULL.
			return 0, errNoPageWalk
		}
		seen[i] = true
		w.format.fields = append(w.format.fields, pageField{v2: i, integer: v2Fields[i].integer})
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(seen) != len(v2Fields) {
		return 0, errNoPageWalk
	}
	w.format.usable = pageSize // less the reserved bytes, once page 1 is read
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
	if err := ctx.Err(); err != nil {
		return err
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
			if w.format.skips(key) { // every key of the left child is at most key
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
		return w.leaf(p, pgno)
	}
	return errCorrupt(pgno, "not a table b-tree page")
}

// pageDecoder turns leaf pages into links; each decoder goroutine has its own.
type pageDecoder struct {
	format *pageFormat
	values [][]byte
	ints   []int64
}

// decodeJob fills job.links from job.pages, or sets job.err for a damaged page. The walk (node)
// has checked that each page's cell pointers lie within it.
func (d *pageDecoder) decodeJob(job *pageJob) {
	for i, p := range job.pages {
		for c := range int(binary.BigEndian.Uint16(p[3:5])) {
			if err := d.cell(job, p, job.pgnos[i], int(binary.BigEndian.Uint16(p[8+2*c:]))); err != nil {
				job.err = err
				return
			}
		}
	}
	for i, sp := range job.spans {
		if sp[0] >= 0 {
			job.links[i].Encoding = job.buf[sp[0]:sp[1]:sp[1]]
		}
	}
}

// cell adds the link of the leaf cell at off to job.
func (d *pageDecoder) cell(job *pageJob, p []byte, pgno int64, off int) error {
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
	if d.format.skips(rowid) {
		return nil
	}
	job.links = append(job.links, audit.Link{ID: rowid})
	span := [2]int{-1, -1}
	// The payload is whole on this page only up to a size that depends on the usable page size
	// (the file format's X = U-35 for table leaves); a larger one continues on overflow pages,
	// which the walk leaves to SQL.
	if size <= int64(d.format.usable-35) && off+int(size) <= len(p) {
		start := len(job.buf)
		var ok bool
		if job.buf, ok = d.decode(p[off:off+int(size)], &job.links[len(job.links)-1], job.buf); ok {
			span = [2]int{start, len(job.buf)}
		} else {
			job.buf = job.buf[:start]
		}
	}
	job.spans = append(job.spans, span)
	return nil
}

// decode fills l from a record's payload and appends its encoding to buf, but only when every
// value is plain; ok reports whether it did.
func (d *pageDecoder) decode(rec []byte, l *audit.Link, buf []byte) (_ []byte, ok bool) {
	hdrSize, n := varint(rec)
	if n == 0 || hdrSize < int64(n) || hdrSize > int64(len(rec)) {
		return buf, false
	}
	hdr, body := rec[n:hdrSize], rec[hdrSize:]
	var hash []byte
	for _, f := range d.format.fields {
		t, n := varint(hdr)
		if n == 0 {
			return buf, false // fewer values than columns: a record older than a column (its default applies)
		}
		hdr = hdr[n:]
		size := serialSize(t)
		if size < 0 || size > len(body) {
			return buf, false
		}
		value := body[:size]
		body = body[size:]
		switch {
		case f.v2 == 0: // id: the rowid, stored as NULL
			if t != 0 {
				return buf, false
			}
			d.ints[0] = l.ID
		case f.v2 < 0: // hash
			if t < 13 || t%2 == 0 {
				return buf, false
			}
			hash = value
		case f.integer:
			v, ok := serialInt(t, value)
			if !ok {
				return buf, false
			}
			d.ints[f.v2] = v
		default:
			if t < 13 || t%2 == 0 { // only text is plain text
				return buf, false
			}
			d.values[f.v2] = value
		}
	}
	if len(hdr) != 0 {
		return buf, false // more values than columns
	}
	buf = audit.AppendField(buf, "version", encodingV2Name)
	var num [20]byte
	for i, f := range v2Fields {
		if f.integer {
			buf = audit.AppendField(buf, f.name, strconv.AppendInt(num[:0], d.ints[i], 10))
		} else {
			buf = audit.AppendField(buf, f.name, d.values[i])
		}
	}
	l.TimeNs, l.PrevHash, l.Hash = d.ints[v2Time], d.values[v2PrevHash], hash
	endpoint := d.values[v2Endpoint]
	l.Emulated = len(endpoint) >= len(audit.EmulatorPrefix) && string(endpoint[:len(audit.EmulatorPrefix)]) == audit.EmulatorPrefix
	return buf, true
}

// Indexes into v2Fields the link needs.
var (
	v2Time, v2PrevHash, v2Endpoint = v2Index("time_ns"), v2Index("prev_hash"), v2Index("endpoint")
	encodingV2Name                 = []byte(audit.EncodingV2)
)

func v2Index(name string) int {
	for i, f := range v2Fields {
		if f.name == name {
			return i
		}
	}
	panic("sqlstore: no field " + name + " in encoding version 2")
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
