package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// BookSlot implements tcss.SlotBooker (without importing it: stores know nothing of TCSS) with one statement on the action's row of tcss_pace, which
// the database runs under that row's lock (PostgreSQL) or its write lock (SQLite): processes
// that book at once get slots one interval apart. It books count consecutive slots (at least
// one) and returns the first.
func (s *Store) BookSlot(ctx context.Context, action string, now time.Time, interval time.Duration, count int, notAfter time.Time) (time.Time, bool, error) {
	n, span, limit := now.UnixNano(), interval.Nanoseconds()*int64(max(count, 1)), int64(math.MaxInt64)
	if !notAfter.IsZero() {
		limit = notAfter.UnixNano()
	}
	query := s.d.bind(`INSERT INTO tcss_pace (action, next_ns) VALUES (?, CAST(? AS BIGINT) + CAST(? AS BIGINT))
		ON CONFLICT (action) DO UPDATE SET next_ns = ` + s.d.greatest + `(tcss_pace.next_ns, CAST(? AS BIGINT)) + CAST(? AS BIGINT)
		WHERE ` + s.d.greatest + `(tcss_pace.next_ns, CAST(? AS BIGINT)) <= CAST(? AS BIGINT)
		RETURNING next_ns`)
	var next int64
	err := s.paceWrite(ctx, query, func(q rowQuerier) error {
		return q.QueryRowContext(ctx, action, n, span, n, span, n, limit).Scan(&next)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sqlstore: booking a %s slot: %w", action, err)
	}
	return time.Unix(0, next-span), true, nil
}

// paceWrite runs a booking (query). On SQLite it goes through the append path's connection,
// prepared once, without a sync (synchronous=NORMAL): a booking lost in a power cut lets, after
// the reboot, at most one call go a slot early, and a second connection would cost the process
// its own WAL sync and directory sync. PostgreSQL books on any pooled connection.
func (s *Store) paceWrite(ctx context.Context, query string, book func(rowQuerier) error) error {
	if s.d.name != sqliteName {
		return book(boundQuery{s.db, query})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.writerConn(ctx); err != nil {
		return err
	}
	st, err := s.connStmt(ctx, query)
	if err != nil {
		return err
	}
	err = book(st)
	s.noteCommit()
	return err
}

// rowQuerier is a statement that returns a row: *sql.Stmt, or boundQuery.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, args ...any) *sql.Row
}

// boundQuery is a query on a querier, as a rowQuerier.
type boundQuery struct {
	q     querier
	query string
}

func (b boundQuery) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return b.q.QueryRowContext(ctx, b.query, args...)
}
