package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Signed checkpoints are what CloudTrail's digest files are to its logs: now and then the log's
// head (how many records, the newest one's ID and hash) is signed with a key the database does
// not hold. Someone who can write the database can still cut off the newest records or rebuild
// the chain with fresh hashes, but can no longer make the result agree with the checkpoints:
// CheckCheckpoints names the truncation or the rewrite, and a checkpoint they add or change
// does not carry a valid signature.

// Checkpoint is a signed statement of the chain's head at a time.
type Checkpoint struct {
	Seq       int64     `json:"seq"`       // position among checkpoints, from 1, assigned by the store
	Records   int64     `json:"records"`   // records in the chain
	HeadID    int64     `json:"head_id"`   // the newest record's ID
	HeadHash  string    `json:"head_hash"` // the newest record's Hash
	Time      time.Time `json:"time"`      // when it was signed (UTC)
	KeyID     string    `json:"key_id"`    // KeyID of the signing key's public half
	Signature string    `json:"signature"` // Ed25519 over SignedBytes, base64; "" = unsigned
}

// checkpointVersion names the signed encoding.
const checkpointVersion = "vulscan-audit-checkpoint/v1"

// SignedBytes is what the signature covers: every field but Seq and Signature, one per line.
// Seq is left out so that a checkpoint can be copied to another store (audit migrate) as it is.
func (c Checkpoint) SignedBytes() []byte {
	var b []byte
	b = field(b, "version", checkpointVersion)
	b = intField(b, "records", c.Records)
	b = intField(b, "head_id", c.HeadID)
	b = field(b, "head_hash", c.HeadHash)
	b = intField(b, "time_ns", c.Time.UnixNano())
	return field(b, "key_id", c.KeyID)
}

// Sign returns c signed with key, with its KeyID set.
func (c Checkpoint) Sign(key ed25519.PrivateKey) Checkpoint {
	c.Time = c.Time.UTC()
	c.KeyID = KeyID(key.Public().(ed25519.PublicKey))
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.SignedBytes()))
	return c
}

// KeyID names a verify key: the first 16 hex digits of its SHA-256, so that a reader can tell
// which key signed a checkpoint without the key itself.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// The environment variables that hold the keys, as `vulscan audit keygen` prints them.
const (
	EnvSigningKey = "VULSCAN_AUDIT_SIGNING_KEY"
	EnvVerifyKey  = "VULSCAN_AUDIT_VERIFY_KEY"
)

// GenerateKeys makes an Ed25519 key pair and returns it as text: the signing key (the 32-byte
// seed) and the verify key (the public key), both base64.
func GenerateKeys(random io.Reader) (signing, verify string, err error) {
	pub, priv, err := ed25519.GenerateKey(random)
	if err != nil {
		return "", "", fmt.Errorf("audit: generating a key pair: %w", err)
	}
	return base64.StdEncoding.EncodeToString(priv.Seed()), base64.StdEncoding.EncodeToString(pub), nil
}

// ParseSigningKey reads a signing key as GenerateKeys writes it.
func ParseSigningKey(s string) (ed25519.PrivateKey, error) {
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(seed) != ed25519.SeedSize {
		// The key itself is never repeated in a message.
		return nil, fmt.Errorf("audit: the signing key is not %d bytes of base64 (make one with vulscan audit keygen)", ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ParseVerifyKey reads a verify key as GenerateKeys writes it.
func ParseVerifyKey(s string) (ed25519.PublicKey, error) {
	pub, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("audit: the verify key is not %d bytes of base64 (vulscan audit keygen prints it)", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(pub), nil
}

// CheckpointStore keeps checkpoints beside the records, append-only.
type CheckpointStore interface {
	// AppendCheckpoint stores c and returns it with its Seq.
	AppendCheckpoint(ctx context.Context, c Checkpoint) (Checkpoint, error)
	// LatestCheckpoint returns the checkpoint with the highest Seq, or an error wrapping
	// ErrNotFound when there is none.
	LatestCheckpoint(ctx context.Context) (Checkpoint, error)
	// EachCheckpoint calls fn with every checkpoint in Seq order, stopping at fn's first error.
	EachCheckpoint(ctx context.Context, fn func(Checkpoint) error) error
}

// Checkpoint finding kinds, as CheckCheckpoints names them.
const (
	KindTruncated = "truncated" // records a checkpoint covered are gone
	// KindRewritten (anchor.go): the record a checkpoint names no longer has its hash.
	KindForged   = "forged"    // the signature does not verify
	KindUnsigned = "unsigned"  // no signature
	KindOtherKey = "other key" // signed by a key other than the one given
)

// CheckpointFinding is one thing wrong with a checkpoint or with what it covers.
type CheckpointFinding struct {
	Seq    int64
	Kind   string
	Detail string
}

func (f CheckpointFinding) String() string {
	return fmt.Sprintf("checkpoint %d %s: %s", f.Seq, f.Kind, f.Detail)
}

// CheckpointReport is the result of CheckCheckpoints.
type CheckpointReport struct {
	Checked  int                 // checkpoints read
	Newest   *Checkpoint         // the newest checkpoint with a valid signature, if any
	After    int64               // records of the good chain after Newest's head
	Findings []CheckpointFinding // empty when every checkpoint is signed and holds
}

// OK reports whether every checkpoint is validly signed and the chain still agrees with each.
func (r CheckpointReport) OK() bool { return len(r.Findings) == 0 }

// CheckCheckpoints checks every checkpoint of cs against key and against the chain: get reads a
// record by ID; rep is the chain's verification (its good records count). Checkpoints with a
// bad signature are named and otherwise ignored: they prove nothing.
func CheckCheckpoints(ctx context.Context, cs CheckpointStore, get func(context.Context, int64) (Record, error), rep Report, key ed25519.PublicKey) (CheckpointReport, error) {
	var out CheckpointReport
	given := givenKey{pub: key, id: KeyID(key)}
	if len(key) == ed25519.SeedSize {
		// A signing key is as long as a verify key, so one given by mistake parses as one.
		pair := ed25519.NewKeyFromSeed(key).Public().(ed25519.PublicKey)
		given.seedID, given.seedPair = KeyID(pair), base64.StdEncoding.EncodeToString(pair)
	}
	err := cs.EachCheckpoint(ctx, func(c Checkpoint) error {
		out.Checked++
		if f := signatureFinding(c, given); f != nil {
			out.Findings = append(out.Findings, *f)
			return nil
		}
		if out.Newest == nil || c.HeadID >= out.Newest.HeadID {
			cp := c
			out.Newest = &cp
		}
		f, err := chainFinding(ctx, c, get)
		if f != nil {
			out.Findings = append(out.Findings, *f)
		}
		return err
	})
	if err != nil {
		return CheckpointReport{}, fmt.Errorf("audit: checking checkpoints: %w", err)
	}
	if out.Newest != nil && rep.Records > out.Newest.HeadID {
		out.After = rep.Records - out.Newest.HeadID
	}
	return out, nil
}

// givenKey is the key a verifier gave, with its ID, and the verify key it would pair with if it
// were a signing key (its ID, and as GenerateKeys writes it).
type givenKey struct {
	pub      ed25519.PublicKey
	id       string
	seedID   string
	seedPair string
}

func signatureFinding(c Checkpoint, key givenKey) *CheckpointFinding {
	switch {
	case c.Signature == "":
		return &CheckpointFinding{c.Seq, KindUnsigned, "it carries no signature"}
	case c.KeyID != key.id && c.KeyID == key.seedID:
		// The verify key is public, so naming it here gives nothing away.
		return &CheckpointFinding{c.Seq, KindOtherKey, fmt.Sprintf(
			"signed by key %s; the key given is its signing key (%s), not its verify key: give %s=%s, and keep the signing key away from whoever only verifies",
			c.KeyID, EnvSigningKey, EnvVerifyKey, key.seedPair)}
	case c.KeyID != key.id:
		return &CheckpointFinding{c.Seq, KindOtherKey, fmt.Sprintf("signed by key %s, not by the given key %s", c.KeyID, key.id)}
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || !ed25519.Verify(key.pub, c.SignedBytes(), sig) {
		return &CheckpointFinding{c.Seq, KindForged, fmt.Sprintf("its signature does not match its content (records %d, head %d)", c.Records, c.HeadID)}
	}
	return nil
}

// chainFinding compares a validly signed checkpoint with the chain.
func chainFinding(ctx context.Context, c Checkpoint, get func(context.Context, int64) (Record, error)) (*CheckpointFinding, error) {
	rec, err := get(ctx, c.HeadID)
	switch {
	case errors.Is(err, ErrNotFound):
		return &CheckpointFinding{c.Seq, KindTruncated, fmt.Sprintf(
			"it covers records up to %d (signed %s), but record %d is gone: the newest records were cut off",
			c.HeadID, c.Time.UTC().Format(time.RFC3339), c.HeadID)}, nil
	case err != nil:
		return nil, err
	case rec.Hash != c.HeadHash:
		return &CheckpointFinding{c.Seq, KindRewritten, fmt.Sprintf(
			"record %d's hash is %.12s…, but the checkpoint signed %.12s…: the chain was rewritten up to there",
			c.HeadID, rec.Hash, c.HeadHash)}, nil
	}
	return nil, nil
}

// CheckpointPolicy says when Checkpointing signs a checkpoint on its own.
type CheckpointPolicy struct {
	Every    int64         // after this many records since the last checkpoint; 0 = never by count
	Interval time.Duration // when the last is older than this at an append; 0 = never by age
}

// Default checkpoint policy: documented in docs/design.md.
const (
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = 15 * time.Minute
)

// Checkpointer signs checkpoints of a store: on demand (Checkpoint) and, as a Store wrapper,
// after appends as its policy says (Wrap).
type Checkpointer struct {
	store interface {
		Store
		CheckpointStore
	}
	key    ed25519.PrivateKey
	policy CheckpointPolicy
	now    func() time.Time

	// signing is held from deciding a checkpoint is due to storing it, so that appends returning
	// together (a group commit answers a whole batch at once) sign one checkpoint, not one each.
	signing sync.Mutex
	// seen is the newest checkpoint read or signed under signing (nil before any). Checkpoints
	// only get newer, and a record not due after an older one is not due after a newer one: an
	// append that seen says is not due skips the lock and the store's read.
	seen atomic.Pointer[Checkpoint]
}

// NewCheckpointer returns a Checkpointer for store, signing with key. now may be nil (time.Now).
func NewCheckpointer(store interface {
	Store
	CheckpointStore
}, key ed25519.PrivateKey, policy CheckpointPolicy, now func() time.Time) *Checkpointer {
	if now == nil {
		now = time.Now
	}
	return &Checkpointer{store: store, key: key, policy: policy, now: now}
}

// Checkpoint signs and stores a checkpoint of the chain's current head.
func (c *Checkpointer) Checkpoint(ctx context.Context) (Checkpoint, error) {
	head, err := c.store.List(ctx, Filter{Limit: 1})
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint: reading the head: %w", err)
	}
	if len(head) == 0 {
		return Checkpoint{}, errors.New("audit: checkpoint: the log is empty")
	}
	return c.sign(ctx, head[0])
}

func (c *Checkpointer) sign(ctx context.Context, head Record) (Checkpoint, error) {
	cp := Checkpoint{Records: head.ID, HeadID: head.ID, HeadHash: head.Hash, Time: c.now()}.Sign(c.key)
	stored, err := c.store.AppendCheckpoint(ctx, cp)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint: %w", err)
	}
	c.seen.Store(&stored)
	return stored, nil
}

// due reports whether a checkpoint is due after rec was appended: none covers rec yet, and the
// policy's count or age has been reached. The caller holds c.signing.
func (c *Checkpointer) due(ctx context.Context, rec Record) (bool, error) {
	last, err := c.store.LatestCheckpoint(ctx)
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	c.seen.Store(&last)
	return c.dueAfter(last, rec), nil
}

// dueAfter reports whether rec makes a checkpoint due when last is the latest: last does not
// cover it, and the policy's count or age has been reached.
func (c *Checkpointer) dueAfter(last Checkpoint, rec Record) bool {
	if rec.ID <= last.HeadID {
		return false // signed already, by an append that returned beside this one
	}
	byCount := c.policy.Every > 0 && rec.ID-last.HeadID >= c.policy.Every
	byAge := c.policy.Interval > 0 && c.now().Sub(last.Time) >= c.policy.Interval
	return byCount || byAge
}

// Tick signs a checkpoint when one is due by age alone: the policy's Interval has passed since
// the last checkpoint and records were appended since it (or the log has records and no
// checkpoint yet). Appends check the age too, but only when they happen: without Tick, records
// appended soon after a checkpoint would stand unsigned until the next append, however long
// that takes. A log where nothing changed gets no checkpoint. It reports whether it signed one.
func (c *Checkpointer) Tick(ctx context.Context) (bool, error) {
	if c.policy.Interval <= 0 {
		return false, nil
	}
	head, err := c.store.List(ctx, Filter{Limit: 1})
	if err != nil {
		return false, fmt.Errorf("audit: checkpoint: reading the head: %w", err)
	}
	if len(head) == 0 {
		return false, nil
	}
	c.signing.Lock()
	defer c.signing.Unlock()
	last, err := c.store.LatestCheckpoint(ctx)
	if err == nil {
		c.seen.Store(&last)
	}
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return false, fmt.Errorf("audit: checkpoint: %w", err)
	case head[0].ID <= last.HeadID || c.now().Sub(last.Time) < c.policy.Interval:
		return false, nil
	}
	if _, err := c.sign(ctx, head[0]); err != nil {
		return false, err
	}
	return true, nil
}

// Run calls Tick every every until ctx ends, so that a serving process signs the time-based
// checkpoint also when no append comes to do it. A failed tick is reported through onErr (may
// be nil) and the next one tries again.
func (c *Checkpointer) Run(ctx context.Context, every time.Duration, onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := c.Tick(ctx); err != nil && onErr != nil && ctx.Err() == nil {
			onErr(err)
		}
	}
}

// Wrap returns store with a checkpoint signed after every append that makes one due. A failed
// checkpoint does not fail the append (the record is stored); it is reported through onErr.
func (c *Checkpointer) Wrap(onErr func(error)) Store {
	return checkpointing{Store: c.store, c: c, onErr: onErr}
}

type checkpointing struct {
	Store
	c     *Checkpointer
	onErr func(error)
}

func (s checkpointing) Append(ctx context.Context, rec Record) (Record, error) {
	stored, err := s.Store.Append(ctx, rec)
	if err != nil {
		return stored, err
	}
	if last := s.c.seen.Load(); last != nil && !s.c.dueAfter(*last, stored) {
		return stored, nil
	}
	ctx = context.WithoutCancel(ctx)
	s.c.signing.Lock()
	due, err := s.c.due(ctx, stored)
	if err == nil && due {
		_, err = s.c.sign(ctx, stored)
	}
	s.c.signing.Unlock()
	if err != nil && s.onErr != nil {
		s.onErr(err)
	}
	return stored, nil
}

func (s checkpointing) AppendCheckpoint(ctx context.Context, c Checkpoint) (Checkpoint, error) {
	return s.c.store.AppendCheckpoint(ctx, c)
}

func (s checkpointing) LatestCheckpoint(ctx context.Context) (Checkpoint, error) {
	return s.c.store.LatestCheckpoint(ctx)
}

func (s checkpointing) EachCheckpoint(ctx context.Context, fn func(Checkpoint) error) error {
	return s.c.store.EachCheckpoint(ctx, fn)
}
