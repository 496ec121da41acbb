package tcss

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RequestsPerSecond is TCSS's documented limit per action.
const RequestsPerSecond = 20

// Pacer spaces calls per action so that the process stays under an API's per-action rate limit.
// It is safe for concurrent use.
//
// Calls are spaced evenly (a token bucket of size 1): at RequestsPerSecond that is one call every
// 50 ms, so no one-second window, wherever it starts, holds more than RequestsPerSecond calls.
// A bucket of size 20 would let 20 through at once and then 20 more within the same second.
type Pacer struct {
	limit    rate.Limit
	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// slack is added to the interval between calls: the limiter computes in floating point and may
// otherwise place a call a nanosecond early, letting 21 calls into one second.
const slack = time.Microsecond

// NewPacer returns a Pacer allowing perSecond (> 0) calls per second per action; math.Inf(1)
// turns pacing off (for benchmarks).
func NewPacer(perSecond float64) *Pacer {
	limit := rate.Inf
	if !math.IsInf(perSecond, 1) {
		limit = rate.Every(time.Duration(float64(time.Second)/perSecond) + slack)
	}
	return &Pacer{limit: limit, limiters: map[string]*rate.Limiter{}}
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
