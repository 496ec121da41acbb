package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// TestVerifyNamesTheTamperedRecord edits the table with raw SQL, as someone holding the database
// file or a database login would (after dropping the append-only triggers), and expects Verify to
// name the first bad record and what was done to it.
func TestVerifyNamesTheTamperedRecord(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, h *harness, recs []audit.Record)
		id     int64
		kind   string
		detail string
	}{
		{
			name: "a field edited",
			tamper: func(t *testing.T, h *harness, _ []audit.Record) {
				h.exec(t, `UPDATE audit_log SET actor = 'mallory' WHERE id = 3`)
			},
			id: 3, kind: audit.KindEdited, detail: "does not match its hash",
		},
		{
			name: "params edited",
			tamper: func(t *testing.T, h *harness, _ []audit.Record) {
				h.exec(t, `UPDATE audit_log SET params = '{"LocalImageScanType":"NOT_SCAN"}' WHERE id = 5`)
			},
			id: 5, kind: audit.KindEdited,
		},
		{
			name: "time edited",
			tamper: func(t *testing.T, h *harness, _ []audit.Record) {
				h.exec(t, `UPDATE audit_log SET time_ns = time_ns + 1 WHERE id = 2`)
			},
			id: 2, kind: audit.KindEdited,
		},
		{
			name: "prev_hash edited",
			tamper: func(t *testing.T, h *harness, recs []audit.Record) {
				h.exec(t, `UPDATE audit_log SET prev_hash = ? WHERE id = 4`, recs[1].Hash)
			},
			id: 4, kind: audit.KindEdited,
		},
		{
			name: "a middle record deleted",
			tamper: func(t *testing.T, h *harness, _ []audit.Record) {
				h.exec(t, `DELETE FROM audit_log WHERE id = 3`)
			},
			id: 3, kind: audit.KindMissing, detail: "record 4 follows record 2",
		},
		{
			name: "the first record deleted",
			tamper: func(t *testing.T, h *harness, _ []audit.Record) {
				h.exec(t, `DELETE FROM audit_log WHERE id = 1`)
			},
			id: 1, kind: audit.KindMissing, detail: "the chain starts at record 2",
		},
		{
			name: "a record deleted and the later ones renumbered",
			tamper: func(t *testing.T, h *harness, _ []audit.Record) {
				h.exec(t, `DELETE FROM audit_log WHERE id = 3`)
				for id := 4; id <= 6; id++ {
					h.exec(t, `UPDATE audit_log SET id = ? WHERE id = ?`, id-1, id)
				}
			},
			id: 3, kind: audit.KindMissing, detail: "renumbered",
		},
		{
			name: "two neighbours swapped by exchanging IDs",
			tamper: func(t *testing.T, h *harness, _ []audit.Record) {
				swapIDs(t, h, 3, 4)
			},
			id: 3, kind: audit.KindOutOfOrder, detail: "ID 3 holds the content written as record 4",
		},
		{
			name: "two distant records swapped by exchanging contents",
			tamper: func(t *testing.T, h *harness, _ []audit.Record) {
				swapIDs(t, h, 2, 5) // the same rows as exchanging every other column
			},
			id: 2, kind: audit.KindOutOfOrder, detail: "written as record 5",
		},
		{
			name: "a copy of a record inserted with a fresh ID",
			tamper: func(t *testing.T, h *harness, recs []audit.Record) {
				dup := recs[1]
				dup.ID = 7
				h.insertRaw(t, dup)
			},
			id: 7, kind: audit.KindInserted, detail: "copy of record 2",
		},
		{
			name: "a copy of a record inserted with ID 0",
			tamper: func(t *testing.T, h *harness, recs []audit.Record) {
				dup := recs[1]
				dup.ID = 0
				h.insertRaw(t, dup)
			},
			id: 0, kind: audit.KindInserted, detail: "an ID below 1",
		},
		{
			name: "a forged record inserted with a negative ID",
			tamper: func(t *testing.T, h *harness, recs []audit.Record) {
				forged := recs[5]
				forged.ID, forged.Actor, forged.PrevHash = -7, "mallory", ""
				forged.Hash = forged.ComputeHash()
				h.insertRaw(t, forged)
			},
			id: -7, kind: audit.KindInserted, detail: "an ID below 1",
		},
		{
			name: "a forged record appended with its own valid hash",
			tamper: func(t *testing.T, h *harness, recs []audit.Record) {
				forged := recs[5]
				forged.ID, forged.Actor, forged.PrevHash = 7, "mallory", strings.Repeat("0", 64)
				forged.Hash = forged.ComputeHash()
				h.insertRaw(t, forged)
			},
			id: 7, kind: audit.KindInserted, detail: "prev_hash matches no record",
		},
		{
			name: "a forged record chained in the middle and the rest renumbered",
			tamper: func(t *testing.T, h *harness, recs []audit.Record) {
				for id := 6; id >= 3; id-- {
					h.exec(t, `UPDATE audit_log SET id = ? WHERE id = ?`, id+1, id)
				}
				forged := recs[1]
				forged.ID, forged.Actor, forged.PrevHash = 3, "mallory", recs[1].Hash
				forged.Hash = forged.ComputeHash()
				h.insertRaw(t, forged)
			},
			id: 3, kind: audit.KindInserted, detail: "record 3 was inserted: ID 4 holds the content written as record 3",
		},
		{
			name: "a record re-hashed after an edit",
			tamper: func(t *testing.T, h *harness, recs []audit.Record) {
				edited := recs[2]
				edited.Actor = "mallory"
				h.exec(t, `UPDATE audit_log SET actor = ?, hash = ? WHERE id = 3`, "mallory", edited.ComputeHash())
			},
			id: 4, kind: audit.KindInserted, detail: "record before it was replaced and re-hashed",
		},
		{
			name: "a record moved back in time and re-hashed",
			tamper: func(t *testing.T, h *harness, recs []audit.Record) {
				last := recs[5]
				last.Time = recs[3].Time.Add(-time.Second)
				h.exec(t, `UPDATE audit_log SET time_ns = ?, hash = ? WHERE id = 6`, last.Time.UnixNano(), last.ComputeHash())
			},
			id: 6, kind: audit.KindOutOfOrder, detail: "is before record 5's",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, h *harness) {
				recs := seed(t, h.store)
				h.dropGuards(t)
				c.tamper(t, h, recs)
				rep, err := h.store.Verify(context.Background())
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				t.Log(rep)
				if rep.OK() || rep.Problem.RecordID != c.id || rep.Problem.Kind != c.kind || !strings.Contains(rep.Problem.Detail, c.detail) {
					t.Fatalf("Verify = %q, want record %d %s (…%s…)", rep, c.id, c.kind, c.detail)
				}
				if want := fmt.Sprintf("record %d %s: ", c.id, c.kind); !strings.HasPrefix(rep.String(), want) {
					t.Errorf("Report.String() = %q, want it to start %q", rep, want)
				}
			})
		})
	}
}

// TestVerifyCannotSeeTruncationWithoutAnAnchor pins down the documented limit: deleting the newest
// records leaves a valid, shorter chain, and only the head hash an operator kept elsewhere tells.
func TestVerifyCannotSeeTruncationWithoutAnAnchor(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		recs := seed(t, h.store)
		h.dropGuards(t)
		h.exec(t, `DELETE FROM audit_log WHERE id = 6`)
		rep, err := h.store.Verify(context.Background())
		if err != nil || !rep.OK() || rep.Records != 5 {
			t.Fatalf("Verify = %v, %v; want ok: 5 records", rep, err)
		}
		if rep.HeadHash == recs[5].Hash || rep.HeadHash != recs[4].Hash {
			t.Errorf("HeadHash = %s, want record 5's %s (the anchor %s no longer matches)", rep.HeadHash, recs[4].Hash, recs[5].Hash)
		}
	})
}

// seed appends six records that differ in actor and time.
func seed(t *testing.T, s *Store) []audit.Record {
	t.Helper()
	var recs []audit.Record
	for i := range 6 {
		r := rec(i)
		r.Actor = fmt.Sprintf("user-%d", i+1)
		recs = append(recs, mustAppend(t, s, r))
	}
	if rep, err := s.Verify(context.Background()); err != nil || !rep.OK() || rep.Records != 6 {
		t.Fatalf("seeded chain: Verify = %v, %v", rep, err)
	}
	return recs
}

func swapIDs(t *testing.T, h *harness, a, b int64) {
	t.Helper()
	h.exec(t, `UPDATE audit_log SET id = -1 WHERE id = ?`, a)
	h.exec(t, `UPDATE audit_log SET id = ? WHERE id = ?`, a, b)
	h.exec(t, `UPDATE audit_log SET id = ? WHERE id = -1`, b)
}
