package audit

import (
	"fmt"
	"slices"
	"time"
)

// Triggers lists every known trigger, for filters and their choices.
var Triggers = []Trigger{TriggerForm, TriggerAPI, TriggerTimer, TriggerCLI, TriggerEvent, TriggerInvoke}

// Outcomes lists every known outcome, for filters and their choices.
var Outcomes = []Outcome{OutcomePending, OutcomeRejected, OutcomeFailed, OutcomeSucceeded, OutcomeUnknown, OutcomeReplayed}

// Valid reports whether t is one of the known triggers.
func (t Trigger) Valid() bool { return slices.Contains(Triggers, t) }

// Valid reports whether o is one of the known outcomes.
func (o Outcome) Valid() bool { return slices.Contains(Outcomes, o) }

// ParseTrigger returns the trigger named s, or an error naming the valid ones.
func ParseTrigger(s string) (Trigger, error) {
	if t := Trigger(s); t.Valid() {
		return t, nil
	}
	return "", fmt.Errorf("unknown trigger %q: want form, api, timer, cli, event or invoke", s)
}

// ParseOutcome returns the outcome named s, or an error naming the valid ones.
func ParseOutcome(s string) (Outcome, error) {
	if o := Outcome(s); o.Valid() {
		return o, nil
	}
	return "", fmt.Errorf("unknown outcome %q: want pending, rejected, failed, succeeded, unknown or replayed", s)
}

// dateLayout is the day form operators type for --since and --until.
const dateLayout = "2006-01-02"

// ParseSince reads a Filter.Since bound: RFC 3339 time, or a date (YYYY-MM-DD, the start of that
// day in UTC).
func ParseSince(s string) (time.Time, error) {
	return parseBound(s, 0)
}

// ParseUntil reads a Filter.Until bound: RFC 3339 time (records before it), or a date
// (YYYY-MM-DD, meaning up to the end of that day in UTC, so that since and until of the same day
// select that whole day).
func ParseUntil(s string) (time.Time, error) {
	return parseBound(s, 1)
}

func parseBound(s string, dayOffset int) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if d, err := time.Parse(dateLayout, s); err == nil {
		return d.AddDate(0, 0, dayOffset), nil
	}
	return time.Time{}, fmt.Errorf("bad time %q: want RFC 3339 (2006-01-02T15:04:05Z) or a date (2006-01-02)", s)
}
