package audit

import (
	"context"
	"sync"
	"time"
)

// Watcher keeps a chain verified in the background, so that no request waits on a walk: it
// remembers the verified head (Report.Records and HeadHash) and each check reads only the records
// appended since (VerifyChainFrom). Pages show Status, which never blocks.
type Watcher struct {
	verify func(ctx context.Context, from Report) (Report, error)
	now    func() time.Time
	every  time.Duration

	running sync.Mutex // held by the one check at a time
	mu      sync.Mutex // guards the fields below, never held during a check
	status  WatchStatus
	busy    bool
}

// WatchStatus is what the Watcher knows.
type WatchStatus struct {
	Report    Report    // the chain as last verified: good up to Report.Records, or its problem
	CheckedAt time.Time // when that check ended; zero before the first
	Err       error     // the last check could not read the chain (Report is then the one before)
	Checking  bool      // a check is running now
}

// NewWatcher returns a Watcher that checks with verify (a store's VerifyFrom) at most once every
// every, when poked. now may be nil (time.Now).
func NewWatcher(verify func(ctx context.Context, from Report) (Report, error), every time.Duration, now func() time.Time) *Watcher {
	if now == nil {
		now = time.Now
	}
	return &Watcher{verify: verify, every: every, now: now}
}

// Status returns what the Watcher knows now; it never waits for a check.
func (w *Watcher) Status() WatchStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.status
	s.Checking = w.busy
	return s
}

// Poke starts a check in the background unless one is running or the last ended less than the
// interval ago. A page calls it on every view: a busy log stays verified, an idle one costs
// nothing. The check runs with ctx's values but not its cancellation (a page's request ends
// before the check does).
func (w *Watcher) Poke(ctx context.Context) {
	w.mu.Lock()
	due := !w.busy && (w.status.CheckedAt.IsZero() || w.now().Sub(w.status.CheckedAt) >= w.every)
	if due {
		w.busy = true
	}
	w.mu.Unlock()
	if due {
		go w.check(context.WithoutCancel(ctx))
	}
}

// Check runs one check now and returns the status after it; it waits for a running check
// first. The CLI and tests use it; pages use Poke.
func (w *Watcher) Check(ctx context.Context) WatchStatus {
	w.mu.Lock()
	w.busy = true
	w.mu.Unlock()
	w.check(ctx)
	return w.Status()
}

func (w *Watcher) check(ctx context.Context) {
	w.running.Lock()
	defer w.running.Unlock()
	w.mu.Lock()
	from := w.status.Report
	w.mu.Unlock()
	rep, err := w.verify(ctx, from)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.busy = false
	w.status.CheckedAt, w.status.Err = w.now(), err
	if err == nil {
		w.status.Report = rep
	}
}
