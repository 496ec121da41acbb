package audit

import (
	"context"
	"errors"
	"fmt"
)

// What the chain can and cannot show.
//
// Each record's Hash covers all its fields and the Hash of the record before it, and IDs run
// 1, 2, 3, … without gaps. So VerifyChain finds, and names, the first record where someone
// edited a row (its content no longer matches its hash), deleted one (a gap, or a link to a
// record that is gone), inserted one (a row that does not link to the one before it, or rows
// renumbered to make room), or reordered rows (content sitting at another ID than the one it was
// written with, or time going backwards).
//
// It cannot find, on its own:
//   - truncation of the newest records: deleting the last k rows leaves a shorter chain that is
//     valid;
//   - a rewrite by someone who can write the database and recompute hashes: the chain has no
//     secret, so a tail rebuilt from any record onwards is valid again.
//
// Both are caught by an anchor kept outside the database: write down Report.Records and
// Report.HeadHash now and then (a ticket, a log shipped elsewhere, a signed message); a later
// chain must still hold a record with that ID and that hash. The chain also shows only what was
// written: an attempt the application never recorded is not in it.

// Problem kinds, as Verify reports them.
const (
	KindEdited     = "edited"       // a record's content does not match its hash
	KindMissing    = "missing"      // a record was deleted
	KindInserted   = "inserted"     // a record that was not written by the application, or a copy
	KindOutOfOrder = "out of order" // records moved, swapped, or time going backwards
)

// Problem is the first bad record Verify found and what is wrong with it.
type Problem struct {
	RecordID int64  // the first bad record
	Kind     string // one of the Kind* constants
	Detail   string // plain words, naming the records involved
}

func (p Problem) String() string {
	return fmt.Sprintf("record %d %s: %s", p.RecordID, p.Kind, p.Detail)
}

// Report is the result of walking the chain.
type Report struct {
	Records  int64    // records found good, from ID 1 on
	Emulated int64    // how many of them were made against a TCSS emulator (Record.Emulated)
	HeadHash string   // Hash of the last good record: an anchor to keep outside the database
	Problem  *Problem // the first bad record; nil when the whole chain is good
}

// OK reports whether the whole chain is good.
func (r Report) OK() bool { return r.Problem == nil }

// String is "ok: N records", or the problem.
func (r Report) String() string {
	if r.Problem == nil {
		return fmt.Sprintf("ok: %d records", r.Records)
	}
	return r.Problem.String()
}

// ChainSource is what VerifyChain reads: a store's raw rows.
type ChainSource interface {
	// Walk calls fn with every record whose ID is above afterID (every record, those with IDs
	// below 1 included, when afterID is 0), in ascending ID order, stopping at fn's first error
	// and returning it.
	Walk(ctx context.Context, afterID int64, fn func(Record) error) error
	// ByHash returns the record with the lowest ID whose stored Hash is h, or an error wrapping
	// ErrNotFound. Only used to explain a problem once one is found.
	ByHash(ctx context.Context, h string) (Record, error)
}

// errStop ends a walk at the first problem.
var errStop = errors.New("stop")

// VerifyChain walks src and returns the first bad record and what is wrong with it. The error is
// for failures to read the chain, not for a bad chain.
//
// Reading rows and hashing them each take about as long, so they run side by side: the walk hands
// records over in batches to a second goroutine, which checks them in order.
func VerifyChain(ctx context.Context, src ChainSource) (Report, error) {
	return VerifyChainFrom(ctx, src, Report{})
}

// VerifyChainFrom continues a verification that found the first from.Records records good: it
// checks that record from.Records still holds from.HeadHash (else the chain was cut back or
// rewritten since), then the records after it, and returns the report of the whole chain. A
// report with a problem is returned as it is: a chain once found bad stays bad. Verification
// thus costs what was appended since, not the size of the log.
func VerifyChainFrom(ctx context.Context, src ChainSource, from Report) (Report, error) {
	if from.Problem != nil {
		return from, nil
	}
	w := walker{src: src, want: 1}
	after := int64(0)
	if from.Records > 0 {
		w = walker{src: src, want: from.Records, report: from, resume: true}
		after = from.Records - 1 // the walk starts with the verified head, to re-check it
	}
	var err error
	if links, ok := src.(LinkSource); ok {
		err = verifyLinks(ctx, links, &w, after)
	} else {
		err = verifyRecords(ctx, src, &w, after)
	}
	switch {
	case w.report.Problem != nil:
		return w.report, nil // the walk was stopped on purpose
	case errors.Is(err, errStop):
		// Stopped without a problem: the caller's context ended.
		return Report{}, fmt.Errorf("audit: verify: %w", context.Cause(ctx))
	case err != nil:
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	case w.resume:
		// The walk never reached the verified head: it is gone.
		return Report{Records: from.Records - 1, Problem: &Problem{from.Records, KindMissing, fmt.Sprintf(
			"record %d, verified before, is gone: the newest records were cut off", from.Records)}}, nil
	}
	return w.report, nil
}

// verifyRecords is VerifyChainFrom over a plain ChainSource: the walk hands records over in
// batches to a second goroutine, which checks them in order.
func verifyRecords(ctx context.Context, src ChainSource, w *walker, after int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []Record, 4)
	done := make(chan error, 1)
	go func() {
		done <- w.checkAll(ctx, batches)
		cancel() // a problem, or a failed check, ends the walk
	}()
	batch := make([]Record, 0, verifyBatch)
	err := src.Walk(ctx, after, func(r Record) error {
		batch = append(batch, r)
		if len(batch) < verifyBatch {
			return nil
		}
		select {
		case batches <- batch:
		case <-ctx.Done():
			return errStop
		}
		batch = make([]Record, 0, verifyBatch)
		return nil
	})
	if err == nil && len(batch) > 0 {
		select {
		case batches <- batch:
		case <-ctx.Done():
		}
	}
	close(batches)
	if checkErr := <-done; checkErr != nil {
		return checkErr
	}
	return err
}

// verifyBatch is how many records the walk hands over at a time.
const verifyBatch = 512

// checkAll checks the batches in order until they end or a problem is found (then it drains the
// channel so that the walk is never blocked).
func (w *walker) checkAll(ctx context.Context, batches <-chan []Record) error {
	defer func() {
		for range batches {
		}
	}()
	for batch := range batches {
		for _, r := range batch {
			if p, err := w.next(ctx, r); err != nil || p != nil {
				w.report.Problem = p
				return err
			}
		}
	}
	return nil
}

// next checks r, the next record of the walk, and makes it the last good record; it returns the
// problem with r instead, if any.
func (w *walker) next(ctx context.Context, r Record) (*Problem, error) {
	if w.resume {
		return w.checkHead(r), nil
	}
	p, err := w.check(ctx, r)
	if err != nil || p != nil {
		return p, err
	}
	w.prev, w.report.Records, w.report.HeadHash = r, w.report.Records+1, r.Hash
	if r.Emulated() {
		w.report.Emulated++
	}
	w.want++
	return nil, nil
}

type walker struct {
	// resume: the next record is the head of an earlier verification, to be found unchanged.
	resume bool
	src    ChainSource
	want   int64  // the ID the next record must have
	prev   Record // the last good record (zero before the first)
	report Report
}

// checkHead checks that r is still the verified head of the earlier report, and makes it the last
// good record of the walk.
func (w *walker) checkHead(r Record) *Problem {
	w.resume = false
	switch {
	case r.ID != w.want:
		return &Problem{w.want, KindMissing, fmt.Sprintf("record %d, verified before, is gone", w.want)}
	case r.Hash != w.report.HeadHash || !r.HashValid():
		return &Problem{r.ID, KindEdited, fmt.Sprintf(
			"it changed since it was verified (hash then %.12s…, now %.12s…): the chain was rewritten from here or earlier",
			w.report.HeadHash, r.Hash)}
	}
	w.prev = r
	w.want++
	return nil
}

// check returns the problem with r, the next record of the walk, or nil.
func (w *walker) check(ctx context.Context, r Record) (*Problem, error) {
	switch {
	case r.ID < w.want:
		return &Problem{r.ID, KindInserted, fmt.Sprintf("a second record with ID %d, or an ID below 1", r.ID)}, nil
	case r.ID > w.want:
		return &Problem{w.want, KindMissing, fmt.Sprintf("record %d is gone: %s", w.want, w.after(r.ID))}, nil
	case !r.HashValid():
		return w.explainMismatch(ctx, r)
	case r.PrevHash != w.prev.Hash:
		return w.explainBrokenLink(ctx, r)
	case r.Time.Before(w.prev.Time):
		return &Problem{r.ID, KindOutOfOrder, fmt.Sprintf("its time %s is before record %d's %s",
			r.Time.Format(timeLayout), w.prev.ID, w.prev.Time.Format(timeLayout))}, nil
	}
	return nil, nil
}

const timeLayout = "2006-01-02T15:04:05.999999999Z07:00"

func (w *walker) after(id int64) string {
	if w.want == 1 {
		return fmt.Sprintf("the chain starts at record %d", id)
	}
	return fmt.Sprintf("record %d follows record %d", id, w.want-1)
}

// explainMismatch tells an edited record from intact content that sits at another ID than the one
// it was written with (rows swapped, moved, renumbered or copied).
func (w *walker) explainMismatch(ctx context.Context, r Record) (*Problem, error) {
	s := r.ID
	o, predecessorGone, err := w.originalID(ctx, r)
	if err != nil {
		return nil, err
	}
	switch {
	case o == 0:
		return &Problem{s, KindEdited, fmt.Sprintf("its content does not match its hash (stored %.12s…, computed %.12s…)",
			r.Hash, r.ComputeHash())}, nil
	case o > s && predecessorGone:
		return &Problem{s, KindMissing, fmt.Sprintf("record %d was deleted and later records renumbered: ID %d holds record %d's content", s, s, o)}, nil
	case o > s:
		return &Problem{s, KindOutOfOrder, fmt.Sprintf("ID %d holds the content written as record %d (rows swapped or moved)", s, o)}, nil
	}
	// o < s: the content was written as an earlier record. Either it is a copy of a record that is
	// still there, or records were inserted before it and it was renumbered to make room.
	first, err := w.src.ByHash(ctx, r.Hash)
	switch {
	case err == nil && first.ID != s:
		return &Problem{s, KindInserted, fmt.Sprintf("it is a copy of record %d", first.ID)}, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return nil, err
	}
	inserted := fmt.Sprintf("records %d to %d were inserted", o, s-1)
	if o == s-1 {
		inserted = fmt.Sprintf("record %d was inserted", o)
	}
	return &Problem{o, KindInserted, fmt.Sprintf("%s: ID %d holds the content written as record %d", inserted, s, o)}, nil
}

// originalID returns the ID r was written with, if its content is intact and that ID is one of the
// likely ones (a neighbour, or the one after the record its PrevHash names), else 0. It also
// reports whether the record r was chained to is gone from the store.
func (w *walker) originalID(ctx context.Context, r Record) (id int64, predecessorGone bool, err error) {
	candidates := []int64{r.ID - 1, r.ID + 1}
	if r.PrevHash == "" {
		candidates = append(candidates, 1)
	} else {
		before, err := w.src.ByHash(ctx, r.PrevHash)
		switch {
		case err == nil:
			candidates = append(candidates, before.ID+1)
		case errors.Is(err, ErrNotFound):
			predecessorGone = true
		default:
			return 0, false, err
		}
	}
	for _, c := range candidates {
		if c < 1 || c == r.ID {
			continue
		}
		moved := r
		moved.ID = c
		if moved.HashValid() {
			return c, predecessorGone, nil
		}
	}
	return 0, predecessorGone, nil
}

// explainBrokenLink handles a record whose own hash is right but which does not link to the record
// before it.
func (w *walker) explainBrokenLink(ctx context.Context, r Record) (*Problem, error) {
	prev := fmt.Sprintf("record %d", w.prev.ID)
	if w.prev.ID == 0 {
		prev = "nothing (it is the first record)"
	}
	if r.PrevHash != "" {
		linked, err := w.src.ByHash(ctx, r.PrevHash)
		switch {
		case err == nil:
			return &Problem{r.ID, KindOutOfOrder, fmt.Sprintf("it was written after record %d but follows %s", linked.ID, prev)}, nil
		case !errors.Is(err, ErrNotFound):
			return nil, err
		}
	}
	return &Problem{r.ID, KindInserted, fmt.Sprintf(
		"its prev_hash matches no record, so it does not follow %s: it was inserted, or the record before it was replaced and re-hashed", prev)}, nil
}
