package tcss

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// RequestsPerSecond is TCSS's documented limit per action.
const RequestsPerSecond = 20

// Pacer keeps the calls of each action under an API's per-action rate limit, counted the way TCSS
// counts: calls arriving within one second. It is safe for concurrent use.
//
// Two rules decide when a call may go:
//
//   - The window rule bounds what actually reaches the API. The Pacer remembers the last n calls
//     of each action: when each was let go and when its answer came (Wait's done). Call i may go
//     only one second after the answer to call i-n, and after every earlier answer. A call
//     arrives after it was let go and before its answer, so calls i-n and i are always more than
//     a second apart on arrival, and no one-second window, sliding or clock-aligned, holds more
//     than n of them, however late a goroutine woke up, however long the network took. A call
//     still in flight holds its place until it is answered (or until maxInFlight has passed).
//   - Spacing keeps the calls even rather than n at once and then a pause: one every window/n
//     (50 ms at 20 a second) as a schedule (GCRA) that absorbs wake-up delays shorter than half
//     an interval and moves on from the actual time after longer ones.
//
// Processes that share an audit store (Share) book their slots through it instead of spacing
// locally: shareMargin further apart, and a slot is given up when its process wakes more than
// lateTolerance past it. The window rule still applies per process.
type Pacer struct {
	n        int           // calls allowed per window; 0 when pacing is off
	window   time.Duration // the counting window: one second for TCSS
	interval time.Duration // local spacing between two calls of an action
	booked   time.Duration // spacing of the slots booked through a shared store
	now      func() time.Time
	mu       sync.Mutex
	actions  map[string]*actionPace
	shared   atomic.Pointer[sharedPace]
}

// SlotBooker books call slots in a place several processes share (the audit store), so that all
// processes of one account together keep TCSS's pace, not each alone.
type SlotBooker interface {
	// BookSlot reserves count (at least one) consecutive slots for action, interval apart, the
	// first at or after now and at least interval after the slot booked before it, and returns
	// the first; ok is false, and nothing is booked, when the first would be after notAfter
	// (zero: no bound).
	BookSlot(ctx context.Context, action string, now time.Time, interval time.Duration, count int, notAfter time.Time) (first time.Time, ok bool, err error)
}

// ErrNoSharedPace is what a SlotBooker answers when it turns out to keep no shared pace (an audit
// store whose kind books no slots): the Pacer then stops asking it and paces this process alone,
// without reporting it as a failure.
var ErrNoSharedPace = errors.New("this store keeps no shared TCSS pace")

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

// slack is added to the interval between calls: durations computed in floating point may
// otherwise place a call a nanosecond early.
const slack = time.Microsecond

// shareMargin stretches the interval between slots booked through a shared store by 5%. A
// process that wakes up late for its slot sends beside other processes' later slots, which the
// window rule (per process) cannot see. With slots 52.5 ms apart and every call sent at most
// lateTolerance after its slot, a one-second window can meet the calls of at most
// (1 s + lateTolerance + trip) / 52.5 ms < 20 slots, so long as the trip to TCSS takes less
// than 10 ms more than the others' (a tighter tolerance gave up a slot in a burst on this
// loaded two-core machine every second or so, and stretched the drain past 27.5 s).
const shareMargin = 1.05

// lateTolerance is how late past a shared slot a call may still go; later, the slot is given up
// (it stays booked: other processes lose it, which errs on the safe side) and another taken, at
// most maxRebooks times per call, after which the call goes with the window rule alone.
const (
	lateTolerance = 40 * time.Millisecond
	maxRebooks    = 3
)

// maxBatch bounds the slots one booking takes: as many as the process has callers waiting, so
// that a burst costs one write to the shared store per few calls (each write is a commit, and a
// booking behind a few slow fsyncs used to leave its slot stale before it came back), while a
// lone call books one slot and wastes none of the other processes'.
const maxBatch = 8

// maxBookLead caps how far ahead of now a booking asks for its first slot. A booking waits for
// the store (behind its commits' fsyncs in a burst), and a first slot at now comes back stale,
// and is given up, when the booking took longer than lateTolerance; so a booking asks for slots
// from now plus the recent bookings' duration (the largest, decaying by an eighth per booking)
// less half the tolerance (bookLead). That costs nothing in a burst (the next free slot is later
// anyway) and a lone call at most this much. A lone call on a store that books within half the
// tolerance asks for now and goes at once: with the whole duration as the lead, every call of a
// warm server at 15 a second slept for the last bookings' time (0.35 ms at the median, 3.8 at
// p90, and for ten calls after a booking the disk held up, 13 ms decaying), and woke late.
const maxBookLead = 250 * time.Millisecond

// bookLead is how far ahead of now a booking asks for its first slot, when recent bookings
// have taken took (see maxBookLead).
func bookLead(took time.Duration) time.Duration {
	return max(0, took-lateTolerance/2)
}

// maxInFlight is how long a call without an answer (its caller never called done) holds its
// place in the window: the SDK's own request timeout.
const maxInFlight = requestTimeoutSeconds * time.Second

// NewPacer returns a Pacer allowing perSecond (> 0) calls per second per action; math.Inf(1)
// turns pacing off (for benchmarks). Below one call a second, the window is 1/perSecond.
func NewPacer(perSecond float64) *Pacer {
	p := &Pacer{now: time.Now, actions: map[string]*actionPace{}}
	if math.IsInf(perSecond, 1) {
		return p
	}
	n, window := int(perSecond), time.Second
	if n < 1 {
		n, window = 1, time.Duration(float64(time.Second)/perSecond)
	}
	p.setLimit(n, window)
	return p
}

// setLimit allows n calls per window per action.
func (p *Pacer) setLimit(n int, window time.Duration) {
	p.n, p.window = n, window
	p.interval = window/time.Duration(n) + slack
	p.booked = time.Duration(float64(window)/float64(n)*shareMargin) + slack
}

var defaultPacer = NewPacer(RequestsPerSecond)

// DefaultPacer is the process-wide Pacer every Client shares unless given its own, so that all
// Clients of the process together respect TCSS's limit.
func DefaultPacer() *Pacer { return defaultPacer }

// actionPace is one action's state: its spacing schedule and its last n calls.
type actionPace struct {
	tat     time.Time // when the next evenly spaced call may go (GCRA's theoretical arrival time)
	sends   []send    // the last n calls, oldest first
	floor   time.Time // the latest answer among the calls that have left sends
	seq     uint64    // numbers the calls, for done
	changed chan struct{}

	// Through a shared store: the slots booked and not yet taken, oldest first; how many
	// bookings were made (each slot carries its booking's number); the callers in Wait that hold
	// no slot; and, while a booking is under way, a channel closed when it ends.
	stash    []bookedSlot
	bookings uint64
	needy    int
	booking  chan struct{}
	bookTook time.Duration // what recent bookings took: the largest, decaying by an eighth per booking
}

// bookedSlot is a slot booked through the shared store, and the number of its booking.
type bookedSlot struct {
	at      time.Time
	booking uint64
}

type send struct {
	id       uint64
	at       time.Time // when the call was let go
	answered time.Time // when its answer came; zero while in flight
}

func (p *Pacer) action(name string) *actionPace {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.actions[name]
	if !ok {
		a = &actionPace{sends: make([]send, 0, p.n), changed: make(chan struct{})}
		p.actions[name] = a
	}
	return a
}

// earliest says when, at or after now, the next call may go. spaced applies the spacing
// schedule. When the window waits for the answer to a call still in flight, inFlight is true, at
// is only a lower bound (the answer comes at now or later), and the call may go at the latest at
// until, when that call's place expires (maxInFlight). p.mu must be held.
func (p *Pacer) earliest(a *actionPace, now time.Time, spaced bool) (at, until time.Time, inFlight bool) {
	at = now
	if spaced && a.tat.After(at) {
		at = a.tat
	}
	if len(a.sends) < p.n {
		return at, at, false
	}
	oldest := a.sends[0]
	answered := oldest.answered
	if answered.IsZero() {
		expires := oldest.at.Add(maxInFlight)
		if now.Before(expires) {
			return later(at, later(a.floor, now).Add(p.window)), later(at, later(a.floor, expires).Add(p.window)), true
		}
		answered = expires
	}
	if free := later(a.floor, answered).Add(p.window); free.After(at) {
		at = free
	}
	return at, at, false
}

// admit records a call let go at now and returns its number. p.mu must be held, and earliest
// must have allowed now.
func (p *Pacer) admit(a *actionPace, now time.Time, spaced bool) uint64 {
	if len(a.sends) == p.n {
		answered := a.sends[0].answered
		if answered.IsZero() { // in flight past maxInFlight
			answered = a.sends[0].at.Add(maxInFlight)
		}
		a.floor = later(a.floor, answered)
		a.sends = append(a.sends[:0], a.sends[1:]...)
	}
	a.seq++
	a.sends = append(a.sends, send{id: a.seq, at: now})
	if spaced {
		// On schedule, or woken less than half an interval late: keep the schedule. Later (or
		// after a pause): the schedule starts again from now.
		if now.Sub(a.tat) > p.interval/2 {
			a.tat = now
		}
		a.tat = a.tat.Add(p.interval)
	}
	return a.seq
}

// answer records the answer to call id at now and wakes the waiters.
func (p *Pacer) answer(a *actionPace, id uint64, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range a.sends {
		if a.sends[i].id == id && a.sends[i].answered.IsZero() {
			a.sends[i].answered = now
			close(a.changed)
			a.changed = make(chan struct{})
			return
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func noop() {}

// Wait blocks until a call of action may go, or until ctx ends. The caller sends at once and
// calls done when the answer came or the send failed: until then the call holds its place in
// the window. When ctx's deadline comes before the next free slot, Wait returns at once, without
// using a slot, with an error wrapping context.DeadlineExceeded; it returns ctx.Err() (wrapped)
// when ctx ends while waiting. done is nil only with an error.
func (p *Pacer) Wait(ctx context.Context, action string) (done func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pacing %s: %w", action, err)
	}
	if p.n == 0 {
		return noop, nil
	}
	a := p.action(action)
	if sp := p.shared.Load(); sp != nil {
		id, alone, err := p.waitShared(ctx, a, sp, action)
		if !alone {
			if err != nil {
				return nil, err
			}
			return p.doneFunc(a, id), nil
		}
	}
	for {
		now := p.now()
		p.mu.Lock()
		at, until, inFlight := p.earliest(a, now, true)
		if !inFlight && !at.After(now) {
			id := p.admit(a, now, true)
			p.mu.Unlock()
			return p.doneFunc(a, id), nil
		}
		changed := a.changed
		p.mu.Unlock()
		if !inFlight {
			changed = nil
		}
		if err := p.sleep(ctx, action, now, at, until, changed); err != nil {
			return nil, err
		}
	}
}

// waitShared is Wait through a shared store. A caller takes the oldest slot this process has
// booked, or, when there is none and no booking is under way, books as many as there are
// callers waiting (up to maxBatch); then it waits for its slot and goes when the window allows it
// and the slot is not stale (more than lateTolerance past), or after maxRebooks stale ones. A
// slot not taken in time is dropped: other processes lose it, which errs on the safe side.
// alone is true when the store failed: the caller then paces this process alone.
func (p *Pacer) waitShared(ctx context.Context, a *actionPace, sp *sharedPace, action string) (id uint64, alone bool, err error) {
	p.mu.Lock()
	a.needy++
	arrived := a.bookings // slots of earlier bookings were not booked for this caller
	p.mu.Unlock()
	needy := true
	defer func() {
		if needy {
			p.mu.Lock()
			a.needy--
			p.mu.Unlock()
		}
	}()
	stale := 0
	for {
		now := p.now()
		p.mu.Lock()
		at, until, inFlight := p.earliest(a, now, false)
		if inFlight || at.After(now) {
			changed := a.changed
			p.mu.Unlock()
			if !inFlight {
				changed = nil
			}
			if err := p.sleep(ctx, action, now, at, until, changed); err != nil {
				return 0, false, err
			}
			continue
		}
		// A slot nobody was there to take in time (or whose booking was slow) is dropped. Only
		// those booked since this caller came count against its maxRebooks: the leftovers of
		// bookings made for callers that have gone are dropped all the same, but must not let it
		// go on a stale slot without one booked for it.
		for len(a.stash) > 0 && now.Sub(a.stash[0].at) > lateTolerance {
			if a.stash[0].booking > arrived {
				if stale >= maxRebooks {
					break
				}
				stale++
			}
			a.stash = a.stash[1:]
		}
		if len(a.stash) == 0 {
			if a.booking != nil {
				booking := a.booking
				p.mu.Unlock()
				select {
				case <-booking:
				case <-ctx.Done():
					return 0, false, fmt.Errorf("pacing %s: %w", action, ctx.Err())
				}
				continue
			}
			if alone, err := p.book(ctx, a, sp, action, now); err != nil || alone {
				return 0, alone, err
			}
			continue
		}
		slot := a.stash[0].at
		a.stash = a.stash[1:]
		a.needy--
		needy = false
		p.mu.Unlock()
		if err := p.sleep(ctx, action, now, slot, slot, nil); err != nil {
			return 0, false, err
		}
		now = p.now()
		p.mu.Lock()
		at, _, inFlight = p.earliest(a, now, false)
		if !inFlight && !at.After(now) && (now.Sub(slot) <= lateTolerance || stale >= maxRebooks) {
			id := p.admit(a, now, false)
			p.mu.Unlock()
			return id, false, nil
		}
		stale++
		a.needy++
		needy = true
		p.mu.Unlock()
	}
}

// book books slots for the callers waiting and puts them in the stash. p.mu is held on entry
// and released on return.
func (p *Pacer) book(ctx context.Context, a *actionPace, sp *sharedPace, action string, now time.Time) (alone bool, err error) {
	count := min(max(a.needy, 1), maxBatch)
	a.bookings++
	number := a.bookings
	booking := make(chan struct{})
	a.booking = booking
	from := now.Add(bookLead(a.bookTook))
	p.mu.Unlock()
	first, ok, err := sp.booker.BookSlot(ctx, action, from, p.booked, count, deadlineOf(ctx))
	took := p.now().Sub(now)
	p.mu.Lock()
	a.bookTook = min(max(took, a.bookTook-a.bookTook/8), maxBookLead+lateTolerance/2)
	a.booking = nil
	close(booking)
	if err == nil && ok {
		for i := range count {
			a.stash = append(a.stash, bookedSlot{at: first.Add(time.Duration(i) * p.booked), booking: number})
		}
	}
	p.mu.Unlock()
	switch {
	case err != nil && ctx.Err() != nil:
		return false, fmt.Errorf("pacing %s: %w", action, ctx.Err())
	case errors.Is(err, ErrNoSharedPace):
		p.shared.CompareAndSwap(sp, nil) // asking again would only get the same answer
		return true, nil
	case err != nil:
		if sp.onErr != nil {
			sp.onErr(fmt.Errorf("pacing %s through the shared store (pacing this process alone): %w", action, err))
		}
		return true, nil
	case !ok:
		return false, fmt.Errorf("pacing %s: the next free shared slot is after the deadline: %w", action, context.DeadlineExceeded)
	}
	return false, nil
}

// doneFunc is what Wait hands its caller: it records the call's answer, once.
func (p *Pacer) doneFunc(a *actionPace, id uint64) func() {
	var once sync.Once
	return func() { once.Do(func() { p.answer(a, id, p.now()) }) }
}

// sleep waits until until (from now), or until changed is closed (an answer changed the window;
// nil: never), or until ctx ends. It refuses at once a wait when at, the earliest the wait can
// end, is past ctx's deadline.
func (p *Pacer) sleep(ctx context.Context, action string, now, at, until time.Time, changed <-chan struct{}) error {
	if deadline, ok := ctx.Deadline(); ok && deadline.Before(at) {
		return fmt.Errorf("pacing %s: the next free slot (in %v or later) is after the deadline: %w",
			action, at.Sub(now).Round(time.Millisecond), context.DeadlineExceeded)
	}
	delay := until.Sub(now)
	if delay <= 0 {
		return nil
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-changed:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("pacing %s: %w", action, ctx.Err())
	}
}

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}
