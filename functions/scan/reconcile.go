package scan

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// CodeNoOutcomeRecorded marks the unknown outcome reconciliation gives an attempt that stayed
// pending longer than any call can last: the process ended, or the store failed, mid-call.
const CodeNoOutcomeRecorded = audit.CodeNoOutcomeRecorded

// strandedField names the outcome record in a stranded-outcome log line.
const strandedField = "vulscan_stranded_outcome"

// WriteStranded writes rec as one JSON line that ReadStranded finds again in a platform log.
func WriteStranded(w io.Writer, rec audit.Record) error {
	// One Write of one line (Encode ends it with a newline), so that concurrent writers to a log
	// do not interleave; HTML escaping off, so that Params come back byte for byte.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{
		"level": "ERROR", "msg": "outcome not recorded in the audit log; restore it with vulscan audit reconcile --from-log",
		strandedField: rec,
	}); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// maxLogLine bounds one line of a platform log read by ReadStranded.
const maxLogLine = 1 << 20

// ReadStranded returns the outcome records WriteStranded wrote into a log, in order. A line may
// carry a prefix the platform adds (time, request ID); lines without the marker are skipped.
// It fails at the first marked line that does not decode.
func ReadStranded(r io.Reader) ([]audit.Record, error) {
	var out []audit.Record
	err := scanStranded(r, func(rec audit.Record, bad error) error {
		if bad != nil {
			return bad
		}
		out = append(out, rec)
		return nil
	})
	return out, err
}

// scanStranded calls each with every stranded outcome in a log, in order, or with why a marked
// line does not decode (another writer's output interleaved with it, a line the platform cut);
// an error from each ends the scan.
func scanStranded(r io.Reader, each func(rec audit.Record, bad error) error) error {
	marker := []byte(`"` + strandedField + `":`)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLogLine)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		i := bytes.Index(line, marker)
		if i < 0 {
			continue
		}
		var rec audit.Record
		var bad error
		if err := json.NewDecoder(bytes.NewReader(line[i+len(marker):])).Decode(&rec); err != nil {
			bad = fmt.Errorf("line %d: a stranded outcome that does not decode: %w", n, err)
		}
		if err := each(rec, bad); err != nil {
			return err
		}
	}
	return sc.Err()
}

// StalePendingFinder is the store query reconciliation needs (*sqlstore.Store has it).
type StalePendingFinder interface {
	// StalePending returns up to limit pending records written in [since, until) that have no
	// outcome record, oldest first.
	StalePending(ctx context.Context, since, until time.Time, limit int) ([]audit.Record, error)
}

// ReconcileReport says what a reconciliation did.
type ReconcileReport struct {
	Closed   []int64  // attempts closed as unknown (stale pending)
	Restored []int64  // attempts whose stranded outcome was put back
	Skipped  []string // stranded outcomes not restored, and why
	// Unreadable are the log's stranded-outcome lines that do not decode: outcomes that may be
	// missing from the audit log, for someone to restore by hand from the line.
	Unreadable []string
	// Disagreements are stranded outcomes that contradict the outcome already recorded for
	// their attempt, naming the fields that differ: the platform's log and the audit log tell
	// different stories, which someone must look into.
	Disagreements []string
}

// ReconcileStale closes every attempt still pending that was opened in [since, now-olderThan)
// with an unknown outcome ("no outcome was recorded"): no call lasts that long, so its process
// ended or its store failed mid-call. olderThan must be MaxCallDuration or more (callers check:
// `vulscan audit reconcile` refuses less), or a live call is closed under its own feet and then
// records a second, contradicting outcome. A zero since means the whole log.
//
// finder lists the stale attempts (the store itself: wrappers that add witness lines or
// checkpoints do not list); the unknown outcomes are appended through the service's log.
func (s *Service) ReconcileStale(ctx context.Context, finder StalePendingFinder, olderThan time.Duration, since time.Time) (ReconcileReport, error) {
	var rep ReconcileReport
	until := s.now().Add(-olderThan)
	for {
		batch, err := finder.StalePending(ctx, since, until, reconcileBatch)
		if err != nil {
			return rep, fmt.Errorf("reconcile: %w", err)
		}
		// The batch's closing records are appended at once, so that the store's group commit
		// writes many in one transaction: one at a time, a server's start (which waits for this
		// pass) spent a transaction, and on PostgreSQL round trips, on each of thousands.
		errs := make([]error, len(batch))
		var wg sync.WaitGroup
		for i, p := range batch {
			wg.Go(func() { _, errs[i] = s.closeStale(ctx, p, olderThan) })
		}
		wg.Wait()
		var failed error
		for i, p := range batch {
			switch err := errs[i]; {
			case errors.Is(err, audit.ErrAlreadyClosed):
			case err != nil:
				failed = cmp.Or(failed, err)
			default:
				rep.Closed = append(rep.Closed, p.ID)
			}
		}
		if failed != nil {
			return rep, fmt.Errorf("reconcile: %w", failed)
		}
		if len(batch) < reconcileBatch {
			return rep, nil
		}
	}
}

// reconcileBatch is how many stale attempts ReconcileStale reads, and closes at once, per round.
const reconcileBatch = 100

// maxLeftOpen bounds the attempts LeftOpen lists.
const maxLeftOpen = 1000

// LeftOpen is what a reconciliation left pending: attempts not yet older than its olderThan,
// which may still be in flight.
type LeftOpen struct {
	IDs      []int64   // oldest first; at most maxLeftOpen
	More     bool      // more than maxLeftOpen are pending
	Closable time.Time // when the youngest listed will have been pending olderThan
}

// LeftOpen lists the attempts opened at or after since (zero: the whole log) that are still
// pending, as they stand after ReconcileStale closed the stale ones: those it left, because
// they have been pending for less than olderThan.
func (s *Service) LeftOpen(ctx context.Context, finder StalePendingFinder, olderThan time.Duration, since time.Time) (LeftOpen, error) {
	// The store clamps the bound; pending records stamped ahead of this clock count too.
	recs, err := finder.StalePending(ctx, since, s.now().Add(100*365*24*time.Hour), maxLeftOpen+1)
	if err != nil {
		return LeftOpen{}, fmt.Errorf("reconcile: listing the attempts left open: %w", err)
	}
	var open LeftOpen
	if len(recs) > maxLeftOpen {
		recs, open.More = recs[:maxLeftOpen], true
	}
	for _, r := range recs {
		open.IDs = append(open.IDs, r.ID)
		if c := r.Time.Add(olderThan); c.After(open.Closable) {
			open.Closable = c
		}
	}
	return open, nil
}

// closeStale closes the pending attempt p, found still pending after olderThan, with an unknown
// outcome ("no outcome was recorded") and returns that record. Another instance's pass, the
// retry path, or the late outcome itself may have closed it since p was read: the store refuses
// the closing record then (an error wrapping audit.ErrAlreadyClosed), in the append's own
// transaction, which a look beforehand could not make safe.
func (s *Service) closeStale(ctx context.Context, p audit.Record, olderThan time.Duration) (audit.Record, error) {
	out := closeRecord(p, s.now().UTC(), TaskIDs{}, nil)
	out.Outcome = audit.OutcomeUnknown
	out.LocalTaskID, out.RegistryTaskID = 0, 0
	out.ErrorCode = CodeNoOutcomeRecorded
	out.ErrorMessage = fmt.Sprintf("No outcome was recorded: the process ended or the audit store failed "+
		"during the call to TCSS (found still pending after %s). A scan may or may not have started.", olderThan)
	stored, err := s.log.Append(ctx, out)
	if err != nil {
		return audit.Record{}, fmt.Errorf("closing attempt %d: %w", p.ID, err)
	}
	return stored, nil
}

// ReconcileFromLog appends the stranded outcomes found in a platform log (see WriteStranded),
// each checked against the pending record it closes: that record must exist, be pending, and
// hold the same key and request. An attempt that already has its outcome is left alone, unless
// that outcome is reconciliation's "no outcome recorded", which the real one then corrects. A
// line that does not decode is reported (Unreadable) and does not keep the others out.
func (s *Service) ReconcileFromLog(ctx context.Context, r io.Reader) (ReconcileReport, error) {
	var rep ReconcileReport
	var recs []audit.Record
	err := scanStranded(r, func(rec audit.Record, bad error) error {
		if bad != nil {
			rep.Unreadable = append(rep.Unreadable, bad.Error())
			return nil
		}
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("reconcile: %w", err)
	}
	for _, rec := range recs {
		reason, disagrees, err := s.checkStranded(ctx, rec)
		switch {
		case err != nil:
			return rep, err
		case disagrees:
			rep.Disagreements = append(rep.Disagreements, fmt.Sprintf("attempt %d: %s", rec.PendingID, reason))
			continue
		case reason != "":
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("attempt %d: %s", rec.PendingID, reason))
			continue
		}
		rec.ID, rec.PrevHash, rec.Hash = 0, "", ""
		if _, err := s.log.Append(ctx, rec); err != nil {
			return rep, fmt.Errorf("reconcile: restoring the outcome of attempt %d: %w", rec.PendingID, err)
		}
		rep.Restored = append(rep.Restored, rec.PendingID)
	}
	return rep, nil
}

// checkStranded says why rec must not be appended ("" when it may), and whether that is because
// it contradicts the outcome recorded for its attempt; it fails on a store error.
func (s *Service) checkStranded(ctx context.Context, rec audit.Record) (reason string, disagrees bool, err error) {
	switch rec.Outcome {
	case audit.OutcomeSucceeded, audit.OutcomeFailed, audit.OutcomeUnknown:
	default:
		return fmt.Sprintf("outcome %q is not an attempt's outcome", rec.Outcome), false, nil
	}
	if rec.PendingID == 0 {
		return "it names no pending record", false, nil
	}
	pending, err := s.log.Get(ctx, rec.PendingID)
	if errors.Is(err, ErrNotFound) {
		return "no such record", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reconcile: %w", err)
	}
	if pending.Outcome != audit.OutcomePending || pending.IdempotencyKey != rec.IdempotencyKey ||
		!bytes.Equal(pending.Params, rec.Params) || pending.Actor != rec.Actor {
		return "it does not match the pending record (outcome, key, request or actor differ)", false, nil
	}
	out, err := s.log.OutcomeOf(ctx, rec.PendingID)
	switch {
	case errors.Is(err, ErrNotFound):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("reconcile: %w", err)
	case out.ErrorCode == CodeNoOutcomeRecorded:
		return "", false, nil
	}
	if diff := outcomeDiff(rec, out); diff != "" {
		return fmt.Sprintf("the log's outcome differs from the one recorded (record %d) in %s", out.ID, diff), true, nil
	}
	return fmt.Sprintf("already recorded as %s (record %d)", out.Outcome, out.ID), false, nil
}

// outcomeDiff names the fields in which the stranded outcome logged differs from the outcome
// recorded, with both values, "" when they agree. The time is left out: it says when the
// outcome was written, not what it was.
func outcomeDiff(logged, recorded audit.Record) string {
	fields := []struct {
		name             string
		logged, recorded any
	}{
		{"outcome", logged.Outcome, recorded.Outcome},
		{"local_task_id", logged.LocalTaskID, recorded.LocalTaskID},
		{"registry_task_id", logged.RegistryTaskID, recorded.RegistryTaskID},
		{"tcss_request_id", logged.TCSSRequestID, recorded.TCSSRequestID},
		{"error_code", logged.ErrorCode, recorded.ErrorCode},
		{"error_message", logged.ErrorMessage, recorded.ErrorMessage},
	}
	var diffs []string
	for _, f := range fields {
		if f.logged != f.recorded {
			diffs = append(diffs, fmt.Sprintf("%s (%s in the log, %s recorded)", f.name, quoted(f.logged), quoted(f.recorded)))
		}
	}
	return strings.Join(diffs, ", ")
}

// quoted is v as a message shows it: strings quoted (an empty one stays visible), numbers bare.
func quoted(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case audit.Outcome:
		return strconv.Quote(string(v))
	}
	return fmt.Sprint(v)
}
