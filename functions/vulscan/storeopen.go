package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss"
)

// openingStore is the audit store while it is being opened: every method waits until the open
// has finished and then uses the store, or returns the open's error. It lets a function instance
// (SCF, Lambda) report ready and answer what needs no audit log (the form page, static files)
// while the store connects: opening a PostgreSQL store takes a TCP connection, the server's
// start-up and authentication, and the schema and write checks, 8 to 25 ms on this machine, the
// larger part of a cold start. Anything that needs the log (a scan, a timer, the audit pages,
// the shared TCSS pace) starts the open if it has not begun (openInBackground: it begins once
// the first answer is posted (SCF), or storeOpenDelay after start) and waits for it. Nothing is weakened: no
// append is tried before the store has proved it is writable, and the pending record is still
// durable before TCSS is called.
type openingStore struct {
	started   atomic.Bool   // the open has begun: Close must wait for it
	mayStart  chan struct{} // closed by begin: the open may start (openInBackground waits for it)
	startOnce sync.Once
	done      chan struct{} // closed when the open has finished
	store     audit.Store   // the store as the app uses it (witness, checkpoints); nil on error
	raw       audit.Store   // the store itself, for what wrappers do not pass on
	err       error
}

var (
	_ audit.Store             = (*openingStore)(nil)
	_ scan.StalePendingFinder = (*openingStore)(nil)
	_ tcss.SlotBooker         = (*openingStore)(nil)
	_ audit.HeadStore         = (*openingStore)(nil)
)

// storeOpener opens the store; it returns the wrapped store and the store itself.
type storeOpener func(ctx context.Context) (wrapped, raw audit.Store, err error)

// newOpeningStore returns a store whose open has not started; run starts it.
func newOpeningStore() *openingStore {
	return &openingStore{mayStart: make(chan struct{}), done: make(chan struct{})}
}

// begin lets a pending open start now: something needs the store, or the event that did not
// has been answered.
func (o *openingStore) begin() { o.startOnce.Do(func() { close(o.mayStart) }) }

// run opens the store with open and lets every waiting call through.
func (o *openingStore) run(ctx context.Context, open storeOpener) {
	o.started.Store(true)
	o.store, o.raw, o.err = open(ctx)
	close(o.done)
}

// ready lets the open begin if it has not (the caller needs the store), waits until it has
// finished (or ctx ends) and returns its error.
func (o *openingStore) ready(ctx context.Context) error {
	o.begin()
	return o.await(ctx)
}

// await is ready for a caller that does not need the store now (the checkpoint ticker): it
// waits for the open without starting it.
func (o *openingStore) await(ctx context.Context) error {
	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
		return fmt.Errorf("waiting for the audit store to open: %w", ctx.Err())
	}
}

func (o *openingStore) wait(ctx context.Context) (audit.Store, error) {
	if err := o.ready(ctx); err != nil {
		return nil, fmt.Errorf("audit store: %w", err)
	}
	return o.store, nil
}

func (o *openingStore) Append(ctx context.Context, rec audit.Record) (audit.Record, error) {
	s, err := o.wait(ctx)
	if err != nil {
		return audit.Record{}, err
	}
	return s.Append(ctx, rec)
}

func (o *openingStore) Get(ctx context.Context, id int64) (audit.Record, error) {
	s, err := o.wait(ctx)
	if err != nil {
		return audit.Record{}, err
	}
	return s.Get(ctx, id)
}

func (o *openingStore) PendingByKey(ctx context.Context, actor, key string) (audit.Record, error) {
	s, err := o.wait(ctx)
	if err != nil {
		return audit.Record{}, err
	}
	return s.PendingByKey(ctx, actor, key)
}

func (o *openingStore) OutcomeOf(ctx context.Context, pendingID int64) (audit.Record, error) {
	s, err := o.wait(ctx)
	if err != nil {
		return audit.Record{}, err
	}
	return s.OutcomeOf(ctx, pendingID)
}

func (o *openingStore) KeyBound(ctx context.Context, actor, key string) (bool, error) {
	s, err := o.wait(ctx)
	if err != nil {
		return false, err
	}
	return s.KeyBound(ctx, actor, key)
}

func (o *openingStore) List(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	s, err := o.wait(ctx)
	if err != nil {
		return nil, err
	}
	return s.List(ctx, f)
}

func (o *openingStore) Each(ctx context.Context, f audit.Filter, fn func(audit.Record) error) error {
	s, err := o.wait(ctx)
	if err != nil {
		return err
	}
	return s.Each(ctx, f, fn)
}

func (o *openingStore) Verify(ctx context.Context) (audit.Report, error) {
	s, err := o.wait(ctx)
	if err != nil {
		return audit.Report{}, err
	}
	return s.Verify(ctx)
}

func (o *openingStore) VerifyFrom(ctx context.Context, from audit.Report) (audit.Report, error) {
	s, err := o.wait(ctx)
	if err != nil {
		return audit.Report{}, err
	}
	return s.VerifyFrom(ctx, from)
}

// StalePending implements scan.StalePendingFinder with the store itself; a store that cannot
// list them has none to report.
func (o *openingStore) StalePending(ctx context.Context, since, until time.Time, limit int) ([]audit.Record, error) {
	if _, err := o.wait(ctx); err != nil {
		return nil, err
	}
	f, ok := o.raw.(scan.StalePendingFinder)
	if !ok {
		return nil, nil
	}
	return f.StalePending(ctx, since, until, limit)
}

// BookSlot implements tcss.SlotBooker with the store itself, so that the pace is shared with the
// other processes writing to the log from the first TCSS call on.
func (o *openingStore) BookSlot(ctx context.Context, action string, now time.Time, interval time.Duration, count int, notAfter time.Time) (time.Time, bool, error) {
	if _, err := o.wait(ctx); err != nil {
		return time.Time{}, false, err
	}
	b, ok := o.raw.(tcss.SlotBooker)
	if !ok {
		return time.Time{}, false, tcss.ErrNoSharedPace
	}
	return b.BookSlot(ctx, action, now, interval, count, notAfter)
}

// LoadVerifiedHead implements audit.HeadStore with the store itself; one that keeps no head
// has none (audit.ErrNotFound), and the audit page's check starts from the beginning.
func (o *openingStore) LoadVerifiedHead(ctx context.Context) (audit.VerifiedHead, error) {
	if _, err := o.wait(ctx); err != nil {
		return audit.VerifiedHead{}, err
	}
	h, ok := o.raw.(audit.HeadStore)
	if !ok {
		return audit.VerifiedHead{}, fmt.Errorf("this audit store keeps no verified head: %w", audit.ErrNotFound)
	}
	return h.LoadVerifiedHead(ctx)
}

// SaveVerifiedHead implements audit.HeadStore with the store itself, when it keeps heads.
func (o *openingStore) SaveVerifiedHead(ctx context.Context, head audit.VerifiedHead) error {
	if _, err := o.wait(ctx); err != nil {
		return err
	}
	h, ok := o.raw.(audit.HeadStore)
	if !ok {
		return nil
	}
	return h.SaveVerifiedHead(ctx, head)
}

// Close waits for an open under way to finish, then closes the store if it opened.
func (o *openingStore) Close() error {
	if !o.started.Load() {
		return nil
	}
	o.begin()
	<-o.done
	if o.store == nil {
		return nil
	}
	return o.store.Close()
}

// startApp wires vulscan for a function instance (SCF, Lambda) and starts opening the audit
// store in the background (openInBackground). Every setting, the store's included, is checked
// before it returns, so that a mistake stops the instance before it reports ready.
func startApp(ctx context.Context, e env) (*app, error) {
	a, err := newFunctionApp(e)
	if err != nil {
		return nil, err
	}
	a.invocations = &invocationGate{runtimeAPI: e.getenv("AWS_LAMBDA_RUNTIME_API")}
	a.openInBackground(ctx, e)
	return a, nil
}

// newFunctionApp is startApp before the open starts.
func newFunctionApp(e env) (*app, error) {
	a, err := newCore(e, "")
	if err != nil {
		return nil, err
	}
	if err := checkAuditSettings(a.settings.auditDSN, a.settings.auditDSNFrom, e.getenv); err != nil {
		return nil, errors.Join(fmt.Errorf("audit store: %w", err), a.Close())
	}
	a.opening = newOpeningStore()
	a.store, a.raw, a.stale = a.opening, a.opening, a.opening
	sharePace(a.pacer, a.opening, a.logger)
	a.service = scan.NewService(a.scanner, a.store, nil, a.logger)
	if err := a.openServing(e); err != nil {
		return nil, errors.Join(err, a.Close())
	}
	if url := emulatorURL(a.scanner); url != "" {
		// The pages show a banner and every record says so; the platform's log says it once too.
		a.logger.Warn("TCSS emulator in use: scans are simulated and start nothing in Tencent Cloud", "endpoint", url)
	}
	return a, nil
}

// openWritable opens the store as a server does: openStore, then the proof that it accepts
// appends (a read-only store stops the start, not the first scan).
func (a *app) openWritable(e env) storeOpener {
	return func(ctx context.Context) (audit.Store, audit.Store, error) {
		wrapped, raw, err := a.openStore(ctx, e)
		if err != nil {
			return nil, nil, err
		}
		if err := proveWritable(ctx, raw); err != nil {
			return nil, nil, errors.Join(a.auditDSNError(err), wrapped.Close())
		}
		return wrapped, raw, nil
	}
}

// storeOpenTimeout bounds an open in the background, in time the instance ran (runningTimeout):
// before, the platform's init timeout did (SCF: 3 s by default), and a store that never answers
// must still end the instance.
const storeOpenTimeout = 30 * time.Second

// exitProcess ends the process; a variable so that nothing else ever calls os.Exit here.
var exitProcess = os.Exit

// storeOpenDelay is the longest an instance waits before it opens its store when no event has
// needed it or been answered yet: the open still begins at start, and a broken store still ends
// the instance within a moment of it.
var storeOpenDelay = 200 * time.Millisecond // a variable for tests

// openInBackground opens the store for a function instance as soon as anything needs the store
// (a scan, a timer, the audit pages, the shared TCSS pace), once an SCF instance has posted its
// first answer (SCFRuntime.Replied), or storeOpenDelay after start, whichever comes first. The
// form (GET /, a function URL's usual first event) needs no log, and the open (a TCP connection,
// the server's start-up and authentication, the schema and write checks) is not done beside it:
// on a function with a fraction of a CPU it competed with the first answer. That includes the
// answer's posting: a Lambda instance has no such signal (aws-lambda-go posts the reply after
// the handler returns and offers no hook after it), and beginning when the handler returned
// made the first answer under AWS's runtime emulator 0.3 to 0.6 ms slower (tests/bench). A
// platform freezes an instance once it asks for its next event, so on either the open runs at
// the next event anyway. A store that fails to open (unreachable,
// read-only, a bad schema) still stops the instance at start, as in the other modes: the cause
// in one line on stderr (the platform's log) and exit status 1, at most storeOpenDelay plus the
// open after start instead of before ready; an event that needed the store and was waiting for
// it gets its answer first (invocationGate).
func (a *app) openInBackground(ctx context.Context, e env) {
	a.opening.started.Store(true) // now, so that a Close before the goroutine runs waits for it
	go func() {
		delay := time.NewTimer(storeOpenDelay)
		select {
		case <-a.opening.mayStart:
		case <-delay.C:
		case <-ctx.Done():
		}
		delay.Stop()
		a.opening.run(ctx, openThroughFreezes(a.openWritable(e), storeOpenTimeout, realClock))
		if err := a.opening.ready(ctx); err != nil {
			if ctx.Err() != nil {
				return // the platform is stopping the instance: not a store failure
			}
			fmt.Fprintf(e.stderr, "vulscan: audit store: %v\n", err)
			a.invocations.end(e.stderr)
			return
		}
		a.reconcileAtStart(ctx)
		a.reconcileWhenDue(ctx)
	}()
}
