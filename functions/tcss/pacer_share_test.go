package tcss

import (
	"context"
	"errors"
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
}

func (f *fakeBooker) BookSlot(_ context.Context, _ string, now time.Time, interval time.Duration, _ time.Time) (time.Time, bool, error) {
	f.calls++
	f.asked = interval
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
	for range 3 { // the shared booker, not the local bucket, decides: three calls at once pass
		if err := p.Wait(ctx, "CreateVulScanTask"); err != nil {
			t.Fatal(err)
		}
	}
	if b.calls != 3 || b.asked != 52500*time.Microsecond+slack {
		t.Errorf("booker asked %d times for interval %v", b.calls, b.asked)
	}

	full := &fakeBooker{slot: now, ok: false}
	p.Share(full, nil)
	if err := p.Wait(ctx, "CreateVulScanTask"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("no slot before the deadline: %v, want DeadlineExceeded", err)
	}

	var reported error
	broken := &fakeBooker{err: errors.New("database unreachable")}
	p.Share(broken, func(err error) { reported = err })
	if err := p.Wait(ctx, "DescribeVulScanInfo"); err != nil || reported == nil {
		t.Errorf("with the booker down: %v, reported %v; want local pacing and a report", err, reported)
	}
}
