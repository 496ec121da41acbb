package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vulscan/vulscan/functions/schedule"
)

// TestLambdaSchedulesMatchVulscanSchedules: every schedule event of serverless.aws.yml names, in
// its input's detail, a schedule of the file's VULSCAN_SCHEDULES whose cron gives the same
// instants as the rule's cron(…). Both are read in UTC (EventBridge rules, and vulscan), so the
// hours are the same; a rule moved without its schedule would have every run refused as no due
// time of it, and /schedules would report every night missed. (serverless.yml's SCF timers are
// checked the same way, under SCF's Beijing time: checkSCFTimersMatchSchedules.)
func TestLambdaSchedulesMatchVulscanSchedules(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "serverless.aws.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Provider struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"provider"`
		Functions map[string]struct {
			Events []struct {
				Schedule *struct {
					Name             string           `yaml:"name"`
					Rate             string           `yaml:"rate"`
					InputTransformer inputTransformer `yaml:"inputTransformer"`
				} `yaml:"schedule"`
			} `yaml:"events"`
		} `yaml:"functions"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("serverless.aws.yml: %v", err)
	}
	setting := cfg.Provider.Environment[schedule.Setting]
	set, err := schedule.Parse(setting)
	if err != nil {
		t.Fatalf("serverless.aws.yml %s %q: %v", schedule.Setting, setting, err)
	}
	checked := 0
	for _, fn := range cfg.Functions {
		for _, ev := range fn.Events {
			if ev.Schedule == nil {
				continue
			}
			var input struct {
				Detail struct{ Schedule string } `json:"detail"`
			}
			raw := ev.Schedule.InputTransformer.apply(t, scheduledEvent(ev.Schedule.Name, "2026-12-04T02:00:00Z", "{}"))
			if err := json.Unmarshal(raw, &input); err != nil {
				t.Errorf("schedule %s's input template gives %s: %v", ev.Schedule.Name, raw, err)
				continue
			}
			name := input.Detail.Schedule
			sc, ok := set.Lookup(name)
			if !ok {
				t.Errorf("schedule %s names %q in its input, not one of %s %q: its runs would be refused", ev.Schedule.Name, name, schedule.Setting, setting)
				continue
			}
			rule := eventBridgeCron(t, ev.Schedule.Rate)
			at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			for range 40 {
				fires, expected := rule.Next(at), sc.Next(at)
				if !fires.Equal(expected) {
					t.Errorf("schedule %s (%s, UTC) fires at %s; %s's %s (%s, UTC) expects %s", ev.Schedule.Name, ev.Schedule.Rate,
						fires.Format(time.DateTime), schedule.Setting, name, sc.Cron, expected.Format(time.DateTime))
					break
				}
				at = fires
			}
			checked++
		}
	}
	if checked == 0 {
		t.Error("serverless.aws.yml has no schedule event")
	}
}

// eventBridgeCron reads an EventBridge rule's cron(minutes hours day-of-month month day-of-week
// year) as vulscan's 7-field cron: seconds 0 in front, and the day of week moved from
// EventBridge's 1-7 (1 is Sunday) to 0-6 (0 is Sunday). L, W and # have no equivalent here.
func eventBridgeCron(t *testing.T, rate string) schedule.Cron {
	t.Helper()
	expr, ok := strings.CutPrefix(rate, "cron(")
	expr, ok2 := strings.CutSuffix(expr, ")")
	fields := strings.Fields(expr)
	if !ok || !ok2 || len(fields) != 6 {
		t.Fatalf("rate %q is not cron(minutes hours day-of-month month day-of-week year)", rate)
	}
	if strings.ContainsAny(fields[2]+fields[4], "LW#") {
		t.Fatalf("rate %q: L, W and # have no equivalent in VULSCAN_SCHEDULES", rate)
	}
	var dow []string
	for item := range strings.SplitSeq(fields[4], ",") {
		rng, step, hasStep := strings.Cut(item, "/")
		var ends []string
		for end := range strings.SplitSeq(rng, "-") {
			if n, err := strconv.Atoi(end); err == nil {
				end = strconv.Itoa(n - 1)
			}
			ends = append(ends, end)
		}
		item = strings.Join(ends, "-")
		if hasStep {
			item += "/" + step
		}
		dow = append(dow, item)
	}
	c, err := schedule.ParseCron(strings.Join([]string{"0", fields[0], fields[1], fields[2], fields[3], strings.Join(dow, ","), fields[5]}, " "))
	if err != nil {
		t.Fatalf("rate %q: %v", rate, err)
	}
	return c
}

// EventBridge numbers the days of the week from 1 (Sunday); names mean the same in both.
func TestEventBridgeCronReadsDaysOfWeekFromOne(t *testing.T) {
	for _, tt := range []struct{ rate, same string }{
		{"cron(0 2 * * ? *)", "0 0 2 * * * *"},
		{"cron(30 18 ? * 2-6 *)", "0 30 18 * * MON-FRI *"},
		{"cron(0 3 ? * 1,7 *)", "0 0 3 * * SUN,SAT *"},
		{"cron(0 3 ? * SUN *)", "0 0 3 * * 0 *"},
		{"cron(15 4 1 JAN ? 2027)", "0 15 4 1 1 * 2027"},
	} {
		got, want := eventBridgeCron(t, tt.rate), mustCron(t, tt.same)
		at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		for range 20 {
			if g, w := got.Next(at), want.Next(at); !g.Equal(w) {
				t.Errorf("%s: due at %s, want %s (as %s)", tt.rate, g, w, tt.same)
				break
			}
			at = want.Next(at)
		}
	}
}

func mustCron(t *testing.T, expr string) schedule.Cron {
	t.Helper()
	c, err := schedule.ParseCron(expr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
