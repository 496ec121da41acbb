package schedule

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// fakeLog is an audit log held in memory, newest last.
type fakeLog []audit.Record

func (l fakeLog) List(_ context.Context, f audit.Filter) ([]audit.Record, error) {
	var out []audit.Record
	for i := len(l) - 1; i >= 0; i-- {
		r := l[i]
		if (f.Trigger == "" || r.Trigger == f.Trigger) && (f.Actor == "" || r.Actor == f.Actor) && !r.Time.Before(f.Since) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (l fakeLog) Each(_ context.Context, f audit.Filter, fn func(audit.Record) error) error {
	for i, r := range l {
		if f.Limit > 0 && i >= f.Limit {
			break
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func timerRun(id int64, when, name string) []audit.Record {
	t := at(when)
	open := audit.Record{ID: id, Time: t, Trigger: audit.TriggerTimer, Actor: Actor(name), Outcome: audit.OutcomePending}
	done := open
	done.ID, done.PendingID, done.Outcome, done.RegistryTaskID, done.Time = id+1, id, audit.OutcomeSucceeded, 36000+id, t.Add(time.Second)
	return []audit.Record{open, done}
}

func TestHistoriesFlagAMissedRun(t *testing.T) {
	set, err := Parse("nightly=0 0 2 * * * *;weekly=0 30 3 * * 1 *")
	if err != nil {
		t.Fatal(err)
	}
	var log fakeLog
	log = append(log, timerRun(1, "2026-12-03 02:00:04", "nightly")...)
	log = append(log, timerRun(3, "2026-12-05 02:00:02", "nightly")...)
	now := at("2026-12-05 09:00:00")
	hs, err := Histories(context.Background(), log, set, now)
	if err != nil {
		t.Fatal(err)
	}
	nightly, weekly := hs[0], hs[1]
	if len(nightly.Missed) != 1 || !nightly.Missed[0].Equal(at("2026-12-04 02:00:00")) {
		t.Errorf("nightly missed %v, want 2026-12-04 02:00", nightly.Missed)
	}
	if len(nightly.Runs) != 2 || nightly.Runs[0].Attempt != 3 || nightly.Runs[0].Outcome != audit.OutcomeSucceeded || nightly.Runs[0].RegistryTaskID != 36003 {
		t.Errorf("nightly runs %+v", nightly.Runs)
	}
	if !nightly.Next.Equal(at("2026-12-06 02:00:00")) {
		t.Errorf("nightly next %s", nightly.Next)
	}
	// The log began on 3 December: the weekly schedule was not due since, so nothing is missed.
	if len(weekly.Missed) != 0 || len(weekly.Runs) != 0 || !weekly.Next.Equal(at("2026-12-07 03:30:00")) {
		t.Errorf("weekly = %+v", weekly)
	}
}

func TestHistoryGivesARunItsGraceBeforeCallingItMissed(t *testing.T) {
	set, _ := Parse("nightly=0 0 2 * * * *")
	log := fakeLog(timerRun(1, "2026-12-03 02:00:04", "nightly"))
	for _, tt := range []struct {
		now    string
		missed int
	}{
		{"2026-12-04 02:05:00", 0}, // due five minutes ago: may be on its way
		{"2026-12-04 02:20:00", 1},
	} {
		hs, _ := Histories(context.Background(), log, set, at(tt.now))
		if len(hs[0].Missed) != tt.missed {
			t.Errorf("at %s: missed %v, want %d", tt.now, hs[0].Missed, tt.missed)
		}
	}
}

func TestHistoryOfAnEmptyLogMissesNothing(t *testing.T) {
	set, _ := Parse("often=0 * * * * * *")
	hs, err := Histories(context.Background(), fakeLog{}, set, at("2026-12-04 02:20:00"))
	if err != nil || len(hs[0].Missed) != 0 {
		t.Fatalf("%+v, %v", hs, err)
	}
}

func TestHistoryOfAFrequentScheduleIsBounded(t *testing.T) {
	set, _ := Parse("everysecond=* * * * * * *")
	log := fakeLog{{ID: 1, Time: at("2026-11-01 00:00:00"), Trigger: audit.TriggerForm}}
	hs, err := Histories(context.Background(), log, set, at("2026-12-04 02:20:00"))
	if err != nil || len(hs[0].Missed) != maxMissed || !hs[0].Missed[0].After(hs[0].Missed[1]) {
		t.Fatalf("missed %d, %v", len(hs[0].Missed), err)
	}
}

// A schedule added to a log that began earlier is not called missed for the days before its
// first run; a schedule with earlier records, or none, still is.
func TestHistoryOfANewScheduleStartsAtItsFirstRun(t *testing.T) {
	set, _ := Parse("nightly=0 0 2 * * * *")
	keyed := func(id int64, due string, outcome audit.Outcome, delay time.Duration) audit.Record {
		return audit.Record{ID: id, Time: at(due).Add(delay), Trigger: audit.TriggerTimer, Actor: Actor("nightly"),
			Outcome: outcome, IdempotencyKey: RunKey("nightly", at(due))}
	}
	older := audit.Record{ID: 1, Time: at("2026-11-01 10:00:00"), Trigger: audit.TriggerForm, Actor: "oidc:ana@example.com", Outcome: audit.OutcomeSucceeded}
	refused := audit.Record{ID: 2, Time: at("2026-11-30 10:00:00"), Trigger: audit.TriggerTimer, Actor: Actor("nightly"),
		Outcome: audit.OutcomeRejected, IdempotencyKey: "timer/nightly@2026-11-30T10:00:00Z"}
	firstRun := keyed(10, "2026-12-03 02:00:00", audit.OutcomeSucceeded, 4*time.Second)
	lastRun := keyed(11, "2026-12-05 02:00:00", audit.OutcomeSucceeded, 2*time.Second)
	now := at("2026-12-05 09:00:00")
	tests := []struct {
		name   string
		log    fakeLog
		missed []string
		since  string
	}{
		{"added on 3 December, one night missed since", fakeLog{older, firstRun, lastRun},
			[]string{"2026-12-04 02:00:00"}, "2026-12-03 01:45:00"},
		{"a timer refused before its first run", fakeLog{older, refused, firstRun, lastRun},
			[]string{"2026-12-04 02:00:00", "2026-12-02 02:00:00", "2026-12-01 02:00:00", "2026-11-30 02:00:00", "2026-11-29 02:00:00"}, "2026-11-28 09:00:00"},
		{"a first run that was refused", fakeLog{older, keyed(10, "2026-12-03 02:00:00", audit.OutcomeRejected, 0), lastRun},
			[]string{"2026-12-04 02:00:00"}, "2026-12-03 01:45:00"},
		{"no run at all", fakeLog{older},
			[]string{"2026-12-05 02:00:00", "2026-12-04 02:00:00", "2026-12-03 02:00:00", "2026-12-02 02:00:00", "2026-12-01 02:00:00", "2026-11-30 02:00:00", "2026-11-29 02:00:00"}, "2026-11-28 09:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs, err := Histories(context.Background(), tt.log, set, now)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range hs[0].Missed {
				got = append(got, m.Format("2006-01-02 15:04:05"))
			}
			if strings.Join(got, ",") != strings.Join(tt.missed, ",") {
				t.Errorf("missed %v, want %v", got, tt.missed)
			}
			if !hs[0].Since.Equal(at(tt.since)) {
				t.Errorf("since %s, want %s", hs[0].Since, tt.since)
			}
		})
	}
}
