package web_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore"
	"github.com/vulscan/vulscan/functions/guard"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/scan/scantest"
	"github.com/vulscan/vulscan/functions/schedule"
	"github.com/vulscan/vulscan/functions/tcss"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
	"github.com/vulscan/vulscan/web"
	"github.com/vulscan/vulscan/web/auth"
)

// harness is the real stack behind the handler: scan.Service over the TCSS client, talking to
// the TCSS emulator, with a SQLite audit log.
type harness struct {
	t       *testing.T
	emu     *tcsstest.Emulator
	store   *sqlstore.Store
	handler http.Handler
	now     time.Time   // the handler's clock; tests may move it
	queue   *scan.Queue // the start queue, withStartQueue
	// chain is the audit page's background verification; tests run a check with chain.Check to
	// see its result on the next view.
	chain *audit.Watcher
	// formKeys numbers the keys postForm writes for posts that name none.
	formKeys atomic.Int64
}

type harnessOption func(*harnessConfig)

type harnessConfig struct {
	web       web.Config
	scanLog   func(scan.AuditLog) scan.AuditLog // wraps the service's view of the store
	service   scan.Options                      // tunes the service
	auditLog  func(web.AuditLog) web.AuditLog   // wraps the pages' view of the store
	guard     *guard.Config                     // guard rails in front of the service
	queue     *scan.QueueConfig                 // the start queue between the guard and the service
	inventory scan.Inventory                    // stands in for the emulator's inventory behind the pickers
}

// withStartQueue puts the start queue in front of the scan service, as the app does.
func withStartQueue(c scan.QueueConfig) harnessOption {
	return func(hc *harnessConfig) { hc.queue = &c }
}

// withGuard puts guard rails in front of the scan service, as the app does.
func withGuard(c guard.Config) harnessOption {
	return func(hc *harnessConfig) { hc.guard = &c }
}

// guarded is the service with starts going through the guard.
type guarded struct {
	*scan.Service
	guard *guard.Guard
}

func (g guarded) Start(ctx context.Context, req scan.Request, key string, c scan.Caller) (scan.Attempt, error) {
	return g.guard.Start(ctx, req, key, c)
}

// queued is the service with starts going through the start queue.
type queued struct {
	*scan.Service
	queue *scan.Queue
}

func (q queued) Start(ctx context.Context, req scan.Request, key string, c scan.Caller) (scan.Attempt, error) {
	return q.queue.Start(ctx, req, key, c)
}

func withTrustedOrigins(o ...string) harnessOption {
	return func(c *harnessConfig) { c.web.TrustedOrigins = o }
}

// proxySecret is the shared secret of withProxyAuth's proxy.
const proxySecret = "proxy-secret-0123456789"

// withProxyAuth admits callers named by an authenticating proxy in header h (VULSCAN_AUTH=proxy),
// which proves itself with proxySecret in X-Vulscan-Proxy-Secret.
func withProxyAuth(t *testing.T, h string) harnessOption {
	return withAuth(t, auth.Config{Modes: []auth.Mode{auth.ModeProxy},
		Proxy: auth.Proxy{Header: h, SecretHeader: auth.DefaultProxySecretHeader, Secret: proxySecret}}, auth.Where{})
}

// viaProxy marks a request as sent by withProxyAuth's proxy for user.
func viaProxy(header, user string) func(*http.Request) {
	return func(r *http.Request) {
		r.Header.Set(header, user)
		r.Header.Set(auth.DefaultProxySecretHeader, proxySecret)
	}
}

// withAuth admits callers as cfg says.
func withAuth(t *testing.T, cfg auth.Config, where auth.Where) harnessOption {
	t.Helper()
	cfg.Logger = discard
	a, err := auth.New(cfg, where)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *harnessConfig) { c.web.Auth = a }
}

func withSchedules(setting string) harnessOption {
	return func(c *harnessConfig) {
		set, err := schedule.Parse(setting)
		if err != nil {
			panic(err)
		}
		c.web.Schedules = set
	}
}

func withScanLog(wrap func(scan.AuditLog) scan.AuditLog) harnessOption {
	return func(c *harnessConfig) { c.scanLog = wrap }
}

func withAuditLog(wrap func(web.AuditLog) web.AuditLog) harnessOption {
	return func(c *harnessConfig) { c.auditLog = wrap }
}

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t, now: time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)}
	cfg := harnessConfig{web: web.Config{Logger: discard, Now: func() time.Time { return h.now }}}
	for _, o := range opts {
		o(&cfg)
	}
	w := scantest.New(t, scantest.Options{
		Client:   func(c *tcss.Config) { c.MaxRateLimitRetries = -1 },
		AuditLog: cfg.scanLog,
		Service:  cfg.service,
	})
	cfg.web.Scans = w.Service
	cfg.web.Inventory = w.Client
	if cfg.inventory != nil {
		cfg.web.Inventory = cfg.inventory
	}
	var starter guard.Starter = w.Service
	if cfg.queue != nil {
		h.queue = scan.NewQueue(w.Service, *cfg.queue)
		starter = h.queue
		cfg.web.Scans = queued{Service: w.Service, queue: h.queue}
	}
	if cfg.guard != nil {
		gc := *cfg.guard
		if gc.Bound == nil {
			gc.Bound = w.Service.Bound // as the app wires it (vulscan's openGuard)
		}
		g, err := guard.New(starter, gc)
		if err != nil {
			t.Fatal(err)
		}
		cfg.web.Scans = guarded{Service: w.Service, guard: g}
	}
	cfg.web.Audit = w.Store
	if cfg.auditLog != nil {
		cfg.web.Audit = cfg.auditLog(w.Store)
	}
	h.chain = audit.NewWatcher(cfg.web.Audit.VerifyFrom, web.ChainCheckInterval, func() time.Time { return h.now })
	// Runs before the store closes and its directory goes (cleanups run last-registered first).
	t.Cleanup(h.chain.Wait)
	cfg.web.Chain = h.chain
	h.emu, h.store, h.handler = w.Emulator, w.Store, web.New(cfg.web)
	return h
}

var discard = slog.New(slog.DiscardHandler)

// do serves r and returns the response.
func (h *harness) do(r *http.Request) *http.Response {
	h.t.Helper()
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, r)
	return rec.Result()
}

func (h *harness) get(target string) *http.Response {
	return h.do(httptest.NewRequest(http.MethodGet, target, nil))
}

// postForm posts form values to / as a browser on the same origin would: with the key the form's
// page writes (a fresh one each call) unless vals names one.
func (h *harness) postForm(vals url.Values, mods ...func(*http.Request)) *http.Response {
	if _, ok := vals["IdempotencyKey"]; !ok {
		vals = maps.Clone(vals)
		vals.Set("IdempotencyKey", fmt.Sprintf("form-harness-%d", h.formKeys.Add(1)))
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(vals.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	for _, m := range mods {
		m(r)
	}
	return h.do(r)
}

// postJSON posts body to /api/scans.
func (h *harness) postJSON(body string, mods ...func(*http.Request)) *http.Response {
	r := httptest.NewRequest(http.MethodPost, "/api/scans", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for _, m := range mods {
		m(r)
	}
	return h.do(r)
}

// records returns the whole audit log, oldest first.
func (h *harness) records() []audit.Record {
	h.t.Helper()
	var out []audit.Record
	if err := h.store.Each(context.Background(), audit.Filter{}, func(r audit.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		h.t.Fatal(err)
	}
	return out
}

func (h *harness) creates() int { return h.emu.Calls("CreateVulScanTask") }

// document parses an HTML response.
func document(t *testing.T, resp *http.Response) *goquery.Document {
	t.Helper()
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// formKey is the idempotency key a rendered form carries.
func formKey(t *testing.T, doc *goquery.Document) string {
	t.Helper()
	key, ok := doc.Find(`input[type=hidden][name=IdempotencyKey]`).Attr("value")
	if !ok || key == "" {
		t.Fatal("form has no idempotency key")
	}
	return key
}

// localImage is a well-formed local image ID.
func localImage(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

// failingAppend is an audit log the service cannot write to.
type failingAppend struct{ scan.AuditLog }

func (failingAppend) Append(context.Context, audit.Record) (audit.Record, error) {
	return audit.Record{}, errors.New("disk full")
}

// failingAudit is an audit log the pages cannot read.
type failingAudit struct{ web.AuditLog }

func (failingAudit) List(context.Context, audit.Filter) ([]audit.Record, error) {
	return nil, errors.New("database is locked")
}

func (failingAudit) Verify(context.Context) (audit.Report, error) {
	return audit.Report{}, errors.New("database is locked")
}

// brokenChain is an audit log whose chain has an edited record.
type brokenChain struct{ web.AuditLog }

func (brokenChain) VerifyFrom(context.Context, audit.Report) (audit.Report, error) {
	return audit.Report{Records: 6, Problem: &audit.Problem{RecordID: 7, Kind: audit.KindEdited, Detail: "its content does not match its hash"}}, nil
}
