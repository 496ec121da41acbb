package web_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/web/auth"
)

// provider is a real OpenID Connect server in-process (mockoidc), with an optional tamperer
// that rewrites the ID token its token endpoint answers with.
type provider struct {
	*mockoidc.MockOIDC
	tamper func(claims jwt.MapClaims) (jwt.MapClaims, *mockoidc.Keypair)
}

func startProvider(t *testing.T) *provider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{MockOIDC: m}
	// Middleware must be added before the server starts.
	m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p.tamper == nil || r.URL.Path != mockoidc.TokenEndpoint {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err == nil {
				if raw, ok := body["id_token"].(string); ok {
					body["id_token"] = p.retoken(t, raw)
				}
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(body)
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return p
}

// retoken re-signs raw's claims as the tamperer says.
func (p *provider) retoken(t *testing.T, raw string) string {
	parts := strings.Split(raw, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	claims, key := p.tamper(claims)
	if key == nil {
		key = p.Keypair
	}
	tok, err := key.SignJWT(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// signIn runs the browser's side of the authorization code flow through h and the provider,
// and returns the callback's response.
func signIn(t *testing.T, h *harness, mutateCallback func(*url.Values)) *http.Response {
	t.Helper()
	return signInAt(t, h, "/auth/login?next=audit", mutateCallback)
}

// signInAt is signIn from the sign-in address loginPath, which names where to come back to.
func signInAt(t *testing.T, h *harness, loginPath string, mutateCallback func(*url.Values)) *http.Response {
	t.Helper()
	login := h.get(loginPath)
	if login.StatusCode != http.StatusFound {
		t.Fatalf("sign-in = %d: %s", login.StatusCode, body(t, login))
	}
	loginCookie := login.Cookies()
	authorize := login.Header.Get("Location")
	u, _ := url.Parse(authorize)
	if q := u.Query(); q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" {
		t.Errorf("authorization request %s lacks PKCE or a nonce", authorize)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("provider answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	q := back.Query()
	if mutateCallback != nil {
		mutateCallback(&q)
	}
	r := httptest.NewRequest(http.MethodGet, "/auth/callback?"+q.Encode(), nil)
	for _, c := range loginCookie {
		r.AddCookie(c)
	}
	return h.do(r)
}

func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == auth.SessionCookie && c.Value != "" {
			return c
		}
	}
	return nil
}

func oidcHarness(t *testing.T, p *provider, allowed []string, now func() time.Time) *harness {
	return oidcHarnessTTL(t, p, allowed, now, 0)
}

// oidcHarnessTTL is oidcHarness with sessions that last ttl (0: the default).
func oidcHarnessTTL(t *testing.T, p *provider, allowed []string, now func() time.Time, ttl time.Duration) *harness {
	cfg := p.Config()
	o, err := auth.NewOIDC(auth.OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		RedirectURL: "https://scan.example/auth/callback", AllowedEmails: allowed,
		SessionKey: []byte("0123456789abcdef0123456789abcdef"), Now: now, SessionTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return newHarness(t, withAuth(t, auth.Config{Modes: []auth.Mode{auth.ModeOIDC}, OIDC: o}, auth.Where{}))
}

// TestOIDCSignInStartsAScanAsThePerson: sign in through a real provider, then a scan is
// recorded under the person's verified email; the session cookie is sealed and flagged.
func TestOIDCSignInStartsAScanAsThePerson(t *testing.T) {
	p := startProvider(t)
	h := oidcHarness(t, p, []string{"@example.com"}, nil)
	cb := signIn(t, h, nil)
	if cb.StatusCode != http.StatusSeeOther || cb.Header.Get("Location") != "../audit" {
		t.Fatalf("callback = %d to %q: %s", cb.StatusCode, cb.Header.Get("Location"), body(t, cb))
	}
	c := sessionCookie(cb)
	if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Fatalf("session cookie %+v; want Secure, HttpOnly, SameSite=Lax, Path=/", c)
	}
	// Only this host may set it (RFC 6265bis __Host-): not another function URL under the
	// same parent domain.
	for _, k := range append(cb.Cookies(), c) {
		if !strings.HasPrefix(k.Name, "__Host-") || k.Domain != "" || k.Path != "/" || !k.Secure {
			t.Errorf("cookie %s (Domain %q, Path %q, Secure %v): want a __Host- cookie", k.Name, k.Domain, k.Path, k.Secure)
		}
	}
	if strings.Contains(c.Value, "jane") {
		t.Error("the session cookie shows the identity in clear")
	}
	resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, func(r *http.Request) { r.AddCookie(c) })
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("scan = %d: %s", resp.StatusCode, body(t, resp))
	}
	rec := h.records()[0]
	if rec.Actor != "oidc:jane.doe@example.com" || rec.Access != "oidc" {
		t.Errorf("record actor %q access %q; want oidc:jane.doe@example.com, oidc", rec.Actor, rec.Access)
	}

	page := httptest.NewRequest(http.MethodGet, "/", nil)
	page.AddCookie(c)
	doc := document(t, h.do(page))
	if who := doc.Find("#signed-in-as").Text(); who != "jane.doe@example.com" || doc.Find("form.sign-out #sign-out").Length() != 1 {
		t.Errorf("header: signed in as %q, sign-out button %d", who, doc.Find("#sign-out").Length())
	}

	out := httptest.NewRequest(http.MethodPost, "/auth/logout", nil)
	out.AddCookie(c)
	signedOut := h.do(out)
	if signedOut.StatusCode != http.StatusOK || signedOut.Header.Get("Location") != "" {
		t.Errorf("sign-out = %d to %q; want a page saying so, not a way back into the sign-in", signedOut.StatusCode, signedOut.Header.Get("Location"))
	}
	if csp := signedOut.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+p.Issuer()[:strings.LastIndex(p.Issuer(), "/oidc")]) {
		t.Errorf("CSP %q does not let a refused form post go on to the provider", csp)
	}
	cleared := false
	for _, k := range signedOut.Cookies() {
		cleared = cleared || k.Name == auth.SessionCookie && k.MaxAge < 0
	}
	if !cleared {
		t.Error("sign-out did not clear the session cookie")
	}
}

// TestOIDCForgeriesAreRefused: every way of faking a sign-in or a session fails.
func TestOIDCForgeriesAreRefused(t *testing.T) {
	other, err := mockoidc.RandomKeypair(2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		allowed  []string
		now      func() time.Time
		tamper   func(jwt.MapClaims) (jwt.MapClaims, *mockoidc.Keypair)
		callback func(*url.Values)
		status   int
	}{
		{name: "wrong state", callback: func(q *url.Values) { q.Set("state", "forged") }, status: http.StatusUnauthorized},
		{name: "code not issued", callback: func(q *url.Values) { q.Set("code", "forged") }, status: http.StatusUnauthorized},
		{name: "provider error", callback: func(q *url.Values) { q.Set("error", "access_denied") }, status: http.StatusUnauthorized},
		{name: "ID token signed by another key", status: http.StatusUnauthorized,
			tamper: func(c jwt.MapClaims) (jwt.MapClaims, *mockoidc.Keypair) { return c, other }},
		{name: "ID token for another audience", status: http.StatusUnauthorized,
			tamper: func(c jwt.MapClaims) (jwt.MapClaims, *mockoidc.Keypair) { c["aud"] = "someone-else"; return c, nil }},
		{name: "ID token from another issuer", status: http.StatusUnauthorized,
			tamper: func(c jwt.MapClaims) (jwt.MapClaims, *mockoidc.Keypair) {
				c["iss"] = "https://evil.example"
				return c, nil
			}},
		{name: "ID token with another nonce", status: http.StatusUnauthorized,
			tamper: func(c jwt.MapClaims) (jwt.MapClaims, *mockoidc.Keypair) { c["nonce"] = "replayed"; return c, nil }},
		{name: "expired ID token", status: http.StatusUnauthorized,
			tamper: func(c jwt.MapClaims) (jwt.MapClaims, *mockoidc.Keypair) {
				c["exp"] = time.Now().Add(-time.Hour).Unix()
				return c, nil
			}},
		{name: "unverified email", allowed: []string{"jane.doe@example.com"}, status: http.StatusForbidden,
			tamper: func(c jwt.MapClaims) (jwt.MapClaims, *mockoidc.Keypair) { c["email_verified"] = false; return c, nil }},
		{name: "email not said to be verified", allowed: []string{"jane.doe@example.com"}, status: http.StatusForbidden,
			tamper: func(c jwt.MapClaims) (jwt.MapClaims, *mockoidc.Keypair) { delete(c, "email_verified"); return c, nil }},
		{name: "person not on the allowed list", allowed: []string{"@corp.example"}, status: http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProvider(t)
			p.tamper = tc.tamper
			allowed := tc.allowed
			if allowed == nil {
				allowed = []string{"*"}
			}
			h := oidcHarness(t, p, allowed, tc.now)
			cb := signIn(t, h, tc.callback)
			if cb.StatusCode != tc.status {
				t.Fatalf("callback = %d, want %d: %.300s", cb.StatusCode, tc.status, body(t, cb))
			}
			if sessionCookie(cb) != nil {
				t.Error("a refused sign-in set a session cookie")
			}
		})
	}
}

// TestOIDCSessionTampering: a changed, foreign or expired session cookie admits nobody.
func TestOIDCSessionTampering(t *testing.T) {
	p := startProvider(t)
	now := time.Now()
	h := oidcHarness(t, p, []string{"*"}, func() time.Time { return now })
	c := sessionCookie(signIn(t, h, nil))
	if c == nil {
		t.Fatal("no session")
	}
	flipped := []byte(c.Value)
	flipped[len(flipped)/2] ^= 0x01
	for name, cookie := range map[string]*http.Cookie{
		"flipped byte":         {Name: auth.SessionCookie, Value: string(flipped)},
		"made up":              {Name: auth.SessionCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin","exp":9999999999}`))},
		"login cookie's value": {Name: auth.SessionCookie, Value: c.Value[:len(c.Value)-4]},
	} {
		resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, func(r *http.Request) { r.AddCookie(cookie) })
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, resp.StatusCode)
		}
	}
	now = now.Add(auth.DefaultSessionTTL + time.Second)
	if resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, func(r *http.Request) { r.AddCookie(c) }); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired session: status %d, want 401", resp.StatusCode)
	}
	for _, rec := range h.records() {
		if rec.Outcome != audit.OutcomeRejected || rec.Actor != "anonymous" {
			t.Errorf("record %+v; want only anonymous refusals", rec)
		}
	}
}

// TestOIDCSessionOfAnotherProviderIsRefused: two deployments that share VULSCAN_SESSION_KEY
// (staging and production, say) with different providers: a session the one sealed, for
// whatever address its provider vouched for, signs nobody in at the other, and a refused scan
// start with it is recorded as anonymous, not as the address the cookie names.
func TestOIDCSessionOfAnotherProviderIsRefused(t *testing.T) {
	staging, production := startProvider(t), startProvider(t)
	stagingSite := oidcHarness(t, staging, []string{"*"}, nil)
	productionSite := oidcHarness(t, production, []string{"jane.doe@example.com"}, nil)
	c := sessionCookie(signIn(t, stagingSite, nil))
	if c == nil {
		t.Fatal("no session at staging")
	}
	resp := productionSite.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, func(r *http.Request) { r.AddCookie(c) })
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("staging's session at production: status %d, want 401", resp.StatusCode)
	}
	for _, rec := range productionSite.records() {
		if rec.Actor != "anonymous" || rec.Outcome != audit.OutcomeRejected {
			t.Errorf("record %s %s, want only an anonymous refusal", rec.Actor, rec.Outcome)
		}
	}
	// Production's own sign-in still works.
	if own := sessionCookie(signIn(t, productionSite, nil)); own == nil {
		t.Error("no session from production's own provider")
	}
}

// A session lasts at most the lifetime in force now, and a lifetime too short for a sign-in to
// come back is refused at start.
func TestOIDCSessionLifetime(t *testing.T) {
	p := startProvider(t)
	week := oidcHarnessTTL(t, p, []string{"*"}, nil, 7*24*time.Hour)
	c := sessionCookie(signIn(t, week, nil))
	if c == nil {
		t.Fatal("no session")
	}
	scan := func(h *harness) int {
		return h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, func(r *http.Request) { r.AddCookie(c) }).StatusCode
	}
	if got := scan(week); got != http.StatusCreated {
		t.Fatalf("the week-long session where it was issued: %d", got)
	}
	// The operator shortened VULSCAN_SESSION_TTL to the default 8 h: the same sealing key, but
	// a week-long session now outlasts what any sign-in could get.
	if got := scan(oidcHarness(t, p, []string{"*"}, nil)); got != http.StatusUnauthorized {
		t.Errorf("a session sealed for a week under an 8 h lifetime: %d, want 401", got)
	}
	cfg := p.Config()
	for ttl, ok := range map[time.Duration]bool{time.Millisecond: false, 30 * time.Second: false, time.Minute: true, 8 * 24 * time.Hour: false} {
		_, err := auth.NewOIDC(auth.OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID, RedirectURL: "https://scan.example/auth/callback",
			AllowedEmails: []string{"*"}, SessionKey: []byte("0123456789abcdef0123456789abcdef"), SessionTTL: ttl})
		if (err == nil) != ok {
			t.Errorf("session lifetime %v: error %v, want accepted %v", ttl, err, ok)
		}
	}
}

// email_verified as the string "true", which some providers send, verifies the address; any
// other value does not, and neither breaks the sign-in.
func TestOIDCEmailVerifiedAsAString(t *testing.T) {
	for _, tc := range []struct {
		value  any
		status int
	}{
		{"true", http.StatusSeeOther},
		{"false", http.StatusForbidden},
		{1, http.StatusForbidden},
	} {
		t.Run(fmt.Sprint(tc.value), func(t *testing.T) {
			p := startProvider(t)
			p.tamper = func(c jwt.MapClaims) (jwt.MapClaims, *mockoidc.Keypair) {
				c["email_verified"] = tc.value
				return c, nil
			}
			cb := signIn(t, oidcHarness(t, p, []string{"jane.doe@example.com"}, nil), nil)
			if cb.StatusCode != tc.status {
				t.Fatalf("callback = %d, want %d: %.300s", cb.StatusCode, tc.status, body(t, cb))
			}
			// A refusal tells the person why and what would admit them.
			if msg := document(t, cb).Find(".callout-error").Text(); tc.status == http.StatusForbidden &&
				(!strings.Contains(msg, "did not say that jane.doe@example.com is verified") || !strings.Contains(msg, "VULSCAN_OIDC_ALLOWED_GROUPS")) {
				t.Errorf("refusal says %q", msg)
			}
		})
	}
}

// A signed-in person whom the allowed lists no longer admit is refused, and the refusal's
// record names them (with no access), not "anonymous".
func TestOIDCRefusalOfASignedInPersonNamesThem(t *testing.T) {
	p := startProvider(t)
	c := sessionCookie(signIn(t, oidcHarness(t, p, []string{"*"}, nil), nil))
	if c == nil {
		t.Fatal("no session")
	}
	h := oidcHarness(t, p, []string{"@corp.example"}, nil) // the lists changed since
	resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, func(r *http.Request) { r.AddCookie(c) })
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403", resp.StatusCode)
	}
	rec := h.records()[0]
	if rec.Actor != "oidc:jane.doe@example.com" || rec.Access != "" || rec.Outcome != audit.OutcomeRejected {
		t.Errorf("record actor %q access %q outcome %s; want the person, no access, rejected", rec.Actor, rec.Access, rec.Outcome)
	}
}

// TestOIDCRefusedPersonCanSignOut: a person whose session the allowed lists no longer admit sees,
// on every refused page, whom they are signed in as and a button to sign out, the only way to
// sign in as someone else before the session ends.
func TestOIDCRefusedPersonCanSignOut(t *testing.T) {
	p := startProvider(t)
	c := sessionCookie(signIn(t, oidcHarness(t, p, []string{"*"}, nil), nil))
	if c == nil {
		t.Fatal("no session")
	}
	h := oidcHarness(t, p, []string{"@corp.example"}, nil) // the lists changed since
	for _, path := range []string{"/", "/audit", "/scans/1"} {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.AddCookie(c)
		resp := h.do(r)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("GET %s: status %d, want 403", path, resp.StatusCode)
		}
		doc := document(t, resp)
		if who := doc.Find("#signed-in-as").Text(); who != "jane.doe@example.com" {
			t.Errorf("GET %s: signed in as %q, want the person", path, who)
		}
		if action, _ := doc.Find("form.sign-out").Attr("action"); doc.Find("form.sign-out #sign-out").Length() != 1 || !strings.HasSuffix(action, "auth/logout") {
			t.Errorf("GET %s: no sign-out button (form action %q)", path, action)
		}
	}
}

// A sign-in provider that cannot be reached: the page says the sign-in failed, in its title and
// heading too, and does not blame TCSS, which sign-in never calls.
func TestOIDCProviderDownSaysSo(t *testing.T) {
	p := startProvider(t)
	h := oidcHarness(t, p, []string{"someone@example.com"}, time.Now)
	p.Shutdown()
	resp := h.get("/auth/login?next=audit")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	doc := document(t, resp)
	for _, sel := range []string{"title", "h1"} {
		if got := doc.Find(sel).Text(); strings.Contains(got, "TCSS") || !strings.Contains(got, "Sign-in failed") {
			t.Errorf("%s %q, want it to say the sign-in failed", sel, got)
		}
	}
	if got := doc.Find(".callout").Text(); !strings.Contains(got, "sign-in provider could not be reached") {
		t.Errorf("message %q", got)
	}
}

// A form posted after the sign-in has expired is refused and recorded; signing in again comes
// back to the form with everything that was typed, under a fresh key, instead of an empty form.
func TestOIDCExpiredSignInKeepsTheFormsEntries(t *testing.T) {
	p := startProvider(t)
	h := oidcHarness(t, p, []string{"*"}, nil)
	posted := url.Values{"IdempotencyKey": {"form-before-expiry"}, "RegistryImageScanType": {"IMAGEIDS"},
		"RegistryImageIDs": {"1001\n1002"}, "IsLatest": {"true"}, "LocalTaskID": {"12"}}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(posted.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Mode", "navigate")
	refused := h.do(r) // no session cookie: it has expired
	loc := refused.Header.Get("Location")
	if refused.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "./auth/login?next=") {
		t.Fatalf("refused post = %d to %q, want 303 to the sign-in", refused.StatusCode, loc)
	}
	if recs := h.records(); len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected {
		t.Errorf("records %+v, want the refused post", recs)
	}
	back := signInAt(t, h, strings.TrimPrefix(loc, "."), nil)
	form := back.Header.Get("Location")
	if back.StatusCode != http.StatusSeeOther || !strings.HasPrefix(form, "../?") {
		t.Fatalf("callback = %d to %q, want 303 to the form with its entries", back.StatusCode, form)
	}
	req := httptest.NewRequest(http.MethodGet, "/"+strings.TrimPrefix(form, "../"), nil)
	req.AddCookie(sessionCookie(back))
	doc := document(t, h.do(req))
	if got := doc.Find("#RegistryImageIDs").Text(); got != "1001\n1002" {
		t.Errorf("RegistryImageIDs %q, want what was typed", got)
	}
	if !doc.Find("#RegistryImageScanType-IMAGEIDS").Is("[checked]") || !doc.Find("#IsLatest").Is("[checked]") ||
		doc.Find("#LocalTaskID").AttrOr("value", "") != "12" {
		t.Error("the scope, the check box or the task ID was lost")
	}
	if key := formKey(t, doc); key == "" || key == "form-before-expiry" {
		t.Errorf("form key %q, want a fresh one", key)
	}
}

// The callback shows a provider's error only for the sign-in this browser started (its state
// matches the sign-in under way in its cookie), and only as an OAuth error code: a link to
// auth/callback?error=… made vulscan's own page say whatever its author wrote.
func TestOIDCCallbackErrorShowsNoTextFromALink(t *testing.T) {
	const planted = "account locked: call 555 0100 or visit evil.example"
	tests := []struct {
		name     string
		started  bool // a sign-in was started in this browser, and the provider sent its state back
		error    string
		wantText string // in the page's message, "" for none
	}{
		{"a link, no sign-in started", false, planted, "sign-in expired or was started elsewhere"},
		{"a link, an OAuth code", false, "access_denied", "sign-in expired or was started elsewhere"},
		{"the provider's code for this sign-in", true, "access_denied", "refused the sign-in (access_denied)"},
		{"free text for this sign-in", true, planted, "provider refused the sign-in"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := startProvider(t)
			h := oidcHarness(t, p, []string{"*"}, nil)
			var resp *http.Response
			if tc.started {
				resp = signIn(t, h, func(q *url.Values) { q.Del("code"); q.Set("error", tc.error) })
			} else {
				resp = h.get("/auth/callback?" + url.Values{"error": {tc.error}}.Encode())
			}
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
			msg := document(t, resp).Find(".callout").Text()
			if strings.Contains(msg, "evil.example") || strings.Contains(msg, "555") {
				t.Errorf("the page shows the link's text: %q", msg)
			}
			if !strings.Contains(msg, tc.wantText) {
				t.Errorf("message %q, want it to say %q", msg, tc.wantText)
			}
			if sessionCookie(resp) != nil {
				t.Error("a refused sign-in set a session cookie")
			}
		})
	}
}
