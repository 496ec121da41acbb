package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// Codes vulscan writes into the ErrorCode of records it makes itself (Tencent's codes fill the
// rest).
const (
	CodeInvalidRequest      = "vulscan.InvalidRequest"
	CodeIdempotencyConflict = "vulscan.IdempotencyConflict"
	CodeForbidden           = "vulscan.Forbidden"
	CodeNotSent             = "vulscan.NotSent"
	CodeOutcomeUnknown      = "vulscan.OutcomeUnknown"
	CodeBusy                = "vulscan.Busy"
)

// Bounds on what callers put into a record, so one request cannot bloat the log.
const (
	maxActorLen      = 256
	maxUserAgentLen  = 512
	maxSourceIPLen   = 64
	maxRequestIDLen  = 128
	maxAccessLen     = 32
	maxEndpointLen   = 256
	maxCredentialLen = 256
	// MaxIdempotencyKeyLen bounds idempotency keys; longer keys are refused.
	MaxIdempotencyKeyLen = 128
)

// Service starts audited scans: every trigger calls Start, and nothing reaches TCSS without a
// pending record written first.
type Service struct {
	scanner Scanner
	log     AuditLog
	now     Clock
	logger  *slog.Logger
	opts    Options
	// severities keeps finished tasks' severity breakdowns (see severityTTL).
	severities severityCache
}

// Options tune how the service bounds a TCSS call and keeps its outcome. The zero value of a
// field means its default.
type Options struct {
	// CallTimeout bounds one CreateVulScanTask call (default DefaultCallTimeout), counted from
	// the attempt's start, its pending record's append included (see callContext). The call also
	// ends AnswerMargin before the caller's own deadline, so that the outcome is recorded and the
	// caller answered (504 naming the attempt) before the request or invocation runs out.
	CallTimeout time.Duration
	// AnswerMargin is the time kept after the call for the outcome and the answer (default
	// DefaultAnswerMargin).
	AnswerMargin time.Duration
	// OutcomeTries is how many times the outcome record's append is tried before giving up
	// (default 5), within OutcomeBudget of the first try (default 8 s: a store that waits on a
	// lock must not hold the caller's answer past its deadline); OutcomeBackoff is the wait
	// before try n+1 (default 50ms doubling to 800ms).
	OutcomeTries   int
	OutcomeBudget  time.Duration
	OutcomeBackoff func(try int) time.Duration
	// Stranded receives, as one JSON line, every outcome record the store would not take, so
	// that it survives in the platform's log for `vulscan audit reconcile --from-log`
	// (default os.Stderr).
	Stranded io.Writer
}

// Defaults of Options. MaxCallDuration is the longest a pending attempt can honestly stay
// open: the call, then the outcome's retried append; reconciliation leaves younger attempts alone.
const (
	DefaultCallTimeout  = 40 * time.Second
	DefaultAnswerMargin = 3 * time.Second
	MaxCallDuration     = DefaultCallTimeout + 10*time.Second // the call, the outcome's budget, slack
)

func (o Options) withDefaults() Options {
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.AnswerMargin <= 0 {
		o.AnswerMargin = DefaultAnswerMargin
	}
	if o.OutcomeTries <= 0 {
		o.OutcomeTries = 5
	}
	if o.OutcomeBudget <= 0 {
		o.OutcomeBudget = 8 * time.Second
	}
	if o.OutcomeBackoff == nil {
		o.OutcomeBackoff = func(try int) time.Duration { return min(50*time.Millisecond<<try, 800*time.Millisecond) }
	}
	if o.Stranded == nil {
		o.Stranded = os.Stderr
	}
	return o
}

// NewService returns a Service that calls TCSS through scanner and records every attempt in log.
// now may be nil (time.Now); logger may be nil (slog.Default()); opts, at most one, tune it.
func NewService(scanner Scanner, log AuditLog, now Clock, logger *slog.Logger, opts ...Options) *Service {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	return &Service{scanner: scanner, log: log, now: now, logger: logger, opts: o.withDefaults()}
}

// Attempt is one try at starting a scan as the audit log tells it: the record that opened it
// (pending, or rejected) and, once TCSS has answered, the outcome record that closed it.
type Attempt struct {
	Record   audit.Record  // the pending or rejected record; its ID names the attempt
	Outcome  *audit.Record // the succeeded/failed/unknown record; nil while pending or when rejected
	Request  Request       // the normalized request, as audited
	Replayed bool          // answered from an earlier attempt with the same idempotency key
}

// ID is the attempt's identifier: the ID of the record that opened it.
func (a Attempt) ID() int64 { return a.Record.ID }

// State is where the attempt stands: the outcome record's outcome, or the opening record's.
func (a Attempt) State() audit.Outcome {
	if a.Outcome != nil {
		return a.Outcome.Outcome
	}
	return a.Record.Outcome
}

// Closing is the record that says how the attempt ended: the outcome record, else the opening one.
func (a Attempt) Closing() audit.Record {
	if a.Outcome != nil {
		return *a.Outcome
	}
	return a.Record
}

// Start validates req, records a pending attempt, calls TCSS CreateVulScanTask and records the
// outcome. key, when not empty, makes the call idempotent for the caller's actor (a key is scoped
// to its actor: another actor's same key is a key of its own): the same key with the same
// normalized request returns the actor's first attempt (Replayed, and recorded as a replay) without calling TCSS
// again, as long as that attempt started or may have started a scan (pending, succeeded,
// unknown). After a definite refusal (failed: TCSS's error, rate limiting, never sent) the key is
// free, and a retry with it is a new attempt whose RelatedID names the refused one.
//
// The returned Attempt is valid whenever a record was written, also alongside an error.
// Errors are *Error with code:
//   - EINVALID: the request (or key) is wrong; Fields lists every problem. Audited as rejected.
//   - ECONFLICT: key was used before with another request. Audited as rejected.
//   - EINPROGRESS: key belongs to an attempt that is still pending and younger than
//     MaxCallDuration. An older one has no live call left: it is closed as unknown, as
//     reconciliation does (CodeNoOutcomeRecorded), and replayed as such (EUNKNOWN).
//   - EUNAVAILABLE: the audit log could not be written; TCSS was not called (or, if the outcome
//     record failed, the message says what TCSS answered).
//   - ERATELIMITED, EUPSTREAM: TCSS refused; nothing was started. Audited as failed.
//   - EUNKNOWN: TCSS's answer was lost; a scan may exist. Audited as unknown.
func (s *Service) Start(ctx context.Context, req Request, key string, c Caller) (Attempt, error) {
	const op = "scan.Start"
	began := time.Now() // the attempt's record is stamped now: its call is timed from here
	norm := req.Normalize()
	params, err := paramsOf(norm)
	if err != nil {
		return Attempt{}, &Error{Code: EINTERNAL, Op: op, Message: "Internal error.", Err: err}
	}
	key = strings.TrimSpace(key)
	base := s.newRecord(c, params, key)

	if verr := validateAttempt(norm, key); verr != nil {
		return s.reject(ctx, base, norm, verr)
	}

	pendingRec := base
	pendingRec.Outcome = audit.OutcomePending
	pendingRec.RelatedID = s.refusedBefore(ctx, base.Actor, key)
	pending, err := s.log.Append(ctx, pendingRec)
	if errors.Is(err, ErrDuplicateKey) {
		return s.replay(ctx, base, norm)
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "audit log unavailable; TCSS not called", "op", op, "err", err)
		switch {
		case errors.Is(err, audit.ErrNotDurable) && pending.ID != 0:
			s.closeNotSent(ctx, pending, "the pending record could not be made durable", err)
		case key != "":
			if p, ok := s.committedAnyway(ctx, pendingRec); ok {
				s.closeNotSent(ctx, p, "the store reported the pending record's append as failed, though it kept the record", err)
			}
		}
		return Attempt{}, &Error{Code: EUNAVAILABLE, Op: op,
			Message: "The audit log is unavailable, so no scan was started. Try again later.", Err: err}
	}
	attempt := Attempt{Record: pending, Request: norm}

	callCtx, cancel := s.callContext(ctx, began)
	ids, callErr := s.scanner.CreateVulScanTask(callCtx, norm)
	cancel()
	outcomeRec := closeRecord(pending, s.now().UTC(), ids, callErr)
	stored, err := s.appendOutcome(ctx, outcomeRec)
	if err != nil {
		return attempt, &Error{Code: EUNAVAILABLE, Op: op, Err: err, Message: unrecordedOutcome(outcomeRec, pending.ID)}
	}
	attempt.Outcome = &stored
	if stored.ErrorCode == CodeNotSent && lifetimeEnded(ctx) {
		// Not TCSS's refusal: this process is stopping (a server's grace ran out, a signal to the
		// CLI) and ended the call before it was sent. The key is free; another instance, or this
		// one restarted, takes the retry.
		return attempt, &Error{Code: EBUSY, Op: op, Err: &BusyError{Wait: stoppingRetry}, Message: fmt.Sprintf(
			"The request was not sent to TCSS because vulscan is stopping, so no scan was started; try again in %d s.",
			RetrySeconds(stoppingRetry)) + keyFreed(stored)}
	}
	return attempt, outcomeError(op, stored, callErr)
}

// stoppingRetry is the Retry-After of a start cut short by a stopping process: as the queue's.
const stoppingRetry = stoppedRetry

// lifetimeEnded reports whether the call lifetime ctx carries (WithCallLifetime) has ended: the
// process is stopping.
func lifetimeEnded(ctx context.Context) bool {
	life, ok := ctx.Value(callLifetimeKey{}).(context.Context)
	return ok && life.Err() != nil
}

// unrecordedOutcome tells the caller what TCSS did when the audit log would not take the
// outcome. An unknown outcome is no answer of TCSS's: it says so, and leaves the transport's own
// error to the record and the log.
func unrecordedOutcome(rec audit.Record, attempt int64) string {
	const rest = "attempt %d stays pending until `vulscan audit reconcile --from-log` puts the outcome back from this process's log."
	if rec.Outcome == audit.OutcomeUnknown {
		return fmt.Sprintf("TCSS's answer was lost, so a scan may or may not have started, and the audit log could not record even that; "+
			rest+keyBound(rec), attempt)
	}
	return fmt.Sprintf("TCSS answered (%s) but the audit log could not record it; "+rest+" %s", rec.Outcome, attempt, describeOutcome(rec))
}

// closeNotSent records a failed outcome (CodeNotSent) for a pending record that was committed
// although its append failed (why says how), so TCSS was not called: otherwise it stays pending until
// reconciliation closes it as unknown, which keeps its idempotency key bound, and a caller with a
// fixed key (a nightly job's) could never start the scan that was never started. Outcomes need no
// sync, so the store takes it after the failure; if it does not, reconciliation still closes
// the attempt.
func (s *Service) closeNotSent(ctx context.Context, pending audit.Record, why string, cause error) {
	rec := closeRecord(pending, s.now().UTC(), TaskIDs{}, fmt.Errorf("%s, so TCSS was not called: %w", why, cause))
	if _, err := s.appendOutcome(ctx, rec); err != nil {
		s.logger.ErrorContext(ctx, "audit: attempt left pending after its record could not be made durable", "attempt", pending.ID, "err", err)
	}
}

// committedAnyway finds the pending record rec when its append failed although the store kept
// it (the connection lost, or the request cancelled, during the COMMIT that went through): its
// key's newest pending record, stamped with rec's time to the nanosecond and holding rec's
// request, with no outcome. TCSS was not called for it, and left pending it would be closed as
// unknown and keep the key bound for good, refusing every retry of a scan that never started.
// A store that cannot answer the lookup leaves it to reconciliation.
func (s *Service) committedAnyway(ctx context.Context, rec audit.Record) (audit.Record, bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.OutcomeBudget)
	defer cancel()
	p, err := s.log.PendingByKey(ctx, rec.Actor, rec.IdempotencyKey)
	if err != nil || !p.Time.Equal(rec.Time) || !bytes.Equal(p.Params, rec.Params) {
		return audit.Record{}, false
	}
	if _, err := s.log.OutcomeOf(ctx, p.ID); !errors.Is(err, ErrNotFound) {
		return audit.Record{}, false
	}
	return p, true
}

type callLifetimeKey struct{}

// WithCallLifetime returns ctx carrying life: a TCSS call started under ctx (or a context derived
// from it) is cut off when life ends, a server's hard stop after its grace, though not when ctx
// itself is cancelled, a client that went away (see callContext).
func WithCallLifetime(ctx, life context.Context) context.Context {
	return context.WithValue(ctx, callLifetimeKey{}, life)
}

// callContext bounds the TCSS call: CallTimeout, and AnswerMargin before ctx's own deadline (the
// request's, or the invocation's), so that a slow TCSS ends as an unknown outcome the caller is
// told about rather than as a connection the server or platform cuts. The caller going away
// (a client that disconnects, a gateway that gives up) does not end it: the pending record is
// written, and a call cut short would turn a scan TCSS started into an unknown outcome, its task
// IDs lost. Only the lifetime WithCallLifetime gave ctx ends it early.
//
// CallTimeout counts from began, when the attempt's pending record was stamped, not from the
// call: a pending append that waited for the store (SQLite's busy timeout is 20 s) would
// otherwise push the call, and its outcome, past MaxCallDuration of the record's time, when
// reconciliation (a server's pass, `vulscan audit reconcile`) may close the attempt as unknown
// while TCSS is still answering it.
func (s *Service) callContext(ctx context.Context, began time.Time) (context.Context, context.CancelFunc) {
	// Context deadlines are wall-clock time, whatever the service's (injectable) clock says.
	deadline := began.Add(s.opts.CallTimeout)
	if d, ok := ctx.Deadline(); ok {
		// A short budget keeps a quarter of it for the answer rather than the whole margin.
		margin := min(s.opts.AnswerMargin, time.Until(d)/4)
		if d.Add(-margin).Before(deadline) {
			deadline = d.Add(-margin)
		}
	}
	callCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	life, ok := ctx.Value(callLifetimeKey{}).(context.Context)
	if !ok {
		return callCtx, cancel
	}
	if life.Err() != nil {
		// Already over: cancel now, not in AfterFunc's goroutine, which may run only after the
		// call has been sent (and turn a stop before sending into an unknown outcome).
		cancel()
		return callCtx, cancel
	}
	stop := context.AfterFunc(life, cancel)
	return callCtx, func() { stop(); cancel() }
}

// appendOutcome records TCSS's answer, retrying a failing store with bounded backoff: the scan
// may have started, so its outcome must not be lost to a moment's lock or restart. The caller
// may have gone away meanwhile; the record is written regardless. When every try fails, the
// whole record goes to Stranded as one JSON line, for `vulscan audit reconcile --from-log`.
// Every try ends with the budget too: a store waiting on a lock (SQLite's busy timeout is 20 s)
// would otherwise hold one try, and the caller's answer, past the budget. The budget also ends
// at ctx's deadline, when that comes first: a function's invocation is stopped by its platform
// soon after it, and the outcome must be in the stranded line by then, not lost with the
// process. It never leaves less than minOutcomeTry: a healthy store appends in milliseconds, and
// a call that ran up to the deadline still deserves that try.
func (s *Service) appendOutcome(ctx context.Context, rec audit.Record) (audit.Record, error) {
	now := time.Now()
	deadline := now.Add(s.opts.OutcomeBudget)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = later(d, now.Add(min(minOutcomeTry, s.opts.OutcomeBudget)))
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	var err error
	for try := range s.opts.OutcomeTries {
		if try > 0 {
			wait := s.opts.OutcomeBackoff(try - 1)
			if time.Now().Add(wait).After(deadline) {
				break
			}
			time.Sleep(wait)
		}
		var stored audit.Record
		if stored, err = s.log.Append(ctx, rec); err == nil {
			return stored, nil
		}
		s.logger.WarnContext(ctx, "outcome not recorded yet; retrying", "pending_id", rec.PendingID, "try", try+1, "err", err)
	}
	s.logger.ErrorContext(ctx, "outcome not recorded: it is in the stranded-outcome line", "pending_id", rec.PendingID,
		"outcome", rec.Outcome, "local_task_id", rec.LocalTaskID, "registry_task_id", rec.RegistryTaskID,
		"tcss_request_id", rec.TCSSRequestID, "err", err)
	if werr := WriteStranded(s.opts.Stranded, rec); werr != nil {
		s.logger.ErrorContext(ctx, "stranded outcome not written", "pending_id", rec.PendingID, "err", werr)
	}
	return audit.Record{}, err
}

// minOutcomeTry is the least time the outcome's append is given, however close the caller's
// deadline.
const minOutcomeTry = 250 * time.Millisecond

func later(t, u time.Time) time.Time {
	if u.After(t) {
		return u
	}
	return t
}

// refusedBefore returns the attempt a retry follows: actor's newest attempt with this key, when
// TCSS definitely refused it (failed), which freed the key; else 0. The store decides whether the
// key is free when the retry is appended; this only links the record to the refusal. A lookup
// error leaves the link out: the append that follows meets the same store and answers for it.
func (s *Service) refusedBefore(ctx context.Context, actor, key string) int64 {
	if key == "" {
		return 0
	}
	prev, err := s.log.PendingByKey(ctx, actor, key)
	if err != nil {
		return 0
	}
	out, err := s.log.OutcomeOf(ctx, prev.ID)
	if err != nil || out.Outcome != audit.OutcomeFailed {
		return 0
	}
	return prev.ID
}

// Bound reports whether key holds an attempt of actor's that a retry with it is answered from
// (replayed, never sent again): one that started or may have started a scan (pending, succeeded,
// unknown). A definite refusal (failed) frees the key. A lookup the store cannot answer reports
// false: the retry is then treated as the new scan it may be.
func (s *Service) Bound(ctx context.Context, actor, key string) bool {
	key = strings.TrimSpace(key)
	if key == "" {
		return false
	}
	// One read: the start limit asks for every request over it that carries a key.
	bound, err := s.log.KeyBound(ctx, Clean(actor, maxActorLen), Clean(key, MaxIdempotencyKeyLen))
	return err == nil && bound
}

// ValidateAttempt reports what Start would refuse in req and key before writing anything
// (EINVALID, every problem at once), so that a gate in front of Start can send such a request
// on to be refused and recorded rather than hold it for a reason that does not apply to it.
func ValidateAttempt(req Request, key string) error {
	return validateAttempt(req.Normalize(), strings.TrimSpace(key))
}

// KeyProblem reports what is wrong with an idempotency key (surrounding white space aside), for
// a refusal that lists it beside problems found before the request could be validated.
func KeyProblem(key string) (FieldError, bool) {
	key = strings.TrimSpace(key)
	if len(key) <= MaxIdempotencyKeyLen && !audit.HasControls(key) {
		return FieldError{}, false
	}
	return FieldError{Field: "IdempotencyKey", Message: fmt.Sprintf(
		"must be at most %d characters of printable text; use a UUID or similar", MaxIdempotencyKeyLen)}, true
}

// validateAttempt checks the request and the key together, so that one answer lists every problem.
func validateAttempt(norm Request, key string) error {
	err := norm.Validate()
	keyErr, bad := KeyProblem(key)
	if !bad {
		return err
	}
	var fields []FieldError
	var e *Error
	if errors.As(err, &e) {
		fields = e.Fields
	}
	fields = append(fields, keyErr)
	return &Error{Code: EINVALID, Op: "scan.Validate", Message: problems(len(fields)), Fields: fields}
}

func (s *Service) newRecord(c Caller, params []byte, key string) audit.Record {
	var endpoint, credential string
	if p, ok := s.scanner.(Provenance); ok {
		endpoint, credential = p.TCSSEndpoint(), p.CredentialSource()
	}
	return audit.Record{
		Time:              s.now().UTC(),
		Trigger:           c.Trigger,
		Actor:             Clean(c.Actor, maxActorLen),
		SourceIP:          Clean(c.SourceIP, maxSourceIPLen),
		UserAgent:         Clean(c.UserAgent, maxUserAgentLen),
		Action:            audit.ActionCreateVulScanTask,
		Params:            params,
		IdempotencyKey:    Clean(key, MaxIdempotencyKeyLen),
		FunctionRequestID: Clean(c.FunctionRequestID, maxRequestIDLen),
		Access:            Clean(c.Access, maxAccessLen),
		Endpoint:          Clean(endpoint, maxEndpointLen),
		Credential:        Clean(credential, maxCredentialLen),
	}
}

// paramsOf is the params of a record of the normalized request norm. Stores keep Params
// canonical (audit.CanonicalJSON) and replay compares them byte for byte, so they must be
// canonical from the start.
func paramsOf(norm Request) (json.RawMessage, error) {
	params, err := json.Marshal(norm)
	if err != nil {
		return nil, err
	}
	return audit.CanonicalJSON(params)
}

// Reject records a refusal that happened before a Request existed: a malformed JSON body, a bad
// form or flag value, an unreadable timer argument. Every refusal is then in the log, with the
// reason in cause's field errors, and what was submitted as far as cause carries it (an *Error's
// Submitted: the request's fields, bounded and cleaned, never unknown fields' values); else
// params are {}. Reject returns cause, and the rejected record's attempt when it was written.
func (s *Service) Reject(ctx context.Context, key string, c Caller, cause error) (Attempt, error) {
	params := json.RawMessage(`{}`)
	var e *Error
	if errors.As(cause, &e) && len(e.Submitted) > 0 {
		params = e.Submitted
	}
	rec := s.newRecord(c, params, strings.TrimSpace(key))
	return s.reject(ctx, rec, Request{}, cause)
}

// reject records a request that never reaches TCSS and returns cause to the caller.
func (s *Service) reject(ctx context.Context, rec audit.Record, norm Request, cause error) (Attempt, error) {
	rec.Outcome = audit.OutcomeRejected
	rec.ErrorCode = CodeInvalidRequest
	var e *Error
	if errors.As(cause, &e) {
		switch e.Code {
		case ECONFLICT:
			rec.ErrorCode = CodeIdempotencyConflict
		case EFORBIDDEN:
			rec.ErrorCode = CodeForbidden
		case EBUSY:
			rec.ErrorCode = CodeBusy
		}
		rec.ErrorMessage = Clean(describeError(e), maxErrorTextLen)
	}
	// Recorded even when the caller has gone (a connection that failed or closed while its
	// request was refused): a probe must not pass unseen by hanging up. A store that does not
	// answer still ends it, within the outcomes' budget.
	appendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.OutcomeBudget)
	defer cancel()
	stored, err := s.log.Append(appendCtx, rec)
	if err != nil {
		// The caller's answer does not change: nothing was started either way. Say so loudly.
		s.logger.ErrorContext(ctx, "rejected request not recorded", "reason", rec.ErrorMessage, "err", err)
		return Attempt{Request: norm}, cause
	}
	return Attempt{Record: stored, Request: norm}, cause
}

// replay answers a request whose idempotency key a pending record already holds.
func (s *Service) replay(ctx context.Context, rec audit.Record, norm Request) (Attempt, error) {
	const op = "scan.Start"
	first, err := s.log.PendingByKey(ctx, rec.Actor, rec.IdempotencyKey)
	if err != nil {
		return Attempt{}, &Error{Code: EUNAVAILABLE, Op: op, Message: "The audit log is unavailable.", Err: err}
	}
	if !bytes.Equal(first.Params, rec.Params) {
		conflict := &Error{Code: ECONFLICT, Op: op, Message: fmt.Sprintf(
			"Idempotency key %q was used for attempt %d with other parameters; use a new key for a new request.",
			rec.IdempotencyKey, first.ID)}
		return s.reject(ctx, rec, norm, conflict)
	}
	attempt, err := s.load(ctx, first)
	if err == nil && attempt.Outcome == nil && Stale(first.Time, s.now()) {
		attempt, err = s.closeStaleAttempt(ctx, first)
	}
	if err != nil {
		return Attempt{}, err
	}
	attempt.Replayed = true
	s.recordReplay(ctx, rec, attempt)
	if attempt.Outcome == nil {
		return attempt, &Error{Code: EINPROGRESS, Op: op, Message: fmt.Sprintf(
			"Attempt %d with this idempotency key is still in progress.", first.ID)}
	}
	return attempt, outcomeError(op, *attempt.Outcome, nil)
}

// Stale reports whether an attempt opened at opened, and still pending at now, is older than
// any call can last (MaxCallDuration), so that no live process can still record its outcome: it
// was left by a process that ended or whose store failed mid-call. The service closes such an
// attempt on a retry; the pages say so instead of "waiting for TCSS".
func Stale(opened, now time.Time) bool {
	return opened.Before(now.Add(-MaxCallDuration))
}

// closeStaleAttempt closes the stale pending attempt a retry's key names as unknown, as the
// reconciliation passes do, and returns it closed. Without it, the retry would be answered "in
// progress" until a pass ran: a restart's pass leaves attempts younger than MaxCallDuration, and
// a frozen function instance or a server whose audit page nobody views runs none. If another
// closed it meanwhile, the attempt is read again with that outcome.
func (s *Service) closeStaleAttempt(ctx context.Context, p audit.Record) (Attempt, error) {
	_, err := s.closeStale(ctx, p, MaxCallDuration)
	switch {
	case err == nil:
		s.logger.WarnContext(ctx, "attempt left pending by an earlier process closed as unknown on a retry with its key",
			"attempt", p.ID)
	case !errors.Is(err, audit.ErrAlreadyClosed):
		return Attempt{}, &Error{Code: EUNAVAILABLE, Op: "scan.Start", Message: "The audit log is unavailable.", Err: err}
	}
	return s.load(ctx, p)
}

// recordReplay writes who was answered from an earlier attempt: a replayed record naming the
// attempt (RelatedID) and its state, so that every caller is on the log, also one that reuses
// another's key. It starts nothing, so a store failure here does not change the answer; it is
// logged loudly instead.
func (s *Service) recordReplay(ctx context.Context, rec audit.Record, a Attempt) {
	rec.Outcome = audit.OutcomeReplayed
	rec.RelatedID = a.ID()
	rec.ErrorMessage = fmt.Sprintf("Answered from attempt %d (%s): same idempotency key and request; nothing was sent to TCSS.",
		a.ID(), a.State())
	if _, err := s.log.Append(ctx, rec); err != nil {
		s.logger.ErrorContext(ctx, "replay not recorded", "attempt", a.ID(), "actor", rec.Actor, "err", err)
	}
}

// closeRecord builds the outcome record of a pending record from TCSS's answer.
func closeRecord(pending audit.Record, now time.Time, ids TaskIDs, callErr error) audit.Record {
	rec := pending
	rec.ID, rec.PrevHash, rec.Hash = 0, "", ""
	rec.Time = now
	rec.PendingID = pending.ID
	rec.IdempotencyKey = pending.IdempotencyKey
	var apiErr *APIError
	switch {
	case callErr == nil:
		rec.Outcome = audit.OutcomeSucceeded
		rec.LocalTaskID, rec.RegistryTaskID, rec.TCSSRequestID = ids.LocalTaskID, ids.RegistryTaskID, Clean(ids.RequestID, maxRequestIDLen)
	case errors.As(callErr, &apiErr):
		rec.Outcome = audit.OutcomeFailed
		rec.ErrorCode, rec.ErrorMessage = Clean(apiErr.Code, maxErrorTextLen), Clean(apiErr.Message, maxErrorTextLen)
		rec.TCSSRequestID = Clean(apiErr.RequestID, maxRequestIDLen)
	case errors.Is(callErr, ErrOutcomeUnknown):
		rec.Outcome = audit.OutcomeUnknown
		rec.ErrorCode, rec.ErrorMessage = CodeOutcomeUnknown, Clean(callErr.Error(), maxErrorTextLen)
	default:
		// By the Scanner contract, an error that is neither means the request was never sent.
		rec.Outcome = audit.OutcomeFailed
		rec.ErrorCode, rec.ErrorMessage = CodeNotSent, Clean(callErr.Error(), maxErrorTextLen)
	}
	return rec
}

// outcomeError turns a stored outcome into the error Start returns (nil for success).
func outcomeError(op string, rec audit.Record, cause error) error {
	switch rec.Outcome {
	case audit.OutcomeSucceeded:
		return nil
	case audit.OutcomeUnknown:
		return &Error{Code: EUNKNOWN, Op: op, Err: cause, Message: fmt.Sprintf(
			"TCSS's answer was lost, so a scan may or may not have started (attempt %d).", rec.PendingID) + keyBound(rec)}
	}
	code := EUPSTREAM
	if IsRateLimited(rec.ErrorCode) {
		code = ERATELIMITED
	}
	msg := "No scan was started: " + describeOutcome(rec)
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return &Error{Code: code, Op: op, Err: cause, Message: msg + keyFreed(rec)}
}

// keyFreed tells the caller of a definite refusal that its idempotency key may be used again.
func keyFreed(rec audit.Record) string {
	if rec.IdempotencyKey == "" {
		return ""
	}
	return " The idempotency key is free again: a retry with it makes a new attempt."
}

// keyBound tells the caller of an attempt that may have started a scan what a retry does: with
// the same key it is answered from this attempt and calls TCSS no more, so starting a scan
// anyway takes a new key; without a key, a retry may start a second scan.
func keyBound(rec audit.Record) string {
	if rec.IdempotencyKey == "" {
		return " Check the TCSS console before retrying."
	}
	return " Check the TCSS console for a new scan task. A retry with the same idempotency key gets this answer again and " +
		"starts nothing; to start a scan anyway, send a new idempotency key."
}

// describeOutcome says in words what an outcome record holds.
func describeOutcome(rec audit.Record) string {
	switch rec.Outcome {
	case audit.OutcomeSucceeded:
		return fmt.Sprintf("LocalTaskID %d, RegistryTaskID %d (RequestId %s).", rec.LocalTaskID, rec.RegistryTaskID, rec.TCSSRequestID)
	case audit.OutcomeFailed:
		if rec.TCSSRequestID == "" {
			return fmt.Sprintf("%s: %s", rec.ErrorCode, rec.ErrorMessage)
		}
		return fmt.Sprintf("TCSS answered %s: %s (RequestId %s).", rec.ErrorCode, rec.ErrorMessage, rec.TCSSRequestID)
	}
	return rec.ErrorMessage
}

// describeError renders a domain error's message and field errors on one line for the log.
func describeError(e *Error) string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.String()
	}
	return strings.Join(parts, "; ")
}

// Attempt returns the attempt that record id opened or closed, with its outcome if any.
// Returns ENOTFOUND when there is no such record.
func (s *Service) Attempt(ctx context.Context, id int64) (Attempt, error) {
	const op = "scan.Attempt"
	rec, err := s.log.Get(ctx, id)
	if err != nil {
		return Attempt{}, lookupError(op, id, err)
	}
	if rec.PendingID != 0 {
		if rec, err = s.log.Get(ctx, rec.PendingID); err != nil {
			return Attempt{}, lookupError(op, id, err)
		}
	}
	return s.load(ctx, rec)
}

// load completes an opening record with its request and outcome.
func (s *Service) load(ctx context.Context, opening audit.Record) (Attempt, error) {
	a := Attempt{Record: opening}
	if err := json.Unmarshal(opening.Params, &a.Request); err != nil {
		return Attempt{}, &Error{Code: EINTERNAL, Op: "scan.Attempt", Message: "Internal error.",
			Err: fmt.Errorf("record %d: params: %w", opening.ID, err)}
	}
	if opening.Outcome != audit.OutcomePending {
		return a, nil
	}
	out, err := s.log.OutcomeOf(ctx, opening.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		return a, nil
	case err != nil:
		return Attempt{}, &Error{Code: EUNAVAILABLE, Op: "scan.Attempt", Message: "The audit log is unavailable.", Err: err}
	}
	a.Outcome = &out
	return a, nil
}

func lookupError(op string, id int64, err error) error {
	if errors.Is(err, ErrNotFound) {
		return &Error{Code: ENOTFOUND, Op: op, Message: fmt.Sprintf("There is no attempt %d.", id), Err: err}
	}
	return &Error{Code: EUNAVAILABLE, Op: op, Message: "The audit log is unavailable.", Err: err}
}

// Status asks TCSS where a succeeded attempt's scan stands, about the sides it started only:
// DescribeVulScanInfo reads an omitted task ID as "the latest task", so asking about both sides
// of a one-sided attempt would mix in another attempt's task. The answer keeps only the started
// sides' task IDs and counts. Returns ENOTFOUND for attempts that started no task, EUPSTREAM when
// TCSS answers about another task, and the scanner's classification (EUPSTREAM, ERATELIMITED,
// EUNKNOWN) otherwise.
func (s *Service) Status(ctx context.Context, a Attempt) (ScanInfo, error) {
	const op = "scan.Status"
	if a.State() != audit.OutcomeSucceeded {
		return ScanInfo{}, &Error{Code: ENOTFOUND, Op: op, Message: "This attempt started no scan."}
	}
	local, registry := a.Outcome.LocalTaskID, a.Outcome.RegistryTaskID
	if local == 0 && registry == 0 {
		return ScanInfo{}, &Error{Code: ENOTFOUND, Op: op, Message: "TCSS named no scan task for this attempt."}
	}
	info, err := s.scanner.DescribeVulScanInfo(ctx, local, registry)
	if err != nil {
		return ScanInfo{}, statusError(op, err)
	}
	// TCSS echoes the task IDs it reports on; an answer about another task must not be shown as
	// this attempt's. (An answer that echoes none is taken as about the tasks asked for.)
	for _, side := range []struct{ asked, answered int64 }{{local, info.LocalTaskID}, {registry, info.RegistryTaskID}} {
		if side.asked != 0 && side.answered != 0 && side.answered != side.asked {
			return ScanInfo{}, &Error{Code: EUPSTREAM, Op: op, Message: fmt.Sprintf(
				"TCSS answered about task %d instead of task %d.", side.answered, side.asked)}
		}
	}
	info = info.Only(local, registry)
	if sr, ok := s.scanner.(SeverityReporter); ok && local != 0 && info.Status == "SCANNED" {
		// A breakdown is extra: without it the status is still right, so a failure only logs.
		if sev, ok := s.severities.get(local, s.now()); ok {
			info.LocalSeverities = &sev
		} else if sev, err := sr.LocalVulSeverities(ctx, local); err == nil {
			s.severities.put(local, sev, s.now())
			info.LocalSeverities = &sev
		} else {
			s.logger.WarnContext(ctx, "severities unavailable", "op", op, "local_task_id", local, "err", err)
		}
	}
	return info, nil
}

func statusError(op string, err error) error {
	var apiErr *APIError
	switch {
	case errors.As(err, &apiErr) && IsRateLimited(apiErr.Code):
		return &Error{Code: ERATELIMITED, Op: op, Message: "TCSS is rate limiting; try again in a second.", Err: err}
	case errors.As(err, &apiErr):
		return &Error{Code: EUPSTREAM, Op: op, Message: fmt.Sprintf("TCSS answered %s: %s", apiErr.Code, apiErr.Message), Err: err}
	}
	return &Error{Code: EUNKNOWN, Op: op, Message: "TCSS could not be reached.", Err: err}
}
