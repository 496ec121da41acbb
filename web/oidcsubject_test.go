package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/vulscan/vulscan/functions/guard"
	"github.com/vulscan/vulscan/web/auth"
)

// A signed-in person's actor says whether it is an address the provider verified (oidc:<email>,
// which a provider may later give to someone else) or the provider's subject
// (oidc-sub:<issuer>#<subject>, never reassigned, unique only within its issuer). Both were
// oidc:<email or subject>: a record could not tell them apart, and a subject shaped like an
// address (or an Entra ID subject) matched the patterns written for verified addresses in
// VULSCAN_BROAD_SCOPE_ACTORS.
func TestOIDCActorTellsAVerifiedEmailFromASubject(t *testing.T) {
	const broadOnlyFor = "oidc:*@example.com"
	for _, tc := range []struct {
		name    string
		claims  func(jwt.MapClaims)
		actor   func(issuer string) string
		shown   string // the page header's "signed in as"
		broadOK bool   // may start a scope-ALL scan under broadOnlyFor
	}{
		{"a verified address", func(c jwt.MapClaims) {},
			func(string) string { return "oidc:jane.doe@example.com" }, "jane.doe@example.com", true},
		{"no address (Entra ID)", func(c jwt.MapClaims) {
			delete(c, "email")
			delete(c, "email_verified")
			c["sub"] = "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"
		}, func(iss string) string { return "oidc-sub:" + iss + "#AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ" },
			"AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", false},
		{"an unverified address, a subject shaped like one", func(c jwt.MapClaims) {
			c["email_verified"] = false
			c["sub"] = "boss@example.com"
		}, func(iss string) string { return "oidc-sub:" + iss + "#boss@example.com" }, "boss@example.com", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProvider(t)
			p.tamper = func(c jwt.MapClaims) (jwt.MapClaims, *mockoidc.Keypair) {
				tc.claims(c)
				return c, nil
			}
			cfg := p.Config()
			o, err := auth.NewOIDC(auth.OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
				RedirectURL: "https://scan.example/auth/callback", AllowedEmails: []string{"*"},
				SessionKey: []byte("0123456789abcdef0123456789abcdef")})
			if err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, withAuth(t, auth.Config{Modes: []auth.Mode{auth.ModeOIDC}, OIDC: o}, auth.Where{}),
				withGuard(guard.Config{BroadScopeActors: []string{broadOnlyFor}, StartsPerMinute: -1}))
			c := sessionCookie(signIn(t, h, nil))
			if c == nil {
				t.Fatal("no session after sign-in")
			}
			withSession := func(r *http.Request) { r.AddCookie(c) }
			if resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, withSession); resp.StatusCode != http.StatusCreated {
				t.Fatalf("narrow scan = %d: %s", resp.StatusCode, body(t, resp))
			}
			want := tc.actor(cfg.Issuer)
			if rec := h.records()[0]; rec.Actor != want || rec.Access != auth.AccessOIDC {
				t.Errorf("record actor %q access %q; want %q, oidc", rec.Actor, rec.Access, want)
			}
			wantBroad := http.StatusForbidden
			if tc.broadOK {
				wantBroad = http.StatusCreated
			}
			if resp := h.postJSON(`{"LocalImageScanType":"ALL"}`, withSession); resp.StatusCode != wantBroad {
				t.Errorf("broad scan under %s = %d, want %d", broadOnlyFor, resp.StatusCode, wantBroad)
			}
			if recs := h.records(); recs[len(recs)-1].Actor != want {
				t.Errorf("broad scan recorded as %q, want %q", recs[len(recs)-1].Actor, want)
			}
			page := httptest.NewRequest(http.MethodGet, "/", nil)
			withSession(page)
			if who := document(t, h.do(page)).Find("#signed-in-as").Text(); who != tc.shown {
				t.Errorf("header: signed in as %q, want %q", who, tc.shown)
			}
		})
	}
}
