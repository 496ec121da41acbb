package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/vulscan/vulscan/functions/scan"
)

// OIDCConfig configures sign-in with an OpenID Connect provider (Tencent CAM, Entra ID, Google,
// Okta, Keycloak, Dex, …): the authorization code flow with PKCE.
type OIDCConfig struct {
	Issuer       string // VULSCAN_OIDC_ISSUER, e.g. https://accounts.google.com
	ClientID     string // VULSCAN_OIDC_CLIENT_ID
	ClientSecret string // VULSCAN_OIDC_CLIENT_SECRET (empty for a public client)
	// RedirectURL is this function's auth/callback as the browser reaches it, registered with
	// the provider: VULSCAN_OIDC_REDIRECT_URL, e.g. https://scan.example.com/auth/callback.
	RedirectURL string
	// AllowedEmails (VULSCAN_OIDC_ALLOWED_EMAILS) are addresses, or @domain for a whole domain;
	// AllowedGroups (VULSCAN_OIDC_ALLOWED_GROUPS) are values of the ID token's groups claim.
	// A person is let in when either list admits them; "*" in either admits everyone the
	// provider signs in. One of them is required: a provider such as Google signs in anyone.
	AllowedEmails []string
	AllowedGroups []string
	// SessionKey seals the cookies (VULSCAN_SESSION_KEY, see ParseSessionKey).
	SessionKey []byte
	// SessionTTL is how long a sign-in lasts; default DefaultSessionTTL.
	SessionTTL time.Duration
	// HTTPClient makes the calls to the provider; nil means one with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock for sessions and token expiry; nil means time.Now.
	Now func() time.Time
}

// Defaults and bounds of sign-in.
const (
	DefaultSessionTTL = 8 * time.Hour
	loginTTL          = 10 * time.Minute
	maxSessionTTL     = 7 * 24 * time.Hour
	minSessionTTL     = time.Minute
	// SessionCookie holds a signed-in person's identity and the state of a sign-in under way
	// (state, nonce and PKCE verifier), so that any instance can finish it. One cookie for both,
	// so that no answer sets two: the callback, which ends the sign-in and starts the session,
	// would otherwise need two Set-Cookie headers, and an SCF function URL's reply holds one
	// string per header (docs/deploy.md, "Sign-in cookies"). The __Host- prefix makes browsers
	// take it only from this very host, over HTTPS, for the whole site and without Domain:
	// function URLs of other accounts share this one's parent domain (…tencentscf.com,
	// …lambda-url.<region>.on.aws), and a cookie one of them set for that domain would
	// otherwise reach vulscan as its own, shadowing a person's session or putting another
	// signed-in person's in its place.
	SessionCookie = "__Host-vulscan_session"
)

// OIDC signs people in and reads their sessions. It is stateless: everything it remembers is in
// sealed cookies.
type OIDC struct {
	cfg    OIDCConfig
	seal   sealer
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	provider *oidc.Provider // discovered on first use, so that a cold start calls nobody
}

// session is the sealed content of SessionCookie.
type session struct {
	Subject string   `json:"sub"`
	Email   string   `json:"email,omitempty"`
	Groups  []string `json:"groups,omitempty"` // only those on the allowed list
	Expires int64    `json:"exp"`
	// unverifiedEmail is the address of an ID token that did not say it is verified: never
	// sealed, only for the refusal's words.
	unverifiedEmail string
}

// cookie is the sealed content of SessionCookie: the session of the person signed in (no
// Subject when nobody is) and the sign-in under way in this browser, if any. The session's
// fields stay at the top level, where cookies sealed before the sign-in moved in have them.
type cookie struct {
	session
	Login *loginState `json:"login,omitempty"`
}

// loginState is a sign-in under way, in SessionCookie.
type loginState struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	Next     string `json:"next"`
	Expires  int64  `json:"exp"`
}

// NewOIDC checks cfg and returns the sign-in flow; it calls nothing (the provider is discovered
// on first use).
func NewOIDC(cfg OIDCConfig) (*OIDC, error) {
	issuer, err := url.Parse(cfg.Issuer)
	badEmail := slices.IndexFunc(cfg.AllowedEmails, func(e string) bool { return !validAllowedEmail(e) })
	switch {
	case cfg.Issuer == "" || err != nil || issuer.Host == "" || strings.ContainsAny(cfg.Issuer, "?#"):
		// No query or fragment (OpenID Connect Discovery §3): a subject's actor is <issuer>#<subject>.
		return nil, errors.New("VULSCAN_OIDC_ISSUER: want the provider's issuer URL, without query or fragment, e.g. https://accounts.google.com")
	case issuer.Scheme != "https" && !(issuer.Scheme == "http" && isLoopback(issuer.Hostname())):
		// Discovery names the keys that sign the ID tokens, and the token exchange carries the
		// client secret: whoever is on the path of plain http could sign in as anyone.
		return nil, fmt.Errorf("VULSCAN_OIDC_ISSUER %q: want an https URL (plain http only on localhost or a loopback address): "+
			"over plain http anyone on the network path could serve the provider's keys and sign in as anyone", issuer.Redacted())
	case cfg.ClientID == "":
		return nil, errors.New("VULSCAN_OIDC_CLIENT_ID is not set")
	case !validRedirect(cfg.RedirectURL):
		return nil, errors.New("VULSCAN_OIDC_REDIRECT_URL: want this function's absolute https …/auth/callback URL, as registered " +
			"with the provider (plain http only on localhost or a loopback address)")
	case len(cfg.AllowedEmails) == 0 && len(cfg.AllowedGroups) == 0:
		return nil, errors.New("VULSCAN_OIDC_ALLOWED_EMAILS or VULSCAN_OIDC_ALLOWED_GROUPS must say who may sign in (\"*\" for everyone the provider signs in)")
	case badEmail >= 0:
		// An entry that is no address admits nobody: the operator would believe someone may
		// sign in who cannot.
		return nil, fmt.Errorf("%s: %q is neither an address (alice@example.com), a domain (@example.com) nor *",
			EnvOIDCAllowedEmails, scan.Shorten(cfg.AllowedEmails[badEmail], 80))
	case cfg.SessionTTL != 0 && (cfg.SessionTTL < minSessionTTL || cfg.SessionTTL > maxSessionTTL):
		// A session's expiry is kept in whole seconds: a lifetime under a minute would end a
		// sign-in before the browser got back, and the sign-in would loop.
		return nil, fmt.Errorf("%s=%v: want %v to %v", EnvSessionTTL, cfg.SessionTTL, minSessionTTL, maxSessionTTL)
	}
	// A session names a person as one provider, for one client, proved them: sealed for that
	// pair only, so that a deployment sharing VULSCAN_SESSION_KEY with another (staging and
	// production, a test provider whose users claim any address) cannot pass its sessions off.
	seal, err := newSealer(cfg.SessionKey, cfg.Issuer+"\n"+cfg.ClientID)
	if err != nil {
		return nil, err
	}
	o := &OIDC{cfg: cfg, seal: seal, client: cfg.HTTPClient, now: cfg.Now}
	if o.cfg.SessionTTL == 0 {
		o.cfg.SessionTTL = DefaultSessionTTL
	}
	if o.client == nil {
		o.client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o, nil
}

func validRedirect(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())) && u.Host != "" &&
		strings.HasSuffix(u.Path, "/auth/callback")
}

// discover returns the provider, fetching its discovery document on first use; a failure is
// tried again on the next sign-in.
func (o *OIDC) discover(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.client), o.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OpenID provider %s: %w", o.cfg.Issuer, err)
	}
	o.provider = p
	return p, nil
}

func (o *OIDC) oauth2Config(p *oidc.Provider) *oauth2.Config {
	scopes := []string{oidc.ScopeOpenID, "email", "profile"}
	if len(o.cfg.AllowedGroups) > 0 && !slices.Contains(o.cfg.AllowedGroups, "*") {
		// Providers such as Dex and Keycloak put the groups claim into the ID token only when
		// asked; ask only when groups decide, since others (Google) refuse unknown scopes.
		scopes = append(scopes, "groups")
	}
	return &oauth2.Config{
		ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: scopes,
	}
}

// SignIn starts a sign-in: it remembers a fresh state, nonce and PKCE verifier in a sealed
// cookie and sends the browser to the provider. The query's next (a path relative to the
// site root, e.g. scans/3) is where the browser returns afterwards.
func (o *OIDC) SignIn(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	p, err := o.discover(r.Context())
	if err != nil {
		return &failedSignIn{err: err, next: next}
	}
	st := loginState{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		Next: next, Expires: o.now().Add(loginTTL).Unix()}
	// The session already there stays until the callback replaces it: a sign-in that fails or
	// is abandoned does not sign the person out.
	c := o.readCookie(r)
	c.Login = &st
	if err := o.writeCookie(w, c); err != nil {
		return err
	}
	target := o.oauth2Config(p).AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

// Callback finishes a sign-in: it checks the state against the sign-in under way in the
// cookie, redeems the code with the PKCE verifier, verifies the ID token (signature, issuer,
// audience, expiry, nonce), checks the allowed lists, and sets the session in the cookie. The
// browser goes back to where the sign-in started, relative to the callback's own path.
//
// Errors wrap ErrUnauthenticated (a sign-in that proves nothing: wrong state, bad token) or
// ErrForbidden (a person not on the allowed lists); ReturnPath tells where the sign-in was to
// come back to, for a link that starts it again.
func (o *OIDC) Callback(w http.ResponseWriter, r *http.Request) error {
	// The sign-in under way and its state are checked before the provider's error is: anyone
	// can link to this address with an error of their own, and the page would show it as the
	// provider's.
	c := o.readCookie(r) // without a sign-in that has expired
	if c.Login == nil {
		return &failedSignIn{err: fmt.Errorf("%w: the sign-in expired or was started elsewhere; sign in again", ErrUnauthenticated),
			next: o.expiredNext(r)}
	}
	st := *c.Login
	// The state is good for one callback, whatever it brings: the answer's one Set-Cookie holds
	// the new session, or the old one without the sign-in.
	c.Login = nil
	s, err := o.finish(r, st)
	if err == nil {
		c.session = s
	}
	if werr := o.writeCookie(w, c); werr != nil {
		return werr
	}
	if err != nil {
		return &failedSignIn{err: err, next: st.Next}
	}
	seeOther(w, "../"+st.Next)
	return nil
}

// failedSignIn is a sign-in that did not finish, with the return path it had.
type failedSignIn struct {
	err  error
	next string
}

func (e *failedSignIn) Error() string { return e.err.Error() }
func (e *failedSignIn) Unwrap() error { return e.err }

// ReturnPath is where the sign-in that failed with err (from SignIn or Callback) was to come
// back to: a path relative to the site root, safe to pass as the next of a new sign-in, or ""
// for the form (also when it is not known, as for a sign-in started elsewhere).
func ReturnPath(err error) string {
	var f *failedSignIn
	if errors.As(err, &f) {
		return f.next
	}
	return ""
}

// expiredNext is the return path of a sign-in under way in r's cookie that has expired, so that
// signing in again after it still comes back there; "" when there is none.
func (o *OIDC) expiredNext(r *http.Request) string {
	hc, err := r.Cookie(SessionCookie)
	var c cookie
	if err != nil || o.seal.open(SessionCookie, hc.Value, &c) != nil || c.Login == nil {
		return ""
	}
	return c.Login.Next
}

// finish checks what the provider sent back against the sign-in under way, and returns the
// session it proves.
func (o *OIDC) finish(r *http.Request, st loginState) (session, error) {
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		return session{}, fmt.Errorf("%w: the sign-in's state does not match; sign in again", ErrUnauthenticated)
	}
	if e := q.Get("error"); e != "" {
		if !isOAuthErrorCode(e) {
			return session{}, fmt.Errorf("%w: the provider refused the sign-in", ErrUnauthenticated)
		}
		return session{}, fmt.Errorf("%w: the provider refused the sign-in (%s)", ErrUnauthenticated, e)
	}
	s, err := o.redeem(r.Context(), q.Get("code"), st)
	if err != nil {
		return session{}, err
	}
	if !o.allowed(s) {
		if s.unverifiedEmail != "" {
			return session{}, fmt.Errorf("%w: %s may not use vulscan: the provider did not say that %s is verified, so the allowed "+
				"addresses cannot admit it; allow the person by group (VULSCAN_OIDC_ALLOWED_GROUPS) instead", ErrForbidden, o.describe(s), s.unverifiedEmail)
		}
		return session{}, fmt.Errorf("%w: %s may not use vulscan", ErrForbidden, o.describe(s))
	}
	return s, nil
}

// readCookie opens SessionCookie, keeping only the parts still good now: a session that has
// not expired, nor outlasts the lifetime in force, and a sign-in under way. Anything vulscan
// did not seal under this key, issuer and client ID is no cookie.
func (o *OIDC) readCookie(r *http.Request) cookie {
	hc, err := r.Cookie(SessionCookie)
	var c cookie
	if err != nil || o.seal.open(SessionCookie, hc.Value, &c) != nil {
		return cookie{}
	}
	// A session cannot outlast the lifetime in force now: a cookie sealed under a longer one
	// (before the operator shortened VULSCAN_SESSION_TTL) ends when this one would.
	now := o.now()
	if now.Unix() >= c.Expires || c.Expires > now.Add(o.cfg.SessionTTL).Unix() || c.Subject == "" {
		c.session = session{}
	}
	if c.Login != nil && now.Unix() > c.Login.Expires {
		c.Login = nil
	}
	return c
}

// writeCookie sets SessionCookie to c, or clears it when c holds nothing; the one Set-Cookie
// of any answer. The browser keeps it as long as its longer-lived part lasts.
func (o *OIDC) writeCookie(w http.ResponseWriter, c cookie) error {
	now := o.now().Unix()
	var until int64
	if c.Subject != "" {
		until = c.Expires
	}
	if c.Login != nil {
		until = max(until, c.Login.Expires)
	}
	if until <= now {
		clearCookie(w, SessionCookie)
		return nil
	}
	value, err := o.seal.seal(SessionCookie, c)
	if err != nil {
		return err
	}
	if len(SessionCookie)+len("=")+len(value) > maxCookieBytes && c.Login != nil {
		// Too long for a browser to keep (4 KB of name and value), which would drop the cookie and
		// the sign-in with it: the sign-in under way replaces the session beside it; alone and
		// still too long (a return path whose every byte is not UTF-8 is sealed 6 bytes a byte),
		// it forgets where to return, and the browser comes back to the form.
		switch {
		case c.Subject != "":
			return o.writeCookie(w, cookie{Login: c.Login})
		case c.Login.Next != "":
			st := *c.Login
			st.Next = ""
			return o.writeCookie(w, cookie{Login: &st})
		}
	}
	setCookie(w, SessionCookie, value, time.Duration(until-now)*time.Second)
	return nil
}

// redeem exchanges the code and verifies the ID token it brings.
func (o *OIDC) redeem(ctx context.Context, code string, st loginState) (session, error) {
	if code == "" {
		return session{}, fmt.Errorf("%w: the provider sent no code", ErrUnauthenticated)
	}
	p, err := o.discover(ctx)
	if err != nil {
		return session{}, err
	}
	ctx = oidc.ClientContext(ctx, o.client)
	tok, err := o.oauth2Config(p).Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return session{}, fmt.Errorf("%w: the provider did not redeem the code: %s", ErrUnauthenticated, oauthProblem(err))
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return session{}, fmt.Errorf("%w: the provider sent no ID token", ErrUnauthenticated)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID, Now: o.now}).Verify(ctx, raw)
	if err != nil {
		return session{}, fmt.Errorf("%w: the ID token is not valid: %w", ErrUnauthenticated, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return session{}, fmt.Errorf("%w: the ID token's nonce does not match", ErrUnauthenticated)
	}
	var claims struct {
		Email string `json:"email"`
		// A boolean as the specification says, or the string some providers send instead.
		EmailVerified json.RawMessage `json:"email_verified"`
		Groups        []string        `json:"groups"`
	}
	if err := idt.Claims(&claims); err != nil {
		return session{}, fmt.Errorf("%w: the ID token's claims: %w", ErrUnauthenticated, err)
	}
	s := session{Subject: scan.Shorten(idt.Subject, 256), Expires: o.now().Add(o.cfg.SessionTTL).Unix()}
	// Only an address the provider says it verified names the person: one it says nothing of
	// may be whatever the person typed into their profile (Entra ID sends no email_verified).
	email := strings.ToLower(scan.Shorten(strings.TrimSpace(claims.Email), 256))
	if v := string(claims.EmailVerified); v == "true" || v == `"true"` {
		s.Email = email
	} else {
		s.unverifiedEmail = email
	}
	for _, g := range claims.Groups {
		if slices.Contains(o.cfg.AllowedGroups, g) {
			s.Groups = append(s.Groups, g)
		}
	}
	return s, nil
}

// oauthProblem describes an exchange failure without the response body (which could echo a
// code or secret).
func oauthProblem(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			return scan.Shorten(re.ErrorCode, 64)
		}
		if re.Response != nil {
			return re.Response.Status
		}
	}
	return "the token endpoint could not be reached"
}

// SignOut forgets the session, and a sign-in under way with it; the caller shows a page that says so. It does not send the
// browser back into the site, whose sign-in would at once sign the person in again through the
// provider's own session.
func (o *OIDC) SignOut(w http.ResponseWriter, _ *http.Request) {
	clearCookie(w, SessionCookie)
	w.Header().Set("Cache-Control", "no-store")
}

// ProviderOrigin is the scheme and host of the provider's issuer, where sign-ins go.
func (o *OIDC) ProviderOrigin() string {
	u, err := url.Parse(o.cfg.Issuer)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// sessionIdentity reads the session cookie. ok is false when there is no usable session (none,
// expired, or not sealed by us: a tampered cookie proves nothing); err wraps ErrForbidden when
// the person is no longer on the allowed lists.
func (o *OIDC) sessionIdentity(r *http.Request) (Identity, bool, error) {
	s := o.readCookie(r).session
	if s.Subject == "" {
		return Identity{}, false, nil
	}
	id := Identity{Actor: o.actor(s), Access: AccessOIDC, Person: o.describe(s)}
	if !o.allowed(s) {
		return id, true, fmt.Errorf("%w: %s may not use vulscan", ErrForbidden, o.describe(s))
	}
	return id, true, nil
}

// Actor prefixes of signed-in people.
const (
	// ActorPrefixOIDC starts the actor of a person named by an address the provider verified:
	// oidc:<email>. The provider may give the address to someone else later.
	ActorPrefixOIDC = "oidc:"
	// ActorPrefixOIDCSubject starts the actor of a person the provider named by its subject only
	// (no verified address, as with Entra ID): oidc-sub:<issuer>#<subject>. A subject is never
	// reassigned but is unique only within its issuer, which an issuer URL cannot confuse (it has
	// no fragment). A prefix of its own, so that patterns written for addresses
	// (oidc:*@example.com) never match a subject, whatever it looks like.
	ActorPrefixOIDCSubject = "oidc-sub:"
)

// actor is the audit records' name for a signed-in person: oidc:<verified email>, else
// oidc-sub:<issuer>#<subject>.
func (o *OIDC) actor(s session) string {
	if s.Email != "" {
		return ActorPrefixOIDC + s.Email
	}
	return ActorPrefixOIDCSubject + o.cfg.Issuer + "#" + s.Subject
}

// describe names a person in words and on pages: the verified email, else the subject.
func (o *OIDC) describe(s session) string {
	if s.Email != "" {
		return s.Email
	}
	return s.Subject
}

// validAllowedEmail reports whether e is an entry of VULSCAN_OIDC_ALLOWED_EMAILS: "*", an
// address, or "@" and a domain.
func validAllowedEmail(e string) bool {
	if e == "*" {
		return true
	}
	local, domain, ok := strings.Cut(e, "@")
	return ok && domain != "" && !strings.ContainsAny(domain, "@ ,") && strings.Contains(domain, ".") &&
		!strings.ContainsAny(local, " ,")
}

// allowed applies the allowed lists.
func (o *OIDC) allowed(s session) bool {
	if slices.Contains(o.cfg.AllowedEmails, "*") || slices.Contains(o.cfg.AllowedGroups, "*") {
		return true
	}
	for _, g := range s.Groups {
		if slices.Contains(o.cfg.AllowedGroups, g) {
			return true
		}
	}
	if s.Email == "" {
		return false
	}
	for _, e := range o.cfg.AllowedEmails {
		e = strings.ToLower(e)
		if e == s.Email || (strings.HasPrefix(e, "@") && strings.HasSuffix(s.Email, e)) {
			return true
		}
	}
	return false
}

// seeOther redirects to a URL relative to the auth/ path. Not http.Redirect: it would make the
// URL absolute, losing the prefix a gateway serves the function under.
func seeOther(w http.ResponseWriter, relative string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", relative)
	w.WriteHeader(http.StatusSeeOther)
}

// safeNext keeps a return path only if it stays on this site: relative, no scheme, no host.
func safeNext(next string) string {
	next = strings.TrimLeft(next, "/")
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.ContainsAny(next, "\\\r\n") ||
		strings.HasPrefix(next, ".") || len(next) > 512 {
		return ""
	}
	return next
}

// isOAuthErrorCode reports whether e has the form of an OAuth error code (RFC 6749 §4.1.2.1:
// access_denied, invalid_scope, …), the only part of a provider's error the page shows: free
// text there would read as vulscan's own words.
func isOAuthErrorCode(e string) bool {
	if e == "" || len(e) > 64 {
		return false
	}
	for _, c := range e {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// randomToken is 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
