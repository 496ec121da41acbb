package tcss

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// RequestsPerSecond is TCSS's documented limit per action.
const RequestsPerSecond = 20

// Pacer spaces calls per action so that the process stays under an API's per-action rate limit.
// It is safe for concurrent use.
//
// Calls are spaced evenly (a token bucket of size 1), 5% further apart than the limit alone needs
// (see margin): at RequestsPerSecond that is one call every 52.5 ms, so no one-second window,
// wherever it starts, holds more than RequestsPerSecond calls.
// A bucket of size 20 would let 20 through at once and then 20 more within the same second.
type Pacer struct {
	limit    rate.Limit
	interval time.Duration // between two calls of an action; 0 when pacing is off
	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	shared   atomic.Pointer[sharedPace]
}

// SlotBooker books call slots in a place several processes share (the audit store), so that all
// processes of one account together keep TCSS's pace, not each alone.
type SlotBooker interface {
	// BookSlot reserves the first free slot for action at or after now, at least interval after
	// the slot booked before it, and returns it; ok is false, and nothing is booked, when that
	// slot would be after notAfter (zero: no bound).
	BookSlot(ctx context.Context, action string, now time.Time, interval time.Duration, notAfter time.Time) (slot time.Time, ok bool, err error)
}

type sharedPace struct {
	booker SlotBooker
	onErr  func(error)
}

// Share makes the Pacer book its slots through b, so that every process sharing b shares one
// pace. When b fails (its database is unreachable), the Pacer paces this process alone and tells
// onErr (may be nil).
func (p *Pacer) Share(b SlotBooker, onErr func(error)) {
	p.shared.Store(&sharedPace{booker: b, onErr: onErr})
}

// slack is added to the interval between calls: the limiter computes in floating point and may
// otherwise place a call a nanosecond early, letting 21 calls into one second.
const slack = time.Microsecond

// margin stretches the interval between calls by 5%. TCSS counts calls per clock second; at
// exactly 50 ms apart every second holds 20 slots, so one call woken a few milliseconds late (a
// loaded machine, another process's slot) lands beside the next second's 20 and is refused. At
// 52.5 ms most seconds hold 19 slots, and a refusal needs a call about 50 ms late; 500 calls
// take 26.25 s instead of 25.
const margin = 1.05

// NewPacer returns a Pacer allowing perSecond (> 0) calls per second per action; math.Inf(1)
// turns pacing off (for benchmarks).
func NewPacer(perSecond float64) *Pacer {
	limit, interval := rate.Inf, time.Duration(0)
	if !math.IsInf(perSecond, 1) {
		interval = time.Duration(float64(time.Second)/perSecond*margin) + slack
		limit = rate.Every(interval)
	}
	return &Pacer{limit: limit, interval: interval, limiters: map[string]*rate.Limiter{}}
}

var defaultPacer = NewPacer(RequestsPerSecond)

// DefaultPacer is the process-wide Pacer every Client shares unless given its own, so that all
// Clients of the process together respect TCSS's limit.
func DefaultPacer() *Pacer { return defaultPacer }

func (p *Pacer) limiter(action string) *rate.Limiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.limiters[action]
	if !ok {
		l = rate.NewLimiter(p.limit, 1)
		p.limiters[action] = l
	}
	return l
}

// reserve books the next slot for action as seen at now and says how long to wait for it.
func (p *Pacer) reserve(action string, now time.Time) *rate.Reservation {
	return p.limiter(action).ReserveN(now, 1)
}

// Wait blocks until action may be called again, or until ctx ends. When ctx's deadline comes
// before the next slot it returns at once, without using the slot, with an error wrapping
// context.DeadlineExceeded; it returns ctx.Err() (wrapped) when ctx ends while waiting.
func (p *Pacer) Wait(ctx context.Context, action string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pacing %s: %w", action, err)
	}
	now := time.Now()
	if sp := p.shared.Load(); sp != nil && p.interval > 0 {
		done, err := p.waitShared(ctx, sp, action, now)
		if done {
			return err
		}
	}
	r := p.reserve(action, now)
	delay := r.DelayFrom(now)
	if delay == 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && deadline.Before(now.Add(delay)) {
		r.CancelAt(now)
		return fmt.Errorf("pacing %s: the next free slot (in %v) is after the deadline: %w",
			action, delay, context.DeadlineExceeded)
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return fmt.Errorf("pacing %s: %w", action, ctx.Err())
	}
}

// waitShared waits for a slot booked through the shared booker. done is false when the booker
// failed: the caller then paces locally.
func (p *Pacer) waitShared(ctx context.Context, sp *sharedPace, action string, now time.Time) (done bool, err error) {
	deadline, _ := ctx.Deadline()
	slot, ok, err := sp.booker.BookSlot(ctx, action, now, p.interval, deadline)
	if err != nil {
		if ctx.Err() != nil {
			return true, fmt.Errorf("pacing %s: %w", action, ctx.Err())
		}
		if sp.onErr != nil {
			sp.onErr(fmt.Errorf("pacing %s through the shared store (pacing this process alone): %w", action, err))
		}
		return false, nil
	}
	if !ok {
		return true, fmt.Errorf("pacing %s: the next free shared slot is after the deadline: %w", action, context.DeadlineExceeded)
	}
	delay := slot.Sub(now)
	if delay <= 0 {
		return true, nil
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true, nil
	case <-ctx.Done():
		// The slot stays booked: other processes lose one slot, which errs on the safe side.
		return true, fmt.Errorf("pacing %s: %w", action, ctx.Err())
	}
}
