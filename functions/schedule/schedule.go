package schedule

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Setting is the environment variable that names the schedules.
const Setting = "VULSCAN_SCHEDULES"

// maxSchedules bounds the list; SCF allows a handful of timers per function.
const maxSchedules = 50

// namePattern is SCF's rule for timer trigger names: up to 60 letters, digits, - and _, starting
// with a letter. The name becomes the actor system:timer/<name>. It compiles on first use: its
// repeat count made it most of this package's initialisation, which every run paid.
var namePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,59}$`) })

// Schedule is one named schedule: the name its timer sends and when it is due.
type Schedule struct {
	Name string
	Cron Cron
}

// Set is the configured schedules, in the order of the setting.
type Set []Schedule

// Parse reads VULSCAN_SCHEDULES: semicolon-separated name=CRON pairs, e.g.
// `nightly=0 0 2 * * * *;weekly=0 30 3 * * 1 *`. Empty items are ignored, so a trailing ";" is
// fine; an empty setting is no schedules. Names must be unique and follow SCF's trigger-name
// rule; every problem is reported, not just the first.
func Parse(setting string) (Set, error) {
	var set Set
	var problems []string
	seen := map[string]bool{}
	for item := range strings.SplitSeq(setting, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, expr, ok := strings.Cut(item, "=")
		name = strings.TrimSpace(name)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%q is not name=CRON", clip(item)))
			continue
		case !namePattern().MatchString(name):
			problems = append(problems, fmt.Sprintf("schedule name %q must be 1 to 60 letters, digits, - or _, starting with a letter", clip(name)))
			continue
		case seen[name]:
			problems = append(problems, fmt.Sprintf("schedule %q is named twice", name))
			continue
		}
		seen[name] = true
		cron, err := ParseCron(expr)
		if err != nil {
			problems = append(problems, fmt.Sprintf("schedule %q: %v", name, err))
			continue
		}
		set = append(set, Schedule{Name: name, Cron: cron})
	}
	if len(set) > maxSchedules {
		problems = append(problems, fmt.Sprintf("%d schedules; at most %d", len(set), maxSchedules))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: %s", Setting, strings.Join(problems, "; "))
	}
	return set, nil
}

// Lookup returns the schedule called name.
func (s Set) Lookup(name string) (Schedule, bool) {
	for _, sc := range s {
		if sc.Name == name {
			return sc, true
		}
	}
	return Schedule{}, false
}

// Names lists the schedules' names in order.
func (s Set) Names() []string {
	out := make([]string, len(s))
	for i, sc := range s {
		out[i] = sc.Name
	}
	return out
}

// Next is the schedule's first due time after t (zero when there is none).
func (s Schedule) Next(t time.Time) time.Time { return s.Cron.Next(t) }

func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
