package scan

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// gatedStarter starts nothing until its gate opens, and records what reached it.
type gatedStarter struct {
	gate    chan struct{}
	entered chan string // the key of each Start, as it begins
	mu      sync.Mutex
	started []string
	refused []error
}

func newGatedStarter() *gatedStarter {
	return &gatedStarter{gate: make(chan struct{}), entered: make(chan string, 100)}
}

func (g *gatedStarter) Start(_ context.Context, _ Request, key string, _ Caller) (Attempt, error) {
	g.entered <- key
	<-g.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	g.started = append(g.started, key)
	return Attempt{Record: audit.Record{ID: int64(len(g.started))}}, nil
}

func (g *gatedStarter) Reject(_ context.Context, _ string, _ Caller, cause error) (Attempt, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refused = append(g.refused, cause)
	return Attempt{Record: audit.Record{ID: 1000 + int64(len(g.refused))}}, cause
}

var apiCaller = Caller{Trigger: audit.TriggerAPI, Actor: "apikey:ci"}

type startOutcome struct {
	key string
	a   Attempt
	err error
}

func TestQueueRefusesWhatItCannotHold(t *testing.T) {
	next := newGatedStarter()
	q := NewQueue(next, QueueConfig{Capacity: 2, Workers: 1})
	results := make(chan startOutcome, 10)
	start := func(key string, c Caller) {
		a, err := q.Start(context.Background(), Request{}, key, c)
		results <- startOutcome{key, a, err}
	}
	go start("first", apiCaller)
	if got := <-next.entered; got != "first" { // the one worker holds it
		t.Fatalf("the worker took %q", got)
	}
	go start("second", apiCaller)
	go start("third", apiCaller)
	// Two wait; wait for them to be queued before the next arrives.
	for len(q.jobs) < 2 {
		time.Sleep(time.Millisecond)
	}
	fourth := Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{" SHA256:" + strings.Repeat("AB", 32)}}
	a, err := q.Start(context.Background(), fourth, "fourth", apiCaller)
	var e *Error
	var busy *BusyError
	if !errors.As(err, &e) || e.Code != EBUSY || !errors.As(err, &busy) || busy.RetryAfter() <= 0 {
		t.Fatalf("a full queue answered %v, want EBUSY with a Retry-After", err)
	}
	// The refusal records what was asked, as Start would have recorded it.
	if want, _ := paramsOf(fourth.Normalize()); string(e.Submitted) != string(want) {
		t.Errorf("the refusal records params %s, want %s", e.Submitted, want)
	}
	if !strings.Contains(e.Message, "2 scans are waiting") {
		t.Errorf("message %q", e.Message)
	}
	if a.ID() == 0 || len(next.refused) != 1 {
		t.Errorf("the refusal was not recorded: attempt %d, %d refusals", a.ID(), len(next.refused))
	}
	// A timer is not held up by the web's queue (its Start would block on the gate here, so it
	// is checked by what reaches next first).
	go start("timer", Caller{Trigger: audit.TriggerTimer, Actor: "system:timer/nightly"})
	if got := <-next.entered; got != "timer" {
		t.Errorf("%q reached the service before the timer", got)
	}
	close(next.gate)
	for range 4 {
		if r := <-results; r.err != nil {
			t.Errorf("%s: %v", r.key, r.err)
		}
	}
	next.mu.Lock()
	defer next.mu.Unlock()
	if len(next.started) != 4 {
		t.Errorf("started %v, want first, second, third and the timer", next.started)
	}
}

// A request whose caller gives up (or runs out of time) while it waits is refused and recorded,
// and never reaches the service: no attempt is half done.
func TestQueueDropsARequestWhoseCallerGaveUp(t *testing.T) {
	next := newGatedStarter()
	q := NewQueue(next, QueueConfig{Capacity: 2, Workers: 1})
	results := make(chan startOutcome, 10)
	go func() {
		a, err := q.Start(context.Background(), Request{}, "first", apiCaller)
		results <- startOutcome{"first", a, err}
	}()
	<-next.entered
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		a, err := q.Start(ctx, Request{}, "gave-up", apiCaller)
		results <- startOutcome{"gave-up", a, err}
	}()
	for len(q.jobs) < 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	r := <-results
	var e *Error
	if r.key != "gave-up" || !errors.As(r.err, &e) || e.Code != EBUSY || !errors.Is(r.err, context.Canceled) || r.a.ID() == 0 {
		t.Fatalf("%s: %v (attempt %d), want a recorded EBUSY refusal wrapping context.Canceled", r.key, r.err, r.a.ID())
	}
	close(next.gate)
	if r := <-results; r.key != "first" || r.err != nil {
		t.Fatalf("%s: %v", r.key, r.err)
	}
	// The worker skips the abandoned request: the next one after it is served.
	go func() {
		a, err := q.Start(context.Background(), Request{}, "after", apiCaller)
		results <- startOutcome{"after", a, err}
	}()
	if r := <-results; r.key != "after" || r.err != nil {
		t.Fatalf("%s: %v", r.key, r.err)
	}
	next.mu.Lock()
	defer next.mu.Unlock()
	for _, k := range next.started {
		if k == "gave-up" {
			t.Errorf("the abandoned request reached the service: %v", next.started)
		}
	}
}

// A function whose first event is the form or a timer queues nothing, so a Queue starts its
// workers with the first queued request, not when it is made.
func TestQueueStartsItsWorkersWithTheFirstRequest(t *testing.T) {
	const workers = 64
	next := newGatedStarter()
	before := runtime.NumGoroutine()
	q := NewQueue(next, QueueConfig{Capacity: 2, Workers: workers})
	if made := runtime.NumGoroutine() - before; made >= workers {
		t.Fatalf("NewQueue started %d goroutines before any request", made)
	}
	done := make(chan error, 1)
	go func() {
		_, err := q.Start(context.Background(), Request{}, "first", apiCaller)
		done <- err
	}()
	if got := <-next.entered; got != "first" {
		t.Fatalf("a worker took %q", got)
	}
	if running := runtime.NumGoroutine() - before; running < workers {
		t.Errorf("%d goroutines after the first request, want the %d workers", running, workers)
	}
	close(next.gate)
	if err := <-done; err != nil {
		t.Fatalf("the first request: %v", err)
	}
}

func TestScansAreAgrees(t *testing.T) {
	for n, want := range map[int]string{1: "1 scan is", 2: "2 scans are", 64: "64 scans are"} {
		if got := scansAre(n); got != want {
			t.Errorf("scansAre(%d) = %q, want %q", n, got, want)
		}
	}
}

// Once stopped, the queue starts nothing more: the request a worker holds goes on, one still
// waiting and one that comes after are refused (EBUSY, recorded), and neither reaches the service.
func TestStoppedQueueStartsNothingMore(t *testing.T) {
	next := newGatedStarter()
	q := NewQueue(next, QueueConfig{Capacity: 2, Workers: 1})
	results := make(chan startOutcome, 3)
	start := func(key string) {
		a, err := q.Start(context.Background(), Request{LocalImageScanType: "ALL"}, key, apiCaller)
		results <- startOutcome{key, a, err}
	}
	go start("held")
	if got := <-next.entered; got != "held" {
		t.Fatalf("the worker took %q", got)
	}
	go start("waiting")
	for q.Waiting() < 1 {
		time.Sleep(time.Millisecond)
	}
	q.Stop()
	go start("after")
	close(next.gate)
	got := map[string]error{}
	for range 3 {
		r := <-results
		got[r.key] = r.err
	}
	if got["held"] != nil {
		t.Errorf("the request a worker held: %v, want it started", got["held"])
	}
	for _, key := range []string{"waiting", "after"} {
		var e *Error
		var busy *BusyError
		if !errors.As(got[key], &e) || e.Code != EBUSY || !strings.Contains(e.Message, "shutting down") || !errors.As(got[key], &busy) {
			t.Errorf("%s: %v, want EBUSY saying the server is shutting down, with a Retry-After", key, got[key])
		}
	}
	next.mu.Lock()
	defer next.mu.Unlock()
	if !slices.Equal(next.started, []string{"held"}) || len(next.refused) != 2 {
		t.Errorf("started %v, %d refusals recorded; want only held started and both others recorded", next.started, len(next.refused))
	}
}
