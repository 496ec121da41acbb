package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/guard"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/schedule"
	"github.com/vulscan/vulscan/functions/tcss"
	"github.com/vulscan/vulscan/web"
	"github.com/vulscan/vulscan/web/auth"
)

// app is vulscan wired from its settings: the audit store, the TCSS client (or the in-process
// emulator behind it), the scan service every trigger uses, and the web handler.
type app struct {
	settings settings
	store    audit.Store
	raw      audit.Store // the store itself, without the witness and checkpoint wrappers
	scanner  *tcss.Client
	stale    scan.StalePendingFinder // the store itself, for reconciliation (wrappers do not list)
	service  *scan.Service
	handler  http.Handler
	auth     *auth.Authenticator // who may use the pages and the API
	guard    *guard.Guard        // the rules on who may start which scan, for every trigger
	queue    *scan.Queue         // the form's and the API's starts wait here (openGuard)
	schedule schedule.Set        // VULSCAN_SCHEDULES, for the schedules page
	logger   *slog.Logger
	watcher  *audit.Watcher // the audit page's background verification (chainWatcher)
	opening  *openingStore  // a function instance's store while it opens (startApp); nil otherwise
	emulator *localEmulator // the in-process TCSS emulator, when the endpoint is "emulator"
	pacer    *tcss.Pacer    // paces TCSS calls, shared through the audit store with other processes
	// checkpointer signs checkpoints when VULSCAN_AUDIT_SIGNING_KEY is set (nil otherwise);
	// stopCheckpoints ends its background ticker, if a serving mode started it.
	checkpointer    *audit.Checkpointer // set when the store opens (openStore)
	stopCheckpoints func()
	// reconciledTo is the bound (Unix ns) below which the last reconciliation pass closed every
	// attempt left pending; 0 before the first pass.
	reconciledTo atomic.Int64
	// dueReconcile is the pass reconcileWhenDue set for the attempts the start's pass left
	// open; dueMu keeps it from running once Close has begun, and Close waits for one running.
	dueMu        sync.Mutex
	dueReconcile *time.Timer
	closing      bool

	// invocations are a function instance's invocations under way, which a store that fails to
	// open lets finish before the instance ends (startApp); nil in HTTP mode and the CLI, which
	// open their store before serving.
	invocations *invocationGate
}

// localEmulator is a TCSS emulator this process serves on a loopback port, and the key it accepts.
type localEmulator struct {
	url                 string
	secretID, secretKey string
	close               func() error
}

// startLocalEmulator starts the in-process TCSS emulator; nil in the release build, which has none.
var startLocalEmulator func(logger *slog.Logger) (*localEmulator, error)

func init() {
	openScanService = func(ctx context.Context, e env, dsn string) (scanStarter, func() error, error) {
		// The command's answer is the JSON on stdout: its witness lines go with its logs.
		witnessed := e
		witnessed.stdout = e.stderr
		// A one-shot needs none of a server's start-up work: no writability probe (its pending
		// append is the first write and fails the same way, before TCSS is called, naming the
		// cause), no reconciliation pass (servers and `vulscan audit reconcile` make it), no
		// sign-in, guard or web handler.
		a, err := openCore(ctx, witnessed, dsn)
		if err != nil {
			return nil, nil, err
		}
		if a.emulator != nil {
			fmt.Fprintln(e.stderr, "vulscan: TCSS is a throwaway in-process emulator (VULSCAN_TCSS_ENDPOINT=emulator); nothing reaches Tencent Cloud")
		}
		return a.service, a.Close, nil
	}
}

// writableChecker is a store that can prove it accepts appends without appending
// (*sqlstore.Store), so that a read-only store stops the start, not the first scan.
type writableChecker interface {
	CheckWritable(ctx context.Context) error
}

// proveWritable makes the start-up proof that store accepts appends, when it can (a read-only
// store stops a server's start, not its first scan).
func proveWritable(ctx context.Context, store audit.Store) error {
	if w, ok := store.(writableChecker); ok {
		return w.CheckWritable(ctx)
	}
	return nil
}

// backgroundCheckpointer is a store whose WAL checkpoints can leave the append path for a
// goroutine of their own (*sqlstore.Store on SQLite): a serving process's requests then never
// wait for one. A one-shot leaves them inline; it has no later moment to do them in.
type backgroundCheckpointer interface {
	CheckpointInBackground()
}

// openApp wires vulscan from the environment for serving (HTTP, Lambda, SCF): openCore, then
// the start-up work a long-running process does before its first request (proving the store
// accepts appends, closing attempts an earlier process left pending), sign-in, the guard and the
// web handler. dsn, when not empty, overrides VULSCAN_AUDIT_DSN.
func openApp(ctx context.Context, e env, dsn string) (*app, error) {
	a, err := openCore(ctx, e, dsn)
	if err != nil {
		return nil, err
	}
	if err := proveWritable(ctx, a.raw); err != nil {
		return nil, errors.Join(fmt.Errorf("audit store: %w", a.auditDSNError(err)), a.Close())
	}
	if c, ok := a.raw.(backgroundCheckpointer); ok {
		c.CheckpointInBackground() // a server's appends leave SQLite's WAL checkpoints to it
	}
	a.reconcileAtStart(ctx)
	a.reconcileWhenDue(ctx)
	if err := a.openServing(e); err != nil {
		return nil, errors.Join(err, a.Close())
	}
	return a, nil
}

// openServing builds what serving adds to the core: sign-in, the guard and the web handler.
// None of it reads the audit store, which may still be opening (startApp).
func (a *app) openServing(e env) error {
	var err error
	if a.auth, err = a.openAuth(e); err != nil {
		return err
	}
	if a.guard, err = a.openGuard(e); err != nil {
		return err
	}
	a.handler = web.New(web.Config{
		Scans:          guardedScans{Service: a.service, guard: a.guard},
		Audit:          a.store,
		Chain:          a.chainWatcher(a.raw),
		TrustedOrigins: a.settings.trustedOrigins,
		Auth:           a.auth,
		AllowedHosts:   a.settings.hostAllowList(),
		RequestTimeout: requestTimeout,
		Logger:         a.logger,
		Emulator:       emulatorURL(a.scanner),
		Schedules:      a.schedule,
		Inventory:      a.scanner,
	})
	return nil
}

// openCore wires what every use of vulscan needs, the one-shot `vulscan scan` included: the
// settings, the TCSS client, the audit store (witness lines, checkpoints, the shared pace) and
// the scan service. dsn, when not empty, overrides VULSCAN_AUDIT_DSN.
func openCore(ctx context.Context, e env, dsn string) (*app, error) {
	a, err := newCore(e, dsn)
	if err != nil {
		return nil, err
	}
	wrapped, raw, err := a.openStore(ctx, e)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("audit store: %w", err), a.Close())
	}
	a.store, a.raw = wrapped, raw
	a.stale, _ = raw.(scan.StalePendingFinder)
	sharePace(a.pacer, raw, a.logger)
	a.service = scan.NewService(a.scanner, a.store, nil, a.logger)
	return a, nil
}

// newCore reads the settings and builds the TCSS client: the core without its audit store.
func newCore(e env, dsn string) (*app, error) {
	if e.environ != nil {
		if err := unknownSetting(e.environ()); err != nil {
			return nil, err
		}
	}
	s, err := loadSettings(e.getenv)
	if err != nil {
		return nil, err
	}
	if dsn != "" {
		s.auditDSN, s.auditDSNFrom = dsn, "--dsn"
	}
	logger := newLogger(e.stderr)
	a := &app{settings: s, logger: logger, pacer: tcss.NewPacer(tcss.RequestsPerSecond)}
	if a.scanner, err = a.openScanner(e); err != nil {
		return nil, errors.Join(err, a.Close())
	}
	return a, nil
}

// newLogger is the process's JSON log on w. Its times are UTC, as the audit records' are: one
// zone wherever vulscan runs, and the first line does not load the local zone (time.Local reads
// /etc/localtime when TZ is unset, as on SCF and under the Lambda runtime emulator) during a
// function's cold start.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(utcHandler{slog.NewJSONHandler(w, nil)})
}

// utcHandler passes records on with their time in UTC. It is a wrapper rather than a
// HandlerOptions.ReplaceAttr: with one, the JSON handler writes every record's level through
// encoding/json (slog.Level's MarshalJSON) instead of as a string.
type utcHandler struct{ slog.Handler }

func (h utcHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Time = r.Time.UTC()
	return h.Handler.Handle(ctx, r)
}

func (h utcHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return utcHandler{h.Handler.WithAttrs(attrs)}
}

func (h utcHandler) WithGroup(name string) slog.Handler { return utcHandler{h.Handler.WithGroup(name)} }

// openStore opens the audit store the settings name and wraps it: a witness copy of every record
// on stdout, and signed checkpoints when VULSCAN_AUDIT_SIGNING_KEY is set (issue 8; it sets
// a.checkpointer). It returns the wrapped store and the store itself.
func (a *app) openStore(ctx context.Context, e env) (wrapped, raw audit.Store, err error) {
	store, err := openAuditStore(ctx, a.settings.auditDSN)
	if err != nil {
		return nil, nil, a.auditDSNError(err)
	}
	warnRestoredGuards(store, a.logger)
	wrapped, err = withWitness(store, e.getenv, e.stdout, a.logger)
	if err == nil {
		wrapped, a.checkpointer, err = withCheckpoints(wrapped, e.getenv, a.logger)
	}
	if err != nil {
		return nil, nil, errors.Join(err, store.Close())
	}
	return wrapped, store, nil
}

// chainWatcher is the audit page's background verification. When the store can keep the verified
// head (*sqlstore.Store), a new process resumes from the head an earlier one kept instead of
// walking the whole log again (issue 8).
func (a *app) chainWatcher(store audit.Store) *audit.Watcher {
	w := audit.NewWatcher(a.reconcileThenVerify, web.ChainCheckInterval, nil)
	a.watcher = w
	if heads, ok := store.(audit.HeadStore); ok {
		w.Remember(heads, func(err error) { a.logger.Warn("audit: the verified head was not kept or read", "err", err) })
	}
	return w
}

// reconcileWindow is how far back the start-up pass looks for attempts left pending; older
// ones are for `vulscan audit reconcile` (which reads the whole log).
const reconcileWindow = 7 * 24 * time.Hour

// reconcileSkew is how far before the last pass's bound a later pass of the same process looks
// again: each record carries the clock of the process that wrote it, and another server's may lag
// this one's. Without the bound every pass of the audit page (every 10 s while it is viewed) read
// the last 7 days of the log again.
const reconcileSkew = time.Hour

// reconcileAtStart closes the attempts an earlier process left pending (killed mid-call, or its
// store failed) as unknown, so that none looks alive for ever. It runs at start and on the audit
// page's background pass, and stops neither: a failure is logged for the operator. The first
// pass looks back reconcileWindow; later ones from reconcileSkew before where the last ended.
// It reports whether the pass ran to its end.
func (a *app) reconcileAtStart(ctx context.Context) bool {
	if a.stale == nil {
		return false
	}
	now := time.Now()
	since := now.Add(-reconcileWindow)
	if last := a.reconciledTo.Load(); last != 0 {
		since = later(since, time.Unix(0, last).Add(-reconcileSkew))
	}
	rep, err := a.service.ReconcileStale(ctx, a.stale, scan.MaxCallDuration, since)
	if err != nil {
		a.logger.Error("reconciling attempts left pending failed; run vulscan audit reconcile", "err", err)
		return false
	}
	// The service's bound is its clock's now less MaxCallDuration, read after ours: ours is not past it.
	a.reconciledTo.Store(now.Add(-scan.MaxCallDuration).UnixNano())
	if len(rep.Closed) > 0 {
		a.logger.Warn("attempts left pending by an earlier process closed as unknown", "attempts", rep.Closed)
	}
	return true
}

// reconcileWhenDue runs one more pass once the attempts the start's pass left open (pending for
// less than MaxCallDuration: an earlier process killed moments before this one started) can be
// closed. Without it such an attempt stayed pending, its page and GET /api/scans/{id} waiting
// for TCSS for ever, until a retry with its key, a view of the audit page or `vulscan audit
// reconcile` closed it. A failure is logged, as the start's pass does.
func (a *app) reconcileWhenDue(ctx context.Context) {
	if a.stale == nil {
		return
	}
	a.dueMu.Lock()
	defer a.dueMu.Unlock()
	// Not cut short by a signal: a server stopping in its grace may still finish the pass, and
	// Close stops it from starting once the store is about to close.
	a.setDueReconcile(context.WithoutCancel(ctx))
}

// setDueReconcile lists the attempts left open and sets a pass for when the youngest listed can
// be closed; a.dueMu is held. The list holds the oldest ones only when there are very many: the
// pass then sets another for the rest, so that every attempt left open is closed.
func (a *app) setDueReconcile(pass context.Context) {
	if a.closing {
		return
	}
	open, err := a.service.LeftOpen(pass, a.stale, scan.MaxCallDuration, time.Now().Add(-reconcileWindow))
	if err != nil {
		a.logger.Error("listing the attempts left pending failed; run vulscan audit reconcile", "err", err)
		return
	}
	if len(open.IDs) == 0 {
		return
	}
	// Said, so that whoever reads the log after a crash knows the attempts it left, which their
	// pages show as waiting for TCSS, are in hand, and when they will be closed.
	a.logger.Info("attempts still pending, perhaps left by a process that ended mid-call: closed as unknown when due "+
		"unless their outcome is recorded first", "attempts", open.IDs, "more", open.More, "due", open.Closable.UTC())
	a.dueReconcile = time.AfterFunc(time.Until(open.Closable), func() {
		a.dueMu.Lock()
		defer a.dueMu.Unlock()
		if a.closing {
			return
		}
		// Not after a failed pass: those it should have closed are due already, and the next
		// pass would run at once, and fail again, without end.
		if a.reconcileAtStart(pass) && open.More {
			a.setDueReconcile(pass)
		}
	})
}

func later(t, u time.Time) time.Time {
	if u.After(t) {
		return u
	}
	return t
}

// reconcileThenVerify is the audit page's background pass: close the attempts left pending since
// the last pass (so that none looks alive for ever while the server runs on), then continue
// verifying the chain, which then covers the records just appended.
func (a *app) reconcileThenVerify(ctx context.Context, from audit.Report) (audit.Report, error) {
	a.reconcileAtStart(ctx)
	return a.store.VerifyFrom(ctx, from)
}

// openScanner builds the TCSS client for the configured endpoint, starting the in-process
// emulator (with a key of its own) when the endpoint is "emulator". The credential is
// tcss.CredentialFromEnv's choice (a role assumed through STS when TENCENTCLOUD_ROLE_ARN is set,
// else the environment's key), except with the in-process emulator, whose own key signs and
// TENCENTCLOUD_ROLE_ARN is ignored.
func (a *app) openScanner(e env) (*tcss.Client, error) {
	cfg := tcss.Config{
		Endpoint: a.settings.tcssEndpoint,
		Region:   a.settings.tcssRegion,
		Logger:   a.logger,
		Limiter:  a.pacer,
	}
	if cfg.Endpoint == emulatorEndpoint {
		if startLocalEmulator == nil {
			return nil, errors.New("VULSCAN_TCSS_ENDPOINT=emulator: this release build has no TCSS emulator (the developer build has: go run ./functions/vulscan)")
		}
		emu, err := startLocalEmulator(a.logger)
		if err != nil {
			return nil, err
		}
		a.emulator = emu
		cfg.Endpoint = tcss.EmulatorPrefix + emu.url
		cfg.Credential = common.NewCredential(emu.secretID, emu.secretKey)
	} else if cred, err := webIdentityCredential(e.getenv, a.settings.tcssRegion, a.logger); err != nil || cred != nil {
		if err != nil {
			return nil, err
		}
		cfg.Credential = cred // keyless: no Tencent key to check for
	} else {
		cred, err := tcss.CredentialFromEnv(e.getenv, tcss.RoleConfig{Region: a.settings.tcssRegion, Logger: a.logger})
		if err != nil {
			return nil, err
		}
		cfg.Credential = cred
		if err := tcss.CheckCredential(e.getenv); err != nil {
			// Not fatal: the role key may appear later (SCF re-reads it per call), but say so now.
			a.logger.Warn("no Tencent Cloud credential in the environment yet", "err", err)
		}
	}
	client, err := tcss.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("TCSS client (VULSCAN_TCSS_ENDPOINT=%q): %w", scan.Shorten(a.settings.tcssEndpoint, 64), err)
	}
	return client, nil
}

// emulatorURL is the URL of the emulator the client calls, or "" when it calls TCSS.
func emulatorURL(c *tcss.Client) string {
	url, ok := strings.CutPrefix(c.TCSSEndpoint(), tcss.EmulatorPrefix)
	if !ok {
		return ""
	}
	return url
}

// describeAudit says where the audit log lives without printing a password.
func (a *app) describeAudit() string {
	return redactDSN(a.settings.auditDSN)
}

// Close releases the store and stops the in-process emulator.
func (a *app) Close() error {
	a.dueMu.Lock() // waits for a due reconciliation pass that is running
	a.closing = true
	if a.dueReconcile != nil {
		a.dueReconcile.Stop()
	}
	a.dueMu.Unlock()
	if a.stopCheckpoints != nil {
		a.stopCheckpoints()
	}
	if a.watcher != nil {
		a.watcher.Wait() // a background check of the audit page reads the store
	}
	var err error
	if a.store != nil {
		err = a.store.Close()
	}
	if a.emulator != nil {
		err = errors.Join(err, a.emulator.close())
	}
	return err
}
