package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// fakeClock is a clock whose ticks the test sends.
type fakeClock struct {
	at    time.Time
	ticks chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{at: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC), ticks: make(chan time.Time)}
}

func (f *fakeClock) clock() clock {
	return clock{now: func() time.Time { return f.at }, tick: func(time.Duration) (<-chan time.Time, func()) { return f.ticks, func() {} }}
}

// advance moves the clock by d and delivers one tick, as a ticker does after a freeze.
func (f *fakeClock) advance(d time.Duration) {
	f.at = f.at.Add(d)
	f.ticks <- f.at
}

func TestRunningTimeoutCountsOnlyRunningTime(t *testing.T) {
	tests := []struct {
		name      string
		steps     []time.Duration // clock advances, one tick each
		wantEnded bool
		wantFroze bool
	}{
		{"running 29.9 s", repeat(299, runningTick), false, false},
		{"running 30 s", repeat(300, runningTick), true, false},
		{"frozen an hour, then running 10 s", append([]time.Duration{time.Hour}, repeat(100, runningTick)...), false, true},
		{"frozen, running 30 s in all", append(append(repeat(150, runningTick), 10*time.Minute), repeat(150, runningTick)...), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeClock()
			c := f.clock()
			tick, _ := c.tick(runningTick)
			ctx, stop, froze := runningTimeout(context.Background(), 30*time.Second, c.now(), tick)
			defer stop()
			for _, d := range tt.steps {
				select {
				case <-ctx.Done():
					t.Fatalf("ended early: %v", context.Cause(ctx))
				default:
				}
				f.advance(d)
			}
			if tt.wantEnded {
				<-ctx.Done()
				if !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
					t.Errorf("cause %v, want DeadlineExceeded", context.Cause(ctx))
				}
			} else if ctx.Err() != nil {
				t.Errorf("ended: %v", context.Cause(ctx))
			}
			if froze() != tt.wantFroze {
				t.Errorf("froze = %v, want %v", froze(), tt.wantFroze)
			}
		})
	}
}

func repeat(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// TestOpenThroughFreezes: an open that fails after a freeze (the database dropped the connection
// left half-open) is tried once more; one that fails without a freeze, or fails twice, is not.
func TestOpenThroughFreezes(t *testing.T) {
	dropped := errors.New("connection reset by peer")
	tests := []struct {
		name      string
		fails     int  // opens that fail before one succeeds
		freeze    bool // each failing open is frozen first
		wantTries int
		wantErr   bool
	}{
		{"opens at once", 0, false, 1, false},
		{"fails without a freeze", 1, false, 1, true},
		{"fails after a freeze, then opens", 1, true, 2, false},
		{"fails after a freeze twice", 2, true, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeClock()
			tries := 0
			open := func(ctx context.Context) (audit.Store, audit.Store, error) {
				tries++
				if tries > tt.fails {
					return nil, nil, nil
				}
				if tt.freeze {
					f.advance(time.Hour)
					f.advance(runningTick) // a tick after the thaw, read before the failure
				}
				return nil, nil, dropped
			}
			_, _, err := openThroughFreezes(open, 30*time.Second, f.clock())(context.Background())
			if tries != tt.wantTries || (err != nil) != tt.wantErr {
				t.Errorf("%d tries, err %v; want %d tries, error %v", tries, err, tt.wantTries, tt.wantErr)
			}
			if err != nil && !errors.Is(err, dropped) {
				t.Errorf("err %v does not carry the cause", err)
			}
		})
	}
}

// TestOpenThroughFreezesSaysWhenTimeRanOut: a store that never answers ends the open after limit
// of running time, and the error says so.
func TestOpenThroughFreezesSaysWhenTimeRanOut(t *testing.T) {
	f := newFakeClock()
	open := func(ctx context.Context) (audit.Store, audit.Store, error) {
		for {
			f.at = f.at.Add(runningTick)
			select {
			case f.ticks <- f.at:
			case <-ctx.Done(): // the tick that ended it was the last one read
				return nil, nil, ctx.Err()
			}
		}
	}
	_, _, err := openThroughFreezes(open, time.Second, f.clock())(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no answer in 1s") {
		t.Errorf("err = %v, want it to say no answer in 1s", err)
	}
}
