package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// appendTimerRun records a timer attempt of schedule name at the given time, as the timer path
// does: a pending record, then its outcome.
func (h *harness) appendTimerRun(name string, at time.Time, outcome audit.Outcome, registryTask int64) int64 {
	h.t.Helper()
	ctx := context.Background()
	open, err := h.store.Append(ctx, audit.Record{Time: at, Trigger: audit.TriggerTimer, Actor: "system:timer/" + name,
		Action: audit.ActionCreateVulScanTask, Params: json.RawMessage(`{"RegistryImageScanType":"NOT_SCAN"}`), Outcome: audit.OutcomePending})
	if err != nil {
		h.t.Fatal(err)
	}
	done := open
	done.ID, done.PrevHash, done.Hash, done.PendingID, done.Time, done.Outcome = 0, "", "", open.ID, at.Add(time.Second), outcome
	if outcome == audit.OutcomeSucceeded {
		done.RegistryTaskID = registryTask
	} else {
		done.ErrorCode = "ResourceInUse"
	}
	if _, err := h.store.Append(ctx, done); err != nil {
		h.t.Fatal(err)
	}
	return open.ID
}

func TestSchedulesPage(t *testing.T) {
	h := newHarness(t, withSchedules("nightly=0 0 2 * * * *;weekly=0 30 3 * * 1 *"))
	day := func(d, hh, mm, ss int) time.Time { return time.Date(2026, 12, d, hh, mm, ss, 0, time.UTC) }
	h.appendTimerRun("nightly", day(3, 2, 0, 4), audit.OutcomeSucceeded, 36001)
	last := h.appendTimerRun("nightly", day(5, 2, 0, 2), audit.OutcomeFailed, 0)
	h.now = day(5, 9, 0, 0)

	resp := h.get("/schedules")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /schedules = %d", resp.StatusCode)
	}
	doc := document(t, resp)
	if got := doc.Find("#missed-nightly li").Text(); got != "No run recorded for 2026-12-04 02:00 UTC." {
		t.Errorf("nightly missed: %q", got)
	}
	if got := doc.Find("#next-nightly").Text(); got != "2026-12-06 02:00:00 UTC" {
		t.Errorf("nightly next run %q", got)
	}
	rows := doc.Find("#schedule-nightly table.runs tbody tr")
	if rows.Length() != 2 {
		t.Fatalf("nightly lists %d runs, want 2", rows.Length())
	}
	first := rows.First()
	if href := first.Find("a").AttrOr("href", ""); href != "./scans/"+formatInt(last) {
		t.Errorf("latest run links to %q", href)
	}
	if got := strings.TrimSpace(first.Find(".badge").Text()); got != "No scan started" {
		t.Errorf("latest run's badge %q", got)
	}
	if got := rows.Last().Find("td").Last().Text(); got != "registry 36001" {
		t.Errorf("first run's tasks %q", got)
	}
	if doc.Find("#missed-weekly li").Length() != 0 || doc.Find("#next-weekly").Text() != "2026-12-07 03:30:00 UTC" {
		t.Errorf("weekly: missed %q, next %q", doc.Find("#missed-weekly").Text(), doc.Find("#next-weekly").Text())
	}
}

func TestSchedulesPageWithoutSchedules(t *testing.T) {
	h := newHarness(t)
	doc := document(t, h.get("/schedules"))
	if !strings.Contains(doc.Find("#no-schedules").Text(), "VULSCAN_SCHEDULES") {
		t.Errorf("the empty page does not say how to configure schedules: %q", doc.Find("main").Text())
	}
}
