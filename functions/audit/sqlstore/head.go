package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

var _ audit.HeadStore = (*Store)(nil)

// LoadVerifiedHead implements audit.HeadStore.
func (s *Store) LoadVerifiedHead(ctx context.Context) (audit.VerifiedHead, error) {
	var h audit.VerifiedHead
	var ns int64
	err := s.db.QueryRowContext(ctx, `SELECT records, emulated, head_hash, checked_at_ns FROM audit_verified_head WHERE id = 1`).
		Scan(&h.Report.Records, &h.Report.Emulated, &h.Report.HeadHash, &ns)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.VerifiedHead{}, fmt.Errorf("sqlstore: verified head: %w", audit.ErrNotFound)
	}
	if err != nil {
		return audit.VerifiedHead{}, fmt.Errorf("sqlstore: verified head: %w", err)
	}
	h.CheckedAt = time.Unix(0, ns).UTC()
	return h, nil
}

// saveHead moves the kept head forward, never back: of two processes saving at once, the one
// that verified more records wins.
const saveHead = `INSERT INTO audit_verified_head (id, records, emulated, head_hash, checked_at_ns) VALUES (1, ?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET records = excluded.records, emulated = excluded.emulated,
		head_hash = excluded.head_hash, checked_at_ns = excluded.checked_at_ns
	WHERE excluded.records >= audit_verified_head.records`

// SaveVerifiedHead implements audit.HeadStore. A head with a problem is never kept.
func (s *Store) SaveVerifiedHead(ctx context.Context, h audit.VerifiedHead) error {
	if h.Report.Problem != nil {
		return fmt.Errorf("sqlstore: saving the verified head: the chain has a problem: %v", h.Report.Problem)
	}
	if _, err := s.db.ExecContext(ctx, s.d.bind(saveHead), h.Report.Records, h.Report.Emulated, h.Report.HeadHash,
		h.CheckedAt.UnixNano()); err != nil {
		return fmt.Errorf("sqlstore: saving the verified head: %w", err)
	}
	return nil
}
