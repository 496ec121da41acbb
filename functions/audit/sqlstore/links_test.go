package sqlstore

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
)

// hostileRecords are records whose values a link's encoding could get wrong: multi-byte text
// (lengths are bytes, not characters), the encoding's own separators, empty values, integers of
// every size SQLite stores (1 to 8 bytes, and the constants 0 and 1), negative ones, a time before
// 1970, a record too large for one SQLite page, and endpoints that are and are not an emulator's.
func hostileRecords(sqlite bool) []audit.Record {
	base := audit.Record{Trigger: audit.TriggerAPI, Outcome: audit.OutcomeRejected, Params: json.RawMessage(`null`)}
	at := time.Date(1701, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []audit.Record
	add := func(edit func(r *audit.Record)) {
		r := base
		at = at.Add(time.Hour)
		r.Time = at
		edit(&r)
		recs = append(recs, r)
	}
	add(func(r *audit.Record) {}) // every text empty, every integer 0
	add(func(r *audit.Record) {
		r.Actor, r.UserAgent, r.SourceIP = "名前 ünïcödé 🙂", "line one\nline two\r\n", "2001:db8::1"
		r.ErrorMessage, r.ErrorCode = "a:b:\n:c", ":"
		r.Params = json.RawMessage(`{"big":123456789012345678901234567890,"neg":-5,"s":"ü\n:é","x":[1e400,-0.0]}`)
		r.Endpoint, r.Credential, r.Access = audit.EmulatorPrefix+"127.0.0.1:1", "scf-role:AKID🙂", "apikey"
	})
	add(func(r *audit.Record) { r.Endpoint = "Emulator:not-one" })
	add(func(r *audit.Record) {
		r.LocalTaskID, r.RegistryTaskID, r.RelatedID = math.MaxInt64, math.MinInt64, -1
	})
	for _, v := range []int64{1, 127, -128, 128, 32767, 1 << 23, -(1 << 23), 1 << 31, 1 << 40, 1 << 47, 1 << 48, -(1 << 62)} {
		add(func(r *audit.Record) { r.RelatedID, r.LocalTaskID = v, -v })
	}
	add(func(r *audit.Record) { r.ErrorMessage = strings.Repeat("long reason ünï ", 800) }) // overflows a 4 KiB page
	add(func(r *audit.Record) { r.Time = time.Date(2199, 12, 31, 23, 59, 59, 999999999, time.UTC) })
	if sqlite { // PostgreSQL text cannot hold a NUL byte
		add(func(r *audit.Record) { r.Actor, r.ErrorMessage = "nul\x00byte", "\x00" })
	}
	return recs
}

// Every link the store hands over holds the record's place in the chain and, when it holds an
// encoding, exactly the one audit.Record.EncodeV2 gives for the record a full read returns: on
// SQLite as decoded from the table's pages, on PostgreSQL from whole records. Only a record the
// page walk cannot decode plainly (here the one too large for its page) comes without one.
func TestLinkEncodingMatchesGo(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		sqlite := h.d.name == sqliteName
		var stored []audit.Record
		for i, r := range hostileRecords(sqlite) {
			if i > 0 {
				stored = append(stored, mustAppend(t, h.store, r))
				continue
			}
			// Append and Import move a first record's time up to 1970 (the empty log's head);
			// a raw insert keeps it, so that a negative time_ns is among the values.
			r.ID = 1
			r.Hash = r.ComputeHash()
			h.insertRaw(t, r)
			stored = append(stored, r)
		}
		if stored[0].Time.UnixNano() >= 0 {
			t.Fatalf("the first record's time_ns is %d, want one before 1970", stored[0].Time.UnixNano())
		}
		var links []audit.Link
		collect := func(l *audit.Link) error {
			c := *l
			c.PrevHash, c.Hash, c.Encoding = bytes.Clone(l.PrevHash), bytes.Clone(l.Hash), bytes.Clone(l.Encoding)
			links = append(links, c)
			return nil
		}
		c := chain{h.store}
		var err error
		if sqlite {
			err = c.walkPages(ctx, 0, collect) // the page walk itself, not its fallback
		} else {
			err = c.WalkLinks(ctx, 0, collect)
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(links) != len(stored) {
			t.Fatalf("%d links for %d records", len(links), len(stored))
		}
		withoutEncoding := 0
		for i, l := range links {
			r, err := h.store.Get(ctx, stored[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			if l.ID != r.ID {
				t.Fatalf("link %d has ID %d, want %d", i, l.ID, r.ID)
			}
			if l.Encoding == nil {
				withoutEncoding++
				if len(r.ErrorMessage) < 4096 {
					t.Errorf("record %d: no encoding, though it fits a page", r.ID)
				}
				continue
			}
			if want := r.EncodeV2(nil); !bytes.Equal(l.Encoding, want) {
				t.Errorf("record %d: encoding\n%q\nwant\n%q", r.ID, l.Encoding, want)
			}
			if l.TimeNs != r.Time.UnixNano() || string(l.Hash) != r.Hash || string(l.PrevHash) != r.PrevHash || l.Emulated != r.Emulated() {
				t.Errorf("record %d: link %+v does not match the record", r.ID, l)
			}
		}
		if sqlite && withoutEncoding != 1 {
			t.Errorf("%d links without an encoding, want 1 (the record larger than a page)", withoutEncoding)
		}
		if !sqlite && withoutEncoding != 0 {
			t.Errorf("%d links without an encoding, want 0", withoutEncoding)
		}
		rep, err := h.store.Verify(ctx)
		if err != nil || !rep.OK() || rep.Records != int64(len(stored)) || rep.Emulated != 1 || rep.HeadHash != stored[len(stored)-1].Hash {
			t.Fatalf("Verify = %+v, %v; want all %d records good, 1 emulated", rep, err, len(stored))
		}
	})
}

// A value stored with another type than the application writes (text as a blob) reads the same
// through SQL; the page walk leaves such a record to the full read, which finds it intact, as
// VerifyChain always did.
func TestPageWalkLeavesUnusualValuesToSQL(t *testing.T) {
	h := newSQLite(t)
	ctx := context.Background()
	for i := range 5 {
		mustAppend(t, h.store, rec(i))
	}
	h.dropGuards(t)
	h.exec(t, `UPDATE audit_log SET actor = CAST(actor AS BLOB) WHERE id = 3`)
	var encoded []bool
	if err := (chain{h.store}).walkPages(ctx, 0, func(l *audit.Link) error {
		encoded = append(encoded, l.Encoding != nil)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, true, false, true, true}; !slices.Equal(encoded, want) {
		t.Fatalf("links with an encoding: %v, want %v", encoded, want)
	}
	rep, err := h.store.Verify(ctx)
	if err != nil || !rep.OK() || rep.Records != 5 {
		t.Fatalf("Verify = %v, %v; want 5 good records", rep, err)
	}
	// And an edit stored that way is still found.
	h.exec(t, `UPDATE audit_log SET actor = CAST('mallory' AS BLOB) WHERE id = 4`)
	rep, err = h.store.Verify(ctx)
	if err != nil || rep.Problem == nil || rep.Problem.RecordID != 4 || rep.Problem.Kind != audit.KindEdited {
		t.Fatalf("Verify = %v, %v; want record 4 edited", rep, err)
	}
}

// Across the many jobs of a longer walk, links still arrive in order and an edit deep in the log
// is named as exactly as in a short one.
func TestPageWalkFindsAnEditDeepInTheLog(t *testing.T) {
	h := newSQLite(t)
	ctx := context.Background()
	sqlstoretest.Fill(t, h.store, 5000)
	rep, err := h.store.Verify(ctx)
	if err != nil || !rep.OK() || rep.Records != 5000 {
		t.Fatalf("Verify = %v, %v; want 5000 good records", rep, err)
	}
	var ids []int64
	if err := (chain{h.store}).walkPages(ctx, 4321, func(l *audit.Link) error {
		ids = append(ids, l.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 5000-4321 || ids[0] != 4322 || ids[len(ids)-1] != 5000 {
		t.Fatalf("walk after 4321: %d links from %d to %d", len(ids), ids[0], ids[len(ids)-1])
	}
	h.dropGuards(t)
	h.exec(t, `UPDATE audit_log SET actor = 'mallory' WHERE id = 4321`)
	rep, err = h.store.Verify(ctx)
	if err != nil || rep.Problem == nil || rep.Problem.RecordID != 4321 || rep.Problem.Kind != audit.KindEdited || rep.Records != 4320 {
		t.Fatalf("Verify = %+v, %v; want record 4321 edited after 4320 good", rep, err)
	}
}

// A problem early in a long log ends the walk at once: the checker stops freeing batches there,
// and the walk, which may be waiting for one, must not wait for ever (it did once more than
// 2×GOMAXPROCS+1 batches followed the problem).
func TestVerifyStopsAtAnEarlyEditInALongLog(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	h := newSQLite(t)
	sqlstoretest.Fill(t, h.store, 5000)
	h.dropGuards(t)
	h.exec(t, `UPDATE audit_log SET actor = 'mallory' WHERE id = 10`)
	// The deadline only turns a hang into a failure; it times nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := h.store.Verify(ctx)
	if ctx.Err() != nil {
		t.Fatal("Verify returned only when its context ended: the walk was left waiting for a batch")
	}
	if err != nil || rep.Problem == nil || rep.Problem.RecordID != 10 || rep.Problem.Kind != audit.KindEdited || rep.Records != 9 {
		t.Fatalf("Verify = %+v, %v; want record 10 edited after 9 good", rep, err)
	}
}

// The page walk reads one snapshot: appends committed while it runs (into the WAL, moving the
// table's right-hand pages) neither break it nor show in it half-way.
func TestPageWalkReadsOneSnapshotWhileAppendsRun(t *testing.T) {
	h := newSQLite(t)
	ctx := context.Background()
	sqlstoretest.Fill(t, h.store, 3000)
	stop := make(chan struct{})
	appended := make(chan error, 1)
	go func() {
		var err error
		for i := 0; err == nil; i++ {
			select {
			case <-stop:
				appended <- nil
				return
			default:
			}
			_, err = h.store.Append(ctx, rec(i))
		}
		appended <- err
	}()
	for range 5 {
		rep, err := h.store.Verify(ctx)
		if err != nil || !rep.OK() || rep.Records < 3000 {
			close(stop)
			t.Fatalf("Verify while appending = %v, %v; want a good chain of at least 3000 records", rep, err)
		}
	}
	close(stop)
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	rep, err := h.store.Verify(ctx)
	if err != nil || !rep.OK() || rep.Records <= 3000 {
		t.Fatalf("Verify after the appends = %v, %v; want a good chain longer than 3000 records", rep, err)
	}
}
