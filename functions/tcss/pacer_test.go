package tcss

import (
	"container/heap"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// goAt lets one call of action go at the first instant at or after at that the Pacer allows, as
// Wait would on a punctual clock, and returns that instant and the call's number. The call stays
// in flight until answered.
func goAt(t *testing.T, p *Pacer, action string, at time.Time) (time.Time, uint64) {
	t.Helper()
	a := p.action(action)
	for range 1000 {
		next, _, inFlight := p.earliest(a, at, true)
		if inFlight {
			t.Fatalf("a call at +%v waits for an answer still in flight", at.Sub(t0))
		}
		if !next.After(at) {
			return at, p.admit(a, at, true)
		}
		at = next
	}
	t.Fatal("the Pacer never lets the call go")
	return time.Time{}, 0
}

// sendAnswered sends n calls asked for at the instant at, each answered rtt after it went.
func sendAnswered(t *testing.T, p *Pacer, action string, at time.Time, n int, rtt time.Duration) []time.Time {
	times := make([]time.Time, n)
	a := p.action(action)
	for i := range times {
		went, id := goAt(t, p, action, at)
		p.answer(a, id, went.Add(rtt))
		times[i] = went
	}
	return times
}

// maxPerWindow is the most times within any window [t, t+window) (sliding), and within any
// clock-aligned window (how TCSS counts a second).
func maxPerWindow(times []time.Time, window time.Duration) (sliding, aligned int) {
	t := slices.Clone(times)
	slices.SortFunc(t, func(a, b time.Time) int { return a.Compare(b) })
	j := 0
	perSlot := map[int64]int{}
	for i := range t {
		for t[i].Sub(t[j]) >= window {
			j++
		}
		sliding = max(sliding, i-j+1)
		slot := t[i].UnixNano() / int64(window)
		perSlot[slot]++
		aligned = max(aligned, perSlot[slot])
	}
	return sliding, aligned
}

func TestPacerSpacesCallsEvenly(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	times := sendAnswered(t, p, "CreateVulScanTask", t0, 21, time.Millisecond)
	if !times[0].Equal(t0) {
		t.Errorf("the first call waits %v, want 0", times[0].Sub(t0))
	}
	for i := 1; i < 20; i++ {
		if gap := times[i].Sub(times[i-1]); gap != 50*time.Millisecond+slack {
			t.Errorf("call %d goes %v after call %d, want 50ms (plus slack)", i+1, gap, i)
		}
	}
	// The window rule: the 21st call goes a second after the first one's answer.
	if got, want := times[20].Sub(t0), time.Second+time.Millisecond; got != want {
		t.Errorf("the 21st call goes at +%v, want +%v: a second after the first call's answer", got, want)
	}
}

func TestPacerNeverExceedsTheLimitInAnySecond(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	// A burst of 100 at once, then stragglers: no window [w, w+1s) may hold more than 20.
	times := sendAnswered(t, p, "CreateVulScanTask", t0, 100, 3*time.Millisecond)
	times = append(times, sendAnswered(t, p, "CreateVulScanTask", t0.Add(7*time.Second), 30, 0)...)
	if sliding, aligned := maxPerWindow(times, time.Second); sliding > RequestsPerSecond || aligned > RequestsPerSecond {
		t.Errorf("%d calls in one sliding second, %d in one clock second; want at most %d", sliding, aligned, RequestsPerSecond)
	}
}

// The window rule holds whatever the scheduler does: callers woken late (a loaded machine) and
// calls that take a while to reach TCSS never put more than 20 arrivals into one second. A
// simulation on a fake clock of 500 calls, by 500 callers at once and by 8 workers, with wake-ups
// up to 400 ms late and arrivals up to 30 ms after the call went.
func TestPacerBoundsArrivalsUnderLateWakeUps(t *testing.T) {
	for _, workers := range []int{500, 8} {
		for seed := range uint64(3) {
			arrivals := simulate(t, NewPacer(RequestsPerSecond), 500, workers, rand.New(rand.NewPCG(seed, 42)))
			if len(arrivals) != 500 {
				t.Fatalf("%d workers, seed %d: %d calls arrived, want 500", workers, seed, len(arrivals))
			}
			sliding, aligned := maxPerWindow(arrivals, time.Second)
			if sliding > RequestsPerSecond || aligned > RequestsPerSecond {
				t.Errorf("%d workers, seed %d: %d arrivals in one sliding second, %d in one clock second; want at most %d",
					workers, seed, sliding, aligned, RequestsPerSecond)
			}
			// Not a timing assertion (the clock is simulated): the rule must not starve the calls.
			if span := arrivals[len(arrivals)-1].Sub(t0); span > 40*time.Second {
				t.Errorf("%d workers, seed %d: 500 calls took %v of simulated time, want about 25 s", workers, seed, span)
			}
		}
	}
}

// simulate runs calls calls through p on a simulated clock with workers callers, each taking the
// next call when its last one was answered. Every wake-up (a timer, or an answer that frees the
// window) comes late by a random delay; each call arrives at TCSS a random while after it went
// and is answered a random while after that. It returns the arrival times, sorted.
func simulate(t *testing.T, p *Pacer, calls, workers int, rng *rand.Rand) []time.Time {
	t.Helper()
	late := func() time.Duration {
		switch r := rng.Float64(); {
		case r < 0.7:
			return time.Duration(rng.Int64N(int64(2 * time.Millisecond)))
		case r < 0.95:
			return time.Duration(rng.Int64N(int64(60 * time.Millisecond)))
		default:
			return time.Duration(rng.Int64N(int64(400 * time.Millisecond)))
		}
	}
	a := p.action("CreateVulScanTask")
	events := &eventQueue{}
	for w := range workers {
		heap.Push(events, event{at: t0.Add(late()), worker: w})
	}
	var arrivals []time.Time
	var waiting []int // workers waiting for an answer to free the window
	started := 0
	for events.Len() > 0 && len(arrivals) < calls {
		e := heap.Pop(events).(event)
		if e.worker < 0 {
			p.answer(a, e.answer, e.at)
			for _, w := range waiting {
				heap.Push(events, event{at: e.at.Add(late()), worker: w})
			}
			waiting = waiting[:0]
			continue
		}
		if started == calls {
			continue
		}
		at, _, inFlight := p.earliest(a, e.at, true)
		switch {
		case inFlight:
			waiting = append(waiting, e.worker)
		case at.After(e.at):
			heap.Push(events, event{at: at.Add(late()), worker: e.worker})
		default:
			started++
			id := p.admit(a, e.at, true)
			arrive := e.at.Add(time.Duration(rng.Int64N(int64(30 * time.Millisecond))))
			answered := arrive.Add(time.Duration(rng.Int64N(int64(20 * time.Millisecond))))
			arrivals = append(arrivals, arrive)
			heap.Push(events, event{at: answered, worker: -1, answer: id})
			heap.Push(events, event{at: answered.Add(late()), worker: e.worker})
		}
	}
	slices.SortFunc(arrivals, func(a, b time.Time) int { return a.Compare(b) })
	return arrivals
}

// event is a simulated wake-up of a worker, or an answer (worker -1).
type event struct {
	at     time.Time
	worker int
	answer uint64 // the call answered
}

// eventQueue orders events by time (container/heap).
type eventQueue []event

func (q eventQueue) Len() int           { return len(q) }
func (q eventQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q eventQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)        { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// A call still in flight holds its place: the call n places after it waits for its answer, then
// a window more.
func TestPacerWaitsForAnAnswerInFlight(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	p.setLimit(2, time.Second)
	a := p.action("CreateVulScanTask")
	first, _ := goAt(t, p, "CreateVulScanTask", t0)
	goAt(t, p, "CreateVulScanTask", first)
	later := t0.Add(5 * time.Second)
	if _, _, inFlight := p.earliest(a, later, true); !inFlight {
		t.Fatal("with both calls unanswered the third does not wait for an answer")
	}
	p.answer(a, 1, later)
	at, _, inFlight := p.earliest(a, later, true)
	if inFlight || !at.Equal(later.Add(time.Second)) {
		t.Errorf("after the first answer at +5s the third call may go at +%v (in flight %v), want +6s", at.Sub(t0), inFlight)
	}
	// An answer that never comes holds the place for maxInFlight only.
	p.setLimit(1, time.Second)
	b := p.action("DescribeVulScanInfo")
	goAt(t, p, "DescribeVulScanInfo", t0)
	at, _, inFlight = p.earliest(b, t0.Add(maxInFlight), true)
	if inFlight || !at.Equal(t0.Add(maxInFlight+time.Second)) {
		t.Errorf("a call never answered frees its place at +%v (in flight %v), want +%v", at.Sub(t0), inFlight, maxInFlight+time.Second)
	}
}

// Wait itself, on the real clock with a small window (5 calls per 100 ms): goroutines that sleep
// a random while between Wait and done never put more than 5 sends into one window.
func TestPacerWaitKeepsTheWindow(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	p.setLimit(5, 100*time.Millisecond)
	var mu sync.Mutex
	var sent []time.Time
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			done, err := p.Wait(context.Background(), "CreateVulScanTask")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			sent = append(sent, time.Now())
			mu.Unlock()
			time.Sleep(time.Duration(i%4) * time.Millisecond)
			done()
		})
	}
	wg.Wait()
	if sliding, _ := maxPerWindow(sent, 100*time.Millisecond); sliding > 5 {
		t.Errorf("%d sends within 100 ms, want at most 5", sliding)
	}
}

func TestPacerKeepsActionsApart(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	sendAnswered(t, p, "CreateVulScanTask", t0, 20, 0)
	if at, _, _ := p.earliest(p.action("DescribeVulScanInfo"), t0, true); !at.Equal(t0) {
		t.Errorf("DescribeVulScanInfo waits %v behind CreateVulScanTask's calls, want 0", at.Sub(t0))
	}
}

func TestPacerFreesUpAsTimePasses(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	sendAnswered(t, p, "CreateVulScanTask", t0, 25, time.Millisecond)
	later := t0.Add(10 * time.Second)
	if at, _, _ := p.earliest(p.action("CreateVulScanTask"), later, true); !at.Equal(later) {
		t.Errorf("after 10 idle seconds the next call waits %v, want 0", at.Sub(later))
	}
}

func TestPacerWaitRefusesAWaitPastTheDeadline(t *testing.T) {
	p := NewPacer(1.0 / 3600) // one call an hour
	done, err := p.Wait(context.Background(), "CreateVulScanTask")
	if err != nil {
		t.Fatalf("first Wait: %v", err)
	}
	done()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	_, err = p.Wait(ctx, "CreateVulScanTask")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait = %v, want an error wrapping context.DeadlineExceeded at once", err)
	}
}

func TestPacerWaitHonoursCancellation(t *testing.T) {
	p := NewPacer(1.0 / 3600)
	if _, err := p.Wait(context.Background(), "CreateVulScanTask"); err != nil {
		t.Fatalf("first Wait: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Wait(ctx, "CreateVulScanTask")
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want context.Canceled", err)
	}
}

func TestPacerWaitLetsAFreeSlotThrough(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Wait(ctx, "CreateVulScanTask"); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := p.Wait(context.Background(), "CreateVulScanTask"); err != nil {
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
