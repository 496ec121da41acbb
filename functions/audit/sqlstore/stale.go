package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// stalePending finds attempts left pending in a time window: pending records with no outcome
// record, oldest first. The time index bounds the rows read to the window; the outcome index
// answers each NOT EXISTS.
const stalePending = `SELECT ` + columns + ` FROM audit_log
	WHERE outcome = 'pending' AND time_ns >= ? AND time_ns < ?
	AND NOT EXISTS (SELECT 1 FROM audit_log o WHERE o.pending_id = audit_log.id AND o.pending_id <> 0)
	ORDER BY time_ns LIMIT ?`

// StalePending returns up to limit pending records written in [since, until) that have no
// outcome record, oldest first (for reconciliation). A zero since means from the start.
func (s *Store) StalePending(ctx context.Context, since, until time.Time, limit int) ([]audit.Record, error) {
	lo := minTime.UnixNano()
	if !since.IsZero() {
		lo = clampTime(since).UnixNano()
	}
	var out []audit.Record
	err := s.each(ctx, s.d.bind(stalePending), []any{lo, clampTime(until).UnixNano(), limit}, func(r audit.Record) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: stale pending: %w", err)
	}
	return out, nil
}
