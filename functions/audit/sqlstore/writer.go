package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// The append path: group commit, prepared statements, and a durability level chosen per commit.
//
// Appends that arrive while a commit is under way queue; the goroutine whose commit ends first
// takes the whole queue into one transaction, so N concurrent attempts share one fsync instead of
// queueing for N. On SQLite the sync runs after the commit, outside the database's write lock
// and the store's (walsync.go), so that a pace booking or another process's commit does not wait
// for the disk. Inside the transaction the records are chained one after the other exactly as
// N separate appends would chain them (each checks the idempotency rule against the records
// before it, the batch's included), and no caller is answered before the transaction holding its
// record has committed.
//
// Durability: a batch that holds any record other than an outcome (a pending record above all)
// is synced before its callers are answered, so that the pending record is on disk before TCSS
// is called. On SQLite the store syncs the WAL itself once the commit has released the write
// lock (walsync.go); PostgreSQL's commit waits for its synchronous_commit as configured. A
// batch of outcomes only is not synced (SQLite: no sync; PostgreSQL synchronous_commit=off for
// that transaction): a power cut may lose such an outcome, never corrupt the log or break the
// chain (only the newest records can go, and the next sync makes them durable), and the
// attempt's pending record stays behind for reconciliation, which closes it as unknown. A crash
// of the process alone loses nothing: the commit is in the operating system's cache.

// maxBatch bounds one group commit, so that a long queue does not hold the write lock for long.
const maxBatch = 64

// appendReq is one Append waiting for its batch's commit.
type appendReq struct {
	ctx  context.Context
	rec  audit.Record
	done chan appendResult // buffered: the committer never waits for the caller
}

// appendResult is what the committer hands back: the stored record or the error, or, with
// lead set, the order to commit the queue (this caller's record included) itself.
type appendResult struct {
	rec  audit.Record
	err  error
	lead bool
}

// batcher queues appends while a commit is under way.
type batcher struct {
	mu      sync.Mutex
	queue   []*appendReq
	leading bool // a goroutine is committing; the next to lead is handed the queue
}

// writer is the append path's connection and statements.
type writer struct {
	// conn is SQLite's one writing connection, kept for the store's life: it commits with
	// synchronous=NORMAL, a per-connection setting (the store syncs the WAL itself, walsync.go),
	// and its statements stay prepared on it. nil until the first append; PostgreSQL takes a
	// pooled connection per batch instead (a kept one could break).
	conn *sql.Conn
	// stmts are prepared once on the database; a transaction reuses each on its connection.
	stmts appendStmts
	// connStmts are prepared on conn, by query (connStmt).
	connStmts map[string]*sql.Stmt
}

// appendStmts are the statements every append runs.
type appendStmts struct {
	insert, chainHead, pendingExists, keyState, newestOutcomeState *sql.Stmt
}

// prepareAppend prepares the append statements once (under s.mu); a failure is not kept, the
// next append tries again.
func (s *Store) prepareAppend(ctx context.Context) error {
	if s.w.stmts.insert != nil {
		return nil
	}
	var st appendStmts
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var p *sql.Stmt
		p, err = s.db.PrepareContext(ctx, s.d.bind(q))
		return p
	}
	st = appendStmts{
		chainHead:          prep(chainHead),
		pendingExists:      prep(pendingExists),
		keyState:           prep(keyState),
		newestOutcomeState: prep(newestOutcomeState),
		insert:             prep(`INSERT INTO audit_log (` + columns + `) VALUES (` + placeholders + `)`),
	}
	if err != nil {
		st.close()
		return err
	}
	s.w.stmts = st
	return nil
}

func (st appendStmts) close() error {
	var errs []error
	for _, p := range []*sql.Stmt{st.insert, st.chainHead, st.pendingExists, st.keyState, st.newestOutcomeState} {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	return errors.Join(errs...)
}

// closeWriter releases the writing connection and the statements.
func (s *Store) closeWriter() error {
	s.batch.mu.Lock()
	defer s.batch.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, st := range s.w.connStmts {
		errs = append(errs, st.Close())
	}
	s.w.connStmts = nil
	if s.w.conn != nil {
		errs = append(errs, s.w.conn.Close())
		s.w.conn = nil
	}
	err := errors.Join(errs...)
	err = errors.Join(err, s.w.stmts.close())
	s.w.stmts = appendStmts{}
	return err
}

// Append implements audit.Store.
func (s *Store) Append(ctx context.Context, rec audit.Record) (audit.Record, error) {
	rec, err := s.prepare(rec)
	if err != nil {
		return audit.Record{}, err
	}
	req := &appendReq{ctx: ctx, rec: rec, done: make(chan appendResult, 1)}
	b := &s.batch
	b.mu.Lock()
	b.queue = append(b.queue, req)
	if b.leading {
		b.mu.Unlock()
		if res := <-req.done; !res.lead {
			return res.rec, res.err
		}
		b.mu.Lock() // handed the lead: this goroutine commits the queue, its own record first
	}
	b.leading = true
	batch := b.queue[:min(len(b.queue), maxBatch)]
	b.queue = b.queue[len(batch):]
	b.mu.Unlock()

	s.lead(batch)
	res := <-req.done
	return res.rec, res.err
}

// lead commits batch, waits for the WAL sync it needs, if any (walsync.go), answers its
// callers, then hands the lead to the first append that queued meanwhile, or gives it up: the
// appends that arrive during a commit and its sync go into the next transaction together (a
// next batch committed during the sync made the batches smaller and the sync slower; see the
// benchmark's explanations). Should the work panic (a server recovers from a handler's panic and
// goes on), every caller of the batch is answered and the lead still passes on, so that no
// append waits for ever.
func (s *Store) lead(batch []*appendReq) {
	defer func() {
		if p := recover(); p != nil {
			for _, r := range batch {
				select {
				case r.done <- appendResult{err: fmt.Errorf("sqlstore: append: panic: %v", p)}:
				default: // already answered
				}
			}
			s.handOff()
			panic(p)
		}
		s.handOff()
	}()
	results, seq := s.commit(batch)
	if seq != 0 {
		if err := s.wal.through(seq); err != nil {
			for i := range results {
				if results[i].err == nil && !isOutcome(batch[i].rec) {
					results[i].err = fmt.Errorf("sqlstore: append: record %d is committed but may not survive a power cut: %w: %w",
						results[i].rec.ID, audit.ErrNotDurable, err)
				}
			}
		}
	}
	for i, r := range batch {
		r.done <- results[i]
	}
}

// handOff passes the lead to the first queued append, or gives it up.
func (s *Store) handOff() {
	b := &s.batch
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) > 0 {
		b.queue[0].done <- appendResult{lead: true}
		return
	}
	b.leading = false
}

// commit stores batch in one transaction and returns each caller's result, in batch order, and
// the WAL sync sequence number its callers must wait for (walSync.through; 0 for none). A caller
// whose context ended while it queued gets that error and its record is left out. Should the
// transaction fail as a whole (a database error, not a refusal of one record), each record is
// tried again alone, so that one bad record does not fail the others.
func (s *Store) commit(batch []*appendReq) ([]appendResult, uint64) {
	out := make([]appendResult, len(batch))
	var live []*appendReq
	var at []int // live[j] is batch[at[j]]
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			out[i].err = fmt.Errorf("sqlstore: append: %w", err)
			continue
		}
		live, at = append(live, r), append(at, i)
	}
	if len(live) == 0 {
		return out, 0
	}
	results, seq, err := s.commitBatch(live)
	if err != nil && len(live) > 1 {
		for _, i := range at {
			res, sq := s.commit(batch[i : i+1])
			out[i], seq = res[0], max(seq, sq)
		}
		return out, seq
	}
	for j, i := range at {
		if err != nil {
			out[i].err = err
			continue
		}
		out[i] = results[j]
	}
	return out, seq
}

// commitBatch appends the records of reqs in order in one transaction. It returns each record's
// result (a refused record, such as a bound idempotency key, has its error there) and the WAL
// sync sequence number the batch's callers must wait for (0: none), or an error when nothing was
// stored.
func (s *Store) commitBatch(reqs []*appendReq) ([]appendResult, uint64, error) {
	ctx, cancel := anyAlive(reqs)
	defer cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.prepareAppend(ctx); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: append: preparing statements: %w", err)
	}
	durable := false
	for _, r := range reqs {
		durable = durable || !isOutcome(r.rec)
	}
	if durable && s.wal != nil {
		if err := s.wal.err(); err != nil {
			// The records would be committed, not durable: refuse before, not after.
			return nil, 0, fmt.Errorf("sqlstore: append: %w", err)
		}
	}
	tx, err := s.beginAppend(ctx, durable)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: append: %w", notWritable(err))
	}
	defer tx.Rollback()
	ctx = s.underLock(ctx)

	var lastID, lastNs int64
	var lastHash string
	err = tx.StmtContext(ctx, s.w.stmts.chainHead).QueryRowContext(ctx).Scan(&lastID, &lastNs, &lastHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("sqlstore: append: reading the chain head: %w", err)
	}
	insert := tx.StmtContext(ctx, s.w.stmts.insert)
	out := make([]appendResult, len(reqs))
	for i, r := range reqs {
		rec := r.rec
		refused, err := s.checkRefs(ctx, tx, rec)
		if err != nil {
			return nil, 0, err
		}
		if refused != nil {
			out[i].err = refused
			continue
		}
		rec.ID, rec.PrevHash = lastID+1, lastHash
		// Callers stamp time before they queue, so a later record can hold an earlier time; the
		// chain's times must not go backwards, so such a record takes its predecessor's.
		if rec.Time.UnixNano() < lastNs {
			rec.Time = time.Unix(0, lastNs).UTC()
		}
		rec.Hash = rec.ComputeHash()
		res, err := insert.ExecContext(ctx, rowValues(rec)...)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlstore: append: %w", notWritable(err))
		}
		if err := stored(res, "record"); err != nil {
			return nil, 0, fmt.Errorf("sqlstore: append: %w", err)
		}
		lastID, lastNs, lastHash = rec.ID, rec.Time.UnixNano(), rec.Hash
		out[i].rec = rec
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: append: commit: %w", notWritable(err))
	}
	s.noteCommit()
	var seq uint64
	if durable && s.wal != nil {
		seq = s.wal.commitDone()
	}
	return out, seq, nil
}

// underLock is the context of the statements an append transaction runs once it holds
// SQLite's write lock: ctx without its cancellation. Each of them is a lookup or an insert into
// a local file that waits for no one (the BEGIN that took the lock, and the COMMIT, keep the
// callers' contexts), and modernc.org/sqlite starts a goroutine and a progress handler for
// every statement run with a context that can end, to interrupt it when it does: that
// machinery, per statement, cost the append path more than the statement did. PostgreSQL's
// statements cross the network and keep ctx.
func (s *Store) underLock(ctx context.Context) context.Context {
	if s.d.name != sqliteName {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// isOutcome reports whether rec closes an attempt (its pending record is already durable).
func isOutcome(rec audit.Record) bool { return rec.PendingID != 0 }

// beginAppend starts the append transaction with the durability the batch needs and takes the
// log's write lock. On SQLite the commit never syncs (the store syncs the WAL after it, when the
// batch needs it: walsync.go).
func (s *Store) beginAppend(ctx context.Context, durable bool) (*sql.Tx, error) {
	if s.d.name != sqliteName {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		for _, q := range s.appendPrelude(durable) {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				tx.Rollback()
				return nil, fmt.Errorf("locking the log: %w", err)
			}
		}
		return tx, nil
	}
	conn, err := s.writerConn(ctx)
	if err != nil {
		return nil, err
	}
	return conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock (see sqliteParams)
}

// writerConn returns SQLite's writing connection, opening it on first use with
// synchronous=NORMAL: its commits are written to the WAL, not synced (walsync.go). The caller
// holds s.mu.
func (s *Store) writerConn(ctx context.Context) (*sql.Conn, error) {
	if s.w.conn != nil {
		return s.w.conn, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		conn.Close()
		return nil, fmt.Errorf("setting synchronous=NORMAL: %w", err)
	}
	if s.ckpt != nil {
		// Checkpoints run in the background (walcheckpoint.go); a failure here leaves SQLite's
		// inline ones on: slower, not wrong.
		_, _ = conn.ExecContext(ctx, checkpointBackstop)
	}
	s.w.conn = conn
	return conn, nil
}

// connStmt returns query prepared on SQLite's writing connection, preparing it on first use:
// statements the append path runs on that connection outside a transaction (the synchronous
// switch, the pace booking), which database/sql would otherwise parse again on every call. The
// caller holds s.mu and has opened the connection.
func (s *Store) connStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.w.connStmts[query]; ok {
		return st, nil
	}
	st, err := s.w.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if s.w.connStmts == nil {
		s.w.connStmts = map[string]*sql.Stmt{}
	}
	s.w.connStmts[query] = st
	return st, nil
}

// appendPrelude is what a non-SQLite append transaction runs first: the write lock, and for a
// batch of outcomes only, a commit that does not wait for the disk.
func (s *Store) appendPrelude(durable bool) []string {
	var qs []string
	if s.d.appendLock != "" {
		qs = append(qs, s.d.appendLock)
	}
	if !durable && s.d.lazyCommit != "" {
		qs = append(qs, s.d.lazyCommit)
	}
	return qs
}

// anyAlive returns a context that ends once every request's context has ended (or on cancel):
// a transaction shared by several callers is given up only when none of them waits any more.
func anyAlive(reqs []*appendReq) (context.Context, context.CancelFunc) {
	if len(reqs) == 1 {
		return context.WithCancel(reqs[0].ctx)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(reqs[0].ctx))
	var alive atomic.Int64
	alive.Store(int64(len(reqs)))
	stops := make([]func() bool, 0, len(reqs))
	for _, r := range reqs {
		stops = append(stops, context.AfterFunc(r.ctx, func() {
			if alive.Add(-1) == 0 {
				cancel()
			}
		}))
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// stored checks that an INSERT of one row stored it. A trigger or rule someone added to the
// table can skip a row without an error (SQLite's RAISE(IGNORE), a PostgreSQL BEFORE trigger
// that returns NULL, a DO INSTEAD NOTHING rule): the caller would then act on a record the log
// does not hold (a scan started with no pending record), and the next record would take its ID.
func stored(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	switch {
	case err != nil:
		return fmt.Errorf("checking that the %s was stored: %w", what, err)
	case n != 1:
		return fmt.Errorf("the database did not store the %s (%d rows inserted, not 1): a trigger or rule on its table "+
			"skipped it: vulscan adds none but its append-only guards, so someone else did", what, n)
	}
	return nil
}
