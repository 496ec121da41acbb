package web

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/templates"
	"github.com/vulscan/vulscan/web/auth"
)

type identityKey struct{}

// identityFrom returns the identity the authentication middleware admitted r's caller as.
func identityFrom(ctx context.Context) (auth.Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(auth.Identity)
	return id, ok
}

// isPublic reports whether a path is served to anyone: the static files (stylesheet, script,
// icon: the sign-in and error pages use them, and browsers ask for /favicon.ico on their own),
// and the sign-in flow itself.
func isPublic(path string) bool {
	return strings.HasPrefix(path, "/static/") || path == "/favicon.ico" || strings.HasPrefix(path, "/auth/")
}

// isNavigation reports whether a browser asked for r as a page to show (not a subresource or a
// script's fetch), the only kind of request worth sending to a sign-in: a redirect of a
// background request would start a second sign-in that overwrites the first one's state.
func isNavigation(r *http.Request) bool {
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" {
		return mode == "navigate"
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html") || r.Header.Get("Accept") == ""
}

// authenticate admits a request only with an identity the Authenticator accepts, and puts
// that identity into the request context for the audit record. A refused POST (an attempt to
// start a scan) is audited as rejected with the source address; a refused read is only logged,
// so that anonymous page loads cannot grow the audit log. A page a browser may sign in for is
// answered with a redirect to the sign-in, unless it sent an Authorization header: a program
// whose key was refused must get the 401 that says so, not a sign-in page it would save as its
// answer. Everything else gets 401 or 403.
func (s *server) authenticate(next http.Handler) http.Handler {
	if s.auth == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isPublic(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		id, err := s.auth.Authenticate(r)
		if err == nil {
			ctx := context.WithValue(r.Context(), identityKey{}, id)
			if id.Access == auth.AccessOIDC {
				ctx = templates.WithSignedIn(ctx, id.Person)
			}
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		herr := authError(err)
		if errors.Is(err, auth.ErrForbidden) && id.Access == auth.AccessOIDC {
			// Signed in, but no longer on the allowed lists: the refusal's page names them and
			// offers to sign out, the only way to sign in as someone else (the session would
			// otherwise last its whole lifetime, and every page would refuse it).
			r = r.WithContext(templates.WithSignedIn(r.Context(), id.Person))
		}
		if r.Method == http.MethodPost {
			if errors.Is(err, auth.ErrForbidden) && id.Actor != "" {
				// A person the sign-in proved, whom the allowed lists refuse: the refusal's record
				// names them, with no access.
				r = r.WithContext(context.WithValue(r.Context(), identityKey{}, auth.Identity{Actor: id.Actor}))
			}
			herr = s.refuse(r, scan.EFORBIDDEN, herr)
		}
		if isAPI(r) {
			s.challenge(w, herr, err)
			s.apiError(w, r, herr, 0)
			return
		}
		if herr.status == http.StatusUnauthorized && s.auth.SignInOffered() && isNavigation(r) && r.Header.Get("Authorization") == "" {
			s.log.Info("request refused; sent to sign in", "method", r.Method, "path", r.URL.Path, "err", err)
			redirectToSignIn(w, r)
			return
		}
		s.challenge(w, herr, err)
		s.pageError(w, r, herr)
	})
}

// challenge sets the WWW-Authenticate a 401 must carry (RFC 9110 §15.5.2) when API keys are
// accepted, on the API and on the pages a script reads (the audit downloads) alike: a key that
// was presented and refused is error="invalid_token" (RFC 6750 §3), so that a client can tell a
// wrong or revoked key from a request that sent none.
func (s *server) challenge(w http.ResponseWriter, herr *httpError, err error) {
	if herr.status != http.StatusUnauthorized || !s.auth.Has(auth.ModeAPIKey) {
		return
	}
	v := `Bearer realm="vulscan"`
	if errors.Is(err, auth.ErrInvalidToken) {
		v += `, error="invalid_token", error_description="The API key is not valid."`
	}
	w.Header().Set("WWW-Authenticate", v)
}

// authError turns an Authenticator's refusal into the web layer's error: 401 or 403.
func authError(err error) *httpError {
	if errors.Is(err, auth.ErrAccessUndecided) {
		return &httpError{status: http.StatusForbidden, message: auth.AccessUndecidedHelp, err: err}
	}
	if errors.Is(err, auth.ErrForbidden) {
		return &httpError{status: http.StatusForbidden, message: "You are signed in but not allowed to use vulscan.", err: err}
	}
	msg := "Authentication required"
	if _, detail, ok := strings.Cut(err.Error(), ": "); ok && detail != "" {
		msg += ": " + detail
	}
	return &httpError{status: http.StatusUnauthorized, message: msg + ".", err: err}
}

// redirectToSignIn sends the browser to the sign-in page (relative to r's path, because of the
// gateway's prefix), to come back to r's page afterwards; a refused form post comes back to
// the form, filled in with what was posted (formReturn).
func redirectToSignIn(w http.ResponseWriter, r *http.Request) {
	back := strings.TrimPrefix(r.URL.Path, "/")
	if r.Method != http.MethodGet {
		back = formReturn(r)
	} else if r.URL.RawQuery != "" {
		back += "?" + r.URL.RawQuery
	}
	w.Header().Set("Cache-Control", "no-store")
	// Not http.Redirect: it would make the relative URL absolute, losing the gateway's prefix.
	w.Header().Set("Location", baseOf(r)+"auth/login?next="+url.QueryEscape(back))
	w.WriteHeader(http.StatusSeeOther)
}

// signIn, signInCallback and signOut serve the OpenID Connect flow under auth/.
func (s *server) signIn(w http.ResponseWriter, r *http.Request) error {
	return s.signInError(s.oidc.SignIn(w, r))
}

func (s *server) signInCallback(w http.ResponseWriter, r *http.Request) error {
	return s.signInError(s.oidc.Callback(w, r))
}

func (s *server) signOut(w http.ResponseWriter, r *http.Request) error {
	s.oidc.SignOut(w, r)
	return s.render(w, r, http.StatusOK, templates.ErrorPage(templates.ErrorView{Base: baseOf(r), Status: http.StatusOK,
		Title: "Signed out", Message: "You are signed out of vulscan. Your sign-in provider may still remember you; sign out there too on a shared computer."}))
}

// signInError shows a failed sign-in as 401/403; a provider that cannot be reached is 502. Each
// page offers to sign in again, back to where the failed sign-in was to return.
func (s *server) signInError(err error) error {
	if err == nil {
		return nil
	}
	again := "auth/login"
	if next := auth.ReturnPath(err); next != "" {
		again += "?next=" + url.QueryEscape(next)
	}
	var herr *httpError
	switch {
	case errors.Is(err, auth.ErrForbidden):
		// The person just signed in and sees why they are not admitted (their own identity and
		// the rule that refused it), and whom to ask; no session is set.
		msg := "The sign-in provider signed you in, but you may not use vulscan."
		if _, detail, ok := strings.Cut(err.Error(), ": "); ok && detail != "" {
			msg = "The sign-in provider signed you in, but " + strings.TrimSuffix(detail, ".") + "."
		}
		herr = &httpError{status: http.StatusForbidden, err: err,
			message: msg + " Ask whoever runs vulscan to add your address or group to its allowed lists, then sign in again."}
	case errors.Is(err, auth.ErrUnauthenticated):
		herr = authError(err)
	default:
		// Titled for what failed: the status alone would name TCSS (pageTitle), which sign-in never calls.
		herr = &httpError{status: http.StatusBadGateway, title: "Sign-in failed",
			message: "The sign-in provider could not be reached. Try again later.", err: err}
	}
	herr.signInAgain = again
	return herr
}

// maxSignInReturn is the longest return path the sign-in keeps (auth's safeNext drops longer
// ones: the path travels in a cookie).
const maxSignInReturn = 512

// formReturn is where a form post refused for want of a sign-in (an expired session) comes back
// to: the form, with the posted entries in its query, which the form shows again (as a picker
// returns to it), so that signing in again does not cost what was typed. The idempotency key is
// not carried: the form makes a fresh one. Entries too long for the sign-in to keep give the
// empty form, as before.
func formReturn(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.URL.Path != "/" || err != nil || mt != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		return ""
	}
	state := formState(r.PostForm)
	if len(state) == 0 {
		return ""
	}
	if back := "?" + state.Encode(); len(back) <= maxSignInReturn {
		return back
	}
	return ""
}
