// Package web is vulscan's HTTP front end: the scan form with its confirmation step, the page of
// each attempt, the audit log pages and downloads, the JSON API, and the middleware that guards
// them (security headers, cross-origin protection, bounded bodies, panic recovery). It knows HTTP
// and HTML, never SCF or Lambda: the platform adapters hand it http.Requests and put the
// gateway's caller identity into the request context with WithCaller.
//
// Every URL it emits is relative, redirects included, because Tencent's API gateway serves the
// function under a stage prefix (/release) that the function never sees.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/schedule"
	"github.com/vulscan/vulscan/web/auth"
	"github.com/vulscan/vulscan/web/router"
)

// Scans is the scan service as the web front end needs it; *scan.Service satisfies it.
type Scans interface {
	// Start validates, audits and sends one request; see scan.Service.Start for its errors.
	Start(ctx context.Context, req scan.Request, idempotencyKey string, c scan.Caller) (scan.Attempt, error)
	// Reject records a refusal of input that never became a Request (an undecodable JSON body,
	// a form number that is not a number) and returns cause.
	Reject(ctx context.Context, idempotencyKey string, c scan.Caller, cause error) (scan.Attempt, error)
	// Attempt returns the attempt a record opened or closed; ENOTFOUND when there is none.
	Attempt(ctx context.Context, id int64) (scan.Attempt, error)
	// Status asks TCSS where a succeeded attempt's scan stands; ENOTFOUND when it started none.
	Status(ctx context.Context, a scan.Attempt) (scan.ScanInfo, error)
}

// AuditLog is the audit store as the audit pages need it; audit.Store satisfies it.
type AuditLog interface {
	// List returns the records matching f, newest first.
	List(ctx context.Context, f audit.Filter) ([]audit.Record, error)
	// Each calls fn with every record matching f, oldest first (for downloads).
	Each(ctx context.Context, f audit.Filter, fn func(audit.Record) error) error
	// VerifyFrom continues a verification of the hash chain with the records appended since
	// (audit.VerifyChainFrom).
	VerifyFrom(ctx context.Context, from audit.Report) (audit.Report, error)
}

// Config configures the handler New returns.
type Config struct {
	// Scans starts and looks up scans. Required.
	Scans Scans
	// Audit lists, exports and verifies the audit log. Required.
	Audit AuditLog
	// Chain keeps the audit log's hash chain verified in the background for the audit page;
	// nil means one of Audit's, checking at most every ChainCheckInterval when the page is viewed.
	Chain *audit.Watcher
	// TrustedOrigins are origins (scheme://host[:port]) allowed to post the form from another
	// origin, for a gateway or custom domain in front of the function; see
	// http.CrossOriginProtection.AddTrustedOrigin.
	TrustedOrigins []string
	// Auth admits callers (VULSCAN_AUTH) and names them in the audit record. nil admits everyone
	// as "anonymous": for tests of the rest of the handler only.
	Auth *auth.Authenticator
	// AllowedHosts are the names (host, any port) and addresses (host:port) the server answers
	// to; a request whose Host header is none of them is refused with 421 and audited (DNS
	// rebinding). Empty means no check: the platform in front routes by host.
	AllowedHosts []string
	// RequestTimeout bounds each POST (the scan's call to TCSS ends a margin before it), so that
	// the caller always gets an answer (504 naming the attempt, or the form's redirect to the
	// attempt page) before the server's WriteTimeout cuts the connection. 0 means no bound.
	RequestTimeout time.Duration
	// Logger receives request errors with their details; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock for times shown on pages; nil means time.Now.
	Now func() time.Time
	// Emulator, when set, is the URL of the TCSS emulator that stands in for TCSS: every page
	// carries a banner saying so.
	Emulator string
	// Schedules are the configured timers (VULSCAN_SCHEDULES) the schedules page reports on.
	Schedules schedule.Set
	// Inventory lists TCSS's assets for the pickers; nil makes them say it is unavailable.
	Inventory scan.Inventory
}

// MaxBodyBytes bounds every request body, the form's and the JSON API's: the largest valid
// request (three lists of scan.MaxListLength image IDs) fits well within it. Larger bodies get
// 413 Request Entity Too Large.
const MaxBodyBytes = scan.MaxJSONBytes

// server holds what the handlers share.
type server struct {
	scans Scans
	audit AuditLog
	auth  *auth.Authenticator
	oidc  *auth.OIDC // when people sign in (mode oidc)
	log   *slog.Logger
	now   func() time.Time
	chain *audit.Watcher

	// issue 12: the schedules page and the pickers
	schedules schedule.Set
	inventory scan.Inventory
}

// New returns vulscan's http.Handler. See the package documentation for the routes.
//
// Routes:
//
//	GET  /                 the scan form
//	POST /                 submit the form (confirmation step for broad scans, then 303 to scans/{id})
//	GET  /scans/{id}       one attempt, with the scan's live status
//	GET  /pick/{kind}      pick local images, registry images or clusters from TCSS's inventory
//	GET  /schedules        every configured schedule: latest runs, missed runs, next due time
//	GET  /audit            the audit log (filters: outcome, trigger, actor, from, to; paging: before)
//	GET  /audit.csv        the matching records as CSV
//	GET  /audit.jsonl      the matching records as JSON Lines
//	GET  /static/style.css the stylesheet
//	GET  /static/live.js   the attempt page's live status (the only script)
//	GET  /static/favicon.svg, /favicon.ico the icon
//	POST /api/scans        start a scan from a JSON body (see api.go for the status codes)
//	GET  /api/scans/{id}   one attempt as JSON
//	GET  /api/audit        the audit log as JSON, with the page's filters and paging
//	GET  /auth/login       sign in (mode oidc): to the provider and back to ?next=
//	GET  /auth/callback    the provider's redirect back
//	POST /auth/logout      sign out
//
// Every route but the stylesheet and auth/ needs an identity Config.Auth admits.
func New(cfg Config) http.Handler {
	s := &server{
		scans: cfg.Scans,
		audit: cfg.Audit,
		auth:  cfg.Auth,
		log:   cfg.Logger,
		now:   cfg.Now,
		chain: cfg.Chain,

		schedules: cfg.Schedules,
		inventory: cfg.Inventory,
	}
	if s.auth != nil {
		s.oidc = s.auth.OIDC()
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.chain == nil && cfg.Audit != nil {
		s.chain = audit.NewWatcher(cfg.Audit.VerifyFrom, ChainCheckInterval, s.now)
	}

	// Not http.ServeMux: it records the file and line of each registration (runtime.Caller, reading
	// the binary's line tables), paid by every function instance's cold start (web/router).
	mux := router.New()
	mux.Handle("GET /{$}", s.page(s.showForm))
	mux.Handle("POST /{$}", s.page(s.submitForm))
	mux.Handle("GET /scans/{id}", s.page(s.showScan))
	mux.Handle("GET /audit", s.page(s.showAudit))
	mux.Handle("GET /schedules", s.page(s.showSchedules))
	mux.Handle("GET /pick/{kind}", s.page(s.showPicker))
	mux.Handle("GET /audit.csv", s.page(s.exportAudit(audit.FormatCSV)))
	mux.Handle("GET /audit.jsonl", s.page(s.exportAudit(audit.FormatJSONL)))
	mux.Handle("GET /static/style.css", serveStatic("style.css"))
	mux.Handle("GET /static/live.js", serveStatic("live.js"))
	mux.Handle("GET /static/favicon.svg", serveStatic("favicon.svg"))
	// Browsers ask for /favicon.ico whatever the page links; answer with the same icon.
	mux.Handle("GET /favicon.ico", serveStatic("favicon.svg"))
	mux.Handle("POST "+apiScansPath, s.api(s.apiStart))
	mux.Handle("GET /api/scans/{id}", s.api(s.apiScan))
	mux.Handle("GET /api/audit", s.api(s.apiAudit))
	if s.oidc != nil {
		mux.Handle("GET /auth/login", s.page(s.signIn))
		mux.Handle("GET /auth/callback", s.page(s.signInCallback))
		mux.Handle("POST "+signOutPath, s.page(s.signOut))
	}
	mux.Handle("/api/", s.api(notFoundOrWrongMethod(mux)))
	mux.Handle("/", s.page(notFoundOrWrongMethod(mux)))

	signIn := ""
	if s.oidc != nil {
		signIn = s.oidc.ProviderOrigin()
	}
	// The banner goes outermost: the pages the guards answer themselves (a cross-site post, a
	// wrong Host, a panic) are pages too, and must not pass for ones served by a real TCSS.
	return emulatorBanner(cfg.Emulator, s.recoverPanics(securityHeaders(signIn, s.checkHost(newHostAllowList(cfg.AllowedHosts),
		s.crossOriginProtection(cfg.TrustedOrigins, boundBodies(boundPosts(cfg.RequestTimeout, s.authenticate(mux))))))))
}

// apiScansPath is the API's route that starts scans; with the form's POST /, the only requests
// whose refusals are recorded.
const apiScansPath = "/api/scans"

// signOutPath is the sign-out's route, which the cross-site guard refuses without an audit record.
const signOutPath = "/auth/logout"

// probeMethods are the methods a 405's Allow may name, in its order.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// notFoundOrWrongMethod answers requests no route takes: 405 with Allow when the path has routes
// for other methods (the catch-all routes would otherwise hide them behind a 404), else 404.
func notFoundOrWrongMethod(mux *router.Router) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		allowed := mux.Allowed(r.URL.EscapedPath())
		var allow []string
		for _, m := range probeMethods {
			if slices.Contains(allowed, m) {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			return &httpError{status: http.StatusNotFound, message: "There is no page at this address."}
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return &httpError{status: http.StatusMethodNotAllowed,
			message: "This address does not take " + r.Method + " requests; it takes " + strings.Join(allow, ", ") + "."}
	}
}
