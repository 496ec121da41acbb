package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/vulscan/vulscan/web/auth"
)

// cookieBrowser keeps the cookies a browser would between requests to one site, and fails the
// test on an answer that sets more than one: an SCF function URL's reply carries each header
// as one string (Tencent's documentation shows no other form), so a second Set-Cookie may be
// joined, dropped or refused by the platform.
type cookieBrowser struct {
	t   *testing.T
	h   *harness
	jar map[string]*http.Cookie
}

func (b *cookieBrowser) do(step string, r *http.Request) *http.Response {
	b.t.Helper()
	for _, c := range b.jar {
		r.AddCookie(c)
	}
	resp := b.h.do(r)
	if set := resp.Header.Values("Set-Cookie"); len(set) > 1 {
		b.t.Errorf("%s: %s %s answered %d with %d Set-Cookie headers, want at most one: %q",
			step, r.Method, r.URL, resp.StatusCode, len(set), set)
	}
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.jar, c.Name)
			continue
		}
		b.jar[c.Name] = c
	}
	return resp
}

func (b *cookieBrowser) get(step, target string) *http.Response {
	b.t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header.Set("Sec-Fetch-Mode", "navigate")
	return b.do(step, r)
}

// toProvider follows a sign-in's redirect through the provider and returns the callback's
// address, as the browser would reach it.
func toProvider(t *testing.T, login *http.Response) string {
	t.Helper()
	if login.StatusCode != http.StatusFound {
		t.Fatalf("sign-in = %d: %s", login.StatusCode, body(t, login))
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(login.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("provider answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return "/auth/callback?" + back.RawQuery
}

// TestOIDCEveryAnswerSetsAtMostOneCookie walks a browser through everything sign-in does (a
// refused page, signing in, a replayed callback, a second sign-in that fails and one the
// provider refuses, signing out) and fails on any answer with more than one Set-Cookie: on an
// SCF function URL, whose replies hold one string per header, the sign-in would otherwise
// depend on what the platform does with a list. Nothing the cookies prove is given up: a used
// sign-in state is refused, and a failed sign-in keeps the session already there.
func TestOIDCEveryAnswerSetsAtMostOneCookie(t *testing.T) {
	p := startProvider(t)
	h := oidcHarness(t, p, []string{"@example.com"}, nil)
	b := &cookieBrowser{t: t, h: h, jar: map[string]*http.Cookie{}}

	if resp := b.get("a page before signing in", "/audit"); resp.StatusCode != http.StatusSeeOther ||
		!strings.Contains(resp.Header.Get("Location"), "auth/login") {
		t.Fatalf("GET /audit signed out = %d to %q, want the sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
	callback := toProvider(t, b.get("sign-in", "/auth/login?next=audit"))
	// The cookie now holds a sign-in under way, and no session: it signs nobody in.
	if resp := b.get("a page during the sign-in", "/audit"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /audit during the sign-in = %d, want the sign-in", resp.StatusCode)
	}
	if cb := b.get("callback", callback); cb.StatusCode != http.StatusSeeOther || cb.Header.Get("Location") != "../audit" {
		t.Fatalf("callback = %d to %q: %s", cb.StatusCode, cb.Header.Get("Location"), body(t, cb))
	}
	signedIn := func(step string) {
		t.Helper()
		if resp := b.get(step, "/audit"); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: GET /audit = %d, want 200 (signed in)", step, resp.StatusCode)
		}
	}
	signedIn("after signing in")

	// The same callback again (the browser's back button, or a copied address): its state was
	// used, so it signs nobody in, and the session stays.
	if replay := b.get("replayed callback", callback); replay.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(body(t, replay), "sign-in expired or was started elsewhere") {
		t.Errorf("replayed callback = %d, want 401 saying the sign-in expired", replay.StatusCode)
	}
	signedIn("after the replayed callback")

	// A second sign-in whose callback is forged, then one the provider refuses: each fails
	// without ending the session the browser already has.
	forged := toProvider(t, b.get("second sign-in", "/auth/login?next=audit"))
	forged = strings.Replace(forged, "state=", "state=forged", 1)
	if cb := b.get("forged callback", forged); cb.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged callback = %d, want 401", cb.StatusCode)
	}
	signedIn("after a forged callback")
	refusedAt := toProvider(t, b.get("third sign-in", "/auth/login?next=audit"))
	u, _ := url.Parse(refusedAt)
	q := u.Query()
	q.Del("code")
	q.Set("error", "access_denied")
	if cb := b.get("refused callback", "/auth/callback?"+q.Encode()); cb.StatusCode != http.StatusUnauthorized {
		t.Errorf("refused callback = %d, want 401", cb.StatusCode)
	}
	signedIn("after a refused callback")

	out := httptest.NewRequest(http.MethodPost, "/auth/logout", nil)
	if resp := b.do("sign-out", out); resp.StatusCode != http.StatusOK {
		t.Errorf("sign-out = %d, want 200", resp.StatusCode)
	}
	if len(b.jar) != 0 {
		t.Errorf("after signing out the browser keeps %d cookies", len(b.jar))
	}
	if resp := b.get("a page after signing out", "/audit"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /audit signed out = %d, want the sign-in", resp.StatusCode)
	}
}

// A person in many allowed groups has a long session; a sign-in started beside it would make
// the one cookie longer than a browser keeps (4 KB), and the sign-in could never finish. The
// sign-in under way then replaces the session, and finishes.
func TestOIDCSignInBesideALongSessionFinishes(t *testing.T) {
	p := startProvider(t)
	var groups []string
	for i := range 40 {
		groups = append(groups, fmt.Sprintf("team-%02d-with-a-rather-long-group-name-from-the-directory", i))
	}
	for range 2 {
		p.QueueUser(&mockoidc.MockUser{Subject: "u-7", Email: "kim@example.com", EmailVerified: true, Groups: groups})
	}
	cfg := p.Config()
	o, err := auth.NewOIDC(auth.OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		RedirectURL: "https://scan.example/auth/callback", AllowedGroups: groups,
		SessionKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, withAuth(t, auth.Config{Modes: []auth.Mode{auth.ModeOIDC}, OIDC: o}, auth.Where{}))
	b := &cookieBrowser{t: t, h: h, jar: map[string]*http.Cookie{}}
	for i := range 2 {
		step := fmt.Sprintf("sign-in %d", i+1)
		login := b.get(step, "/auth/login?next="+url.QueryEscape("audit?q="+strings.Repeat("x", 400)))
		for _, c := range login.Cookies() {
			if n := len(c.Name) + 1 + len(c.Value); n > 4096 {
				t.Errorf("%s: the cookie is %d bytes, more than a browser keeps", step, n)
			}
		}
		if cb := b.get(step+" callback", toProvider(t, login)); cb.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: callback = %d: %.300s", step, cb.StatusCode, body(t, cb))
		}
	}
}

// A return path is kept up to 512 characters, but what the cookie holds is its JSON encoding:
// written with HTML escaping, each &, < and > took 6 bytes, a next of mostly & made the cookie
// longer than a browser keeps (4 KB), and that sign-in never finished. Every return path the
// sign-in keeps fits, alone or beside a session, and the callback comes back to it; one that
// cannot fit (bytes that are not UTF-8, sealed as 6 bytes each) comes back to the form.
func TestOIDCSignInWithALongReturnPathFinishes(t *testing.T) {
	tests := []struct {
		name string
		next string
		want string // the callback's Location
	}{
		{"ampersands", "audit?q=" + strings.Repeat("&", 504), ""},
		{"angle brackets", "audit?q=" + strings.Repeat("<>", 252), ""},
		{"line separators", "audit?q=" + strings.Repeat("\u2028", 168), ""},
		{"bytes that are not UTF-8", "audit?q=" + strings.Repeat("\xff", 504), "../"},
	}
	for _, tc := range tests {
		for _, signedIn := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, signed in %v", tc.name, signedIn), func(t *testing.T) {
				if len(tc.next) > 512 {
					t.Fatalf("next is %d bytes, longer than the sign-in keeps", len(tc.next))
				}
				p := startProvider(t)
				h := oidcHarness(t, p, []string{"*"}, nil)
				b := &cookieBrowser{t: t, h: h, jar: map[string]*http.Cookie{}}
				if signedIn {
					cb := b.get("first callback", toProvider(t, b.get("first sign-in", "/auth/login?next=audit")))
					if cb.StatusCode != http.StatusSeeOther {
						t.Fatalf("first callback = %d: %.300s", cb.StatusCode, body(t, cb))
					}
				}
				login := b.get("sign-in", "/auth/login?next="+url.QueryEscape(tc.next))
				for _, c := range login.Cookies() {
					if n := len(c.Name) + 1 + len(c.Value); n > 4096 {
						t.Errorf("the cookie is %d bytes, more than a browser keeps", n)
					}
				}
				want := tc.want
				if want == "" {
					want = "../" + tc.next
				}
				cb := b.get("callback", toProvider(t, login))
				if cb.StatusCode != http.StatusSeeOther || cb.Header.Get("Location") != want {
					t.Fatalf("callback = %d to %.80q: %.300s", cb.StatusCode, cb.Header.Get("Location"), body(t, cb))
				}
			})
		}
	}
}
