package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/templates"
)

// statusTimeout bounds the DescribeVulScanInfo call behind a page: the page still renders,
// without live status, when TCSS is slow.
const statusTimeout = 10 * time.Second

// attemptOf looks up the attempt the path's {id} names; anything but a positive number is a page
// that does not exist.
func (s *server) attemptOf(r *http.Request) (scan.Attempt, error) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	// Only the id as vulscan writes it (Location, next, the pages' links): 01 or +1 would be
	// other addresses of attempt 1, which a client keying its answers by URL takes for others.
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != raw {
		return scan.Attempt{}, &httpError{status: http.StatusNotFound, message: fmt.Sprintf("There is no attempt %q.", scan.Shorten(raw, 40))}
	}
	return s.scans.Attempt(r.Context(), id)
}

// redirectToOpening answers a request for an attempt by its outcome record's ID (the audit page
// lists both records) with a permanent redirect to the attempt's own address, and reports
// whether it did. Served under the outcome's address, the attempt's page said nothing of the
// record asked for, and a link or a client keyed by URL held two addresses of one attempt.
func redirectToOpening(w http.ResponseWriter, r *http.Request, a scan.Attempt) bool {
	id := strconv.FormatInt(a.ID(), 10)
	if r.PathValue("id") == id {
		return false
	}
	// Relative to /scans/{id} or /api/scans/{id}: the same directory, under any stage prefix.
	// Not kept by the browser: a local audit log started afresh gives the ID to another record.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", id)
	w.WriteHeader(http.StatusMovedPermanently)
	return true
}

// showScan renders one attempt with the scan's live status.
func (s *server) showScan(w http.ResponseWriter, r *http.Request) error {
	a, err := s.attemptOf(r)
	if err != nil {
		return err
	}
	if redirectToOpening(w, r, a) {
		return nil
	}
	view := attemptView(a)
	view.Base = baseOf(r)
	info, statusErr := s.liveStatus(r.Context(), a)
	switch {
	case statusErr != nil:
		view.StatusError = statusErr.Error()
		// A check TCSS may answer next time (an error, a timeout): the scan goes on, so the
		// page offers to check again and its script polls, as it does for a running scan.
		var se statusError
		view.Live = a.State() == audit.OutcomeSucceeded && errors.As(statusErr, &se) && se.passing
	case info != nil:
		sv := statusView(*info, s.now())
		view.Status = &sv
		view.Badge, view.Headline = scanBadge(*info)
		view.Live = !sv.Done
	}
	switch {
	case a.State() == audit.OutcomePending && scan.Stale(a.Record.Time, s.now()):
		// No call lasts this long: its process ended (killed, or its store failed) and nothing
		// will answer. The page said "Waiting for TCSS … The scan is still going on." and polled
		// for ever, until a reconciliation closed the attempt.
		view.Badge = staleBadge
		view.Headline = "No answer was recorded in the longest time a call to TCSS can take: the process that made " +
			"the call has ended, and a scan may or may not have started."
		view.StatusError = "vulscan records this attempt as unknown at its next reconciliation (a server's start, a view of " +
			"the audit page, or vulscan audit reconcile); a retry with the same idempotency key records it at once."
	case a.State() == audit.OutcomePending:
		view.Live = true
	}
	return s.render(w, r, http.StatusOK, templates.ScanPage(view))
}

// staleBadge is the badge of an attempt pending for longer than any call to TCSS lasts.
const staleBadge = "No answer recorded"

// statusError is why a page has no live status, in words safe to show; passing when a later
// check may get it.
type statusError struct {
	message string
	passing bool
}

func (e statusError) Error() string { return e.message }

// liveStatus asks TCSS about a succeeded attempt's scan. It returns nil, nil for attempts that
// started no scan, and a statusError (already logged) when TCSS could not tell.
func (s *server) liveStatus(ctx context.Context, a scan.Attempt) (*scan.ScanInfo, error) {
	switch a.State() {
	case audit.OutcomeSucceeded:
	case audit.OutcomePending:
		return nil, statusError{message: "TCSS has not answered yet."}
	default:
		return nil, statusError{message: "This attempt started no scan, so there is no status to show."}
	}
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	info, err := s.scans.Status(ctx, a)
	if err != nil {
		s.log.Warn("live status unavailable", "attempt", a.ID(), "err", err)
		msg := "TCSS could not tell where the scan stands."
		var se *scan.Error
		var apiErr *scan.APIError
		// Only a task TCSS does not have (or none to ask about) stays so; the rest may pass.
		passing := !errors.As(err, &se) || se.Code != scan.ENOTFOUND
		switch {
		case errors.As(err, &apiErr) && strings.HasPrefix(apiErr.Code, "ResourceNotFound"):
			passing = false
			// An old link's task, deleted in TCSS or no longer kept: not an outage to wait out.
			msg = "TCSS answers that this attempt's scan task no longer exists (" + audit.EscapeControls(scan.Shorten(apiErr.Code, 80)) +
				"): it was deleted, or TCSS no longer keeps it, so its status and results cannot be shown. " +
				"The record of the start on this page is unchanged; the TCSS console lists the tasks TCSS still has."
		case errors.As(err, &se) && se.Code != scan.EINTERNAL && se.Message != "":
			msg = "Live status unavailable: " + se.Message
		}
		return nil, statusError{msg, passing}
	}
	return &info, nil
}

// attemptView fills the page's facts from the audit records of an attempt.
func attemptView(a scan.Attempt) templates.ScanView {
	open, closing := a.Record, a.Closing()
	v := templates.ScanView{
		ID:         a.ID(),
		Outcome:    string(a.State()),
		Badge:      badge(a.State()),
		Headline:   headline(a.State()),
		Time:       moment(open.Time),
		Trigger:    string(open.Trigger),
		Actor:      audit.EscapeControls(open.Actor),
		Access:     open.Access,
		Credential: open.Credential,
		Endpoint:   audit.EscapeControls(open.Endpoint),
		Emulated:   strings.HasPrefix(open.Endpoint, audit.EmulatorPrefix),
		SourceIP:   open.SourceIP,
		ErrorCode:  audit.EscapeControls(closing.ErrorCode),
		Reason:     audit.EscapeControls(plainReason(closing)),
		Params:     requestParams(a.Request),
	}
	if open.Outcome == audit.OutcomeReplayed {
		v.AnsweredFrom = open.RelatedID
	}
	if closing.ErrorCode == scan.CodeNoOutcomeRecorded {
		v.Headline = "This attempt ended without an answer recorded: the process stopped or the audit log failed during the call."
	}
	if a.Outcome != nil {
		v.ClosedTime = moment(a.Outcome.Time)
		v.RequestID = a.Outcome.TCSSRequestID
		if a.Outcome.Outcome == audit.OutcomeSucceeded {
			v.LocalTaskID = taskIDText(a.Outcome.LocalTaskID)
			v.RegistryTaskID = taskIDText(a.Outcome.RegistryTaskID)
		}
	}
	return v
}

// badge names what happened in two or three words: the API call's success is not the scan's.
func badge(o audit.Outcome) string {
	switch o {
	case audit.OutcomeSucceeded:
		return "Scan started"
	case audit.OutcomePending:
		return "Waiting for TCSS"
	case audit.OutcomeRejected:
		return "Refused"
	case audit.OutcomeFailed:
		return "No scan started"
	case audit.OutcomeUnknown:
		return "Outcome unknown"
	case audit.OutcomeReplayed:
		return "Replayed"
	}
	return "Unknown state"
}

// scanBadge is the badge and headline of a started scan, from what TCSS reports about it.
func scanBadge(info scan.ScanInfo) (badge, headline string) {
	switch info.Status {
	case "SCANNED":
		return "Scan finished", "TCSS finished the scan; the results are below."
	case "CANCELED":
		return "Scan canceled", "The scan was canceled before it finished."
	}
	return "Scan started", "TCSS started the scan."
}

// taskIDText shows a task ID; TCSS answers 0 for the side it did not scan.
func taskIDText(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// headline says what an outcome means for the user.
func headline(o audit.Outcome) string {
	switch o {
	case audit.OutcomeSucceeded:
		return "TCSS started the scan."
	case audit.OutcomePending:
		return "Waiting for TCSS to answer."
	case audit.OutcomeRejected:
		return "The request was refused before anything was sent to TCSS."
	case audit.OutcomeFailed:
		return "TCSS did not start a scan."
	case audit.OutcomeUnknown:
		return "TCSS's answer was lost: a scan may or may not have started."
	case audit.OutcomeReplayed:
		return "This request was answered from an earlier attempt with the same idempotency key; nothing was sent to TCSS."
	}
	return "The state of this attempt is not known."
}

// plainReason explains why an attempt did not succeed, in words a person can act on.
func plainReason(rec audit.Record) string {
	code, msg := rec.ErrorCode, rec.ErrorMessage
	switch {
	case rec.Outcome == audit.OutcomeSucceeded || rec.Outcome == audit.OutcomePending:
		return ""
	case code == scan.CodeInvalidRequest:
		return "The request had problems: " + msg
	case code == scan.CodeIdempotencyConflict:
		return msg
	case code == scan.CodeNoOutcomeRecorded:
		return "No outcome was recorded: the process ended or the audit store failed while TCSS was being called. " +
			"A scan may or may not have started: check the TCSS console for a new scan task. If the process logged TCSS's answer, " +
			"vulscan audit reconcile --from-log records it here." + retryReplays(rec)
	case rec.Outcome == audit.OutcomeReplayed:
		return msg
	case code == scan.CodeOutcomeUnknown:
		return "The call to TCSS failed after it may have been received (" + msg + "). Check the TCSS console for a new scan task." +
			retryReplays(rec)
	case code == scan.CodeNotSent:
		return "The request could not be sent to TCSS: " + msg + ". No scan was started; it is safe to try again."
	case scan.IsRateLimited(code):
		return "TCSS was rate limiting (" + code + ": " + rateLimitWhich(code) + "). No scan was started; try again in a moment."
	case scan.IsUnauthorizedOperation(code):
		// The credentials are good; CAM does not let them call the action. (Before the AuthFailure
		// case: AuthFailure.UnauthorizedOperation is one of these.)
		return "Tencent Cloud did not allow the call (" + code + "): " + msg +
			" No scan was started. The function's role needs the TCSS actions in docs/deploy.md (tcss:CreateVulScanTask among them)."
	case strings.HasPrefix(code, "AuthFailure"):
		return "Tencent Cloud refused vulscan's credentials (" + code + "): " + msg + " Check the function's role or keys."
	case code == "ResourceInUse":
		return "TCSS is busy with another scan (" + msg + "). Wait for it to finish, then try again."
	case strings.HasPrefix(code, "InvalidParameter") || code == "MissingParameter":
		return "TCSS refused the parameters: " + msg
	case (rec.Outcome == audit.OutcomeRejected || strings.HasPrefix(code, "vulscan.")) && msg != "":
		// Refused before the call (forbidden, busy, …): TCSS never saw the request.
		return "vulscan refused the request: " + msg
	case msg != "":
		return "TCSS answered " + code + ": " + msg
	}
	return ""
}

// rateLimitWhich says which of Tencent's limits a RequestLimitExceeded answer names (its common
// error codes): vulscan keeps its own calls within TCSS's 20 a second per action, so a sub-coded
// limit was reached with the help of other callers of the same account or address.
func rateLimitWhich(code string) string {
	switch code {
	case scan.CodeRequestLimitExceeded:
		return "more calls of the action than TCSS takes, 20 a second"
	case scan.CodeRequestLimitExceeded + ".UinLimitExceeded":
		return "the Tencent Cloud account's limit, shared by everything that calls with the account"
	case scan.CodeRequestLimitExceeded + ".GlobalRegionUinLimitExceeded":
		return "the Tencent Cloud account's limit across all regions, shared by everything that calls with the account"
	case scan.CodeRequestLimitExceeded + ".IPLimitExceeded":
		return "the limit on calls from vulscan's network address, shared by everything that calls from it"
	}
	return "one of Tencent Cloud's call limits"
}

// retryReplays says what trying an unknown outcome's request again does: with its idempotency
// key (the same form sent again) it only replays this answer, so a scan needs a new key.
func retryReplays(rec audit.Record) string {
	if rec.IdempotencyKey == "" {
		return " Trying again may start a second scan."
	}
	return " Sending the request again with the same idempotency key (or this form again) only shows this answer " +
		"and starts nothing; to start a scan anyway, start a new form, or send a new idempotency key."
}

// requestParams lists the normalized request's non-empty fields in the API's order.
func requestParams(r scan.Request) []templates.Param {
	var out []templates.Param
	add := func(name, value string) {
		if value != "" {
			// A refused request's IDs are as the caller sent them, control characters included.
			out = append(out, templates.Param{Name: name, Value: audit.EscapeControls(value)})
		}
	}
	add("LocalImageScanType", r.LocalImageScanType)
	add("LocalImageIDs", strings.Join(r.LocalImageIDs, ", "))
	add("RegistryImageScanType", r.RegistryImageScanType)
	add("RegistryImageIDs", joinNumbers(r.RegistryImageIDs))
	add("LocalTaskID", taskIDText(r.LocalTaskID))
	add("RegistryTaskID", taskIDText(r.RegistryTaskID))
	add("LocalImageContainerRunning", yes(r.LocalImageContainerRunning))
	add("RegistryImageContainerRunning", yes(r.RegistryImageContainerRunning))
	add("IsLatest", yes(r.IsLatest))
	add("ExcludeLocalImageIDs", strings.Join(r.ExcludeLocalImageIDs, ", "))
	add("ExcludeRegistryImageIDs", joinNumbers(r.ExcludeRegistryImageIDs))
	add("LocalClusterIDs", strings.Join(r.LocalClusterIDs, ", "))
	return out
}

func yes(b bool) string {
	if b {
		return "true"
	}
	return ""
}

func joinNumbers(ns []uint64) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.FormatUint(n, 10)
	}
	return strings.Join(parts, ", ")
}

// consoleURL is the TCSS console, where a task's vulnerabilities and their severities are.
const consoleURL = "https://console.cloud.tencent.com/tcss"

// statusText is a TCSS scan status in words; static/live.js has the same table.
var statusText = map[string]string{
	"NOT_SCAN": "Not scanned yet",
	"SCANNING": "Scanning",
	"SCANNED":  "Finished",
	"CANCELED": "Canceled",
}

// statusView formats DescribeVulScanInfo's answer, as of now. scan.Service.Status has kept
// only the sides the attempt started (the others have task ID 0).
func statusView(info scan.ScanInfo, now time.Time) templates.StatusView {
	progress := min(max(info.ScanProgress, 0), 100)
	v := templates.StatusView{
		Status:        info.Status,
		StatusText:    inWords(statusText, info.Status),
		Done:          info.Status == "SCANNED" || info.Status == "CANCELED",
		Progress:      strconv.FormatFloat(math.Round(progress*10)/10, 'f', -1, 64) + "%",
		ProgressValue: int(math.Round(progress)),
		Started:       tcssMoment(info.ScanStartTime),
		Ended:         tcssMoment(info.ScanEndTime),
		CheckedAt:     moment(now),
		CombinedWith:  taskIDText(info.CombinedWith),
		ConsoleURL:    consoleURL,
	}
	count := func(name, field string, n int64) templates.Count {
		return templates.Count{Name: name, Field: field, Value: strconv.FormatInt(n, 10)}
	}
	if info.LocalTaskID != 0 {
		v.Sides = append(v.Sides, templates.SideView{Name: "Local images", TaskID: taskIDText(info.LocalTaskID), Counts: []templates.Count{
			count("Images scanned", "LocalImageScanCount", info.LocalImageScanCount),
			count("Images with vulnerabilities", "FoundRiskImageCount", info.FoundRiskImageCount),
			count("Vulnerabilities found", "FoundVulCount", info.FoundVulCount),
			count("Vulnerabilities ignored", "IgnoreVulCount", info.IgnoreVulCount),
		}, Severities: severityCounts(info.LocalSeverities)})
	}
	if info.RegistryTaskID != 0 {
		v.Sides = append(v.Sides, templates.SideView{Name: "Registry images", TaskID: taskIDText(info.RegistryTaskID), Counts: []templates.Count{
			count("Images scanned", "RegistryImageScanCount", info.RegistryImageScanCount),
			count("Vulnerabilities found", "RegistryFoundVulCount", info.RegistryFoundVulCount),
		}})
	}
	if info.Status == "SCANNING" && info.RemainingTime > 0 {
		v.Remaining = (time.Duration(info.RemainingTime) * time.Second).String()
	}
	return v
}

// severityCounts shows a finished local task's vulnerabilities by severity; "—" until TCSS can
// tell (static/live.js fills them in when the scan ends).
func severityCounts(sev *scan.Severities) []templates.Count {
	show := func(n int64) string {
		if sev == nil {
			return "—"
		}
		return strconv.FormatInt(n, 10)
	}
	var c, h, m, l int64
	if sev != nil {
		c, h, m, l = sev.Critical, sev.High, sev.Medium, sev.Low
	}
	out := []templates.Count{
		{Name: "Critical", Field: "Critical", Value: show(c)},
		{Name: "High", Field: "High", Value: show(h)},
		{Name: "Medium", Field: "Medium", Value: show(m)},
		{Name: "Low", Field: "Low", Value: show(l)},
	}
	if sev != nil && sev.Partial {
		out = append(out, templates.Count{Name: "Counted over", Value: strconv.FormatInt(sev.Images, 10) + " images (the task has more)"})
	}
	return out
}

// formatTime shows a time in UTC to the second, with the zone named.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// moment is a time as pages show it.
func moment(t time.Time) templates.Moment {
	if t.IsZero() {
		return templates.Moment{}
	}
	return templates.Moment{Text: formatTime(t), Datetime: t.UTC().Format(time.RFC3339)}
}

// tcssZone is the zone TCSS writes its times in (Beijing time, UTC+8), without saying so.
var tcssZone = time.FixedZone("UTC+8", 8*3600)

// tcssMoment converts a time TCSS reported ("2026-12-03 18:35:58", UTC+8) to the pages' UTC,
// noting how TCSS wrote it. A time in another form is shown as TCSS wrote it, zone named.
func tcssMoment(s string) templates.Moment {
	if s == "" {
		return templates.Moment{}
	}
	t, err := time.ParseInLocation(time.DateTime, s, tcssZone)
	if err != nil {
		return templates.Moment{Text: s + " (TCSS time, UTC+8)"}
	}
	m := moment(t)
	m.Note = "TCSS: " + s + " UTC+8"
	return m
}
