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
// queueing for N. Inside the transaction the records are chained one after the other exactly as
// N separate appends would chain them (each checks the idempotency rule against the records
// before it, the batch's included), and no caller is answered before the transaction holding its
// record has committed.
//
// Durability: a batch that holds any record other than an outcome (a pending record above all)
// commits with a sync (SQLite synchronous=FULL, PostgreSQL's synchronous_commit as configured),
// so that the pending record is on disk before TCSS is called. A batch of outcomes only commits
// without waiting for the disk (SQLite synchronous=NORMAL: the WAL is written but not synced;
// PostgreSQL synchronous_commit=off for that transaction): a power cut may lose such an outcome,
// never corrupt the log or break the chain (only the newest records can go, and the next synced
// commit makes them durable), and the attempt's pending record stays behind for reconciliation,
// which closes it as unknown. A crash of the process alone loses nothing: the commit is in the
// operating system's cache.

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
	// conn is SQLite's one writing connection, kept for the store's life: synchronous is a
	// per-connection setting, and its statements stay prepared on it. nil until the first
	// append; PostgreSQL takes a pooled connection per batch instead (a kept one could break).
	conn *sql.Conn
	// full is conn's synchronous level: true FULL (as the DSN opens it), false NORMAL.
	full bool
	// stmts are prepared once on the database; a transaction reuses each on its connection.
	stmts appendStmts
	// connStmts are prepared on conn, by query (connStmt).
	connStmts map[string]*sql.Stmt
}

// appendStmts are the statements every append runs.
type appendStmts struct {
	insert, chainHead, pendingExists, newestPendingByKey, newestOutcomeState *sql.Stmt
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
		newestPendingByKey: prep(newestPendingByKey),
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
	for _, p := range []*sql.Stmt{st.insert, st.chainHead, st.pendingExists, st.newestPendingByKey, st.newestOutcomeState} {
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

// lead commits batch, then hands the lead to the first append that queued meanwhile, or gives
// it up. Should the commit panic (a server recovers from a handler's panic and goes on), every
// caller of the batch is answered and the lead still passes on, so that no append waits for ever.
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
	s.commit(batch)
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

// commit stores batch in one transaction and answers each caller. A caller whose context ended
// while it queued is answered with that error and its record left out. Should the transaction
// fail as a whole (a database error, not a refusal of one record), each record is tried again
// alone, so that one bad record does not fail the others.
func (s *Store) commit(batch []*appendReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- appendResult{err: fmt.Errorf("sqlstore: append: %w", err)}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	results, err := s.commitBatch(live)
	if err != nil && len(live) > 1 {
		for _, r := range live {
			s.commit([]*appendReq{r})
		}
		return
	}
	for i, r := range live {
		if err != nil {
			r.done <- appendResult{err: err}
			continue
		}
		r.done <- results[i]
	}
}

// commitBatch appends the records of reqs in order in one transaction. It returns each record's
// result (a refused record, such as a bound idempotency key, has its error there), or an error
// when nothing was stored.
func (s *Store) commitBatch(reqs []*appendReq) ([]appendResult, error) {
	ctx, cancel := anyAlive(reqs)
	defer cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.prepareAppend(ctx); err != nil {
		return nil, fmt.Errorf("sqlstore: append: preparing statements: %w", err)
	}
	durable := false
	for _, r := range reqs {
		durable = durable || !isOutcome(r.rec)
	}
	tx, err := s.beginAppend(ctx, durable)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: append: %w", notWritable(err))
	}
	defer tx.Rollback()
	ctx = s.underLock(ctx)

	var lastID, lastNs int64
	var lastHash string
	err = tx.StmtContext(ctx, s.w.stmts.chainHead).QueryRowContext(ctx).Scan(&lastID, &lastNs, &lastHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: append: reading the chain head: %w", err)
	}
	insert := tx.StmtContext(ctx, s.w.stmts.insert)
	out := make([]appendResult, len(reqs))
	for i, r := range reqs {
		rec := r.rec
		refused, err := s.checkRefs(ctx, tx, rec)
		if err != nil {
			return nil, err
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
		if _, err := insert.ExecContext(ctx, rowValues(rec)...); err != nil {
			return nil, fmt.Errorf("sqlstore: append: %w", notWritable(err))
		}
		lastID, lastNs, lastHash = rec.ID, rec.Time.UnixNano(), rec.Hash
		out[i].rec = rec
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlstore: append: commit: %w", notWritable(err))
	}
	s.noteCommit()
	return out, nil
}

// underLock is the context of the statements an append transaction runs once it holds
// SQLite's write lock: ctx without its cancellation. Each of them is a lookup or an insert into
// a local file that waits for no one (the BEGIN that took the lock, and the COMMIT, keep the
// callers' contexts), and modernc.org/sqlite starts a goroutine and a progress handler for
// every statement run with a context that can end, to interrupt it when it does: that
// machinery, per statement, cost the append path more than the statement did. PostgreSQL's
// statements cross the network and keep ctx.
func (s *Store) underLock(ctx context.Context) context.Context {
	if s.d.name != sqliteDialect.name {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// isOutcome reports whether rec closes an attempt (its pending record is already durable).
func isOutcome(rec audit.Record) bool { return rec.PendingID != 0 }

// beginAppend starts the append transaction with the durability the batch needs and takes the
// log's write lock.
func (s *Store) beginAppend(ctx context.Context, durable bool) (*sql.Tx, error) {
	if s.d.name != sqliteDialect.name {
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
	conn, err := s.writerConn(ctx, durable)
	if err != nil {
		return nil, err
	}
	return conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock (see sqliteParams)
}

// writerConn returns SQLite's writing connection (opening it on first use) with its synchronous
// level set: FULL when durable, else NORMAL. The caller holds s.mu.
func (s *Store) writerConn(ctx context.Context, durable bool) (*sql.Conn, error) {
	if s.w.conn == nil {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		s.w.conn, s.w.full = conn, true // the DSN's synchronous(FULL)
		if s.ckpt != nil {
			// Checkpoints run in the background (walcheckpoint.go); a failure here leaves SQLite's
			// inline ones on: slower, not wrong.
			_, _ = conn.ExecContext(ctx, checkpointBackstop)
		}
	}
	if s.w.full != durable {
		level := "NORMAL"
		if durable {
			level = "FULL"
		}
		// synchronous cannot change inside a transaction: it is set on the connection first.
		// Setting it takes no lock and waits for no one (underLock).
		set, err := s.connStmt(ctx, `PRAGMA synchronous = `+level)
		if err == nil {
			_, err = set.ExecContext(s.underLock(ctx))
		}
		if err != nil {
			return nil, fmt.Errorf("setting synchronous=%s: %w", level, err)
		}
		s.w.full = durable
	}
	return s.w.conn, nil
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
