package schedule

import (
	"fmt"
	"time"
)

// Grace is how long after a due time its run may still be on its way: timers are asynchronous
// and retried, and EventBridge stamps a run with the moment it fired, seconds past the due time.
// The schedules page waits this long before it calls a due time missed, and a timer's scheduled
// time may be this much past the due time it stands for (Due), so the two agree.
const Grace = 15 * time.Minute

// ClockSkew is how far ahead of this machine's clock a timer's scheduled time may be: the
// platform's clock and ours differ a little.
const ClockSkew = time.Minute

// Prev returns the latest due time at or before t (in UTC, to the second), or the zero time
// when there is none since the first year.
func (c Cron) Prev(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Second)
	// Next only walks forward: look through ever longer windows ending at t, so a frequent
	// expression costs a minute's steps and the sparsest a few dozen windows.
	for span := time.Minute; ; span *= 8 {
		from := t.Add(-span)
		var last time.Time
		for d := c.Next(from.Add(-time.Second)); !d.IsZero() && !d.After(t); d = c.Next(d) {
			last = d
		}
		if !last.IsZero() || from.Year() < firstYear {
			return last
		}
	}
}

// Due returns the due time of s that a timer run scheduled at at, arriving now, stands for: the
// latest due time at or before at, when at is at most Grace past it. It refuses, saying why and
// naming the nearest due times, a time that is no due time of s, one in the future (beyond
// ClockSkew), and one whose run comes after the schedule's next due time and its Grace have
// passed: a platform retry keeps its run's time, but whoever forges a timer event must not be
// able to start the runs of past due times. Each due time thus stands for one run at most.
func (s Schedule) Due(at, now time.Time) (time.Time, error) {
	at, now = at.UTC(), now.UTC()
	if at.After(now.Add(ClockSkew)) {
		return time.Time{}, fmt.Errorf("the time %s is in the future (now %s): %s was last due at %s and is next due at %s",
			stamp(at), stamp(now), s.Name, stamp(s.Cron.Prev(now)), stamp(s.Cron.Next(now)))
	}
	due := s.Cron.Prev(at)
	if due.IsZero() || at.Sub(due) > Grace {
		return time.Time{}, fmt.Errorf("the time %s is not a due time of %s (%s in %s, read in UTC): its nearest due times are %s and %s, and a run may be at most %d minutes past its due time",
			stamp(at), s.Name, s.Cron, Setting, stamp(due), stamp(s.Cron.Next(at)), int(Grace/time.Minute))
	}
	if next := s.Cron.Next(due); !next.IsZero() && now.After(next.Add(Grace)) {
		return time.Time{}, fmt.Errorf("the time %s stands for the due time %s of %s, whose run is over: %s was due again at %s (latest due time %s)",
			stamp(at), stamp(due), s.Name, s.Name, stamp(next), stamp(s.Cron.Prev(now)))
	}
	return due, nil
}

// stamp writes a due time as timers send it, or "none" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.RFC3339)
}
