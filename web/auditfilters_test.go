package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
	"github.com/vulscan/vulscan/web"
)

// readCounter is an audit log that counts the records each List hands over and notes any List
// filtered by more than one of outcome, trigger and actor, which no index of the store serves
// whole: the database walks one filter's index and tests the others row by row, as far back as
// it must to fill the page.
type readCounter struct {
	web.AuditLog
	mu       sync.Mutex
	read     int
	combined []audit.Filter
}

func (c *readCounter) List(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	recs, err := c.AuditLog.List(ctx, f)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.read += len(recs)
	n := 0
	for _, set := range []bool{f.Outcome != "", f.Trigger != "", f.Actor != ""} {
		if set {
			n++
		}
	}
	if n > 1 && f.TaskID == 0 {
		c.combined = append(c.combined, f)
	}
	return recs, err
}

func (c *readCounter) take() (read int, combined []audit.Filter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	read, combined, c.read, c.combined = c.read, c.combined, 0, nil
	return read, combined
}

// A page of the audit log filtered several ways reads a bounded number of records, whatever the
// log's size, instead of one query that walks every record of one filter's value (seconds at a
// million records, holding a database connection that scan starts wait for); following its
// cursor still finds every matching record, each once, newest first.
func TestAuditPageFilteredSeveralWaysReadsABoundedNumberOfRecords(t *testing.T) {
	const records, bound = 3000, 500
	web.SetMaxScannedPerPage(t, bound)
	counter := &readCounter{}
	h := newHarness(t, withAuditLog(func(l web.AuditLog) web.AuditLog { counter.AuditLog = l; return counter }))
	sqlstoretest.Fill(t, h.store, records)
	tests := []struct {
		name, query string
		match       func(audit.Record) bool
	}{
		{"outcome and trigger, every tenth record", "outcome=succeeded&trigger=timer",
			func(r audit.Record) bool {
				return r.Outcome == audit.OutcomeSucceeded && r.Trigger == audit.TriggerTimer
			}},
		{"outcome and trigger, no record", "outcome=failed&trigger=timer",
			func(r audit.Record) bool { return false }},
		{"actor and outcome", "actor=user-01&outcome=pending",
			func(r audit.Record) bool { return r.Actor == "user-01" && r.Outcome == audit.OutcomePending }},
		{"actor, outcome and trigger", "actor=user-01&outcome=succeeded&trigger=api",
			func(r audit.Record) bool {
				return r.Actor == "user-01" && r.Outcome == audit.OutcomeSucceeded && r.Trigger == audit.TriggerAPI
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := matchingIDs(t, h.store, tc.match)
			slices.Reverse(want)
			var got []int64
			counter.take()
			for target, pages := "/api/audit?limit=50&"+tc.query, 0; target != ""; pages++ {
				if pages > records {
					t.Fatal("the pages never end")
				}
				resp := h.get(target)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: status %d", target, resp.StatusCode)
				}
				var p struct {
					Records []audit.Record `json:"records"`
					Next    string         `json:"next"`
				}
				if err := json.Unmarshal([]byte(body(t, resp)), &p); err != nil {
					t.Fatal(err)
				}
				for _, r := range p.Records {
					got = append(got, r.ID)
				}
				read, combined := counter.take()
				if len(combined) > 0 || read > bound+201 {
					t.Fatalf("%s: read %d records (bound %d), %d reads filtered several ways: %+v", target, read, bound, len(combined), combined)
				}
				target = ""
				if p.Next != "" {
					target = "/api/" + p.Next
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("the pages hold %d records %v…, want %d %v…", len(got), got[:min(len(got), 5)], len(want), want[:min(len(want), 5)])
			}
		})
	}
}

// The page that stopped at its bound says how far back it searched, does not say that no record
// matches, and links to the older records; the last page says neither.
func TestAuditPageSaysHowFarItSearched(t *testing.T) {
	web.SetMaxScannedPerPage(t, 100)
	h := newHarness(t)
	sqlstoretest.Fill(t, h.store, 1200) // 120 failed records, none by a timer
	doc := document(t, h.get("/audit?outcome=failed&trigger=timer"))
	if got := doc.Find("#searched").Text(); !strings.Contains(got, "searched back to record") {
		t.Errorf("#searched = %q", got)
	}
	if doc.Find("#no-records").Length() != 0 {
		t.Error("the page says no records match, yet older records were not searched")
	}
	older, ok := doc.Find("#older").Attr("href")
	if !ok || !strings.Contains(older, "before=") {
		t.Fatalf("older link = %q, %v", older, ok)
	}
	for pages := 0; ok; pages++ {
		if pages > 10 {
			t.Fatal("the pages never end")
		}
		doc = document(t, h.get("/"+strings.TrimPrefix(older, "./")))
		older, ok = doc.Find("#older").Attr("href")
	}
	if doc.Find("#searched").Length() != 0 || doc.Find("#no-records").Length() != 1 {
		t.Errorf("the last page: #searched %d, #no-records %d; want 0, 1", doc.Find("#searched").Length(), doc.Find("#no-records").Length())
	}
}
