package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/templates"
)

// statusOf maps each scan error code to its HTTP status. This is the one table; handlers
// return errors and the wrappers (page, api) look the status up here.
//
// Decisions:
//   - EINPROGRESS is 409, as the IETF Idempotency-Key draft asks for a retry that arrives while
//     the first request is still being processed; the body carries the attempt's id.
//   - EUNKNOWN is 504: TCSS's answer never arrived, so a scan may exist. 502 is kept for
//     "TCSS answered with an error, nothing was started", which callers may simply retry.
//   - EINVALID is 422; the JSON API answers 400 for a body it cannot decode (see apiStart).
var statusOf = map[string]int{
	scan.EINVALID:     http.StatusUnprocessableEntity,
	scan.ECONFLICT:    http.StatusConflict,
	scan.EFORBIDDEN:   http.StatusForbidden,
	scan.EINPROGRESS:  http.StatusConflict,
	scan.ENOTFOUND:    http.StatusNotFound,
	scan.EUNAVAILABLE: http.StatusServiceUnavailable,
	scan.EBUSY:        http.StatusServiceUnavailable,
	scan.ERATELIMITED: http.StatusTooManyRequests,
	scan.ESTARTLIMIT:  http.StatusTooManyRequests,
	scan.EUPSTREAM:    http.StatusBadGateway,
	scan.EUNKNOWN:     http.StatusGatewayTimeout,
	scan.EINTERNAL:    http.StatusInternalServerError,
}

// retryAfter is the Retry-After value (seconds) sent with statuses a client should retry later.
var retryAfter = map[int]string{
	http.StatusTooManyRequests:    "1", // TCSS allows 20 calls per second
	http.StatusServiceUnavailable: "5",
}

// inProgressRetryAfter is the Retry-After (seconds) of a retry that finds its attempt still
// waiting for TCSS: soon, but not so soon that a polling client writes a replay record a second.
const inProgressRetryAfter = "2"

// internalMessage is all a caller learns of an internal error; the details go to the log.
const internalMessage = "Internal error."

// httpError is an error of the web layer itself (bad form encoding, wrong content type, …).
type httpError struct {
	status  int
	title   string            // the error page's title; "" names the status (pageTitle)
	message string            // safe to show
	fields  []scan.FieldError // for 400 and 422
	err     error             // the cause, for the log
	id      int64             // the rejected record of a refusal (refuse), 0 when none was written
	// signInAgain is a failed sign-in's address that starts it again, relative to the site
	// root (auth/login?next=…); "" on other errors.
	signInAgain string
}

func (e *httpError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%d %s: %v", e.status, e.message, e.err)
	}
	return fmt.Sprintf("%d %s", e.status, e.message)
}

func (e *httpError) Unwrap() error { return e.err }

// problem is an error as a caller sees it.
type problem struct {
	status  int
	code    string // the scan code, or a web code such as "too_large"
	message string
	fields  []scan.FieldError
	title   string // a web error's own page title (httpError.title), "" when it has none
	id      int64  // a refusal's record (httpError.id), 0 when none
	// signInAgain is httpError.signInAgain.
	signInAgain string
}

// describe turns any error into what the caller may see. Unknown errors are internal.
func describe(err error) problem {
	var he *httpError
	if errors.As(err, &he) {
		return problem{status: he.status, code: webCode(he.status), message: he.message, fields: he.fields,
			title: he.title, id: he.id, signInAgain: he.signInAgain}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return describe(tooLarge(mbe))
	}
	var se *scan.Error
	if errors.As(err, &se) {
		status, ok := statusOf[se.Code]
		if !ok || se.Code == scan.EINTERNAL {
			return problem{status: http.StatusInternalServerError, code: scan.EINTERNAL, message: internalMessage}
		}
		msg := se.Message
		if msg == "" {
			msg = http.StatusText(status) + "."
		}
		return problem{status: status, code: se.Code, message: msg, fields: se.Fields}
	}
	return problem{status: http.StatusInternalServerError, code: scan.EINTERNAL, message: internalMessage}
}

// webCode names the web layer's own errors in JSON bodies.
func webCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return scan.ENOTFOUND
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusMisdirectedRequest:
		return "misdirected"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusUnprocessableEntity:
		return scan.EINVALID
	}
	return "error"
}

// handler is a route that returns its error; page and api render it.
type handler func(w http.ResponseWriter, r *http.Request) error

// page wraps an HTML route: an error becomes an error page.
func (s *server) page(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.pageError(w, r, err)
		}
	})
}

// api wraps a JSON route: an error becomes a JSON error body.
func (s *server) api(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.apiError(w, r, err, 0)
		}
	})
}

// logError records err with its details: loudly for server faults, quietly for caller mistakes.
func (s *server) logError(r *http.Request, p problem, err error) {
	level := s.log.Info
	if p.status >= 500 {
		level = s.log.Error
	}
	level("request failed", "method", r.Method, "path", r.URL.Path, "status", p.status, "err", err)
}

// pageError renders err as an HTML error page.
func (s *server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	p := describe(err)
	s.logError(r, p, err)
	setRetryAfterFor(w, p.status, err)
	msg := p.message
	for _, f := range p.fields {
		msg += " " + strings.TrimSuffix(f.String(), ".") + "."
	}
	title := pageTitle(p.status)
	switch {
	case p.code == scan.EBUSY:
		title = "The server is busy"
	case p.title != "":
		title = p.title
	}
	view := templates.ErrorView{Base: baseOf(r), Status: p.status, Title: title, Message: msg, RecordID: p.id}
	if p.signInAgain != "" {
		view.SignInAgain = view.Base + p.signInAgain
	}
	if rerr := s.render(w, r, p.status, templates.ErrorPage(view)); rerr != nil {
		s.log.Error("error page not rendered", "err", rerr)
		http.Error(w, internalMessage, http.StatusInternalServerError)
	}
}

// pageTitle names an error status in plain words.
func pageTitle(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "The request could not be read"
	case http.StatusUnauthorized:
		return "Sign-in required"
	case http.StatusForbidden:
		return "Request refused"
	case http.StatusNotFound:
		return "Not found"
	case http.StatusMethodNotAllowed:
		return "Method not allowed"
	case http.StatusMisdirectedRequest:
		return "Wrong server name"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusRequestEntityTooLarge:
		return "The request is too large"
	case http.StatusUnsupportedMediaType:
		return "Unsupported content type"
	case http.StatusUnprocessableEntity:
		return "The request has problems"
	case http.StatusTooManyRequests:
		return "TCSS is busy"
	case http.StatusBadGateway:
		return "TCSS refused the request"
	case http.StatusServiceUnavailable:
		return "The audit log is unavailable"
	case http.StatusGatewayTimeout:
		return "TCSS did not answer"
	}
	return "Something went wrong"
}

// apiErrorBody is the one shape of every JSON error.
type apiErrorBody struct {
	Code   string            `json:"code"`
	Errors []scan.FieldError `json:"errors"`
	ID     int64             `json:"id,omitempty"` // the attempt, when one was recorded
}

// apiError writes err as a JSON error body. id, when not 0, names the attempt it concerns;
// else a refusal's own record does.
func (s *server) apiError(w http.ResponseWriter, r *http.Request, err error, id int64) {
	p := describe(err)
	if id == 0 {
		id = p.id
	}
	s.logError(r, p, err)
	body := apiErrorBody{Code: p.code, Errors: apiFields(p.fields), ID: id}
	if len(body.Errors) == 0 {
		body.Errors = []scan.FieldError{{Message: p.message}}
	}
	setRetryAfterFor(w, p.status, err)
	s.writeJSON(w, p.status, body)
}

// WriteRefusal answers a request refused before it could be handed to the handler (a platform
// event that is no valid HTTP request, an answer too large for the platform): in the API's one
// error shape when path is under /api/, whose clients branch on its code, else in plain text.
// path is the request's path as far as it could be read; message is shown as it is.
func WriteRefusal(w http.ResponseWriter, path string, status int, message string) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if !isAPIPath("/" + strings.TrimLeft(path, "/")) {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		w.Write([]byte(message + "\n"))
		return
	}
	code := webCode(status)
	if status == http.StatusInternalServerError {
		code = scan.EINTERNAL
	}
	data, _ := json.Marshal(apiErrorBody{Code: code, Errors: []scan.FieldError{{Message: message}}})
	h.Set("Content-Type", "application/json")
	setRetryAfter(w, status)
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}

// apiFields names each problem's field as an API caller sends it: the idempotency key, which
// the service and the form call IdempotencyKey, comes in the Idempotency-Key header.
func apiFields(fields []scan.FieldError) []scan.FieldError {
	if !slices.ContainsFunc(fields, func(f scan.FieldError) bool { return f.Field == keyField }) {
		return fields
	}
	out := slices.Clone(fields)
	for i := range out {
		if out[i].Field == keyField {
			out[i].Field = "Idempotency-Key"
		}
	}
	return out
}

// setRetryAfterFor sets Retry-After from err when it says how long to wait (a caller over its
// start limit), else from the status's default.
func setRetryAfterFor(w http.ResponseWriter, status int, err error) {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(scan.RetrySeconds(ra.RetryAfter()), 10))
		return
	}
	if scan.ErrorCode(err) == scan.EINPROGRESS {
		// The attempt ends within the longest call (scan.MaxCallDuration); most calls take well
		// under a second. Unlike a key used with other parameters (also 409), waiting helps.
		w.Header().Set("Retry-After", inProgressRetryAfter)
		return
	}
	setRetryAfter(w, status)
}

func setRetryAfter(w http.ResponseWriter, status int) {
	if v, ok := retryAfter[status]; ok {
		w.Header().Set("Retry-After", v)
	}
}

// writeJSON writes v with status.
func (s *server) writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		s.log.Error("JSON answer not encoded", "err", err)
		status, data = http.StatusInternalServerError, []byte(`{"code":"internal","errors":[{"field":"","message":"Internal error."}]}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(data)+1))
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}

// pageBufferBytes is the buffer a page is rendered into before it grows: the form is about
// 10 KB. Grown from empty instead, the buffer was copied nine times, 32 KB of fresh memory for a
// function's first answer.
const pageBufferBytes = 16 << 10

// render writes an HTML page. It renders into a buffer first, so that a failing template
// becomes an error page rather than half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) error {
	var buf bytes.Buffer
	buf.Grow(pageBufferBytes)
	// Not cut short when the request's context ends (its deadline passed, its connection
	// failed): templ stops at a done context, and the answer would become a bare 500.
	if err := c.Render(context.WithoutCancel(r.Context()), &buf); err != nil {
		return fmt.Errorf("render %s: %w", r.URL.Path, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages carry fresh idempotency keys and live status: never reuse a stored copy.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if _, err := w.Write(buf.Bytes()); err != nil {
		// The client went away; there is no one left to tell.
		s.log.Debug("page not delivered", "path", r.URL.Path, "err", err)
	}
	return nil
}

// tooLarge is the answer to a body over MaxBodyBytes.
func tooLarge(mbe *http.MaxBytesError) *httpError {
	return &httpError{status: http.StatusRequestEntityTooLarge, err: mbe,
		message: fmt.Sprintf("The request body is larger than %d bytes.", mbe.Limit)}
}
