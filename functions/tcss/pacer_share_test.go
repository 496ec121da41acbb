package tcss

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeBooker books what it is told to, and records what it was asked.
type fakeBooker struct {
	slot  func(now time.Time) time.Time
	ok    bool
	err   error
	calls int
	asked time.Duration
	count int
}

func (f *fakeBooker) BookSlot(_ context.Context, _ string, now time.Time, interval time.Duration, count int, _ time.Time) (time.Time, bool, error) {
	f.calls++
	f.asked, f.count = interval, count
	if f.err != nil {
		return time.Time{}, false, f.err
	}
	return f.slot(now), f.ok, nil
}

func TestPacerBooksThroughASharedBooker(t *testing.T) {
	ctx := context.Background()
	now := func(t time.Time) time.Time { return t }

	p := NewPacer(RequestsPerSecond)
	b := &fakeBooker{slot: now, ok: true}
	p.Share(b, nil)
	for range 3 { // the shared booker, not the local spacing, decides: three calls at once pass
		done, err := p.Wait(ctx, "CreateVulScanTask")
		if err != nil {
			t.Fatal(err)
		}
		done()
	}
	if b.calls != 3 || b.asked != 52500*time.Microsecond+slack || b.count != 1 {
		t.Errorf("booker asked %d times for %d slots %v apart; want 3 times for one slot 52.5ms apart", b.calls, b.count, b.asked)
	}

	full := &fakeBooker{slot: now, ok: false}
	p.Share(full, nil)
	if _, err := p.Wait(ctx, "CreateVulScanTask"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("no slot before the deadline: %v, want DeadlineExceeded", err)
	}

	var reported error
	broken := &fakeBooker{err: errors.New("database unreachable")}
	p.Share(broken, func(err error) { reported = err })
	if _, err := p.Wait(ctx, "DescribeVulScanInfo"); err != nil || reported == nil {
		t.Errorf("with the booker down: %v, reported %v; want local pacing and a report", err, reported)
	}
}

// Callers waiting together share one booking of as many slots as they are: a burst costs one
// write to the store per few calls.
func TestPacerBooksForEveryCallerWaiting(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	var mu sync.Mutex
	var counts []int
	booker := bookerFunc(func(now time.Time, interval time.Duration, count int) time.Time {
		mu.Lock()
		counts = append(counts, count)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond) // a commit: meanwhile the other callers arrive and wait
		return now
	})
	p.Share(booker, nil)
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			done, err := p.Wait(context.Background(), "CreateVulScanTask")
			if err != nil {
				t.Error(err)
				return
			}
			done()
		})
	}
	wg.Wait()
	booked := 0
	for _, c := range counts {
		booked += c
		if c > maxBatch {
			t.Errorf("a booking of %d slots, want at most %d", c, maxBatch)
		}
	}
	if booked < 6 || len(counts) >= 6 {
		t.Errorf("%d bookings of %v slots for 6 callers; want fewer bookings than callers, enough slots", len(counts), counts)
	}
}

// bookerFunc books what its function says, always successfully.
type bookerFunc func(now time.Time, interval time.Duration, count int) time.Time

func (f bookerFunc) BookSlot(_ context.Context, _ string, now time.Time, interval time.Duration, count int, _ time.Time) (time.Time, bool, error) {
	return f(now, interval, count), true, nil
}

// A process that wakes too late for its shared slot gives it up and books another (other
// processes' calls may be due beside it), but not for ever.
func TestPacerRebooksAStaleSharedSlot(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	stale := &fakeBooker{slot: func(now time.Time) time.Time { return now.Add(-2 * lateTolerance) }, ok: true}
	p.Share(stale, nil)
	done, err := p.Wait(context.Background(), "CreateVulScanTask")
	if err != nil {
		t.Fatal(err)
	}
	done()
	if stale.calls != maxRebooks+1 {
		t.Errorf("booked %d slots, want %d: the first and %d more for stale ones", stale.calls, maxRebooks+1, maxRebooks)
	}

	punctual := &fakeBooker{slot: func(now time.Time) time.Time { return now }, ok: true}
	p.Share(punctual, nil)
	if _, err := p.Wait(context.Background(), "CreateVulScanTask"); err != nil || punctual.calls != 1 {
		t.Errorf("a punctual slot: %v after %d bookings, want one booking", err, punctual.calls)
	}
}

// gridBooker books like the audit store, one slot after another from the later of now and the
// next free slot, taking delay to answer (a store behind its commits' fsyncs).
type gridBooker struct {
	delay    time.Duration
	mu       sync.Mutex
	next     time.Time
	bookings int
}

func (g *gridBooker) BookSlot(_ context.Context, _ string, now time.Time, interval time.Duration, count int, _ time.Time) (time.Time, bool, error) {
	time.Sleep(g.delay)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.bookings++
	first := later(g.next, now)
	g.next = first.Add(time.Duration(count) * interval)
	return first, true, nil
}

// A store that takes longer to book than a slot may be late would hand back slots already
// stale; the pacer books ahead by what bookings have been taking, so that after the first
// booking its slots are still ahead when they come back and none is given up.
func TestPacerBooksAheadOfASlowStore(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	store := &gridBooker{delay: 3 * lateTolerance}
	p.Share(store, nil)
	const calls = 5
	for range calls {
		done, err := p.Wait(context.Background(), "CreateVulScanTask")
		if err != nil {
			t.Fatal(err)
		}
		done()
	}
	// The first booking comes back stale and is given up (the pacer learns how long bookings
	// take); every later one is used. Without booking ahead each call would give up maxRebooks.
	if store.bookings > calls+2 {
		t.Errorf("%d bookings for %d calls, want at most %d: slots came back stale", store.bookings, calls, calls+2)
	}
}

// A lone call asks the store for a slot from now, and goes at once, when bookings take less than
// half the late tolerance; only after slower bookings does it ask ahead, by what they took less
// half the tolerance, so that its slot still comes back in time. Asking ahead by the whole
// duration made every call of a warm server sleep for it.
func TestPacerBooksAheadOnlyWhatASlowStoreNeeds(t *testing.T) {
	cases := []struct{ took, lead time.Duration }{
		{0, 0},
		{15 * time.Millisecond, 0},
		{lateTolerance / 2, 0},
		{100 * time.Millisecond, 80 * time.Millisecond},
		{3 * lateTolerance, 3*lateTolerance - lateTolerance/2},
	}
	for _, c := range cases {
		t.Run(c.took.String(), func(t *testing.T) {
			clock := time.Unix(1_000_000, 0)
			p := NewPacer(RequestsPerSecond)
			p.now = func() time.Time { return clock }
			var asked []time.Duration // how far ahead of the clock each booking asked
			p.Share(bookerFunc(func(from time.Time, _ time.Duration, _ int) time.Time {
				asked = append(asked, from.Sub(clock))
				clock = clock.Add(c.took) // the booking's own time
				return from
			}), nil)
			for range 2 {
				done, err := p.Wait(context.Background(), "CreateVulScanTask")
				if err != nil {
					t.Fatal(err)
				}
				done()
				clock = clock.Add(time.Second) // the next call comes alone
			}
			if asked[0] != 0 || asked[len(asked)-1] != c.lead {
				t.Errorf("bookings asked %v ahead of now; want the first at now and the last %v ahead", asked, c.lead)
			}
		})
	}
}

// A booker that keeps no shared pace is asked once: the pacer then paces this process alone,
// and says nothing (it is not a failure).
func TestPacerStopsAskingABookerWithoutASharedPace(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	none := &fakeBooker{err: fmt.Errorf("the store: %w", ErrNoSharedPace)}
	var reported error
	p.Share(none, func(err error) { reported = err })
	for range 3 {
		done, err := p.Wait(context.Background(), "CreateVulScanTask")
		if err != nil {
			t.Fatal(err)
		}
		done()
	}
	if none.calls != 1 || reported != nil {
		t.Errorf("asked %d times, reported %v; want once and nothing reported", none.calls, reported)
	}
}

// Slots left over from a booking made for callers that have gone (cancelled before they took
// them) are dropped when stale, but do not count as the next caller's rebooks: it books a slot
// of its own instead of going on a stale one.
func TestPacerDropsLeftoverSlotsWithoutCountingThem(t *testing.T) {
	p := NewPacer(RequestsPerSecond)
	punctual := &fakeBooker{slot: func(now time.Time) time.Time { return now }, ok: true}
	p.Share(punctual, nil)
	a := p.action("CreateVulScanTask")
	p.mu.Lock()
	a.bookings = 1
	for i := range maxRebooks + 2 {
		a.stash = append(a.stash, bookedSlot{at: time.Now().Add(-5*time.Second + time.Duration(i)*p.booked), booking: 1})
	}
	p.mu.Unlock()
	done, err := p.Wait(context.Background(), "CreateVulScanTask")
	if err != nil {
		t.Fatal(err)
	}
	done()
	p.mu.Lock()
	left := len(a.stash)
	p.mu.Unlock()
	if punctual.calls != 1 || left != 0 {
		t.Errorf("%d bookings, %d stale slots left; want the caller's own booking and none left", punctual.calls, left)
	}
}
