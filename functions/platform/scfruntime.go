package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Handler serves one invocation: it gets the event and returns the result, or an error that the
// platform records as the invocation's failure. (*Dispatcher).Handle is one.
type Handler func(ctx context.Context, inv Invocation, event []byte) ([]byte, error)

// Defaults of SCFRuntime.
const (
	DefaultRuntimeAttempts = 5        // tries of each runtime-API call before the process gives up
	DefaultMaxEventBytes   = 16 << 20 // SCF's synchronous events are at most 6 MB
	// answerMargin is kept back from the invocation's time limit to post the answer in time.
	answerMargin = 500 * time.Millisecond
)

// SCFRuntime is a client of Tencent SCF's custom-runtime API
// (https://cloud.tencent.com/document/product/583/47274): it reports the function ready, then
// fetches, serves and answers invocations one at a time.
type SCFRuntime struct {
	// BaseURL is http://$SCF_RUNTIME_API:$SCF_RUNTIME_API_PORT, without a trailing slash.
	BaseURL string
	// Client talks to the runtime API. nil means a client without timeout (the next-invocation
	// call is a long poll) and without proxy (the API is local).
	Client *http.Client
	// Logger receives the runtime's logs; nil means slog.Default().
	Logger *slog.Logger
	// Now gives the time invocation deadlines count from; nil means time.Now.
	Now func() time.Time
	// Sleep waits between retries of a runtime-API call; nil waits in real time.
	Sleep func(ctx context.Context, d time.Duration) error
	// Attempts is how often a runtime-API call is tried before Run gives up; 0 means
	// DefaultRuntimeAttempts.
	Attempts int
	// MaxEventBytes bounds an event; a larger one is answered with an error. 0 means
	// DefaultMaxEventBytes.
	MaxEventBytes int64
	// Replied, when set, is called after each invocation's answer has been posted (a function
	// instance opens its audit store then, when no event has needed it yet: work begun before
	// the answer is posted competes with it).
	Replied func()
}

// SCFRuntimeFromEnv returns the runtime client SCF's environment describes: SCF_RUNTIME_API and
// SCF_RUNTIME_API_PORT.
func SCFRuntimeFromEnv(getenv func(string) string) (*SCFRuntime, error) {
	host, port := getenv("SCF_RUNTIME_API"), getenv("SCF_RUNTIME_API_PORT")
	if host == "" {
		return nil, errors.New("platform: SCF_RUNTIME_API is not set")
	}
	if port == "" {
		return nil, errors.New("platform: SCF_RUNTIME_API_PORT is not set")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("platform: SCF_RUNTIME_API_PORT %q is not a port number", port)
	}
	return &SCFRuntime{BaseURL: "http://" + net.JoinHostPort(host, port)}, nil
}

// errRuntimeAPI marks failures to talk to the runtime API, after which the process should exit
// so that SCF starts a fresh instance.
var errRuntimeAPI = errors.New("SCF runtime API unreachable")

// Run reports the function ready, then serves invocations with h until ctx ends (it returns nil)
// or the runtime API stays unreachable (it returns the error; the process should exit non-zero).
// A panic in h is answered as an invocation error and the loop goes on.
func (rt *SCFRuntime) Run(ctx context.Context, h Handler) error {
	rt = rt.withDefaults()
	if err := rt.post(ctx, "/runtime/init/ready", textType, nil); err != nil {
		return ctxOr(ctx, err)
	}
	for {
		inv, event, err := rt.next(ctx)
		if err != nil {
			return ctxOr(ctx, err)
		}
		if err := rt.serve(ctx, h, inv, event); err != nil {
			return ctxOr(ctx, err)
		}
		if rt.Replied != nil {
			rt.Replied()
		}
	}
}

// ctxOr returns nil when ctx has ended (a shutdown, not a failure), else err.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (rt *SCFRuntime) withDefaults() *SCFRuntime {
	c := *rt
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Client == nil {
		// A transport of its own for the local runtime API: no proxy, DefaultTransport's dial and
		// idle timeouts. Not DefaultTransport.Clone(), which first sets up HTTP/2 for it (the
		// clone's TLS protocols), work a cold start paid before init/ready for a plain-HTTP peer.
		dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		c.Client = &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext, IdleConnTimeout: 90 * time.Second}}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleepCtx
	}
	if c.Attempts <= 0 {
		c.Attempts = DefaultRuntimeAttempts
	}
	if c.MaxEventBytes <= 0 {
		c.MaxEventBytes = DefaultMaxEventBytes
	}
	return &c
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errEventTooLarge: an invocation's event exceeds MaxEventBytes; it is answered with an error.
var errEventTooLarge = errors.New("event too large")

// next waits for the next invocation and returns it with its event.
func (rt *SCFRuntime) next(ctx context.Context) (Invocation, []byte, error) {
	for {
		var inv Invocation
		var event []byte
		err := rt.retry(ctx, "GET /runtime/invocation/next", func() error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, rt.BaseURL+"/runtime/invocation/next", nil)
			if err != nil {
				return err
			}
			resp, err := rt.Client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %s", resp.Status)
			}
			inv = rt.invocation(resp.Header)
			event, err = io.ReadAll(io.LimitReader(resp.Body, rt.MaxEventBytes+1))
			if err != nil {
				return err
			}
			if int64(len(event)) > rt.MaxEventBytes {
				return errEventTooLarge
			}
			return nil
		})
		if !errors.Is(err, errEventTooLarge) {
			return inv, event, err
		}
		rt.Logger.ErrorContext(ctx, "event refused", "request_id", inv.RequestID, "limit", rt.MaxEventBytes)
		msg := fmt.Sprintf("event larger than %d bytes", rt.MaxEventBytes)
		if err := rt.post(ctx, "/runtime/invocation/error", textType, []byte(msg)); err != nil {
			return Invocation{}, nil, err
		}
	}
}

// invocation reads the invocation's headers. Tencent's docs spell them request_id,
// memory_limit_in_mb and time_limit_in_ms, in lower or mixed case.
func (rt *SCFRuntime) invocation(h http.Header) Invocation {
	inv := Invocation{RequestID: headerValue(h, "request_id")}
	if mb, err := strconv.Atoi(headerValue(h, "memory_limit_in_mb")); err == nil && mb > 0 {
		inv.MemoryLimitMB = mb
	}
	if ms, err := strconv.ParseInt(headerValue(h, "time_limit_in_ms"), 10, 64); err == nil && ms > 0 {
		inv.Deadline = rt.Now().Add(time.Duration(ms) * time.Millisecond)
	}
	return inv
}

// headerValue finds a header whatever its case, and whether it is spelled with underscores or
// hyphens: http.Header canonicalizes only the names it parses as canonical.
func headerValue(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return strings.TrimSpace(v)
	}
	want := strings.ReplaceAll(name, "-", "_")
	for k, vs := range h {
		if len(vs) > 0 && strings.EqualFold(strings.ReplaceAll(k, "-", "_"), want) {
			return strings.TrimSpace(vs[0])
		}
	}
	return ""
}

// serve runs one invocation and posts its answer. Only a failure to post is returned.
func (rt *SCFRuntime) serve(ctx context.Context, h Handler, inv Invocation, event []byte) error {
	invCtx, cancel := invocationContext(ctx, inv.Deadline)
	defer cancel()
	result, err := rt.call(invCtx, h, inv, event)
	if err != nil {
		rt.Logger.ErrorContext(ctx, "invocation failed", "request_id", inv.RequestID, "err", err)
		return rt.post(ctx, "/runtime/invocation/error", textType, []byte(err.Error()))
	}
	return rt.respond(ctx, inv, result)
}

// invocationContext ends a little before the platform's deadline, so that the answer is posted
// in time; an invocation without a known limit has no deadline of its own.
func invocationContext(ctx context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	if deadline.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline.Add(-answerMargin))
}

// call runs h, turning a panic into an error so that one bad event does not end the instance.
func (rt *SCFRuntime) call(ctx context.Context, h Handler, inv Invocation, event []byte) (result []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			rt.Logger.ErrorContext(ctx, "invocation panicked", "request_id", inv.RequestID, "panic", p,
				"stack", string(debug.Stack()))
			result, err = nil, fmt.Errorf("internal error: the function panicked: %v", p)
		}
	}()
	return h(ctx, inv, event)
}

// Content types of the runtime-API posts: an invocation's result is the handler's JSON; an
// error is its message as text, as Tencent's docs post it (curl -d "parse event error").
const (
	jsonType = "application/json"
	textType = "text/plain; charset=utf-8"
)

// answerTimeout bounds one runtime-API post. A post that times out may have reached the API, so
// it is not repeated (the API would get the same answer twice): the loop ends instead.
const answerTimeout = 10 * time.Second

// errRefused marks a runtime API's answer other than 2xx to a post.
var errRefused = errors.New("refused")

// respond posts an invocation's result. When the API refuses it (too large, say, or not JSON),
// the invocation is answered with an error instead, so that its caller learns why rather than
// waiting for the function's time limit.
func (rt *SCFRuntime) respond(ctx context.Context, inv Invocation, result []byte) error {
	err := rt.post(ctx, "/runtime/invocation/response", jsonType, result)
	if !errors.Is(err, errRefused) {
		return err
	}
	rt.Logger.ErrorContext(ctx, "runtime API refused the invocation's result", "request_id", inv.RequestID,
		"bytes", len(result), "err", err)
	msg := fmt.Sprintf("the SCF runtime API refused the function's result (%d bytes): %v", len(result), err)
	return rt.post(ctx, "/runtime/invocation/error", textType, []byte(msg))
}

// post sends body to a runtime-API path. It is tried again only while the API cannot be reached
// (the connection was not made, so nothing was sent). Once the post may have reached the API, a
// second one could answer the invocation twice: a post that fails then, or that the API refuses
// (errRefused, an answer other than 2xx), ends the loop, and SCF starts a fresh instance.
func (rt *SCFRuntime) post(ctx context.Context, path, contentType string, body []byte) error {
	// The answer must reach SCF even when shutdown has begun.
	ctx = context.WithoutCancel(ctx)
	call := "POST " + path
	err := rt.retry(ctx, call, func() error {
		callCtx, cancel := context.WithTimeout(ctx, answerTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(callCtx, http.MethodPost, rt.BaseURL+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := rt.Client.Do(req)
		if err != nil {
			if notSent(err) {
				return err
			}
			return &sentError{err}
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			rt.Logger.ErrorContext(ctx, "runtime API refused", "call", call, "status", resp.Status, "body", string(msg))
			return &sentError{fmt.Errorf("%w: status %s: %s", errRefused, resp.Status, bytes.TrimSpace(msg))}
		}
		return nil
	})
	var sent *sentError
	if errors.As(err, &sent) {
		return fmt.Errorf("platform: %w: %s: %w", errRuntimeAPI, call, sent.err)
	}
	return err
}

// sentError is a post's failure after the request may have reached the API: not to be retried.
type sentError struct{ err error }

func (e *sentError) Error() string { return e.err.Error() }
func (e *sentError) Unwrap() error { return e.err }

// notSent reports whether a client error came before any of the request was sent: the
// connection could not be made.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// retry calls fn until it succeeds, ctx ends, or Attempts tries have failed, waiting longer after
// each failure.
func (rt *SCFRuntime) retry(ctx context.Context, call string, fn func() error) error {
	wait := 100 * time.Millisecond
	var err error
	for attempt := 1; ; attempt++ {
		var sent *sentError
		if err = fn(); err == nil || errors.Is(err, errEventTooLarge) || errors.As(err, &sent) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt >= rt.Attempts {
			break
		}
		rt.Logger.WarnContext(ctx, "runtime API call failed; retrying", "call", call, "attempt", attempt, "err", err)
		if serr := rt.Sleep(ctx, wait); serr != nil {
			return serr
		}
		wait *= 2
	}
	return fmt.Errorf("platform: %w: %s failed %d times: %w", errRuntimeAPI, call, rt.Attempts, err)
}
