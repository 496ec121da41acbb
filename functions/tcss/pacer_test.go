package tcss

import (
	"context"
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// sendTimes reserves n calls of action, all asked for at the instant at, and returns when each
// may go.
func sendTimes(p *Pacer, action string, at time.Time, n int) []time.Time {
	times := make([]time.Time, n)
	for i := range times {
		times[i] = at.Add(p.reserve(action, at).DelayFrom(at))
	}
	return times
}

func TestPacerSpacesCallsEvenly(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	times := sendTimes(p, "CreateVulScanTask", t0, 21)
	if !times[0].Equal(t0) {
		t.Errorf("the first call waits %v, want 0", times[0].Sub(t0))
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 52500*time.Microsecond || gap > 52500*time.Microsecond+time.Millisecond {
			t.Errorf("call %d goes %v after call %d, want 52.5ms (50ms, 5%% margin, plus slack)", i+1, gap, i)
		}
	}
	if got := times[20].Sub(t0); got < time.Second {
		t.Errorf("the 21st call goes at +%v, want +1s or later: 20 calls fill the first second", got)
	}
}

func TestPacerNeverExceedsTheLimitInAnySecond(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	// A burst of 100 at once, then stragglers: no window [w, w+1s) may hold more than 20.
	times := sendTimes(p, "CreateVulScanTask", t0, 100)
	times = append(times, sendTimes(p, "CreateVulScanTask", t0.Add(7*time.Second), 30)...)
	for i := range times {
		inWindow := 0
		for _, at := range times {
			if !at.Before(times[i]) && at.Before(times[i].Add(time.Second)) {
				inWindow++
			}
		}
		if inWindow > RequestsPerSecond {
			t.Fatalf("%d calls within the second after +%v", inWindow, times[i].Sub(t0))
		}
	}
}

func TestPacerKeepsActionsApart(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	sendTimes(p, "CreateVulScanTask", t0, 20)
	if d := p.reserve("DescribeVulScanInfo", t0).DelayFrom(t0); d != 0 {
		t.Errorf("DescribeVulScanInfo waits %v behind CreateVulScanTask's calls, want 0", d)
	}
}

func TestPacerFreesUpAsTimePasses(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	sendTimes(p, "CreateVulScanTask", t0, 5)
	later := t0.Add(10 * time.Second)
	if d := p.reserve("CreateVulScanTask", later).DelayFrom(later); d != 0 {
		t.Errorf("after 10 idle seconds the next call waits %v, want 0", d)
	}
}

func TestPacerWaitRefusesAWaitPastTheDeadline(t *testing.T) {
	p := NewPacer(1.0 / 3600) // one call an hour
	if err := p.Wait(context.Background(), "CreateVulScanTask"); err != nil {
		t.Fatalf("first Wait: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	err := p.Wait(ctx, "CreateVulScanTask")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait = %v, want an error wrapping context.DeadlineExceeded at once", err)
	}
}

func TestPacerWaitHonoursCancellation(t *testing.T) {
	p := NewPacer(1.0 / 3600)
	if err := p.Wait(context.Background(), "CreateVulScanTask"); err != nil {
		t.Fatalf("first Wait: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Wait(ctx, "CreateVulScanTask") }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want context.Canceled", err)
	}
}

func TestPacerWaitLetsAFreeSlotThrough(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Wait(ctx, "CreateVulScanTask"); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a cancelled context = %v, want context.Canceled", err)
	}
	if err := p.Wait(context.Background(), "CreateVulScanTask"); err != nil {
		t.Errorf("Wait with a free slot = %v, want nil", err)
	}
}

func TestDefaultBackoffGrowsAndStaysBounded(t *testing.T) {
	for attempt := range 10 {
		step := 4 * time.Second
		if attempt < 4 {
			step = 250 * time.Millisecond << attempt
		}
		for range 20 {
			d := DefaultBackoff(attempt)
			if d < step/2 || d >= step {
				t.Fatalf("DefaultBackoff(%d) = %v, want within [%v, %v)", attempt, d, step/2, step)
			}
		}
	}
}
