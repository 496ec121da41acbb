// Package schedule reads vulscan's named schedules (VULSCAN_SCHEDULES) and computes when each one
// is due from its cron expression, in the 7-field form Tencent SCF's timer trigger uses
// (second minute hour day-of-month month day-of-week year). Times are UTC.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bounds of the year field, as SCF documents them; no run is computed past the last year.
const (
	firstYear = 1970
	lastYear  = 2099
)

// Cron is a parsed 7-field cron expression. The zero value matches nothing.
type Cron struct {
	expr    string
	second  uint64 // bit n set: second n matches
	minute  uint64
	hour    uint64
	dom     uint64 // days of month 1..31
	month   uint64 // 1..12
	dow     uint64 // 0 (Sunday)..6
	year    [3]uint64
	domStar bool // day-of-month was "*": only day-of-week restricts the day
	dowStar bool
}

// field describes one position of the expression.
type field struct {
	name     string
	min, max int
	names    map[string]int
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
		"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames = map[string]int{"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
	fields   = [7]field{
		{name: "second", min: 0, max: 59},
		{name: "minute", min: 0, max: 59},
		{name: "hour", min: 0, max: 23},
		{name: "day of month", min: 1, max: 31},
		{name: "month", min: 1, max: 12, names: monthNames},
		{name: "day of week", min: 0, max: 6, names: dayNames},
		{name: "year", min: firstYear, max: lastYear},
	}
)

// maxExprLen bounds an expression; real ones are a few dozen characters.
const maxExprLen = 256

// ParseCron reads a 7-field cron expression as SCF's timer trigger takes it: each field is `*`, a
// number, a range `a-b`, a step `*/n`, `a/n` or `a-b/n`, or a comma-separated list of those;
// months and days of the week may be named (JAN, MON). Day of week 0 is Sunday. When both the
// day of month and the day of week are restricted, a day matching either is due (as in cron).
// An expression that no date matches (31 February) is refused.
func ParseCron(expr string) (Cron, error) {
	if len(expr) > maxExprLen {
		return Cron{}, fmt.Errorf("cron expression longer than %d characters", maxExprLen)
	}
	parts := strings.Fields(expr)
	if len(parts) != len(fields) {
		return Cron{}, fmt.Errorf("cron expression %q has %d fields; SCF's has 7: second minute hour day-of-month month day-of-week year", expr, len(parts))
	}
	c := Cron{expr: strings.Join(parts, " ")}
	sets := make([][3]uint64, len(fields))
	for i, f := range fields {
		set, err := parseField(parts[i], f)
		if err != nil {
			return Cron{}, fmt.Errorf("cron expression %q: %s: %w", expr, f.name, err)
		}
		sets[i] = set
	}
	c.second, c.minute, c.hour, c.dom, c.month, c.dow = sets[0][0], sets[1][0], sets[2][0], sets[3][0], sets[4][0], sets[5][0]
	c.year = sets[6]
	c.domStar, c.dowStar = parts[3] == "*" || parts[3] == "?", parts[5] == "*" || parts[5] == "?"
	// Each field can be valid and the whole still name no date (31 February, 29 February of a
	// year that is no leap year): a schedule that is never due would have its every timer
	// refused, so it is refused here, where its owner sees why.
	if c.Next(time.Date(firstYear, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Second)).IsZero() {
		return Cron{}, fmt.Errorf("cron expression %q is never due: no date from %d to %d has that day of month or day of week in those months and years", expr, firstYear, lastYear)
	}
	return c, nil
}

// String is the expression as parsed, with single spaces.
func (c Cron) String() string { return c.expr }

// parseField turns one field into a bit set. Years need more than 64 bits: bit n of the set is
// value n for the small fields and value firstYear+n for years.
func parseField(s string, f field) ([3]uint64, error) {
	var set [3]uint64
	offset := 0
	if f.min == firstYear {
		offset = firstYear
	}
	for item := range strings.SplitSeq(s, ",") {
		lo, hi, step, err := parseItem(item, f)
		if err != nil {
			return set, err
		}
		for v := lo; v <= hi; v += step {
			n := v - offset
			set[n/64] |= 1 << (n % 64)
		}
	}
	return set, nil
}

// parseItem reads `*`, `?`, `a`, `a-b`, each optionally followed by `/step`.
func parseItem(item string, f field) (lo, hi, step int, err error) {
	rng, stepText, hasStep := strings.Cut(item, "/")
	step = 1
	if hasStep {
		if step, err = strconv.Atoi(stepText); err != nil || step < 1 || step > f.max-f.min+1 {
			return 0, 0, 0, fmt.Errorf("step %q must be a number from 1 to %d", stepText, f.max-f.min+1)
		}
	}
	switch {
	case rng == "*" || rng == "?":
		return f.min, f.max, step, nil
	case strings.Contains(rng, "-"):
		a, b, _ := strings.Cut(rng, "-")
		if lo, err = value(a, f); err != nil {
			return 0, 0, 0, err
		}
		if hi, err = value(b, f); err != nil {
			return 0, 0, 0, err
		}
		if lo > hi {
			return 0, 0, 0, fmt.Errorf("range %q runs backwards", rng)
		}
		return lo, hi, step, nil
	}
	if lo, err = value(rng, f); err != nil {
		return 0, 0, 0, err
	}
	hi = lo
	if hasStep { // "a/n": from a to the end of the field
		hi = f.max
	}
	return lo, hi, step, nil
}

func value(s string, f field) (int, error) {
	if v, ok := f.names[strings.ToUpper(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil && strings.ContainsAny(strings.ToUpper(s), "LW#") && (f.name == "day of month" || f.name == "day of week") {
		// SCF's timer takes them; vulscan's due-time check does not, and must not guess.
		return 0, fmt.Errorf("%q: SCF's L (last), W (nearest weekday) and # (nth weekday) are not supported in VULSCAN_SCHEDULES; write the days as values, ranges or lists, in the trigger too", s)
	}
	if err != nil || v < f.min || v > f.max {
		return 0, fmt.Errorf("%q is not a value from %d to %d", s, f.min, f.max)
	}
	return v, nil
}

func has(set uint64, v int) bool { return set&(1<<uint(v)) != 0 }

func (c Cron) hasYear(y int) bool {
	if y < firstYear || y > lastYear {
		return false
	}
	n := y - firstYear
	return c.year[n/64]&(1<<uint(n%64)) != 0
}

// dayMatches applies cron's rule for the two day fields.
func (c Cron) dayMatches(t time.Time) bool {
	domOK, dowOK := has(c.dom, t.Day()), has(c.dow, int(t.Weekday()))
	switch {
	case c.domStar && c.dowStar:
		return true
	case c.domStar:
		return dowOK
	case c.dowStar:
		return domOK
	}
	return domOK || dowOK
}

// Next returns the first due time strictly after t (in UTC, to the second), or the zero time
// when there is none before the end of lastYear (or the expression is the zero Cron).
func (c Cron) Next(t time.Time) time.Time {
	if c.expr == "" {
		return time.Time{}
	}
	t = t.UTC().Truncate(time.Second).Add(time.Second)
	// Each step moves to the start of the next candidate unit, so the loop ends within a few
	// thousand steps even for the sparsest expression, or passes lastYear.
	for t.Year() <= lastYear {
		switch {
		case !c.hasYear(t.Year()):
			t = time.Date(t.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
		case !has(c.month, int(t.Month())):
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		case !c.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
		case !has(c.hour, t.Hour()):
			t = t.Truncate(time.Hour).Add(time.Hour)
		case !has(c.minute, t.Minute()):
			t = t.Truncate(time.Minute).Add(time.Minute)
		case !has(c.second, t.Second()):
			t = t.Add(time.Second)
		default:
			return t
		}
	}
	return time.Time{}
}

// Between returns the due times in (from, to], oldest first, at most limit of them.
func (c Cron) Between(from, to time.Time, limit int) []time.Time {
	var out []time.Time
	for t := c.Next(from); !t.IsZero() && !t.After(to) && len(out) < limit; t = c.Next(t) {
		out = append(out, t)
	}
	return out
}
