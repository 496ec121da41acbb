package sqlstore

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// seedMixed appends records 1-6: time t0+i hours, with these triggers, actors and outcomes.
func seedMixed(t *testing.T, s *Store) {
	t.Helper()
	rows := []struct {
		trigger audit.Trigger
		actor   string
		outcome audit.Outcome
	}{
		{audit.TriggerForm, "alice", audit.OutcomePending},
		{audit.TriggerForm, "alice", audit.OutcomeSucceeded},
		{audit.TriggerAPI, "key-1", audit.OutcomeRejected},
		{audit.TriggerTimer, "system:timer/nightly", audit.OutcomePending},
		{audit.TriggerTimer, "system:timer/nightly", audit.OutcomeFailed},
		{audit.TriggerCLI, "=cmd|' /C calc'!A0", audit.OutcomeRejected},
	}
	for i, row := range rows {
		r := rec(0)
		r.Time = t0.Add(time.Duration(i) * time.Hour)
		r.Trigger, r.Actor, r.Outcome = row.trigger, row.actor, row.outcome
		if row.outcome == audit.OutcomeSucceeded || row.outcome == audit.OutcomeFailed {
			r.PendingID = int64(i) // the pending record just before
		}
		if row.outcome == audit.OutcomeSucceeded {
			r.LocalTaskID, r.RegistryTaskID = 36002, 7
		}
		mustAppend(t, s, r)
	}
}

func ids(recs []audit.Record) []int64 {
	out := []int64{}
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func TestListFiltersNewestFirst(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		seedMixed(t, h.store)
		cases := []struct {
			name string
			f    audit.Filter
			want []int64
		}{
			{"everything", audit.Filter{}, []int64{6, 5, 4, 3, 2, 1}},
			{"by outcome", audit.Filter{Outcome: audit.OutcomeRejected}, []int64{6, 3}},
			{"by trigger", audit.Filter{Trigger: audit.TriggerTimer}, []int64{5, 4}},
			{"by actor", audit.Filter{Actor: "alice"}, []int64{2, 1}},
			{"since is inclusive", audit.Filter{Since: t0.Add(4 * time.Hour)}, []int64{6, 5}},
			{"until is exclusive", audit.Filter{Until: t0.Add(2 * time.Hour)}, []int64{2, 1}},
			{"a window", audit.Filter{Since: t0.Add(time.Hour), Until: t0.Add(3*time.Hour + time.Nanosecond)}, []int64{4, 3, 2}},
			{"first page", audit.Filter{Limit: 2}, []int64{6, 5}},
			{"next page", audit.Filter{BeforeID: 5, Limit: 2}, []int64{4, 3}},
			{"last page", audit.Filter{BeforeID: 3, Limit: 2}, []int64{2, 1}},
			{"past the end", audit.Filter{BeforeID: 1, Limit: 2}, []int64{}},
			{"combined", audit.Filter{Trigger: audit.TriggerForm, Outcome: audit.OutcomePending}, []int64{1}},
			{"by local task ID", audit.Filter{TaskID: 36002}, []int64{2}},
			{"by registry task ID", audit.Filter{TaskID: 7}, []int64{2}},
			{"by a task ID no record has", audit.Filter{TaskID: 36003}, []int64{}},
			{"since past the newest record", audit.Filter{Since: t0.Add(100 * time.Hour)}, []int64{}},
			{"until past the newest record", audit.Filter{Until: t0.Add(100 * time.Hour)}, []int64{6, 5, 4, 3, 2, 1}},
			{"nothing matches", audit.Filter{Actor: "bob"}, []int64{}},
		}
		for _, c := range cases {
			got, err := h.store.List(context.Background(), c.f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if !slices.Equal(ids(got), c.want) {
				t.Errorf("%s: List = %v, want %v", c.name, ids(got), c.want)
			}
		}
	})
}

func TestEachStreamsOldestFirstAndStops(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		seedMixed(t, h.store)
		var seen []int64
		err := h.store.Each(context.Background(), audit.Filter{Since: t0.Add(time.Hour)}, func(r audit.Record) error {
			seen = append(seen, r.ID)
			return nil
		})
		if err != nil || !slices.Equal(seen, []int64{2, 3, 4, 5, 6}) {
			t.Errorf("Each = %v, %v; want 2..6 oldest first", seen, err)
		}
		stop := errors.New("enough")
		seen = nil
		err = h.store.Each(context.Background(), audit.Filter{}, func(r audit.Record) error {
			seen = append(seen, r.ID)
			if r.ID == 2 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || !slices.Equal(seen, []int64{1, 2}) {
			t.Errorf("Each with a failing fn = %v, %v; want [1 2] and its error", seen, err)
		}
	})
}

func TestExport(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		seedMixed(t, h.store)
		ctx := context.Background()

		var jsonl bytes.Buffer
		if err := audit.Export(ctx, h.store, audit.FormatJSONL, audit.Filter{Outcome: audit.OutcomeRejected}, &jsonl); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(jsonl.String(), "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("JSONL export of rejected records has %d lines, want 2:\n%s", len(lines), jsonl.String())
		}
		var first audit.Record
		if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
			t.Fatal(err)
		}
		stored, _ := h.store.Get(ctx, 3)
		if fmt.Sprint(first) != fmt.Sprint(stored) || first.ComputeHash() != first.Hash {
			t.Errorf("JSONL line 1 = %+v, want record 3 as stored %+v, hash intact", first, stored)
		}

		var out bytes.Buffer
		if err := audit.Export(ctx, h.store, audit.FormatCSV, audit.Filter{Trigger: audit.TriggerCLI}, &out); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&out).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0][0] != "id" || rows[0][3] != "actor" || rows[1][0] != "6" {
			t.Fatalf("CSV export = %q, want a header and record 6", rows)
		}
		if got := rows[1][3]; got != `'=cmd|' /C calc'!A0` {
			t.Errorf("actor cell = %q, want the formula neutralised with a leading apostrophe", got)
		}
	})
}
