package audit

import (
	"context"
	"time"
)

// Store is an append-only audit log. There is no update or delete: an outcome is a new record
// whose PendingID names its pending record. Implementations keep one valid hash chain even when
// several goroutines or processes append at once.
type Store interface {
	// Append stores rec at the end of the chain and returns it as stored: ID (1, 2, 3, … with no
	// gaps), PrevHash and Hash are assigned atomically; Time is made UTC, set to now if zero, and
	// never earlier than the previous record's; Params is stored as CanonicalJSON. rec's ID,
	// PrevHash and Hash are ignored. Returns an error wrapping ErrDuplicateKey when rec is a
	// pending record whose non-empty IdempotencyKey another pending record of the same Actor
	// already holds (a key is scoped to its actor: another actor's same key is a key of its own).
	Append(ctx context.Context, rec Record) (Record, error)
	// Get returns the record with this ID, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id int64) (Record, error)
	// PendingByKey returns the newest pending record of actor holding this idempotency key, or an
	// error wrapping ErrNotFound. Other actors' records with the key are never returned.
	PendingByKey(ctx context.Context, actor, key string) (Record, error)
	// OutcomeOf returns the record whose PendingID is pendingID (the outcome of that attempt), or
	// an error wrapping ErrNotFound while there is none.
	OutcomeOf(ctx context.Context, pendingID int64) (Record, error)
	// KeyBound reports, in one read, whether actor's key is bound to an attempt that started or
	// may have started a scan: actor's newest pending record holding it (PendingByKey) has no
	// outcome yet (OutcomeOf), or one other than failed. No such record: false.
	KeyBound(ctx context.Context, actor, key string) (bool, error)
	// List returns the records matching f, newest first (for pages).
	List(ctx context.Context, f Filter) ([]Record, error)
	// Each calls fn with every record matching f, oldest first, without holding them all in
	// memory (for export). It stops at fn's first error and returns it.
	Each(ctx context.Context, f Filter, fn func(Record) error) error
	// Verify walks the whole chain and reports the first bad record; see VerifyChain.
	Verify(ctx context.Context) (Report, error)
	// VerifyFrom continues an earlier verification with the records appended since; see
	// VerifyChainFrom.
	VerifyFrom(ctx context.Context, from Report) (Report, error)
	// Close releases the store.
	Close() error
}

// Filter selects records. Zero fields select everything.
type Filter struct {
	Outcome  Outcome   // only this outcome
	Trigger  Trigger   // only this trigger
	Actor    string    // only this actor
	TaskID   int64     // only records of this TCSS task (LocalTaskID or RegistryTaskID); 0 = any
	Since    time.Time // only records at or after Since
	Until    time.Time // only records before Until
	BeforeID int64     // only IDs below BeforeID, for paging newest-first; 0 = no bound
	AfterID  int64     // only IDs above AfterID, for reading on from a known record; 0 = no bound
	Limit    int       // at most this many records; 0 = no limit
}
