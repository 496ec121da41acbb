package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// A function platform freezes an instance between invocations: Lambda once the runtime asks for
// the next event, SCF likewise. The audit store opens beside the first event, so an instance whose
// first event needed no store (the form) is often frozen mid-open, and thawed seconds or hours
// later. A plain timeout counts the frozen time (Go's timers run on CLOCK_MONOTONIC, which the
// freezer does not stop): on thaw it had expired, and the open failed and ended the instance in
// the middle of an event that needed the store. runningTimeout counts only time the process ran.

// runningTick is how often runningTimeout looks at the clock; a gap of more than
// runningFreezeGap between two looks is taken as a freeze and not counted.
const (
	runningTick      = 100 * time.Millisecond
	runningFreezeGap = 2 * time.Second
)

// runningTimeout returns a context that ends limit of running time after the call (the error
// says so), a stop function that must be called, and a function reporting whether a freeze was
// seen meanwhile. tick delivers the clock's readings (a time.Ticker's channel outside tests).
func runningTimeout(ctx context.Context, limit time.Duration, start time.Time, tick <-chan time.Time) (context.Context, func(), func() bool) {
	ctx, cancel := context.WithCancelCause(ctx)
	var froze atomic.Bool
	stopped := make(chan struct{})
	go func() {
		last, ran := start, time.Duration(0)
		for {
			select {
			case <-stopped:
				return
			case <-ctx.Done():
				return
			case now := <-tick:
				gap := now.Sub(last)
				last = now
				if gap > runningFreezeGap {
					froze.Store(true)
					continue
				}
				if ran += max(gap, 0); ran >= limit {
					cancel(fmt.Errorf("no answer in %v: %w", limit, context.DeadlineExceeded))
					return
				}
			}
		}
	}()
	var once atomic.Bool
	stop := func() {
		if once.CompareAndSwap(false, true) {
			close(stopped)
			cancel(context.Canceled)
		}
	}
	return ctx, stop, froze.Load
}

// clock is what runningTimeout needs of time: the current reading and a ticker.
type clock struct {
	now  func() time.Time
	tick func(d time.Duration) (<-chan time.Time, func())
}

var realClock = clock{now: time.Now, tick: func(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}}

// openThroughFreezes bounds open by limit of running time, and tries it once more when it failed
// after a freeze: the database may have dropped a connection left half-open while the instance
// was frozen (PostgreSQL ends an unauthenticated one after authentication_timeout).
func openThroughFreezes(open storeOpener, limit time.Duration, c clock) storeOpener {
	return func(ctx context.Context) (audit.Store, audit.Store, error) {
		for try := 1; ; try++ {
			tick, stopTicker := c.tick(runningTick)
			octx, stop, froze := runningTimeout(ctx, limit, c.now(), tick)
			wrapped, raw, err := open(octx)
			stop()
			stopTicker()
			if err == nil || try > 1 || !froze() || ctx.Err() != nil {
				if cause := context.Cause(octx); err != nil && errors.Is(cause, context.DeadlineExceeded) {
					err = fmt.Errorf("%w (%v)", err, cause)
				}
				return wrapped, raw, err
			}
		}
	}
}
