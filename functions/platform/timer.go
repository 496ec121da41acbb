package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

// SCFTimerEvent is the event of Tencent's timer trigger. Message is the trigger's argument: our
// scan request as JSON text (the same body as POST /api/scans), optionally with "Schedule".
type SCFTimerEvent struct {
	Type        string          `json:"Type"` // "Timer" (some docs say "timer")
	TriggerName string          `json:"TriggerName"`
	Time        string          `json:"Time"` // the scheduled time, e.g. 2019-02-21T11:49:00Z
	Message     json.RawMessage `json:"Message"`
}

// ScheduledEvent is the part of an EventBridge "Scheduled Event" vulscan reads: the rule in
// resources names the schedule, time is the scheduled time, and detail holds the scan request.
type ScheduledEvent struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       string          `json:"time"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// TimerResult is what a timer invocation returns when its scan started (or had started before,
// for a retried invocation).
type TimerResult struct {
	Schedule       string        `json:"schedule"`
	Attempt        int64         `json:"attempt"` // the audit record that opened the attempt
	Outcome        audit.Outcome `json:"outcome"`
	Replayed       bool          `json:"replayed,omitempty"` // a retry answered from the first attempt
	LocalTaskID    int64         `json:"localTaskId,omitempty"`
	RegistryTaskID int64         `json:"registryTaskId,omitempty"`
}

// timerRun is one timer event, read: the schedule's name, the run's scheduled time, and the scan
// argument still undecoded.
type timerRun struct {
	trigger   string // the name the platform gives the schedule ("" when none)
	scheduled string // the scheduled time the platform gives ("" when none)
	argument  []byte
}

// unnamedSchedule is the schedule name when neither the argument nor the platform gives one.
const unnamedSchedule = "unnamed"

func (d *Dispatcher) handleTimer(ctx context.Context, kind Kind, inv Invocation, raw []byte) ([]byte, error) {
	if d.opts.Scans == nil {
		return nil, fmt.Errorf("platform: %s event: no scan service configured", kind)
	}
	run, err := readTimer(kind, raw)
	if err != nil {
		return nil, d.rejectMalformed(ctx, kind, inv, raw, err)
	}
	var schedule, scheduledTime string
	req, decodeErr := scan.DecodeJSON(run.argument, map[string]*string{
		FieldSchedule: &schedule, FieldScheduledTime: &scheduledTime,
	})
	schedule = strings.TrimSpace(schedule)
	name := scheduleName(run.trigger, schedule)
	scheduled := firstNonEmpty(run.scheduled, scheduledTime)
	due, untimely := d.dueTime(name, scheduled)
	if !due.IsZero() {
		// The run's key is its due time, however the event writes it: one scan per due time.
		scheduled = due.Format(time.RFC3339)
	}
	key := runKey(timerKeyPrefix, name, scheduled, inv.RequestID)
	caller := timerCaller(name, inv.RequestID)
	log := d.logger.With("kind", kind, "schedule", name, "idempotency_key", key, "request_id", inv.RequestID)

	if decodeErr != nil {
		return nil, d.rejectUndecodable(ctx, log, name, key, caller, decodeErr)
	}
	if schedule != "" && schedule != name {
		return nil, d.rejectRenamed(ctx, log, name, schedule, key, caller)
	}
	if untimely != nil {
		return nil, d.rejectUntimely(ctx, log, name, key, caller, untimely)
	}
	return d.startScheduled(ctx, log, name, key, caller, req, "")
}

// dueTime is the due time of the configured schedule name that a run scheduled at scheduled
// stands for (see schedule.Schedule.Due), or why it stands for none. An event that gives no time
// (an EventBridge rule's constant input) is taken at its arrival. It is the zero time and no
// error for a schedule that is not configured: the scan starter refuses those by name.
func (d *Dispatcher) dueTime(name, scheduled string) (time.Time, error) {
	sc, ok := d.opts.Schedules.Lookup(name)
	if !ok {
		return time.Time{}, nil
	}
	now := d.opts.Now()
	if scheduled == "" {
		due, err := sc.Due(now, now)
		if err != nil {
			return time.Time{}, fmt.Errorf("the event gives no scheduled time, so its arrival counts: %w", err)
		}
		return due, nil
	}
	at, err := time.Parse(time.RFC3339, scheduled)
	if err != nil {
		return time.Time{}, fmt.Errorf("the scheduled time %q is not a time such as 2026-12-04T02:00:00Z", scan.Shorten(scheduled, 40))
	}
	return sc.Due(at, now)
}

// timerCaller is the caller of a timer run of the schedule name: every record of a schedule's
// runs, refused or started, is under the one actor system:timer/<name>.
func timerCaller(name, requestID string) scan.Caller {
	return scan.Caller{Trigger: audit.TriggerTimer, Actor: "system:timer/" + name, Access: "timer", FunctionRequestID: requestID}
}

// rejectMalformed records a timer event that does not decode (a field of the wrong type) as a
// refusal under the schedule it names, if that much can be read, and returns the invocation's
// error: it was a timer invocation, and every refusal of one is on the record.
func (d *Dispatcher) rejectMalformed(ctx context.Context, kind Kind, inv Invocation, raw []byte, cause error) error {
	name := firstNonEmpty(looseTimerName(kind, raw), unnamedSchedule)
	caller := timerCaller(name, inv.RequestID)
	refusal := &scan.Error{Code: scan.EINVALID, Op: "platform.timer", Err: cause,
		Message: fmt.Sprintf("The timer %q was refused: its %s event is malformed: %v.", scan.Shorten(name, 64), kind, cause)}
	attempt, _ := d.opts.Scans.Reject(ctx, "", caller, refusal)
	d.logger.ErrorContext(ctx, "malformed timer event", "kind", kind, "request_id", inv.RequestID, "schedule", name,
		"attempt", attempt.ID(), "err", cause)
	return fmt.Errorf("platform: malformed %s event: %w", kind, cause)
}

// looseTimerName is the schedule name a timer event gives, read on its own: an event that does
// not decode as a whole may still name its trigger. "" when it names none, or not as a string.
func looseTimerName(kind Kind, raw []byte) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return ""
	}
	var name string
	var resources []string
	switch kind {
	case KindSCFTimer:
		_ = json.Unmarshal(fields["TriggerName"], &name)
	case KindEventBridge:
		if json.Unmarshal(fields["resources"], &resources) == nil {
			name = ruleName(resources)
		}
	}
	return name
}

// rejectUntimely records a timer whose time is no due time of its schedule (a forged or
// replayed event) as a refusal, and returns the invocation's error.
func (d *Dispatcher) rejectUntimely(ctx context.Context, log *slog.Logger, name, key string, caller scan.Caller, why error) error {
	cause := &scan.Error{Code: scan.EFORBIDDEN, Op: "platform.timer",
		Message: fmt.Sprintf("The timer %q was refused: %s.", scan.Shorten(name, 64), why)}
	attempt, _ := d.opts.Scans.Reject(ctx, key, caller, cause)
	log.ErrorContext(ctx, "timer refused: its time is no due time of its schedule", "why", why.Error(), "attempt", attempt.ID())
	return fmt.Errorf("timer %s: %w", name, cause)
}

// scheduleName is the name a timer run is recorded and allowed under. The name the platform
// gives the trigger (SCF's TriggerName, the EventBridge rule in resources) decides: whoever can
// write a trigger's argument must not be able to run it as another schedule, and a trigger
// added in the console without a place in VULSCAN_SCHEDULES must start nothing. The argument's
// Schedule names the run only when the platform names nothing (an EventBridge rule's constant
// input, which replaces the whole event).
func scheduleName(trigger, schedule string) string {
	return firstNonEmpty(trigger, schedule, unnamedSchedule)
}

// rejectRenamed records a timer whose argument names another schedule than its trigger, as a
// refusal under the trigger's own name, and returns the invocation's error.
func (d *Dispatcher) rejectRenamed(ctx context.Context, log *slog.Logger, name, schedule, key string, caller scan.Caller) error {
	cause := &scan.Error{Code: scan.EFORBIDDEN, Op: "platform.timer",
		Message: fmt.Sprintf("The timer %q names the schedule %q in its argument; the timer was refused.",
			scan.Shorten(name, 64), scan.Shorten(schedule, 64)),
		Fields: []scan.FieldError{{Field: FieldSchedule, Message: fmt.Sprintf(
			"must be the trigger's own name, %q, or left out: a trigger runs only as itself", scan.Shorten(name, 64))}}}
	attempt, _ := d.opts.Scans.Reject(ctx, key, caller, cause)
	log.ErrorContext(ctx, "timer refused: its argument names another schedule", "argument_schedule", schedule,
		"attempt", attempt.ID())
	return fmt.Errorf("timer %s: %w: %s", name, cause, fieldProblems(cause))
}

// startScheduled starts the scan of a timer or invocation and answers with a TimerResult.
// retryAdvice, when set, is added to the error of a run that may have started a scan.
func (d *Dispatcher) startScheduled(ctx context.Context, log *slog.Logger, name, key string, caller scan.Caller, req scan.Request, retryAdvice string) ([]byte, error) {
	attempt, err := d.opts.Scans.Start(ctx, req, key, caller)
	if err != nil {
		msg := "scheduled scan not started"
		if mayHaveStarted(attempt) {
			// TCSS's answer was lost or not recorded, or an earlier delivery is still waiting for
			// it: an operator who read "not started" would start the run again by hand.
			msg = "scheduled scan may have started: its outcome is not known"
		}
		log.ErrorContext(ctx, msg, "code", scan.ErrorCode(err), "attempt", attempt.ID(), "err", err)
		if mayHaveStarted(attempt) && retryAdvice != "" {
			return nil, fmt.Errorf("%s %s: %w %s", caller.Trigger, name, err, retryAdvice)
		}
		if fields := fieldProblems(err); fields != "" {
			return nil, fmt.Errorf("%s %s: %w: %s", caller.Trigger, name, err, fields)
		}
		return nil, fmt.Errorf("%s %s: %w", caller.Trigger, name, err)
	}
	result := TimerResult{Schedule: name, Attempt: attempt.ID(), Outcome: attempt.State(), Replayed: attempt.Replayed}
	if out := attempt.Outcome; out != nil {
		result.LocalTaskID, result.RegistryTaskID = out.LocalTaskID, out.RegistryTaskID
	}
	log.InfoContext(ctx, "scheduled scan started", "attempt", result.Attempt, "replayed", result.Replayed,
		"local_task_id", result.LocalTaskID, "registry_task_id", result.RegistryTaskID)
	return marshalReply(result)
}

// mayHaveStarted reports whether a failed start's attempt may have started a scan: TCSS was
// called and its answer was lost (unknown) or could not be recorded (still pending), or the run
// was answered from an attempt still waiting for TCSS.
func mayHaveStarted(a scan.Attempt) bool {
	if a.ID() == 0 {
		return false
	}
	switch a.State() {
	case audit.OutcomePending, audit.OutcomeUnknown, audit.OutcomeSucceeded:
		return true
	}
	return false
}

// rejectUndecodable records a timer argument that is not a scan request as a rejected attempt
// under the timer's actor and key, logs it loudly, and returns the invocation's error.
func (d *Dispatcher) rejectUndecodable(ctx context.Context, log *slog.Logger, name, key string, caller scan.Caller, decodeErr error) error {
	attempt, _ := d.opts.Scans.Reject(ctx, key, caller, decodeErr)
	fields := fieldProblems(decodeErr)
	if fields == "" {
		fields = decodeErr.Error()
	}
	if caller.Trigger == audit.TriggerInvoke {
		// A direct invocation has no trigger to fix: its sender wrote the payload.
		log.ErrorContext(ctx, "invocation payload is not a scan request: fix the payload",
			"problems", fields, "attempt", attempt.ID(), "err", decodeErr)
		return fmt.Errorf("invoke %s: the payload is not a scan request: %s", name, fields)
	}
	log.ErrorContext(ctx, "timer argument is not a scan request: fix the trigger's argument",
		"problems", fields, "attempt", attempt.ID(), "err", decodeErr)
	return fmt.Errorf("timer %s: the argument is not a scan request: %s", name, fields)
}

// fieldProblems renders a scan error's field problems on one line, or "" when it has none.
func fieldProblems(err error) string {
	var e *scan.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return ""
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = strings.TrimPrefix(f.String(), ": ")
	}
	return strings.Join(parts, "; ")
}

// readTimer finds the schedule's name, scheduled time and argument in a timer event.
func readTimer(kind Kind, raw []byte) (timerRun, error) {
	switch kind {
	case KindSCFTimer:
		var ev SCFTimerEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return timerRun{}, err
		}
		arg, err := argumentText(ev.Message)
		return timerRun{trigger: ev.TriggerName, scheduled: ev.Time, argument: arg}, err
	case KindEventBridge:
		var ev ScheduledEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return timerRun{}, err
		}
		return timerRun{trigger: ruleName(ev.Resources), scheduled: ev.Time, argument: ev.Detail}, nil
	}
	return timerRun{argument: raw}, nil
}

// argumentText reads SCF's Message: JSON text in a string, as the console and serverless.yml
// give it; an object is taken as it is. No Message at all is an empty argument, as "" is: it is
// refused as an empty request, under the run's key.
func argumentText(msg json.RawMessage) ([]byte, error) {
	if len(msg) == 0 {
		return nil, nil
	}
	var s *string
	if err := json.Unmarshal(msg, &s); err == nil {
		if s == nil {
			return nil, nil
		}
		return []byte(*s), nil
	}
	if len(msg) > 0 && msg[0] == '{' {
		return msg, nil
	}
	return nil, fmt.Errorf("the timer Message must be a string holding the scan request as JSON, not %s", scan.Shorten(string(msg), 32))
}

// ruleName is the last path segment of the first resource ARN: the rule (arn:…:rule/NAME) or
// schedule (arn:…:schedule/GROUP/NAME) that fired.
func ruleName(resources []string) string {
	if len(resources) == 0 {
		return ""
	}
	arn := resources[0]
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return ""
}

// Idempotency key prefixes of runs that no person keys: a timer's and a direct invocation's. They
// keep the two apart, so an invocation can never take over a timer run's key.
const (
	timerKeyPrefix  = "timer/"
	invokeKeyPrefix = "invoke/"
)

// requestKeyRetry tells the sender of a direct invocation without a ScheduledTime, whose scan may
// have started, how to retry safely: its key is its request ID, and invoking again has a new one,
// so "retry with the same idempotency key" cannot be done and a plain retry may start a second scan.
const requestKeyRetry = `This invocation's idempotency key is its request ID, so invoking again is a new attempt ` +
	`that may start a second scan: check the TCSS console first. To make a retry safe, give the payload a ` +
	`"ScheduledTime" and send the same value with every retry of the run.`

// runKey is the idempotency key of one scheduled run (prefix timerKeyPrefix or invokeKeyPrefix):
// the schedule's name and its scheduled time (for a timer of a configured schedule, the due time
// it stands for), so that a platform retry of the same run (asynchronous invocations are
// retried) finds the first attempt. Without a scheduled time the
// invocation's request ID, which retries keep, stands in. Keys longer than the service accepts
// are hashed.
func runKey(prefix, name, scheduled, requestID string) string {
	var key string
	switch {
	case scheduled != "":
		key = prefix + name + "@" + scheduled
	case requestID != "":
		key = prefix + name + "@request:" + requestID
	default:
		return ""
	}
	if len(key) <= scan.MaxIdempotencyKeyLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return prefix + "sha256:" + hex.EncodeToString(sum[:])
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// invokeActor is the actor of a direct invocation the platform names no caller of.
const invokeActor = "system:invoke"

// handleInvoke serves a scan request sent as the whole invocation payload. It is not a timer:
// anyone allowed to invoke the function can send it, so it is recorded as trigger invoke under
// the invocation's identity (when the platform gives one), never as system:timer/…, and a broad
// scan needs "Confirm":"yes" as the form's confirmation step needs a click.
func (d *Dispatcher) handleInvoke(ctx context.Context, inv Invocation, raw []byte) ([]byte, error) {
	if d.opts.Scans == nil {
		return nil, fmt.Errorf("platform: %s event: no scan service configured", KindScheduleInput)
	}
	var label, scheduledTime, confirm string
	req, decodeErr := scan.DecodeJSON(raw, map[string]*string{
		FieldSchedule: &label, FieldScheduledTime: &scheduledTime, FieldConfirm: &confirm,
	})
	name := firstNonEmpty(strings.TrimSpace(label), unnamedSchedule)
	key := runKey(invokeKeyPrefix, name, scheduledTime, inv.RequestID)
	actor := invokeActor
	if inv.Identity != "" {
		actor = "invoke:" + inv.Identity
	}
	caller := scan.Caller{Trigger: audit.TriggerInvoke, Actor: actor, Access: "invoke", FunctionRequestID: inv.RequestID}
	log := d.logger.With("kind", KindScheduleInput, "label", name, "idempotency_key", key, "request_id", inv.RequestID)
	if decodeErr != nil {
		return nil, d.rejectUndecodable(ctx, log, name, key, caller, decodeErr)
	}
	if req.Broad() && strings.TrimSpace(confirm) != "yes" {
		cause := &scan.Error{Code: scan.EINVALID, Op: "platform.invoke", Message: "A broad scan needs confirmation.",
			Fields: []scan.FieldError{{Field: FieldConfirm, Message: `this scans every image: add "Confirm":"yes" to the payload to confirm it, ` +
				`or use a timer trigger (SCF timer, EventBridge schedule) for scheduled scans`}}}
		a, _ := d.opts.Scans.Reject(ctx, key, caller, cause)
		log.ErrorContext(ctx, "invocation refused: broad scan not confirmed", "attempt", a.ID())
		return nil, fmt.Errorf("invoke %s: %w: %s", name, cause, fieldProblems(cause))
	}
	retryAdvice := ""
	if scheduledTime == "" {
		retryAdvice = requestKeyRetry
	}
	return d.startScheduled(ctx, log, name, key, caller, req, retryAdvice)
}
