package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// Rows per INSERT and per transaction of Import: large enough that a million records load in
// seconds, small enough for SQLite's limit on bound values (23 columns × 500 rows) and for other
// writers, which wait for the append lock between transactions.
const (
	importRowsPerInsert = 500
	importRowsPerTx     = 50_000
)

// Import appends records that already carry their IDs, PrevHash and Hash (a log copied from
// another store, or one generated for a benchmark) exactly as they are, in large transactions.
// Each must continue the chain: ID one past the head, PrevHash the head's Hash, Hash valid for its
// content, time not before the head's. Import stops at the first that does not, with the records
// before it stored, and returns how many it stored.
func (s *Store) Import(ctx context.Context, recs iter.Seq2[audit.Record, error]) (int64, error) {
	next, stop := iter.Pull2(recs)
	defer stop()
	var stored int64
	for {
		n, more, err := s.importTx(ctx, next)
		stored += n
		if err != nil || !more {
			return stored, err
		}
	}
}

// importTx imports up to importRowsPerTx records in one transaction under the append lock; more
// reports whether the source may hold further records.
func (s *Store) importTx(ctx context.Context, next func() (audit.Record, error, bool)) (n int64, more bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("sqlstore: import: %w", err)
	}
	defer tx.Rollback()
	if s.d.appendLock != "" {
		if _, err := tx.ExecContext(ctx, s.d.appendLock); err != nil {
			return 0, false, fmt.Errorf("sqlstore: import: locking the log: %w", err)
		}
	}
	var head audit.Record
	var headNs int64
	err = tx.QueryRowContext(ctx, chainHead).Scan(&head.ID, &headNs, &head.Hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("sqlstore: import: reading the chain head: %w", err)
	}
	head.Time = time.Unix(0, headNs).UTC()
	batch := make([]any, 0, importRowsPerInsert*columnCount)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		rows := len(batch) / columnCount
		q := `INSERT INTO audit_log (` + columns + `) VALUES ` + strings.Repeat(`(`+placeholders+`), `, rows-1) + `(` + placeholders + `)`
		if _, err := tx.ExecContext(ctx, s.d.bind(q), batch...); err != nil {
			return fmt.Errorf("sqlstore: import: %w", err)
		}
		n += int64(rows)
		batch = batch[:0]
		return nil
	}
	var fault error
	for count := 0; count < importRowsPerTx; count++ {
		r, err, ok := next()
		if !ok {
			break
		}
		if err != nil {
			fault = fmt.Errorf("sqlstore: import: reading record %d: %w", head.ID+1, err)
			break
		}
		if err := continues(head, r); err != nil {
			fault = fmt.Errorf("sqlstore: import: %w", err)
			break
		}
		batch = append(batch, rowValues(r)...)
		head = r
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return 0, false, err
			}
		}
		more = count == importRowsPerTx-1
	}
	if err := flush(); err != nil {
		return 0, false, err
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("sqlstore: import: commit: %w", err)
	}
	return n, more && fault == nil, fault
}

// continues reports why r cannot follow head in the chain, or nil.
func continues(head, r audit.Record) error {
	switch {
	case r.ID != head.ID+1:
		return fmt.Errorf("record %d cannot follow record %d", r.ID, head.ID)
	case r.PrevHash != head.Hash:
		return fmt.Errorf("record %d does not link to record %d (prev_hash %.12s…, head %.12s…)", r.ID, head.ID, r.PrevHash, head.Hash)
	case !r.HashValid():
		return fmt.Errorf("record %d: its content does not match its hash", r.ID)
	case r.Time.Before(head.Time):
		return fmt.Errorf("record %d: its time is before record %d's", r.ID, head.ID)
	case r.Time.Before(minTime) || r.Time.After(maxTime):
		return fmt.Errorf("record %d: time %s out of range", r.ID, r.Time)
	}
	return nil
}
