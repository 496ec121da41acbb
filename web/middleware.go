package web

import (
	"context"
	"errors"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/web/auth"
)

// contentSecurityPolicy allows our own stylesheet and script files and nothing else: no inline
// script or style, requests (the live status's polling) only to ourselves, no framing, forms
// only to ourselves.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// strictTransportSecurity is the HSTS policy of an answer that went out over HTTPS.
const strictTransportSecurity = "max-age=31536000"

// securityHeaders sets the headers every response carries, error pages included. signIn, when
// not empty, is the sign-in provider's origin: a form post refused for want of a sign-in is
// redirected there, and browsers hold redirects after a form post to form-action too.
func securityHeaders(signIn string, next http.Handler) http.Handler {
	policy := contentSecurityPolicy
	if signIn != "" {
		policy = strings.Replace(policy, "form-action 'self'", "form-action 'self' "+signIn, 1)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", policy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if reachedOverHTTPS(r) {
			// A year, this host only: a custom domain in front may have subdomains that serve
			// plain HTTP, which includeSubDomains would cut off.
			h.Set("Strict-Transport-Security", strictTransportSecurity)
		}
		next.ServeHTTP(w, r)
	})
}

// boundBodies caps every request body at MaxBodyBytes; reading past it fails with
// *http.MaxBytesError, which the error table turns into 413.
func boundBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// boundPosts gives every POST a deadline d (none when d is 0): the scan service ends its TCSS
// call a margin before it, so the answer is always written in time.
func boundPosts(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// crossOriginProtection refuses state-changing requests that a browser marks as coming from
// another site (Sec-Fetch-Site, or an Origin that does not match Host), unless the origin is
// trusted. Requests without those headers (curl, gateways, other programs) pass: the JSON API's
// callers authenticate at the gateway.
func (s *server) crossOriginProtection(trusted []string, next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	for _, o := range trusted {
		if err := cop.AddTrustedOrigin(o); err != nil {
			// New cannot fail; an origin we cannot parse trusts nothing, which is the safe side.
			s.log.Error("trusted origin ignored", "origin", o, "err", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.oidc != nil && r.URL.Path == signOutPath {
			// A sign-out cannot start a scan: it is refused in a sign-out's own words and
			// logged (pageError), not recorded (refuse records only requests that could).
			s.pageError(w, r, &httpError{status: http.StatusForbidden, title: "Sign-out refused",
				err: errors.New("cross-origin sign-out refused"),
				message: "This sign-out came from another site and was refused, so you are still signed in. " +
					"Sign out with the Sign out button on this site's own pages."})
			return
		}
		message := "This request came from another site and was refused. Submit the form from this site's own page."
		if isAPI(r) {
			// A program calls the API without a browser's Origin or Sec-Fetch-Site headers.
			message = "This request came from a page of another site and was refused. Call the API from a program " +
				"(without a browser's Origin header), or add that site to VULSCAN_TRUSTED_ORIGINS."
		}
		err := s.refuse(s.withRefusedIdentity(r), scan.EFORBIDDEN, &httpError{status: http.StatusForbidden, message: message,
			err: errors.New("cross-origin request refused")})
		if isAPI(r) {
			s.apiError(w, r, err, 0)
			return
		}
		s.pageError(w, r, err)
	}))
	return cop.Handler(next)
}

// recoverPanics turns a panic into a 500 page or JSON error, with the stack in the log.
// http.ErrAbortHandler passes through: it is how a handler aborts a response on purpose.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			err := errors.New("panic")
			if isAPI(r) {
				s.apiError(w, r, err, 0)
				return
			}
			s.pageError(w, r, err)
		}()
		next.ServeHTTP(w, r)
	})
}

// isAPI reports whether r is for the JSON API, whose errors are JSON.
func isAPI(r *http.Request) bool { return isAPIPath(r.URL.Path) }

// isAPIPath reports whether a request's path is the JSON API's.
func isAPIPath(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/")
}

// baseOf is the relative path from r's page back to the site root ("./", "../", …). Pages
// prefix it to every link, because the function does not know the prefix the gateway adds.
func baseOf(r *http.Request) string {
	depth := strings.Count(r.URL.Path, "/") - 1
	if depth <= 0 {
		return "./"
	}
	return strings.Repeat("../", depth)
}

// withRefusedIdentity returns r carrying, for the record of its refusal, whom its credentials
// name, though it is refused before authentication admits anyone (a cross-site post, a wrong
// Host): the record then names the person whose browser sent it, with no access. Credentials
// that name nobody leave it anonymous.
func (s *server) withRefusedIdentity(r *http.Request) *http.Request {
	if s.auth == nil {
		return r
	}
	if _, ok := identityFrom(r.Context()); ok {
		return r
	}
	id, err := s.auth.Authenticate(r)
	if err != nil || id.Actor == "" || id.Access == auth.AccessPublic {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), identityKey{}, auth.Identity{Actor: id.Actor}))
}

// refuse records a POST refused before it became a scan request (from another site, of the wrong
// content type, too large), so that every refusal is on the audit record, and returns err for
// the handler to answer with, naming that record (the API's answer carries its id). Nothing of
// the body is recorded; the API's Idempotency-Key header is, the form's key is not (the body was
// not read). A refused request that could not have started a scan (a read, a sign-out, a post
// to a page that takes none) is answered the same way but not recorded: the record would say
// that someone tried to start a scan, and anyone could grow the audit log with them.
func (s *server) refuse(r *http.Request, code string, err *httpError) *httpError {
	if !couldStartScan(r) {
		return err
	}
	trigger, key := audit.TriggerForm, ""
	if isAPI(r) {
		trigger, key = audit.TriggerAPI, strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	}
	cause := &scan.Error{Code: code, Op: "web", Message: err.message}
	a, _ := s.scans.Reject(r.Context(), key, s.caller(r, trigger), cause)
	err.id = a.ID()
	return err
}

// couldStartScan reports whether r is addressed to one of the two routes that start scans: the
// form's post to / and the API's post to /api/scans.
func couldStartScan(r *http.Request) bool {
	return r.Method == http.MethodPost && (r.URL.Path == "/" || r.URL.Path == apiScansPath)
}
