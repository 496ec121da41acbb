package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

// The JSON API, for API-gateway callers. Every error has one shape (apiErrorBody):
//
//	{"code":"invalid","errors":[{"field":"LocalImageIDs","message":"…"}],"id":12}
//
// POST /api/scans takes a JSON object whose fields are CreateVulScanTask's own
// ({"LocalImageScanType":"ALL"}), at most MaxBodyBytes, with Content-Type application/json,
// and an optional Idempotency-Key header (at most scan.MaxIdempotencyKeyLen characters). It
// answers:
//
//	201 Created   {id, outcome, LocalTaskID, RegistryTaskID, RequestId}; Location: scans/{id}
//	200 OK        the same body, replayed: the key was used before with the same request
//	400           the body is not a JSON object of the API's fields (unknown field, wrong type);
//	              audited as rejected
//	413           the body is larger than MaxBodyBytes
//	415           the Content-Type is not application/json
//	422           the request breaks a rule (scan.Request.Validate); audited as rejected
//	409           the key was used with another request (conflict), or its attempt is still
//	              in progress
//	429           TCSS is rate limiting; Retry-After says when to try again
//	502           TCSS refused; nothing was started
//
//	After a 429 or 502 the Idempotency-Key is free again: a retry with it makes a new attempt
//	(linked to the refused one by related_id). After a 201, 200 or 504 the key stays bound to
//	that attempt: a retry replays it and never starts a second scan.
//	503           the audit log cannot be written, or too many requests already wait for TCSS's
//	              pace or the server is stopping (code "busy", with Retry-After; recorded as
//	              rejected); nothing was started, unless the body carries an id: then TCSS was
//	              called and the log could not record its outcome (the message says what TCSS
//	              answered), and the key stays bound to that attempt
//	504           TCSS's answer was lost: a scan may exist (see GET /api/scans/{id})
//
// Errors about an attempt that was recorded carry its id.

// startAnswer is the body of a started (or replayed) scan.
type startAnswer struct {
	ID             int64  `json:"id"`
	Outcome        string `json:"outcome"`
	LocalTaskID    int64  `json:"LocalTaskID"`
	RegistryTaskID int64  `json:"RegistryTaskID"`
	RequestID      string `json:"RequestId"`
}

// apiStart is POST /api/scans.
func (s *server) apiStart(w http.ResponseWriter, r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return s.refuse(r, scan.EINVALID, &httpError{status: http.StatusUnsupportedMediaType, message: "Send the request as application/json."})
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return s.refuse(r, scan.EINVALID, tooLarge(mbe))
		}
		return s.refuse(r, scan.EINVALID, &httpError{status: http.StatusBadRequest, message: "The request body could not be read.", err: err})
	}
	caller := s.caller(r, audit.TriggerAPI)
	if len(r.Header.Values("Idempotency-Key")) > 1 {
		// Which one the caller meant cannot be told: a retry might send the other.
		cause := &scan.Error{Code: scan.EINVALID, Op: "web.apiStart", Message: "The request has a problem.",
			Fields: []scan.FieldError{{Field: keyField, Message: "is sent more than once; send one key"}}}
		a, _ := s.scans.Reject(r.Context(), "", caller, cause)
		s.apiError(w, r, &httpError{status: http.StatusBadRequest, message: cause.Message, fields: cause.Fields, err: cause}, a.ID())
		return nil
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	req, err := scan.DecodeJSON(body, nil)
	if err != nil {
		var se *scan.Error
		if !errors.As(err, &se) {
			return err
		}
		// Every problem at once, as for a request that decodes: a retry that fixes only the body
		// would otherwise be refused again, for its key.
		if kp, bad := scan.KeyProblem(key); bad {
			se.Fields = append(se.Fields, kp)
		}
		// Recorded as a refusal; answered 400 rather than 422: the body is not a request at all.
		a, _ := s.scans.Reject(r.Context(), key, caller, err)
		s.apiError(w, r, &httpError{status: http.StatusBadRequest, message: se.Message, fields: se.Fields, err: err}, a.ID())
		return nil
	}
	a, err := s.scans.Start(r.Context(), req, key, caller)
	if err != nil {
		s.apiError(w, r, err, a.ID())
		return nil
	}
	status := http.StatusCreated
	if a.Replayed {
		status = http.StatusOK
	}
	out := a.Closing()
	w.Header().Set("Location", "scans/"+strconv.FormatInt(a.ID(), 10))
	s.writeJSON(w, status, startAnswer{
		ID: a.ID(), Outcome: string(a.State()),
		LocalTaskID: out.LocalTaskID, RegistryTaskID: out.RegistryTaskID, RequestID: out.TCSSRequestID,
	})
	return nil
}

// attemptAnswer is GET /api/scans/{id}: the attempt page as JSON.
type attemptAnswer struct {
	ID             int64          `json:"id"`
	Outcome        string         `json:"outcome"`
	Time           time.Time      `json:"time"`
	AnsweredAt     *time.Time     `json:"answered_at,omitempty"`
	Trigger        string         `json:"trigger"`
	Actor          string         `json:"actor"`
	SourceIP       string         `json:"source_ip"`
	Params         scan.Request   `json:"params"`
	LocalTaskID    int64          `json:"LocalTaskID"`
	RegistryTaskID int64          `json:"RegistryTaskID"`
	RequestID      string         `json:"RequestId"`
	ErrorCode      string         `json:"error_code,omitempty"`
	ErrorMessage   string         `json:"error_message,omitempty"`
	Status         *scan.ScanInfo `json:"status,omitempty"`
	StatusError    string         `json:"status_error,omitempty"`
}

// apiScan is GET /api/scans/{id}.
func (s *server) apiScan(w http.ResponseWriter, r *http.Request) error {
	a, err := s.attemptOf(r)
	if err != nil {
		return err
	}
	if redirectToOpening(w, r, a) {
		return nil
	}
	open, closing := a.Record, a.Closing()
	ans := attemptAnswer{
		ID: a.ID(), Outcome: string(a.State()), Time: open.Time,
		Trigger: string(open.Trigger), Actor: open.Actor, SourceIP: open.SourceIP,
		Params:      a.Request,
		LocalTaskID: closing.LocalTaskID, RegistryTaskID: closing.RegistryTaskID, RequestID: closing.TCSSRequestID,
		ErrorCode: closing.ErrorCode, ErrorMessage: closing.ErrorMessage,
	}
	if a.Outcome != nil {
		t := a.Outcome.Time
		ans.AnsweredAt = &t
	}
	if a.State() == audit.OutcomeSucceeded {
		info, err := s.liveStatus(r.Context(), a)
		if err != nil {
			ans.StatusError = err.Error()
		} else {
			ans.Status = info
		}
	}
	s.writeJSON(w, http.StatusOK, ans)
	return nil
}

// auditAnswer is GET /api/audit: one page of records, newest first.
type auditAnswer struct {
	Records []json.RawMessage `json:"records"` // audit.Record each, encoded once (withinAnswerBytes)
	// NextBefore is the before= cursor of the next (older) page; 0 on the last page. A page
	// holds fewer records than its limit when they would not fit in maxAuditAnswerBytes.
	NextBefore int64 `json:"next_before"`
	// Next is the relative URL of the next page, "" on the last page.
	Next string `json:"next,omitempty"`
}

// apiAudit is GET /api/audit, with the page's filters and paging.
func (s *server) apiAudit(w http.ResponseWriter, r *http.Request) error {
	a, errs, err := auditQueryOf(r, parseAuditQuery, "the audit log")
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return &httpError{status: http.StatusBadRequest, message: "The filters have problems.", fields: errs}
	}
	recs, next, _, err := s.auditPage(r, a)
	if err != nil {
		return err
	}
	encoded, next, err := withinAnswerBytes(recs, next)
	if err != nil {
		return err
	}
	ans := auditAnswer{Records: encoded, NextBefore: next}
	if next != 0 {
		ans.Next = "audit" + a.pageQuery(next)
	}
	s.writeJSON(w, http.StatusOK, ans)
	return nil
}

// maxAuditAnswerBytes bounds the records of one page of GET /api/audit. A record's params hold
// up to three lists of scan.MaxListLength image IDs (tens of KB), so a page of 200 such records
// was several MB: served in HTTP mode, yet over what a Lambda or SCF gateway carries
// (platform.MaxResponseBytes, 4 MiB), where the same request was answered with a plain-text 500.
const maxAuditAnswerBytes = 2 << 20

// withinAnswerBytes encodes a page's records, cut before the one that would take it past
// maxAuditAnswerBytes (never before its first), and returns the cursor of the records cut off.
// Each record is encoded once: the answer carries these encodings.
func withinAnswerBytes(recs []audit.Record, next int64) ([]json.RawMessage, int64, error) {
	encoded := make([]json.RawMessage, 0, len(recs))
	size := 0
	for i, rec := range recs {
		b, err := json.Marshal(rec)
		if err != nil {
			return nil, 0, err
		}
		size += len(b) + 1
		if size > maxAuditAnswerBytes && i > 0 {
			return encoded, recs[i-1].ID, nil
		}
		encoded = append(encoded, b)
	}
	return encoded, next, nil
}

// maxUnknownParams bounds the parameters an answer names one by one as unknown: a query of
// thousands of made-up names is answered in a few lines, not one error each.
const maxUnknownParams = 10

// unknownParams names each query parameter of q that is not one of known, the first
// maxUnknownParams of them, and counts the rest; what names the address for the message.
// Ignored, a misspelt filter (outcomes=failed) answered every record as if it were the
// filtered list.
func unknownParams(q url.Values, known []string, what string) []scan.FieldError {
	var errs []scan.FieldError
	more := 0
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if slices.Contains(known, name) {
			continue
		}
		if len(errs) == maxUnknownParams {
			more++
			continue
		}
		errs = append(errs, scan.FieldError{Field: audit.EscapeControls(scan.Shorten(name, 40)),
			Message: "is not a parameter of " + what + ": use " + strings.Join(known, ", ")})
	}
	if more > 0 {
		errs = append(errs, scan.FieldError{Message: fmt.Sprintf(
			"%d more parameters are not parameters of %s either: use only %s", more, what, strings.Join(known, ", "))})
	}
	return errs
}
