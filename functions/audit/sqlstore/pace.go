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
// that book at once get slots one interval apart.
func (s *Store) BookSlot(ctx context.Context, action string, now time.Time, interval time.Duration, notAfter time.Time) (time.Time, bool, error) {
	n, step, limit := now.UnixNano(), interval.Nanoseconds(), int64(math.MaxInt64)
	if !notAfter.IsZero() {
		limit = notAfter.UnixNano()
	}
	q := s.d.bind(`INSERT INTO tcss_pace (action, next_ns) VALUES (?, CAST(? AS BIGINT) + CAST(? AS BIGINT))
		ON CONFLICT (action) DO UPDATE SET next_ns = ` + s.d.greatest + `(tcss_pace.next_ns, CAST(? AS BIGINT)) + CAST(? AS BIGINT)
		WHERE ` + s.d.greatest + `(tcss_pace.next_ns, CAST(? AS BIGINT)) <= CAST(? AS BIGINT)
		RETURNING next_ns`)
	var next int64
	err := s.db.QueryRowContext(ctx, q, action, n, step, n, step, n, limit).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sqlstore: booking a %s slot: %w", action, err)
	}
	return time.Unix(0, next-step), true, nil
}
