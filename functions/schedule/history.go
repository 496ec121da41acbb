package schedule

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// Bounds of a schedule's history: how far back it looks, how many of its records it reads, how
// many runs and missed times it lists.
const (
	lookBack   = 7 * 24 * time.Hour
	maxRecords = 1000
	maxRuns    = 10
	maxMissed  = 20
)

// Run is one attempt a schedule's timer made, as the audit log tells it.
type Run struct {
	Attempt        int64 // the ID of the record that opened it
	At             time.Time
	Outcome        audit.Outcome // pending, rejected, succeeded, failed or unknown
	LocalTaskID    int64
	RegistryTaskID int64
	Error          string // the error code of a run that did not start a scan
	Key            string // its idempotency key: RunKey of the due time it stood for
}

// History is what a schedule did and will do.
type History struct {
	Schedule Schedule
	Next     time.Time   // the next due time after now; zero when there is none
	Runs     []Run       // the latest runs, newest first (at most maxRuns)
	Missed   []time.Time // due times with no run recorded, newest first (at most maxMissed)
	Since    time.Time   // missed runs are looked for from here (the log's start, or a week ago)
}

// RunLog is the audit log as histories need it; audit stores satisfy it.
type RunLog interface {
	// List returns the records matching f, newest first.
	List(ctx context.Context, f audit.Filter) ([]audit.Record, error)
	// Each calls fn with every record matching f, oldest first.
	Each(ctx context.Context, f audit.Filter, fn func(audit.Record) error) error
}

// Actor is the audit actor of a schedule's timer runs.
func Actor(name string) string { return "system:timer/" + name }

// RunKey is the idempotency key of the run of schedule name at its due time due: one key per
// due time, however its timer events write the time, so that a platform retry starts no second
// scan and a run is known by the due time it stood for.
func RunKey(name string, due time.Time) string {
	return runKeyPrefix(name) + due.UTC().Format(time.RFC3339)
}

func runKeyPrefix(name string) string { return "timer/" + name + "@" }

// Histories tells, for each schedule of set, its latest runs, the due times it missed in the
// last week (or since the log began, if later), and its next due time after now.
func Histories(ctx context.Context, log RunLog, set Set, now time.Time) ([]History, error) {
	now = now.UTC()
	since := now.Add(-lookBack)
	var first time.Time
	err := log.Each(ctx, audit.Filter{Limit: 1}, func(r audit.Record) error { first = r.Time; return nil })
	if err != nil {
		return nil, fmt.Errorf("schedule history: %w", err)
	}
	if first.IsZero() || first.After(since) {
		since = first
		if first.IsZero() {
			since = now // an empty log: nothing can have been missed yet
		}
	}
	out := make([]History, 0, len(set))
	for _, sc := range set {
		recs, err := log.List(ctx, audit.Filter{Trigger: audit.TriggerTimer, Actor: Actor(sc.Name), Since: since.Add(-lookBack), Limit: maxRecords})
		if err != nil {
			return nil, fmt.Errorf("schedule history %s: %w", sc.Name, err)
		}
		runs := runsOf(recs)
		out = append(out, history(sc, runs, firstRunSince(sc, recs, runs, readSince(recs, since)), now))
	}
	return out, nil
}

// readSince is when missed runs are looked for from, given a schedule's records as read (newest
// first): since, unless more records were there than were read (a schedule due every few
// minutes fills maxRecords in a few days, and so do refused forged events). Then the runs before
// the oldest record read are unknown, and their due times must not be called missed.
func readSince(recs []audit.Record, since time.Time) time.Time {
	if len(recs) < maxRecords {
		return since
	}
	if oldest := recs[len(recs)-1].Time.UTC(); oldest.After(since) {
		return oldest
	}
	return since
}

// firstRunSince moves since to a schedule's first run when nothing of the schedule was recorded
// before it: a schedule added to a log that began earlier (VULSCAN_SCHEDULES and a trigger
// deployed today) was not due before it existed, and its first week must not read as a week of
// missed runs. Only a run keyed by one of its due times counts as the first (a refused or forged
// timer event does not), and any earlier record of the schedule, refused ones included, keeps
// since where it is: a trigger that fired at the wrong times, or ran and then stopped, has missed
// the due times since. recs are all the schedule's records read (newest first), runs its runs.
func firstRunSince(sc Schedule, recs []audit.Record, runs []Run, since time.Time) time.Time {
	if len(recs) == 0 || len(recs) >= maxRecords || len(runs) == 0 {
		return since
	}
	first := runs[len(runs)-1]
	if !keyedByDueTime(sc, first.Key) || recs[len(recs)-1].ID != first.Attempt {
		return since
	}
	due, _ := time.Parse(time.RFC3339, strings.TrimPrefix(first.Key, runKeyPrefix(sc.Name)))
	if start := due.Add(-Grace); start.After(since) {
		return start
	}
	return since
}

// runsOf pairs opening records with their outcomes; recs are newest first.
func runsOf(recs []audit.Record) []Run {
	outcomes := map[int64]audit.Record{}
	for _, r := range recs {
		if r.PendingID != 0 {
			outcomes[r.PendingID] = r
		}
	}
	var runs []Run
	for _, r := range recs {
		if r.PendingID != 0 {
			continue
		}
		run := Run{Attempt: r.ID, At: r.Time.UTC(), Outcome: r.Outcome, Error: r.ErrorCode, Key: r.IdempotencyKey}
		if out, ok := outcomes[r.ID]; ok {
			run.Outcome, run.Error = out.Outcome, out.ErrorCode
			run.LocalTaskID, run.RegistryTaskID = out.LocalTaskID, out.RegistryTaskID
		}
		runs = append(runs, run)
	}
	return runs
}

// history finds the missed due times: a due time is kept when a run was recorded for it (see
// ranFor).
func history(sc Schedule, runs []Run, since, now time.Time) History {
	h := History{Schedule: sc, Next: sc.Next(now), Since: since}
	h.Runs = runs[:min(len(runs), maxRuns)]
	due := latestDue(sc.Cron, since, now.Add(-Grace))
	for i := len(due) - 1; i >= 0 && len(h.Missed) < maxMissed; i-- {
		from, to := due[i].Add(-Grace), now
		if i+1 < len(due) {
			to = due[i+1].Add(-Grace)
		} else if next := sc.Next(due[i]); next.Before(to) {
			to = next.Add(-Grace)
		}
		if !ranFor(sc, runs, due[i], from, to) {
			h.Missed = append(h.Missed, due[i])
		}
	}
	return h
}

// latestDue returns the due times in (from, to], keeping only the latest few thousand for a
// schedule that fires very often.
func latestDue(c Cron, from, to time.Time) []time.Time {
	const batch = 5000
	for {
		due := c.Between(from, to, batch)
		if len(due) < batch {
			return due
		}
		from = due[len(due)-maxMissed-1]
	}
}

// DescribeMissed says in plain words that a due time has no run on record.
func DescribeMissed(due time.Time) string {
	return "No run recorded for " + due.UTC().Format("2006-01-02 15:04") + " UTC."
}

// ranFor reports whether a run was recorded for the due time due of sc: one keyed by it
// (RunKey), whatever its outcome, since its timer came for that due time. When it was recorded
// does not count: a timer event refused as no due time of sc (a forged one, or a trigger whose
// cron the platform reads in another time zone than VULSCAN_SCHEDULES) is recorded between two
// due times, and stood for neither. Only runs recorded before timers were keyed by their due
// time (their key is the event's own time, or its request ID) are placed by their time: a run
// that was not refused, recorded in [from, to).
func ranFor(sc Schedule, runs []Run, due, from, to time.Time) bool {
	key := RunKey(sc.Name, due)
	for _, r := range runs {
		if r.Key == key {
			return true
		}
		// The window first: keyedByDueTime parses the key and walks the cron back, and history
		// asks about every run for each of up to thousands of due times.
		if !r.At.Before(from) && r.At.Before(to) && r.Outcome != audit.OutcomeRejected && !keyedByDueTime(sc, r.Key) {
			return true
		}
	}
	return false
}

// keyedByDueTime reports whether key is RunKey of a due time of sc.
func keyedByDueTime(sc Schedule, key string) bool {
	text, ok := strings.CutPrefix(key, runKeyPrefix(sc.Name))
	if !ok {
		return false
	}
	t, err := time.Parse(time.RFC3339, text)
	return err == nil && key == RunKey(sc.Name, t) && sc.Cron.Prev(t).Equal(t)
}
