package web

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/templates"
)

// Names of the form's own fields, beside the API's.
const (
	keyField     = "IdempotencyKey" // the hidden idempotency key
	confirmField = "confirm"        // set by the confirmation step's "start" button
	editField    = "edit"           // set by the confirmation step's "change" button
)

// formOrder is the order of the form's fields; errors are listed in it.
var formOrder = []string{
	"LocalImageScanType", "LocalImageIDs", "LocalClusterIDs", "ExcludeLocalImageIDs",
	"LocalImageContainerRunning", "LocalTaskID",
	"RegistryImageScanType", "RegistryImageIDs", "ExcludeRegistryImageIDs",
	"RegistryImageContainerRunning", "IsLatest", "RegistryTaskID",
	keyField,
}

// newIdempotencyKey returns a fresh random key for one rendering of the form.
func newIdempotencyKey() string { return "form-" + rand.Text() }

// showForm renders the form with a fresh idempotency key, empty or filled from the query (a
// picker returns here with the IDs it found).
func (s *server) showForm(w http.ResponseWriter, r *http.Request) error {
	// r.URL.Query() dropped what it could not read (after a ";", a bad escape): the form came
	// back with fields missing that the link (a picker's, a runbook's) had filled.
	q, err := queryOf(r, "the form cannot be filled from it")
	if err != nil {
		return err
	}
	// A misspelt entry (LocalImageID=…) was ignored, and a value of any length was written back
	// whole into the page; as the audit page does, the form refuses what it does not take (400),
	// naming each problem, and fills in only the entries it takes.
	errs := prefillProblems(q)
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusBadRequest
	}
	return s.render(w, r, status, templates.FormPage(templates.FormView{
		Base: baseOf(r), IdempotencyKey: newIdempotencyKey(), Values: valuesOf(q, shownText), Errors: sortFieldErrors(errs),
	}))
}

// prefillParams are the entries the form's address may fill in: the form's fields, as a picker
// or a runbook's link gives them. Not the idempotency key: the form makes a fresh one.
var prefillParams = slices.DeleteFunc(slices.Clone(formOrder), func(name string) bool { return name == keyField })

// maxPrefillValue bounds an entry the form's address may fill in: a list of scan.MaxListLength
// of the longest IDs (local image IDs, 71 bytes) with room for a separator each.
const maxPrefillValue = scan.MaxListLength * 80

// prefillProblems lists what the form's address gives that the form does not take: unknown
// parameters, an entry given twice, an entry longer than any a scan takes. It removes those
// entries from q, so that the form shows none of them.
func prefillProblems(q url.Values) []scan.FieldError {
	// unknownParams's message lists the names to use, which the form's summary would show in its
	// own words (formWords): here it says what the address can do instead.
	errs := unknownParams(q, prefillParams, "the form's address")
	for i, e := range errs {
		switch {
		case e.Field == keyField:
			errs[i].Message = "cannot be set by the address: the form makes a fresh key for every scan"
		case e.Field != "":
			errs[i].Message = "is not an entry of the scan form, so the address cannot fill it in " +
				"(it names entries as the JSON API does, in the same case)"
		default:
			errs[i].Message = "The address gives more parameters that are not entries of the scan form; they are left out."
		}
	}
	for _, name := range prefillParams {
		switch vs := q[name]; {
		case len(vs) > 1:
			errs = append(errs, scan.FieldError{Field: name, Message: fmt.Sprintf("is given %d times in the address; give it once", len(vs))})
			q.Del(name)
		case len(vs) == 1 && len(vs[0]) > maxPrefillValue:
			errs = append(errs, scan.FieldError{Field: name, Message: fmt.Sprintf(
				"is %d bytes long in the address, longer than any entry a scan takes (%d bytes); it is left out", len(vs[0]), maxPrefillValue)})
			q.Del(name)
		}
	}
	return errs
}

// submitForm handles a post of the form or of the confirmation step. Invalid input re-renders
// the form (422); a broad scan asks for confirmation first; anything that recorded an attempt
// redirects to its page (303), so that reloading the result never posts again.
func (s *server) submitForm(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseFormBody(r); err != nil {
		return err
	}
	values := formValues(r)
	key := r.PostForm.Get(keyField)
	if strings.TrimSpace(key) == "" || len(key) > scan.MaxIdempotencyKeyLen || audit.HasControls(key) {
		// The page writes a fresh key into every form it serves, and the key is what keeps a
		// double submit from starting two scans: a post without one its page could have written
		// (missing, blank, which the service reads as none, too long, control characters)
		// starts nothing. It is recorded, and the form comes back with its values under a fresh
		// key, for one deliberate submit.
		cause := &scan.Error{Code: scan.EINVALID, Op: "web.submitForm", Message: missingFormKey,
			Submitted: submittedForm(r.PostForm)}
		refusal, _ := s.scans.Reject(r.Context(), key, s.caller(r, audit.TriggerForm), cause)
		return s.render(w, r, http.StatusUnprocessableEntity, templates.FormPage(templates.FormView{
			Base: baseOf(r), Values: values, IdempotencyKey: newIdempotencyKey(), Notice: missingFormKeyNotice,
			RecordID: refusal.ID()}))
	}
	view := templates.FormView{Base: baseOf(r), Values: values, IdempotencyKey: key}
	if dups := duplicateFields(r.PostForm); len(dups) > 0 {
		cause := &scan.Error{Code: scan.EINVALID, Op: "web.submitForm", Message: "The form has problems.", Fields: dups,
			Submitted: submittedForm(r.PostForm)}
		refusal, _ := s.scans.Reject(r.Context(), key, s.caller(r, audit.TriggerForm), cause)
		view.RecordID = refusal.ID()
		view.Errors = sortFieldErrors(dups)
		view.IdempotencyKey = newIdempotencyKey()
		return s.render(w, r, http.StatusUnprocessableEntity, templates.FormPage(view))
	}

	if r.PostForm.Get(editField) != "" {
		return s.render(w, r, http.StatusOK, templates.FormPage(view))
	}
	// The request is built from the text as sent: values holds it as shown again, with control
	// characters escaped, which a message quoting an entry would escape a second time.
	req, fieldErrs := requestFromForm(valuesOf(r.PostForm, keepText))
	if len(fieldErrs) > 0 {
		// The request cannot be built, so it is recorded as a refusal and not sent; the rest of
		// it is still validated, so that every problem shows at once.
		all := mergeFieldErrors(fieldErrs, req)
		cause := &scan.Error{Code: scan.EINVALID, Op: "web.submitForm", Message: "The form has problems.", Fields: all,
			Submitted: submittedForm(r.PostForm)}
		refusal, _ := s.scans.Reject(r.Context(), key, s.caller(r, audit.TriggerForm), cause)
		view.RecordID = refusal.ID()
		view.Errors = sortFieldErrors(all)
		return s.render(w, r, http.StatusUnprocessableEntity, templates.FormPage(view))
	}
	if req.Broad() && r.PostForm.Get(confirmField) == "" && req.Normalize().Validate() == nil {
		return s.render(w, r, http.StatusOK, templates.ConfirmPage(templates.ConfirmView{
			Base: view.Base, Values: values, IdempotencyKey: key, Scope: describeScope(req.Normalize()),
		}))
	}

	attempt, err := s.scans.Start(r.Context(), req, key, s.caller(r, audit.TriggerForm))
	var se *scan.Error
	errors.As(err, &se)
	// A refusal rendered below (invalid, conflict, busy) names its record, as the API's error
	// body does; 0, and nothing shown, when none was written.
	view.RecordID = attempt.ID()
	switch {
	case err == nil:
		return redirectToAttempt(w, r, attempt.ID())
	case se != nil && se.Code == scan.EINVALID:
		view.Errors = sortFieldErrors(se.Fields)
		if len(view.Errors) == 0 {
			view.Notice = se.Message
		}
		return s.render(w, r, http.StatusUnprocessableEntity, templates.FormPage(view))
	case se != nil && se.Code == scan.ECONFLICT:
		// This rendering's key already served another request: offer the values again under a
		// fresh key, so that submitting now is a new, deliberate attempt.
		view.IdempotencyKey = newIdempotencyKey()
		view.Notice = se.Message + " Check the values below and submit again to start a new attempt."
		return s.render(w, r, http.StatusConflict, templates.FormPage(view))
	case se != nil && se.Code == scan.EUNAVAILABLE && attempt.ID() == 0:
		// Nothing was recorded or sent: keep the values and the key, so that trying again later
		// is one click and still cannot start two scans.
		view.Notice = se.Message
		setRetryAfter(w, http.StatusServiceUnavailable)
		return s.render(w, r, http.StatusServiceUnavailable, templates.FormPage(view))
	case se != nil && se.Code == scan.EBUSY:
		// Too many scans wait for TCSS: refused (and recorded) before anything started. Keep the
		// values and the key for one click later.
		view.Notice = se.Message
		setRetryAfterFor(w, http.StatusServiceUnavailable, err)
		return s.render(w, r, http.StatusServiceUnavailable, templates.FormPage(view))
	case se != nil && se.Code == scan.ESTARTLIMIT:
		// Refused by the caller's own start limit before anything was recorded: keep the values
		// and the key for one click later.
		view.Notice = se.Message
		setRetryAfterFor(w, http.StatusTooManyRequests, err)
		return s.render(w, r, http.StatusTooManyRequests, templates.FormPage(view))
	case attempt.ID() != 0 && se != nil && se.Code != scan.EUNAVAILABLE:
		// Failed, rate limited, unknown or still in progress: the attempt's page says so.
		return redirectToAttempt(w, r, attempt.ID())
	}
	return err
}

// redirectToAttempt answers 303 with a relative Location, which http.Redirect would make
// absolute and so lose the gateway's stage prefix.
func redirectToAttempt(w http.ResponseWriter, r *http.Request, id int64) error {
	w.Header().Set("Location", baseOf(r)+"scans/"+strconv.FormatInt(id, 10))
	w.WriteHeader(http.StatusSeeOther)
	return nil
}

// parseFormBody parses a url-encoded body; other content types (415) and bodies over
// MaxBodyBytes (413) are refused and recorded.
func (s *server) parseFormBody(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return s.refuse(r, scan.EINVALID, &httpError{status: http.StatusUnsupportedMediaType,
			message: "The form must be sent as application/x-www-form-urlencoded."})
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return s.refuse(r, scan.EINVALID, tooLarge(mbe))
		}
		// Refused on the record like any other: an undecodable body (%zz, a ";" separator) is
		// how a probe would try to pass unseen. A failed read is said in words: its error names
		// the server's own address and port ("read tcp 10.0.0.5:9000->…: i/o timeout").
		detail := scan.Clean(err.Error(), 200)
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
			detail = "the connection failed or sent it too slowly"
		}
		return s.refuse(r, scan.EINVALID, &httpError{status: http.StatusBadRequest,
			message: "The form data could not be read: " + detail + ".", err: err})
	}
	return nil
}

// duplicateFields lists the form's fields sent more than once: each field takes one value, and
// silently using the first would scan something the sender did not ask for.
func duplicateFields(form url.Values) []scan.FieldError {
	var errs []scan.FieldError
	for _, name := range append(slices.Clone(formOrder), confirmField, editField) {
		if n := len(form[name]); n > 1 {
			errs = append(errs, scan.FieldError{Field: name, Message: fmt.Sprintf(
				"was sent %d times; send it once (lists go in one value, separated by commas)", n)})
		}
	}
	return errs
}

// missingFormKey is what is recorded of a form post without a key its page could have written;
// the form's notice adds what to do (missingFormKeyNotice). The attempt's page shows the record,
// where "the values below" are none to submit.
const missingFormKey = "The form arrived without the key its page gives every form (the key keeps a double submit " +
	"from starting two scans), so nothing was started."

// missingFormKeyNotice is the form's notice of such a post, shown above its values.
const missingFormKeyNotice = missingFormKey + " Check the values below and submit again."

// formValues reads the form's inputs to show again (shownText).
func formValues(r *http.Request) templates.FormValues { return valuesOf(r.PostForm, shownText) }

// keepText is text as it was sent.
func keepText(s string) string { return s }

// valuesOf reads the form's fields from f, each text through text: shownText to show them again,
// keepText to build the request.
func valuesOf(f url.Values, text func(string) string) templates.FormValues {
	field := func(name string) string { return text(f.Get(name)) }
	return templates.FormValues{
		LocalImageScanType:            field("LocalImageScanType"),
		LocalImageIDs:                 field("LocalImageIDs"),
		LocalClusterIDs:               field("LocalClusterIDs"),
		ExcludeLocalImageIDs:          field("ExcludeLocalImageIDs"),
		LocalImageContainerRunning:    checked(f.Get("LocalImageContainerRunning")),
		LocalTaskID:                   field("LocalTaskID"),
		RegistryImageScanType:         field("RegistryImageScanType"),
		RegistryImageIDs:              field("RegistryImageIDs"),
		ExcludeRegistryImageIDs:       field("ExcludeRegistryImageIDs"),
		RegistryImageContainerRunning: checked(f.Get("RegistryImageContainerRunning")),
		IsLatest:                      checked(f.Get("IsLatest")),
		RegistryTaskID:                field("RegistryTaskID"),
	}
}

// shownText is typed text as the form holds it and shows it again: line breaks and tabs (which
// separate list entries) stay, other control characters are written as escapes (\x1b), so that
// they neither reach the page raw nor vanish from what the person sees. No valid value holds
// one, so the request built from the text is refused as before, naming the escaped character.
func shownText(s string) string {
	if !audit.HasControls(s) {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if r == '\n' || r == '\r' || r == '\t' {
			b.WriteRune(r)
			continue
		}
		b.WriteString(audit.EscapeControls(string(r)))
	}
	return b.String()
}

// submittedForm is the form as a refusal records it: the request's fields, cleaned (the form's
// own key and buttons are not input).
func submittedForm(f url.Values) json.RawMessage {
	fields := map[string][]string{}
	for name, vals := range f {
		if name != keyField && name != confirmField && name != editField {
			fields[name] = vals
		}
	}
	return scan.Submitted(fields)
}

// checked reads a checkbox: browsers send its value ("true") when it is ticked, nothing when not.
func checked(v string) bool { return v != "" && v != "false" }

// requestFromForm builds the scan request from the form's text. Numbers that are not numbers are
// field errors naming the field; everything else is left to scan's validation.
func requestFromForm(v templates.FormValues) (scan.Request, []scan.FieldError) {
	var errs []scan.FieldError
	numbers := func(field, text string) []uint64 {
		ids, bad := parseIDList(text)
		if len(bad) > 0 {
			errs = append(errs, scan.FieldError{Field: field, Message: fmt.Sprintf(
				"%s %s: registry image IDs are positive whole numbers, one per line or separated by commas",
				quoteEntries(bad), isAre(len(bad), "is not a whole number", "are not whole numbers"))})
		}
		return ids
	}
	taskID := func(field, text string) int64 {
		text = strings.TrimSpace(text)
		if text == "" {
			return 0
		}
		id, err := strconv.ParseInt(text, 10, 64)
		// 0 is no task: the request would carry no task ID and start a new scan instead of the
		// re-run the person asked for. (Negative IDs are refused by scan's validation.)
		if err != nil || id == 0 {
			errs = append(errs, scan.FieldError{Field: field, Message: fmt.Sprintf(
				"%q is not a task ID: enter the whole number TCSS showed for the earlier task, or leave it empty", scan.Shorten(text, 40))})
		}
		return id
	}
	req := scan.Request{
		LocalImageScanType:            v.LocalImageScanType,
		LocalImageIDs:                 splitList(v.LocalImageIDs),
		RegistryImageScanType:         v.RegistryImageScanType,
		RegistryImageIDs:              numbers("RegistryImageIDs", v.RegistryImageIDs),
		LocalTaskID:                   taskID("LocalTaskID", v.LocalTaskID),
		RegistryTaskID:                taskID("RegistryTaskID", v.RegistryTaskID),
		LocalImageContainerRunning:    v.LocalImageContainerRunning,
		RegistryImageContainerRunning: v.RegistryImageContainerRunning,
		IsLatest:                      v.IsLatest,
		ExcludeLocalImageIDs:          splitList(v.ExcludeLocalImageIDs),
		ExcludeRegistryImageIDs:       numbers("ExcludeRegistryImageIDs", v.ExcludeRegistryImageIDs),
		LocalClusterIDs:               splitList(v.LocalClusterIDs),
	}
	return req, errs
}

// splitList splits a textarea into entries: one per line, or separated by commas or spaces.
func splitList(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
}

// parseIDList parses a list of registry image IDs, returning the good ones and the bad entries.
func parseIDList(text string) (ids []uint64, bad []string) {
	for _, e := range splitList(text) {
		n, err := strconv.ParseUint(e, 10, 64)
		if err != nil {
			bad = append(bad, e)
			continue
		}
		ids = append(ids, n)
	}
	return ids, bad
}

// quoteEntries quotes the first few bad entries for a message.
func quoteEntries(entries []string) string {
	const show = 3
	quoted := make([]string, 0, show)
	for _, e := range entries[:min(len(entries), show)] {
		quoted = append(quoted, strconv.Quote(scan.Shorten(e, 40)))
	}
	s := strings.Join(quoted, ", ")
	if len(entries) > show {
		s += fmt.Sprintf(" and %d more", len(entries)-show)
	}
	return s
}

func isAre(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// mergeFieldErrors adds the validation problems of the rest of req to the form's parse errors,
// leaving out fields that already have one (their parsed value is incomplete).
func mergeFieldErrors(parseErrs []scan.FieldError, req scan.Request) []scan.FieldError {
	errs := slices.Clone(parseErrs)
	var se *scan.Error
	if errors.As(req.Normalize().Validate(), &se) {
		for _, f := range se.Fields {
			if !slices.ContainsFunc(parseErrs, func(p scan.FieldError) bool { return p.Field == f.Field }) {
				errs = append(errs, f)
			}
		}
	}
	return errs
}

// sortFieldErrors orders errors as the form orders its fields (stable for one field's errors),
// converting them to the view's type. Fields the form does not know go last.
func sortFieldErrors(errs []scan.FieldError) []templates.FieldError {
	rank := func(field string) int {
		if i := slices.Index(formOrder, field); i >= 0 {
			return i
		}
		return len(formOrder)
	}
	sorted := slices.Clone(errs)
	slices.SortStableFunc(sorted, func(a, b scan.FieldError) int { return rank(a.Field) - rank(b.Field) })
	out := make([]templates.FieldError, len(sorted))
	for i, e := range sorted {
		out[i] = templates.FieldError{Field: e.Field, Message: e.Message}
	}
	return out
}

// describeScope says in words what a broad request will scan, one sentence per side.
func describeScope(r scan.Request) []string {
	var out []string
	if s := describeSide("Local images", r.LocalImageScanType, r.LocalTaskID, len(r.LocalImageIDs), len(r.LocalClusterIDs),
		len(r.ExcludeLocalImageIDs), r.LocalImageContainerRunning, false); s != "" {
		out = append(out, s)
	}
	if s := describeSide("Registry images", r.RegistryImageScanType, r.RegistryTaskID, len(r.RegistryImageIDs), 0,
		len(r.ExcludeRegistryImageIDs), r.RegistryImageContainerRunning, r.IsLatest); s != "" {
		out = append(out, s)
	}
	return out
}

func describeSide(side, scanType string, taskID int64, ids, clusters, excluded int, running, latest bool) string {
	var what string
	switch {
	case taskID != 0:
		return fmt.Sprintf("%s: re-run task %d.", side, taskID)
	case scanType == scan.ScanTypeAll:
		what = "every image (ALL)"
	case scanType == scan.ScanTypeNotScan:
		what = "every image not scanned before (NOT_SCAN)"
	case scanType == scan.ScanTypeImageIDs:
		what = fmt.Sprintf("%d listed %s (IMAGEIDS)", ids, isAre(ids, "image", "images"))
	case scanType == scan.ScanTypeCluster:
		what = fmt.Sprintf("the images of %d %s (CLUSTER)", clusters, isAre(clusters, "cluster", "clusters"))
	default:
		// Not "not scanned", which reads as NOT_SCAN, the form's "Not yet scanned".
		return side + ": none (left out of this scan)."
	}
	var limits []string
	if excluded > 0 {
		limits = append(limits, fmt.Sprintf("leaving out %d %s", excluded, isAre(excluded, "image", "images")))
	}
	if running {
		limits = append(limits, "only images with a running container")
	}
	if latest {
		limits = append(limits, "only the latest version of each image")
	}
	if len(limits) > 0 {
		what += ", " + strings.Join(limits, ", ")
	}
	return side + ": " + what + "."
}
