package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/schedule"
	"github.com/vulscan/vulscan/templates"
)

// showSchedules is GET /schedules: each configured schedule, its latest runs from the audit
// log, the runs it missed and when it is next due.
func (s *server) showSchedules(w http.ResponseWriter, r *http.Request) error {
	now := s.now().UTC()
	hs, err := schedule.Histories(r.Context(), s.audit, s.schedules, now)
	if err != nil {
		// Histories only fails reading the log: a store that is down or locked, which a retry
		// may find back (503), not a fault of the page (500).
		return auditUnavailable(fmt.Errorf("schedules page: %w", err))
	}
	view := templates.SchedulesView{Base: baseOf(r), Now: moment(now), Setting: schedule.Setting}
	for _, h := range hs {
		view.Schedules = append(view.Schedules, scheduleView(h, now))
	}
	return s.render(w, r, http.StatusOK, templates.SchedulesPage(view))
}

// scheduleView formats one schedule's history, as of now.
func scheduleView(h schedule.History, now time.Time) templates.ScheduleView {
	v := templates.ScheduleView{Name: h.Schedule.Name, Cron: h.Schedule.Cron.String(), Next: moment(h.Next), Since: moment(h.Since)}
	for _, m := range h.Missed {
		v.Missed = append(v.Missed, schedule.DescribeMissed(m))
	}
	for _, run := range h.Runs {
		b := badge(run.Outcome)
		if run.Outcome == audit.OutcomePending && scan.Stale(run.At, now) {
			// As its own page says: no call lasts this long, so nothing is waiting for TCSS.
			b = staleBadge
		}
		v.Runs = append(v.Runs, templates.ScheduleRun{
			AttemptID: run.Attempt, At: moment(run.At), Outcome: string(run.Outcome),
			Badge: b, Tasks: runTasks(run),
		})
	}
	return v
}

// runTasks names the tasks a run started, or why it started none.
func runTasks(run schedule.Run) string {
	var parts []string
	if run.LocalTaskID != 0 {
		parts = append(parts, fmt.Sprintf("local %d", run.LocalTaskID))
	}
	if run.RegistryTaskID != 0 {
		parts = append(parts, fmt.Sprintf("registry %d", run.RegistryTaskID))
	}
	if len(parts) == 0 {
		return orDash(run.Error)
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
