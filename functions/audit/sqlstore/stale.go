package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// stalePending finds attempts left pending in a time window: pending records with no outcome
// record, oldest first. The window becomes an ID range (firstIDAt, one for each bound), and the
// pending records in it are one range of the outcome index (outcome, id); the outcome-of index
// answers each NOT EXISTS. The range is written per dialect: SQLite seeks the index with the
// plain conditions (of a row-value range it would use the first column only, every pending
// record), while PostgreSQL's generic plan, which cannot see how narrow the ID range is, reads
// the index only for a range of its row values and otherwise walks every record of the window
// through the primary key.
func stalePending(d dialect) string {
	from, to := `(`+firstIDAt+`)`, `(`+firstIDAt+`)`
	inRange := `outcome = 'pending' AND id >= ` + from + ` AND id < ` + to
	if d.name != sqliteName {
		inRange = `(outcome, id) >= ('pending', ` + from + `) AND (outcome, id) < ('pending', ` + to + `)`
	}
	return d.bind(`SELECT ` + columns + ` FROM audit_log WHERE ` + inRange + `
		AND NOT EXISTS (SELECT 1 FROM audit_log o WHERE o.pending_id = audit_log.id AND o.pending_id <> 0)
		ORDER BY outcome, id LIMIT ?`)
}

// StalePending returns up to limit pending records written in [since, until) that have no
// outcome record, oldest first (for reconciliation). A zero since means from the start.
func (s *Store) StalePending(ctx context.Context, since, until time.Time, limit int) ([]audit.Record, error) {
	lo := minTime.UnixNano()
	if !since.IsZero() {
		lo = clampTime(since).UnixNano()
	}
	hi := clampTime(until).UnixNano()
	var out []audit.Record
	err := s.each(ctx, stalePending(s.d), []any{lo, lo, hi, hi, limit}, func(r audit.Record) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: stale pending: %w", err)
	}
	return out, nil
}
