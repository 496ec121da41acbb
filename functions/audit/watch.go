package audit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Watcher keeps a chain verified in the background, so that no request waits on a walk: it
// remembers the verified head (Report.Records and HeadHash) and each check reads only the records
// appended since (VerifyChainFrom). Pages show Status, which never blocks. With Remember, the
// head is also kept in the store, so that a new process (a cold start, a second server) resumes
// from it instead of walking the whole log again.
type Watcher struct {
	verify func(ctx context.Context, from Report) (Report, error)
	now    func() time.Time
	every  time.Duration
	heads  HeadStore
	onErr  func(error)
	loaded bool  // the kept head was read (only by the check holding running)
	saved  int64 // Records of the head last kept (likewise)

	running sync.Mutex     // held by the one check at a time
	pokes   sync.WaitGroup // background checks Poke started, for Wait
	mu      sync.Mutex     // guards the fields below, never held during a check
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
		w.pokes.Go(func() { w.check(context.WithoutCancel(ctx)) })
	}
}

// Wait returns once the background checks Poke started have ended. Call it before closing the
// store the checks read, so that none outlives it.
func (w *Watcher) Wait() { w.pokes.Wait() }

// Check runs one check now and returns the status after it; it waits first for the checks
// Poke started, running or not yet running (one that had not started would otherwise run after
// this one, and end later with whatever was appended meanwhile). The CLI and tests use it;
// pages use Poke.
func (w *Watcher) Check(ctx context.Context) WatchStatus {
	w.pokes.Wait()
	w.mu.Lock()
	w.busy = true
	w.mu.Unlock()
	w.check(ctx)
	return w.Status()
}

func (w *Watcher) check(ctx context.Context) {
	w.running.Lock()
	defer w.running.Unlock()
	w.resumeKept(ctx)
	w.mu.Lock()
	from := w.status.Report
	w.mu.Unlock()
	rep, err := w.verify(ctx, from)
	checkedAt := w.now()
	// The head is kept before the check counts as ended, so that whoever saw it end finds it kept.
	if err == nil && rep.OK() && w.heads != nil && rep.Records > w.saved {
		if err := w.heads.SaveVerifiedHead(ctx, VerifiedHead{Report: rep, CheckedAt: checkedAt}); err != nil {
			w.fail(err)
		} else {
			w.saved = rep.Records
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.busy = false
	w.status.CheckedAt, w.status.Err = checkedAt, err
	if err == nil {
		w.status.Report = rep
	}
}

// VerifiedHead is a good verification as a store keeps it between processes.
type VerifiedHead struct {
	Report    Report    // the chain good up to Report.Records; Problem is nil
	CheckedAt time.Time // when that check ended
}

// HeadStore keeps the verified head of a Watcher between processes.
//
// Trust: a kept head is a shortcut for the audit page, not evidence. Whoever can write the
// database can write a head that skips records they edited; the page would then say they were
// verified. The resumed check still finds the head record unchanged, or says the chain was cut
// back or rewritten from there, and checks every record after it; `vulscan audit verify` never
// reads the kept head and walks the whole chain (and, with a key, every signed checkpoint).
type HeadStore interface {
	// LoadVerifiedHead returns the kept head, or an error wrapping ErrNotFound when none is.
	LoadVerifiedHead(ctx context.Context) (VerifiedHead, error)
	// SaveVerifiedHead keeps h unless the kept head covers more records already (another process
	// got further).
	SaveVerifiedHead(ctx context.Context, h VerifiedHead) error
}

// Remember makes w resume from the head heads keeps, and keep each head it verifies there.
// onErr (may be nil) hears of a head that could not be read or kept; neither stops a check.
// Call it before the first check.
func (w *Watcher) Remember(heads HeadStore, onErr func(error)) *Watcher {
	w.heads, w.onErr = heads, onErr
	return w
}

// resumeKept starts a new Watcher from the kept head: Status shows it at once, and the check
// continues from it.
func (w *Watcher) resumeKept(ctx context.Context) {
	if w.heads == nil || w.loaded {
		return
	}
	w.loaded = true
	h, err := w.heads.LoadVerifiedHead(ctx)
	switch {
	case errors.Is(err, ErrNotFound):
		return
	case err != nil:
		w.fail(err)
		return
	case h.Report.Problem != nil || h.Report.Records <= 0:
		return
	}
	w.saved = h.Report.Records
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.status.Report.Records == 0 && w.status.Report.Problem == nil {
		w.status.Report, w.status.CheckedAt = h.Report, h.CheckedAt
	}
}

func (w *Watcher) fail(err error) {
	if w.onErr != nil {
		w.onErr(err)
	}
}
