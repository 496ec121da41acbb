package audit

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"
)

// KindRewritten is the problem of a chain that is valid in itself but no longer holds an anchor:
// someone rebuilt it (recomputing hashes) from that record or an earlier one.
const KindRewritten = "rewritten"

// Anchor is a record's ID and hash, written down outside the database so that a later
// verification can prove the chain still holds it: the one defence against the newest records
// being cut off, or the chain being rebuilt with fresh hashes.
type Anchor struct {
	ID   int64
	Hash string
}

// String is the anchor as `vulscan audit verify` prints it and --anchor takes it: ID:HASH.
func (a Anchor) String() string { return fmt.Sprintf("%d:%s", a.ID, a.Hash) }

// Anchor is the head of a good chain; the zero Anchor for an empty or bad one.
func (r Report) Anchor() Anchor {
	if !r.OK() || r.Records == 0 {
		return Anchor{}
	}
	return Anchor{ID: r.Records, Hash: r.HeadHash}
}

var anchorPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([1-9][0-9]{0,18}):([0-9a-f]{64})$`) })

// ParseAnchor reads ID:HASH, as Anchor.String writes it.
func ParseAnchor(s string) (Anchor, error) {
	m := anchorPattern().FindStringSubmatch(s)
	if m == nil {
		return Anchor{}, fmt.Errorf("anchor %q: want ID:HASH, a record ID and its 64 hex digit hash, as `vulscan audit verify` prints it", s)
	}
	id, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return Anchor{}, fmt.Errorf("anchor %q: %w", s, err)
	}
	return Anchor{ID: id, Hash: m[2]}, nil
}

// CheckAnchor reports whether a chain that VerifyChain found good (rep) still holds a: nil when
// it does, else the problem (the anchored record is gone, or holds another hash). get reads a
// record by ID, as Store.Get does.
func CheckAnchor(ctx context.Context, get func(context.Context, int64) (Record, error), rep Report, a Anchor) (*Problem, error) {
	if !rep.OK() {
		return rep.Problem, nil
	}
	if a.ID > rep.Records {
		return &Problem{RecordID: a.ID, Kind: KindMissing, Detail: fmt.Sprintf(
			"the anchor names record %d but the chain ends at record %d: the newest records were deleted", a.ID, rep.Records)}, nil
	}
	rec, err := get(ctx, a.ID)
	if errors.Is(err, ErrNotFound) {
		return &Problem{RecordID: a.ID, Kind: KindMissing, Detail: "the anchored record is gone"}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: check anchor: %w", err)
	}
	if rec.Hash != a.Hash {
		return &Problem{RecordID: a.ID, Kind: KindRewritten, Detail: fmt.Sprintf(
			"its hash is %s but the anchor says %s: the chain was rebuilt from this record or an earlier one", rec.Hash, a.Hash)}, nil
	}
	return nil, nil
}
