package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

var _ audit.CheckpointStore = (*Store)(nil)

const checkpointColumns = `seq, records, head_id, head_hash, time_ns, key_id, signature`

// AppendCheckpoint implements audit.CheckpointStore. Seq is assigned under the append lock, so
// checkpoints and records from several processes queue in one order.
func (s *Store) AppendCheckpoint(ctx context.Context, c audit.Checkpoint) (audit.Checkpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return audit.Checkpoint{}, fmt.Errorf("sqlstore: checkpoint: %w", err)
	}
	defer tx.Rollback()
	if s.d.appendLock != "" {
		if _, err := tx.ExecContext(ctx, s.d.appendLock); err != nil {
			return audit.Checkpoint{}, fmt.Errorf("sqlstore: checkpoint: locking the log: %w", err)
		}
	}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_checkpoints`).Scan(&c.Seq); err != nil {
		return audit.Checkpoint{}, fmt.Errorf("sqlstore: checkpoint: %w", err)
	}
	c.Time = c.Time.UTC()
	res, err := tx.ExecContext(ctx, s.d.bind(`INSERT INTO audit_checkpoints (`+checkpointColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		c.Seq, c.Records, c.HeadID, c.HeadHash, c.Time.UnixNano(), c.KeyID, c.Signature)
	if err == nil {
		err = stored(res, "checkpoint")
	}
	if err != nil {
		return audit.Checkpoint{}, fmt.Errorf("sqlstore: checkpoint: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return audit.Checkpoint{}, fmt.Errorf("sqlstore: checkpoint: commit: %w", err)
	}
	return c, nil
}

func scanCheckpoint(row scanner) (audit.Checkpoint, error) {
	var c audit.Checkpoint
	var ns int64
	if err := row.Scan(&c.Seq, &c.Records, &c.HeadID, &c.HeadHash, &ns, &c.KeyID, &c.Signature); err != nil {
		return audit.Checkpoint{}, err
	}
	c.Time = time.Unix(0, ns).UTC()
	return c, nil
}

// LatestCheckpoint implements audit.CheckpointStore.
func (s *Store) LatestCheckpoint(ctx context.Context) (audit.Checkpoint, error) {
	c, err := scanCheckpoint(s.db.QueryRowContext(ctx, `SELECT `+checkpointColumns+` FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Checkpoint{}, fmt.Errorf("sqlstore: latest checkpoint: %w", audit.ErrNotFound)
	}
	if err != nil {
		return audit.Checkpoint{}, fmt.Errorf("sqlstore: latest checkpoint: %w", err)
	}
	return c, nil
}

// EachCheckpoint implements audit.CheckpointStore.
func (s *Store) EachCheckpoint(ctx context.Context, fn func(audit.Checkpoint) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+checkpointColumns+` FROM audit_checkpoints ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("sqlstore: checkpoints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return fmt.Errorf("sqlstore: checkpoints: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}
