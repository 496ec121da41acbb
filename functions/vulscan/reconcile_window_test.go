package main

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

// windowFinder records the windows reconciliation asks about and finds nothing stale.
type windowFinder struct {
	since []time.Time
	err   error
}

func (f *windowFinder) StalePending(_ context.Context, since, _ time.Time, _ int) ([]audit.Record, error) {
	f.since = append(f.since, since)
	return nil, f.err
}

// TestReconcilePassesReadWhatIsNew: the first pass looks back a week; later passes of the same
// process (the audit page's, every 10 s while viewed) from an hour before where the last ended,
// unless the last failed.
func TestReconcilePassesReadWhatIsNew(t *testing.T) {
	ctx := context.Background()
	f := &windowFinder{}
	logger := slog.New(slog.DiscardHandler)
	a := &app{stale: f, service: scan.NewService(nil, nil, nil, logger), logger: logger}
	near := func(got, want time.Time) bool { d := got.Sub(want); return d > -time.Minute && d < time.Minute }

	a.reconcileAtStart(ctx)
	f.err = errors.New("store down")
	a.reconcileAtStart(ctx)
	f.err = nil
	a.reconcileAtStart(ctx)
	now := time.Now()
	week := now.Add(-reconcileWindow)
	recent := now.Add(-scan.MaxCallDuration - reconcileSkew)
	for i, want := range []time.Time{week, recent, recent} {
		if !near(f.since[i], want) {
			t.Errorf("pass %d looked from %v, want about %v", i+1, f.since[i], want)
		}
	}

	// A failed pass does not move the bound: after a failure on the first pass, the next looks
	// back the whole week.
	f2 := &windowFinder{err: errors.New("store down")}
	b := &app{stale: f2, service: scan.NewService(nil, nil, nil, logger), logger: logger}
	b.reconcileAtStart(ctx)
	f2.err = nil
	b.reconcileAtStart(ctx)
	if !near(f2.since[1], week) {
		t.Errorf("after a failed first pass the next looked from %v, want about %v", f2.since[1], week)
	}
}
