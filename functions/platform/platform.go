// Package platform translates serverless platform events into vulscan's two entry points: HTTP
// events (Tencent SCF function URLs and the retired SCF API gateway, AWS API Gateway REST and HTTP
// APIs, Lambda function URLs, ALB)
// become *http.Request for any http.Handler, and timer events (SCF timers, EventBridge schedules)
// become audited scan starts. It dispatches on the raw JSON shape of each event, never on decode
// errors, and it holds the SCF custom-runtime client that feeds it events on Tencent Cloud.
package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/schedule"
)

// DefaultMaxBodyBytes bounds the decoded body of an HTTP event when Options.MaxBodyBytes is 0.
// Gateways cap payloads at about 6 MB; vulscan's largest request is far below 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// Invocation is what the platform says about one function invocation.
type Invocation struct {
	RequestID     string    // SCF request_id / Lambda AWS request ID; reaches the audit record
	MemoryLimitMB int       // the function's memory, 0 when unknown
	Deadline      time.Time // when the platform ends the invocation; zero when unknown
	// Identity is who invoked the function as the platform tells it (Lambda: the Cognito
	// identity of a mobile SDK caller); "" when the platform says nothing.
	Identity string
}

// Gateway is what an HTTP event says about its caller, for Options.RequestContext.
type Gateway struct {
	Kind              Kind   // which gateway sent the event
	SourceIP          string // the client address as the gateway saw it
	RequestID         string // the gateway's own request ID
	Stage             string // the gateway stage (release, $default, …)
	Identity          string // the caller the gateway authenticated (SCF secretId, IAM ARN, …), "" when none
	FunctionRequestID string // the invocation's request ID (Invocation.RequestID)
	// HTTPS: the front end takes only HTTPS (SCF and Lambda function URLs, AWS API Gateway);
	// false where plain HTTP may reach it too (Tencent's API gateway, ALB: their
	// X-Forwarded-Proto says).
	HTTPS bool
}

// ScanStarter starts audited scans (Start) and records a refusal that happened before a request
// existed, such as an undecodable timer argument (Reject); *scan.Service implements it. The
// contracts, errors included, are scan.Service's.
type ScanStarter = scan.Starter

// Options configure a Dispatcher.
type Options struct {
	// Handler serves HTTP events. Required for HTTP events; without it they are refused.
	Handler http.Handler
	// Scans starts the scans of timer events. Required for timer events. It must refuse the
	// timers of schedules not in Schedules (guard.Guard does).
	Scans ScanStarter
	// Schedules are the configured schedules (VULSCAN_SCHEDULES): a timer of one of them starts
	// a scan only at one of its due times (schedule.Schedule.Due), keyed by that due time.
	Schedules schedule.Set
	// Now is the clock timer times are checked against; nil means time.Now.
	Now func() time.Time
	// RequestContext, when set, derives the context of each HTTP request from what the gateway
	// says about the caller (e.g. web.WithCaller).
	RequestContext func(ctx context.Context, g Gateway) context.Context
	// MaxBodyBytes bounds an HTTP event's decoded body; larger bodies are answered 413.
	// 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Refuse writes the answer to an HTTP event refused before Handler could serve it (the
	// event or its request line cannot be read, the answer is too large for the platform):
	// path is the request's path as far as it could be read, message plain words for the
	// caller. It lets those refusals take the handler's own error format (web.WriteRefusal:
	// the API's JSON under /api/); nil answers plain text.
	Refuse func(w http.ResponseWriter, path string, status int, message string)
	// Logger receives the dispatcher's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Dispatcher turns one raw platform event into the right call and the reply the platform expects.
type Dispatcher struct {
	opts   Options
	logger *slog.Logger
}

// New returns a Dispatcher with opts.
func New(opts Options) *Dispatcher {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return &Dispatcher{opts: opts, logger: logger}
}

// ErrUnknownEvent is wrapped by Handle's error for events of no shape vulscan knows.
var ErrUnknownEvent = errors.New("unknown event shape")

// Handle serves one event and returns the invocation's result: the gateway reply for HTTP events,
// a JSON summary of the attempt for timer events. An error is the invocation's error result: an
// unknown event (an HTTP event that cannot be read is answered 400 and recorded), a timer whose scan was rejected or failed (the attempt is audited),
// or an HTTP event when no Handler is configured.
func (d *Dispatcher) Handle(ctx context.Context, inv Invocation, event []byte) ([]byte, error) {
	kind, err := Classify(event)
	if err != nil {
		d.logger.ErrorContext(ctx, "event refused", "request_id", inv.RequestID, "err", err, "event_bytes", len(event))
		d.recordUnknown(ctx, inv, err)
		return nil, err
	}
	switch kind {
	case KindSCFTimer, KindEventBridge:
		return d.handleTimer(ctx, kind, inv, event)
	case KindScheduleInput:
		return d.handleInvoke(ctx, inv, event)
	}
	return d.handleHTTP(ctx, kind, inv, event)
}

// recordUnknown audits an event of unknown shape as a rejected request, so that whatever invoked
// the function is on the record. The event itself is not stored: it may be anything.
func (d *Dispatcher) recordUnknown(ctx context.Context, inv Invocation, cause error) {
	d.recordUnreadable(ctx, inv, "The event has no shape vulscan knows.", cause)
}

// recordUnreadable audits an event vulscan cannot read (message says how) as a rejected request.
func (d *Dispatcher) recordUnreadable(ctx context.Context, inv Invocation, message string, cause error) {
	if d.opts.Scans == nil {
		return
	}
	refusal := &scan.Error{Code: scan.EINVALID, Op: "platform.Handle", Message: message,
		Fields: []scan.FieldError{{Message: cause.Error()}}}
	caller := scan.Caller{Trigger: audit.TriggerEvent, Actor: "system:platform", FunctionRequestID: inv.RequestID}
	// Reject returns refusal itself; whether the record was written, it logs.
	_, _ = d.opts.Scans.Reject(ctx, "", caller, refusal)
}

// marshalReply encodes a reply the platform will parse; the types are ours, so failure is a bug.
// HTML's <, > and & are written as they are, not as \u003c and the like: the reply is read by the
// platform, never put in a page, and an HTML body has many of them (escaping the form's page
// was most of encoding its reply, and made it longer).
func marshalReply(v any) ([]byte, error) {
	switch r := v.(type) {
	case apiGatewayV2Reply:
		return r.appendJSON(make([]byte, 0, len(r.body)+512)), nil
	case SCFAPIGatewayResponse:
		return r.appendJSON(make([]byte, 0, len(r.Body)+512)), nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("platform: encode reply: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
