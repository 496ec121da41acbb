package sqlstore

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

func testKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	signing, _, err := audit.GenerateKeys(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := audit.ParseSigningKey(signing)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// Signed checkpoints name what the chain alone cannot show: its newest records cut off, or the
// chain rebuilt with fresh hashes; and a checkpoint that is forged or unsigned.
func TestCheckpointsNameTruncationRewriteAndForgery(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, h *harness, key ed25519.PrivateKey)
		want   []string // findings, in order; none = all good
		after  int64
	}{
		{"untouched", func(*testing.T, *harness, ed25519.PrivateKey) {}, nil, 2},
		{"the newest records cut off", func(t *testing.T, h *harness, _ ed25519.PrivateKey) {
			h.dropGuards(t)
			h.exec(t, `DELETE FROM audit_log WHERE id >= 10`)
		}, []string{"checkpoint 4 truncated: it covers records up to 10"}, 0},
		{"the chain rebuilt from record 6", func(t *testing.T, h *harness, _ ed25519.PrivateKey) {
			h.dropGuards(t)
			rebuildFrom(t, h, 6)
		}, []string{"checkpoint 3 rewritten: record 7's hash", "checkpoint 4 rewritten: record 10's hash"}, 2},
		{"a checkpoint's head changed", func(t *testing.T, h *harness, _ ed25519.PrivateKey) {
			h.exec(t, `DROP TRIGGER `+checkpointUpdateGuard(h))
			h.exec(t, `UPDATE audit_checkpoints SET head_id = 12, records = 12 WHERE seq = 4`)
		}, []string{"checkpoint 4 forged: its signature does not match"}, 5},
		{"a checkpoint signed with another key under this key's ID", func(t *testing.T, h *harness, key ed25519.PrivateKey) {
			forged := audit.Checkpoint{Records: 12, HeadID: 12, HeadHash: "x", Time: time.Now()}.Sign(testKey(t))
			forged.KeyID = audit.KeyID(key.Public().(ed25519.PublicKey))
			insertCheckpoint(t, h, forged)
		}, []string{"checkpoint 5 forged"}, 2},
		{"an unsigned checkpoint", func(t *testing.T, h *harness, _ ed25519.PrivateKey) {
			insertCheckpoint(t, h, audit.Checkpoint{Records: 12, HeadID: 12, HeadHash: "x", Time: time.Now()})
		}, []string{"checkpoint 5 unsigned"}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, h *harness) {
				ctx := context.Background()
				key := testKey(t)
				cp := audit.NewCheckpointer(h.store, key, audit.CheckpointPolicy{Every: 3}, nil)
				store := cp.Wrap(func(err error) { t.Errorf("checkpoint: %v", err) })
				for i := range 12 {
					if _, err := store.Append(ctx, rec(i)); err != nil {
						t.Fatal(err)
					}
				}
				// Checkpoints at records 1, 4, 7 and 10: every third record, and one at the first.
				c.tamper(t, h, key)
				rep, err := h.store.Verify(ctx)
				if err != nil {
					t.Fatal(err)
				}
				got, err := audit.CheckCheckpoints(ctx, h.store, h.store.Get, rep, key.Public().(ed25519.PublicKey))
				if err != nil {
					t.Fatal(err)
				}
				if len(got.Findings) != len(c.want) {
					t.Fatalf("findings %v, want %d: %q", got.Findings, len(c.want), c.want)
				}
				for i, f := range got.Findings {
					if !strings.HasPrefix(f.String(), c.want[i]) {
						t.Errorf("finding %d = %q, want %q…", i, f, c.want[i])
					}
				}
				if got.After != c.after {
					t.Errorf("records after the newest checkpoint = %d, want %d", got.After, c.after)
				}
			})
		})
	}
}

func checkpointUpdateGuard(h *harness) string {
	if h.d.name == "sqlite" {
		return `audit_checkpoints_no_update`
	}
	return `audit_checkpoints_no_change ON audit_checkpoints`
}

func insertCheckpoint(t *testing.T, h *harness, c audit.Checkpoint) {
	t.Helper()
	h.exec(t, `INSERT INTO audit_checkpoints (`+checkpointColumns+`) VALUES ((SELECT MAX(seq) + 1 FROM audit_checkpoints), ?, ?, ?, ?, ?, ?)`,
		c.Records, c.HeadID, c.HeadHash, c.Time.UnixNano(), c.KeyID, c.Signature)
}

// rebuildFrom edits record id and recomputes every hash from there on, as someone with write
// access to the database and the vulscan source could: the chain alone then verifies.
func rebuildFrom(t *testing.T, h *harness, id int64) {
	t.Helper()
	ctx := context.Background()
	var recs []audit.Record
	if err := h.store.Each(ctx, audit.Filter{AfterID: id - 1}, func(r audit.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	prev, err := h.store.Get(ctx, id-1)
	if err != nil {
		t.Fatal(err)
	}
	h.exec(t, `DELETE FROM audit_log WHERE id >= ?`, id)
	for i, r := range recs {
		if i == 0 {
			r.Actor = "mallory"
		}
		r.PrevHash = prev.Hash
		r.Hash = r.ComputeHash()
		h.insertRaw(t, r)
		prev = r
	}
	if rep, err := h.store.Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("the rebuilt chain does not verify by itself: %v, %v", rep, err)
	}
}
