package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// Starter starts and refuses scans: *Service, or a guard in front of it.
type Starter interface {
	Start(ctx context.Context, req Request, key string, c Caller) (Attempt, error)
	Reject(ctx context.Context, key string, c Caller, cause error) (Attempt, error)
}

// Queue bounds what a burst of form and API requests costs. TCSS takes 20 calls a second, so in
// a burst most requests wait; without the queue each waited inside Service.Start, with its
// pending record written, its TCSS call built and a goroutine stack grown by the SQLite driver.
// Here a request waits as what it is, a decoded Request, in a bounded FIFO, and a few workers do
// the audit and the call. A request that finds the queue full is refused at once (EBUSY, 503
// with Retry-After) and the refusal recorded, rather than memory growing without bound.
//
// A request is never half done: it is either refused before anything is recorded (full queue,
// or its caller gave up or ran out of time while it waited: the refusal is recorded), or handed
// whole to Service.Start, which writes the pending record, calls TCSS and records the outcome.
// Timers, direct invocations and the CLI do not come in bursts from outside, and pass straight
// through.
type Queue struct {
	next    Starter
	refuse  func(ctx context.Context, key string, c Caller, cause error) (Attempt, error)
	jobs    chan *queued
	workers int
	pace    float64
	// started starts the workers on the first queued request: 24 goroutines cost 0.2 ms of a
	// function's cold start, and a function whose first event is the form (GET /) or a timer
	// never queues one.
	started sync.Once
	// stop is closed when the server is shutting down (Stop): nothing more is started, and the
	// requests still waiting are refused at once.
	stop     chan struct{}
	stopOnce sync.Once
}

// QueueConfig configures a Queue. Zero values take the defaults.
type QueueConfig struct {
	// Capacity is how many requests may wait (VULSCAN_START_QUEUE; default
	// DefaultQueueCapacity).
	Capacity int
	// Workers is how many requests are started at once (default DefaultQueueWorkers).
	Workers int
	// PerSecond is the pace TCSS keeps the workers to, for the Retry-After of a refusal
	// (default 20).
	PerSecond float64
	// Refuse records the queue's refusals; nil means next.Reject. (vulscan passes its guard's,
	// which bounds the refusals recorded per source.)
	Refuse func(ctx context.Context, key string, c Caller, cause error) (Attempt, error)
}

// DefaultQueueCapacity is what TCSS's 20 calls a second serve in 40 s: the HTTP server gives a
// POST 50 s, and the call must end a margin before that. A request queued further back could not
// be served in time; it is better refused at once. A waiting request costs its connection and a
// parked goroutine (about 10 KB), so the bound is also what keeps a burst's memory flat.
const DefaultQueueCapacity = 800

// DefaultQueueWorkers start scans at once. A worker writes its pending record (durable before
// the call), then holds one TCSS slot ahead while it waits for it, so the workers together keep
// a pipeline of slots 52.5 ms apart: 24 of them carry the pace through a store stall of up to
// 1.2 s (an fsync on a busy disk; with 8, stalls of 0.4 s left the pace idle and stretched the
// burst's drain by up to 4 s), and at most 24 attempts are open at once.
const DefaultQueueWorkers = 24

// NewQueue returns a Queue in front of next. Its workers start with the first queued request
// and run as long as the process does: parked on the queue, a worker takes a request the
// moment it comes.
func NewQueue(next Starter, cfg QueueConfig) *Queue {
	if cfg.Capacity <= 0 {
		cfg.Capacity = DefaultQueueCapacity
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultQueueWorkers
	}
	if cfg.PerSecond <= 0 {
		cfg.PerSecond = 20
	}
	if cfg.Refuse == nil {
		cfg.Refuse = next.Reject
	}
	q := &Queue{next: next, refuse: cfg.Refuse, jobs: make(chan *queued, cfg.Capacity),
		workers: cfg.Workers, pace: cfg.PerSecond, stop: make(chan struct{})}
	return q
}

// startWorkers starts the workers once.
func (q *Queue) startWorkers() {
	q.started.Do(func() {
		for range q.workers {
			go q.work()
		}
	})
}

// queued is a request waiting for a worker: only what Start needs.
type queued struct {
	ctx    context.Context
	req    Request
	key    string
	caller Caller
	state  atomic.Int32 // waiting, taken or abandoned
	done   chan startResult
}

const (
	waiting int32 = iota
	taken
	abandoned
)

type startResult struct {
	attempt Attempt
	err     error
}

// Start queues a form or API request and returns what Service.Start returned for it; other
// triggers go straight to next. Refusals are *Error with code EBUSY: the queue is full, or
// ctx ended while the request waited (recorded as rejected either way).
func (q *Queue) Start(ctx context.Context, req Request, key string, c Caller) (Attempt, error) {
	if c.Trigger != audit.TriggerForm && c.Trigger != audit.TriggerAPI {
		return q.next.Start(ctx, req, key, c)
	}
	if q.stopping() {
		return q.refuse(ctx, key, c, stopped(req))
	}
	q.startWorkers()
	j := &queued{ctx: ctx, req: req, key: key, caller: c, done: make(chan startResult, 1)}
	select {
	case q.jobs <- j:
	default:
		wait := q.retryAfter()
		return q.refuse(ctx, key, c, &Error{Code: EBUSY, Op: "scan.Queue", Err: &BusyError{Wait: wait}, Submitted: submitted(req),
			Message: fmt.Sprintf("The server is busy: %s waiting for TCSS, which takes %g calls a second. No scan was started; try again in %d s.",
				scansAre(cap(q.jobs)), q.pace, RetrySeconds(wait))})
	}
	select {
	case r := <-j.done:
		return r.attempt, r.err
	case <-q.stop:
		// Refused now, not when the shutdown's grace runs out and the server cancels it.
		if j.state.CompareAndSwap(waiting, abandoned) {
			return q.refuse(context.WithoutCancel(ctx), key, c, stopped(req))
		}
	case <-ctx.Done():
		if j.state.CompareAndSwap(waiting, abandoned) {
			cause := expired(ctx, req)
			if q.stopping() {
				cause = stopped(req) // the server cancelled it: it is stopping, not too busy
			}
			return q.refuse(context.WithoutCancel(ctx), key, c, cause)
		}
	}
	r := <-j.done // a worker has it: Start ends soon
	return r.attempt, r.err
}

// Waiting is how many requests wait in the queue now (not counting those the workers hold).
func (q *Queue) Waiting() int { return len(q.jobs) }

// Reject passes a refusal through to next.
func (q *Queue) Reject(ctx context.Context, key string, c Caller, cause error) (Attempt, error) {
	return q.next.Reject(ctx, key, c, cause)
}

// work starts queued requests, oldest first, for as long as the process runs.
func (q *Queue) work() {
	for j := range q.jobs {
		if !j.state.CompareAndSwap(waiting, taken) {
			continue // its caller gave up; the refusal is recorded
		}
		if j.ctx.Err() != nil {
			a, err := q.refuse(context.WithoutCancel(j.ctx), j.key, j.caller, expired(j.ctx, j.req))
			j.done <- startResult{a, err}
			continue
		}
		if q.stopping() {
			a, err := q.refuse(j.ctx, j.key, j.caller, stopped(j.req))
			j.done <- startResult{a, err}
			continue
		}
		a, err := q.next.Start(j.ctx, j.req, j.key, j.caller)
		j.done <- startResult{a, err}
	}
}

// Stop makes the queue start nothing more: a request still waiting is refused at once, and any
// that comes after (EBUSY: nothing was started), while those the workers hold go on. A server
// calls it when a signal begins its shutdown, so that no TCSS call begins that the shutdown's
// grace might cut off (its answer lost, a scan started but recorded unknown).
func (q *Queue) Stop() { q.stopOnce.Do(func() { close(q.stop) }) }

// stopping reports whether Stop has been called.
func (q *Queue) stopping() bool {
	select {
	case <-q.stop:
		return true
	default:
		return false
	}
}

// stoppedRetry is the Retry-After of a refusal by a stopping server: the platform or the
// operator brings an instance back within moments.
const stoppedRetry = 5 * time.Second

// stopped is the refusal of a request the queue did not start because the server is stopping.
func stopped(req Request) error {
	return &Error{Code: EBUSY, Op: "scan.Queue", Err: &BusyError{Wait: stoppedRetry}, Submitted: submitted(req),
		Message: fmt.Sprintf("The server is shutting down: no scan was started; try again in %d s.", RetrySeconds(stoppedRetry))}
}

// retryAfter is how long the queue, full, takes to drain at TCSS's pace.
func (q *Queue) retryAfter() time.Duration {
	return time.Duration(float64(cap(q.jobs)+q.workers) / q.pace * float64(time.Second))
}

// expired is the refusal of a request whose caller gave up, or whose deadline passed, while it
// waited in the queue.
func expired(ctx context.Context, req Request) error {
	return &Error{Code: EBUSY, Op: "scan.Queue", Err: ctx.Err(), Submitted: submitted(req),
		Message: "The server was too busy: the request waited for TCSS until its caller gave up or its time ran out. No scan was started; try again later."}
}

// submitted is what a refusal records of req, which never reached Start: its params as Start
// would record them (nothing when they cannot be encoded, which Start would refuse too).
func submitted(req Request) json.RawMessage { return RequestParams(req.Normalize()) }

// scansAre says how many scans wait, with a verb that agrees.
func scansAre(n int) string {
	if n == 1 {
		return "1 scan is"
	}
	return fmt.Sprintf("%d scans are", n)
}

// BusyError is the cause of a refusal by a full queue; RetryAfter says when to try again.
type BusyError struct{ Wait time.Duration }

func (e *BusyError) Error() string {
	return fmt.Sprintf("the start queue is full; try again in %s", e.Wait.Round(time.Second))
}

// RetryAfter is how long the caller should wait.
func (e *BusyError) RetryAfter() time.Duration { return e.Wait }

// RetrySeconds is d as the whole seconds of a Retry-After header or a message: rounded up, at
// least 1.
func RetrySeconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}
