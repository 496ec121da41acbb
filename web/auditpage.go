package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/templates"
)

// Page sizes of the audit log.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// maxActorFilter bounds the actor filter; actors are clipped to 256 bytes when recorded.
const maxActorFilter = 256

// auditQuery is the audit page's query: filters as typed, and paging.
type auditQuery struct {
	typed  templates.AuditFilter
	filter audit.Filter // filters only; paging is added per use
	before int64
	limit  int
}

// parseAuditQuery reads the filters and paging (before, limit) shared by the audit page and
// GET /api/audit. Problems are field errors named after the query parameter.
func parseAuditQuery(q url.Values) (auditQuery, []scan.FieldError) {
	a, errs := parseAuditFilter(q)
	a.limit = defaultPageSize
	bad := func(field, format string, args ...any) {
		errs = append(errs, scan.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			bad("before", "The page cursor %q is not a record ID.", scan.Shorten(v, 40))
		}
		a.before = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			bad("limit", "The page size %q is not a number from 1 to %d.", scan.Shorten(v, 40), maxPageSize)
		}
		a.limit = n
	}
	return a, errs
}

// auditQueryOf reads r's query for the audit page, its downloads and GET /api/audit with parse,
// and adds to parse's problems each parameter that is not one of auditParams (what names the
// address for the message): a misspelt filter (outcomes=failed, actr=alice) was ignored, and
// every record was listed, or downloaded, as if it were the filtered part. The error is a 400
// when url.ParseQuery cannot read all of the query (a ";" separator, a bad escape such as %zz,
// more than its 10,000 parameters). r.URL.Query() drops what it cannot read without saying so,
// and a dropped filter answered every record as if it were the filtered list: outcome=failed;
// gave the whole log, and a download of it.
func auditQueryOf(r *http.Request, parse func(url.Values) (auditQuery, []scan.FieldError), what string) (auditQuery, []scan.FieldError, error) {
	q, err := queryOf(r, "its filters cannot be applied")
	if err != nil {
		return auditQuery{}, nil, err
	}
	a, errs := parse(q)
	return a, append(errs, unknownParams(q, auditParams, what)...), nil
}

// queryOf is r's query, or a 400 saying why it cannot be read and what that means (consequence,
// such as "its filters cannot be applied") when url.ParseQuery cannot read all of it.
func queryOf(r *http.Request, consequence string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &httpError{status: http.StatusBadRequest, err: err, message: "The address's query could not be read (" +
			scan.Clean(err.Error(), 120) + "), so " + consequence + ": separate parameters with &, write % as %25, " +
			"and give each value once."}
	}
	return q, nil
}

// auditParams are the query parameters of the audit page, its downloads and GET /api/audit.
var auditParams = []string{"outcome", "trigger", "actor", "task", "from", "to", "before", "limit"}

// parseAuditFilter reads the filters (outcome, trigger, actor, task, from, to) alone, as the
// downloads take them: a download holds every matching record, so paging is not its to read.
func parseAuditFilter(q url.Values) (auditQuery, []scan.FieldError) {
	var errs []scan.FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, scan.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	// A parameter given twice (limit=5&limit=500) cannot be told apart from its other value:
	// reading only the first, as url.Values.Get does, would answer a request other than the one
	// sent without saying so.
	for _, name := range auditParams {
		if n := len(q[name]); n > 1 {
			bad(name, "The parameter %s is given %d times; give it once.", name, n)
		}
	}
	a := auditQuery{
		typed: templates.AuditFilter{
			Outcome: strings.TrimSpace(q.Get("outcome")),
			Trigger: strings.TrimSpace(q.Get("trigger")),
			Actor:   strings.TrimSpace(q.Get("actor")),
			From:    strings.TrimSpace(q.Get("from")),
			To:      strings.TrimSpace(q.Get("to")),
			TaskID:  strings.TrimSpace(q.Get("task")),
		},
	}
	t := a.typed
	if t.Outcome != "" {
		if !audit.Outcome(t.Outcome).Valid() {
			bad("outcome", "Outcome %q is not one of %s.", scan.Shorten(t.Outcome, 40), joinNames(audit.Outcomes))
		}
		a.filter.Outcome = audit.Outcome(t.Outcome)
	}
	if t.Trigger != "" {
		if !audit.Trigger(t.Trigger).Valid() {
			bad("trigger", "Trigger %q is not one of %s.", scan.Shorten(t.Trigger, 40), joinNames(audit.Triggers))
		}
		a.filter.Trigger = audit.Trigger(t.Trigger)
	}
	if len(t.Actor) > maxActorFilter {
		bad("actor", "The actor is longer than %d characters.", maxActorFilter)
	}
	a.filter.Actor = t.Actor
	if t.TaskID != "" {
		n, err := strconv.ParseInt(t.TaskID, 10, 64)
		if err != nil || n <= 0 {
			bad("task", "The task ID %q is not a TCSS task ID (a positive number).", scan.Shorten(t.TaskID, 40))
		}
		a.filter.TaskID = n
	}
	if t.From != "" {
		d, err := time.Parse(time.DateOnly, t.From)
		if err != nil {
			bad("from", "The start date %q is not a date like 2026-01-31.", scan.Shorten(t.From, 40))
		}
		a.filter.Since = d
	}
	if t.To != "" {
		d, err := time.Parse(time.DateOnly, t.To)
		if err != nil {
			bad("to", "The end date %q is not a date like 2026-01-31.", scan.Shorten(t.To, 40))
		}
		a.filter.Until = d.AddDate(0, 0, 1) // the whole end day
	}
	if !a.filter.Since.IsZero() && !a.filter.Until.IsZero() && !a.filter.Until.After(a.filter.Since) {
		bad("to", "The end date is before the start date.")
	}
	return a, errs
}

// filterQuery is the query string ("?…", or "") of the filters alone, for the downloads.
func (a auditQuery) filterQuery() string { return a.query(false, 0) }

// pageQuery is the query string ("?…", or "") of the page of records older than before (0: the
// newest page) with the same filters and page size.
func (a auditQuery) pageQuery(before int64) string { return a.query(true, before) }

func (a auditQuery) query(paged bool, before int64) string {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("outcome", a.typed.Outcome)
	set("trigger", a.typed.Trigger)
	set("actor", a.typed.Actor)
	set("task", a.typed.TaskID)
	set("from", a.typed.From)
	set("to", a.typed.To)
	if paged && a.limit != defaultPageSize {
		set("limit", strconv.Itoa(a.limit))
	}
	if paged && before != 0 {
		set("before", strconv.FormatInt(before, 10))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// maxScannedPerPage bounds the records one page reads when it filters by more than one of
// outcome, trigger and actor. The store has an index per filter, not per combination: a query
// with two of them walks one index and tests the other filter on each record, so a combination
// that matches little (outcome=failed&trigger=timer) read every record of the first filter's
// value, and on a log of a million records held a database connection for seconds, which the
// scans waiting for the same connections could not get (a burst of such page views made scan
// starts fail 503). var, not const, for tests.
var maxScannedPerPage = 10_000

// auditPage lists one page of records, newest first, and the cursor of the next page (0 at the
// end). partial reports that the page stopped at maxScannedPerPage records read, not at its
// size: older records may still match, and the cursor goes on from where it stopped.
func (s *server) auditPage(r *http.Request, a auditQuery) (recs []audit.Record, next int64, partial bool, err error) {
	f := a.filter
	f.BeforeID = a.before
	drive, matches := splitFilter(f)
	if matches == nil {
		f.Limit = a.limit + 1 // one more tells whether there is a next page
		recs, err := s.audit.List(r.Context(), f)
		if err != nil {
			return nil, 0, false, auditUnavailable(err)
		}
		if len(recs) <= a.limit {
			return recs, 0, false, nil
		}
		recs = recs[:a.limit]
		return recs, recs[len(recs)-1].ID, false, nil
	}
	// Several filters: read the records of one, a bounded run of short index reads, and keep
	// those the others match.
	for scanned := 0; scanned < maxScannedPerPage; {
		drive.Limit = min(maxPageSize+1, maxScannedPerPage-scanned)
		batch, err := s.audit.List(r.Context(), drive)
		if err != nil {
			return nil, 0, false, auditUnavailable(err)
		}
		for _, rec := range batch {
			if !matches(rec) {
				continue
			}
			if len(recs) == a.limit {
				return recs, recs[len(recs)-1].ID, false, nil
			}
			recs = append(recs, rec)
		}
		scanned += len(batch)
		if len(batch) < drive.Limit {
			return recs, 0, false, nil // no older record of the first filter
		}
		drive.BeforeID = batch[len(batch)-1].ID
	}
	if drive.BeforeID <= 1 {
		return recs, 0, false, nil
	}
	return recs, drive.BeforeID, true, nil
}

// splitFilter returns, for a filter by more than one of actor, outcome and trigger (and no task,
// which an index narrows to a record or two), the filter by the first of them alone, the one
// most likely to narrow the log, and the test of the others; matches is nil for any other
// filter, which one index serves as it is.
func splitFilter(f audit.Filter) (drive audit.Filter, matches func(audit.Record) bool) {
	drive = f
	switch {
	case f.Actor != "":
		drive.Outcome, drive.Trigger = "", ""
	case f.Outcome != "":
		drive.Trigger = ""
	}
	// A filter drive dropped is tested on each record; one it kept is already applied.
	if f.TaskID != 0 || (f.Outcome == drive.Outcome && f.Trigger == drive.Trigger) {
		return f, nil
	}
	return drive, func(r audit.Record) bool {
		return (f.Outcome == drive.Outcome || r.Outcome == f.Outcome) &&
			(f.Trigger == drive.Trigger || r.Trigger == f.Trigger)
	}
}

// auditUnavailable is the error of a failed read of the audit log.
func auditUnavailable(err error) error {
	return &scan.Error{Code: scan.EUNAVAILABLE, Op: "web.audit", Message: "The audit log could not be read. Try again later.", Err: err}
}

// showAudit renders the audit log page.
func (s *server) showAudit(w http.ResponseWriter, r *http.Request) error {
	a, errs, err := auditQueryOf(r, parseAuditQuery, "the audit page")
	if err != nil {
		return err
	}
	view := templates.AuditView{Base: baseOf(r), Filter: shownFilter(a.typed), Chain: s.chainView(r),
		OutcomeChoices: names(audit.Outcomes), TriggerChoices: names(audit.Triggers)}
	if len(errs) > 0 {
		for _, e := range errs {
			msg := e.Message
			if e.Field != "" && !slices.Contains(auditParams, e.Field) {
				msg = "“" + e.Field + "” " + msg // an unknown parameter's message does not name it
			}
			view.FilterErrors = append(view.FilterErrors, templates.FieldError{Field: e.Field, Message: msg})
		}
		return s.render(w, r, http.StatusBadRequest, templates.AuditPage(view))
	}
	recs, next, partial, err := s.auditPage(r, a)
	if err != nil {
		return err
	}
	view.ExportQuery = a.filterQuery()
	if next != 0 {
		view.NextQuery = a.pageQuery(next)
	}
	if partial {
		view.SearchedTo = next
	}
	if a.before != 0 {
		view.FirstQuery = a.pageQuery(0)
		if view.FirstQuery == "" {
			view.FirstQuery = "?"
		}
	}
	for _, rec := range recs {
		view.Rows = append(view.Rows, auditRow(rec))
	}
	return s.render(w, r, http.StatusOK, templates.AuditPage(view))
}

// shownFilter is the filters as the page shows them again: control characters as escapes
// (shownText), never raw in the page, and cut past maxActorFilter bytes, the longest a filter
// the page takes can be: a refused 200 KB actor was written back whole, a 203 KB page. The
// links to other pages keep the filters as sent (only a page without errors has them).
func shownFilter(f templates.AuditFilter) templates.AuditFilter {
	for _, v := range []*string{&f.Outcome, &f.Trigger, &f.Actor, &f.From, &f.To, &f.TaskID} {
		*v = shownText(scan.Shorten(*v, maxActorFilter))
	}
	return f
}

// chainView tells the page how far the hash chain is verified, and asks for the records appended
// since to be checked in the background. It never waits for a check.
func (s *server) chainView(r *http.Request) templates.ChainView {
	if s.chain == nil {
		return templates.ChainView{Error: "no audit log is configured."}
	}
	st := s.chain.Status()
	s.chain.Poke(r.Context())
	rep := st.Report
	v := templates.ChainView{OK: rep.OK(), Records: rep.Records, Checking: st.Checking}
	switch {
	case st.Err != nil:
		s.log.Error("audit chain not verified", "err", st.Err)
		v.Error = "the audit log could not be read."
	case st.CheckedAt.IsZero():
		v.Pending = true
		return v
	}
	v.CheckedAt = st.CheckedAt.UTC().Format(time.DateTime)
	if rep.Problem != nil {
		v.BadID, v.Problem = rep.Problem.RecordID, rep.Problem.Kind+": "+rep.Problem.Detail
	} else if a := rep.Anchor(); a.ID != 0 {
		v.Anchor = a.String()
	}
	return v
}

// ChainCheckInterval is how often, at most, viewing the audit page starts a check of the records
// appended since the last (a check reads only those).
const ChainCheckInterval = 10 * time.Second

// auditRow is one record as the table shows it.
func auditRow(rec audit.Record) templates.AuditRow {
	row := templates.AuditRow{
		ID:        rec.ID,
		AttemptID: rec.ID,
		Time:      rec.Time.UTC().Format(time.DateTime),
		Datetime:  rec.Time.UTC().Format(time.RFC3339),
		Trigger:   string(rec.Trigger),
		Actor:     audit.EscapeControls(rec.Actor),
		Outcome:   string(rec.Outcome),
	}
	if rec.PendingID != 0 {
		row.AttemptID = rec.PendingID
	}
	if rec.Outcome == audit.OutcomeSucceeded {
		row.LocalTaskID = taskIDText(rec.LocalTaskID)
		row.RegistryTaskID = taskIDText(rec.RegistryTaskID)
	}
	switch {
	case rec.ErrorCode != "":
		row.Detail = rec.ErrorCode + ": " + scan.Shorten(rec.ErrorMessage, 160)
	case rec.TCSSRequestID != "":
		row.Detail = "RequestId " + rec.TCSSRequestID
	case rec.ErrorMessage != "":
		// A replayed record has a message and no code: which attempt answered it.
		row.Detail = scan.Shorten(rec.ErrorMessage, 160)
	case rec.Outcome == audit.OutcomePending:
		row.Detail = "sent to TCSS"
	}
	// Records written before a character became one the scan service escapes hold it raw.
	row.Detail = audit.EscapeControls(row.Detail)
	return row
}

// exportAudit streams every record matching the page's filters (all pages, oldest first) in
// format, through the audit package's writers. The page's paging (limit, before) is ignored.
func (s *server) exportAudit(format audit.Format) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		// The page's paging (before, limit) is taken and means nothing here (see parseAuditFilter).
		a, errs, err := auditQueryOf(r, parseAuditFilter, "an audit download")
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return &httpError{status: http.StatusBadRequest, message: "The filters have problems.", fields: errs}
		}
		out := &countingWriter{w: w, rc: http.NewResponseController(w)}
		rw, err := audit.NewRecordWriter(format, out)
		if err != nil {
			return err
		}
		h := w.Header()
		h.Set("Content-Type", format.ContentType())
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="vulscan-audit.%s"`, format))
		h.Set("Cache-Control", "no-store")
		if r.Method == http.MethodHead {
			// The headers alone: reading the matching records only to drop them cost a whole
			// download's read (11 s at a million records), and through a function a log over
			// its 4 MiB answer made a HEAD fail. One record read tells whether a GET would be
			// answered.
			if _, err := s.audit.List(r.Context(), audit.Filter{Limit: 1}); err != nil {
				h.Del("Content-Disposition")
				return auditUnavailable(err)
			}
			return nil
		}
		if err := s.eachInChunks(r.Context(), a.filter, out, rw.Write); err != nil {
			if out.n == 0 {
				h.Del("Content-Disposition")
				return auditUnavailable(err)
			}
			// Part of the file is on its way: abort the response so that the download fails
			// visibly instead of ending as a silently truncated file.
			s.log.Error("audit export failed", "format", format, "err", err)
			panic(http.ErrAbortHandler)
		}
		if err := rw.Flush(); err != nil {
			s.log.Warn("audit export not delivered", "format", format, "err", err)
		}
		return nil
	}
}

// exportChunk is how many records a download reads from the store at a time.
const exportChunk = 200

// eachInChunks calls fn with every record f matches, oldest first, as the store's Each does, but
// reads them in chunks of exportChunk and calls fn only between reads. fn writes to the client:
// called inside a read, it held one of the store's few connections (and, on SQLite, a read
// transaction that keeps the WAL from being checkpointed) for as long as the client took to
// receive the whole download, minutes for a large log on a slow link, and a few such downloads
// left no connection for the scans, which then failed as if the audit log were down. Records
// are never changed or removed, so reading on after the last ID read misses none.
func (s *server) eachInChunks(ctx context.Context, f audit.Filter, out *countingWriter, fn func(audit.Record) error) error {
	f.Limit = exportChunk
	batch := make([]audit.Record, 0, exportChunk)
	for {
		out.extend(time.Now()) // a read is progress too: the client has taken what came before
		batch = batch[:0]
		err := s.audit.Each(ctx, f, func(r audit.Record) error {
			batch = append(batch, r)
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range batch {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(batch) < exportChunk {
			return nil
		}
		f.AfterID = batch[len(batch)-1].ID
	}
}

// exportStall is how long a download may go without the client taking more of it. The server's
// WriteTimeout bounds a whole response, and a large log takes longer than that to reach a
// client on a slow link: while the client keeps reading, the write deadline moves on.
const exportStall = 30 * time.Second

// countingWriter counts the bytes written through it, to tell whether a response has begun, and
// moves the write deadline on as the download progresses (exportStall).
type countingWriter struct {
	w        io.Writer
	rc       *http.ResponseController
	n        int64
	extended time.Time // when the deadline was last moved
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if now := time.Now(); now.Sub(c.extended) >= time.Second {
		c.extend(now)
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// extend moves the write deadline to exportStall from now.
func (c *countingWriter) extend(now time.Time) {
	// Fails only where deadlines are not supported (a recorder), which need none.
	c.rc.SetWriteDeadline(now.Add(exportStall))
	c.extended = now
}

// names turns enumeration values into strings.
func names[T ~string](vals []T) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

// joinNames lists enumeration values for a message: "a, b, c".
func joinNames[T ~string](vals []T) string { return strings.Join(names(vals), ", ") }
