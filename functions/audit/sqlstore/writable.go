package sqlstore

import (
	"context"
	"fmt"
)

// CheckWritable proves that this process can append to the log, without appending: it takes the
// append's write lock and makes a write the database must refuse when the file, the connection
// or the role is read-only, then rolls back. Servers call it at start, so that a read-only store
// stops the process with its cause instead of failing the first scan.
func (s *Store) CheckWritable(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: the audit log is not writable: %w", err)
	}
	defer tx.Rollback()
	for _, q := range s.d.writeProbe {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlstore: the audit log is not writable: %w", err)
		}
	}
	return nil
}
