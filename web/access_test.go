package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/guard"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
	"github.com/vulscan/vulscan/web"
	"github.com/vulscan/vulscan/web/auth"
)

const testAPIKey = "vsk_test_0123456789abcdef"

// allModes admits callers every way a platform-served function can.
func allModes(t *testing.T) harnessOption {
	return withAuth(t, auth.Config{
		Modes:   []auth.Mode{auth.ModeAPIKey, auth.ModeGateway, auth.ModeProxy},
		APIKeys: mustKeys(t, "ci:"+auth.HashAPIKey(testAPIKey)),
		Proxy:   auth.Proxy{Header: "X-Forwarded-Email", SecretHeader: auth.DefaultProxySecretHeader, Secret: proxySecret},
	}, auth.Where{Platform: true})
}

func mustKeys(t *testing.T, s string) []auth.APIKey {
	t.Helper()
	keys, err := auth.ParseAPIKeys(s)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func bearer(key string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+key) }
}

func gateway(identity, ip string) func(*http.Request) {
	return func(r *http.Request) {
		ctx := auth.WithGatewayIdentity(r.Context(), identity)
		*r = *r.WithContext(web.WithCaller(ctx, web.CallerInfo{SourceIP: ip, FunctionRequestID: "req-1"}))
	}
}

// TestAPIAuthentication: each mode admits its caller under its own actor; each forgery is
// refused with 401 and audited as rejected with the source address, and reaches no TCSS.
func TestAPIAuthentication(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mods       []func(*http.Request)
		status     int
		wantActor  string
		wantAccess string
		wantIP     string
	}{
		{name: "valid API key", mods: []func(*http.Request){bearer(testAPIKey)},
			status: http.StatusCreated, wantActor: "apikey:ci", wantAccess: "apikey", wantIP: "192.0.2.1"},
		{name: "gateway identity", mods: []func(*http.Request){gateway("arn:aws:iam::1234567890:user/Admin", "203.0.113.9")},
			status: http.StatusCreated, wantActor: "gateway:arn:aws:iam::1234567890:user/Admin", wantAccess: "gateway", wantIP: "203.0.113.9"},
		{name: "proxy with its secret", mods: []func(*http.Request){viaProxy("X-Forwarded-Email", "bob@example.com")},
			status: http.StatusCreated, wantActor: "proxy:bob@example.com", wantAccess: "proxy", wantIP: "192.0.2.1"},
		{name: "no credential", status: http.StatusUnauthorized, wantActor: "anonymous", wantIP: "192.0.2.1"},
		{name: "wrong API key", mods: []func(*http.Request){bearer(testAPIKey + "x")},
			status: http.StatusUnauthorized, wantActor: "anonymous", wantIP: "192.0.2.1"},
		{name: "wrong API key is not rescued by a gateway identity",
			mods:   []func(*http.Request){bearer("nope"), gateway("arn:aws:iam::1:user/x", "203.0.113.9")},
			status: http.StatusUnauthorized, wantActor: "anonymous", wantIP: "203.0.113.9"},
		{name: "proxy header without the secret", mods: []func(*http.Request){func(r *http.Request) {
			r.Header.Set("X-Forwarded-Email", "mallory@example.com")
		}}, status: http.StatusUnauthorized, wantActor: "anonymous", wantIP: "192.0.2.1"},
		{name: "proxy header with a wrong secret", mods: []func(*http.Request){func(r *http.Request) {
			r.Header.Set("X-Forwarded-Email", "mallory@example.com")
			r.Header.Set(auth.DefaultProxySecretHeader, proxySecret+"x")
		}}, status: http.StatusUnauthorized, wantActor: "anonymous", wantIP: "192.0.2.1"},
		// A proxy that appends to a client's own identity header instead of replacing it.
		{name: "proxy with its secret and a second identity", mods: []func(*http.Request){
			viaProxy("X-Forwarded-Email", "bob@example.com"),
			func(r *http.Request) { r.Header.Add("X-Forwarded-Email", "mallory@example.com") },
		}, status: http.StatusUnauthorized, wantActor: "anonymous", wantIP: "192.0.2.1"},
		// A gateway that joins repeated headers with commas (payload 2.0) makes two identities one.
		{name: "proxy with its secret and two identities in one header",
			mods:   []func(*http.Request){viaProxy("X-Forwarded-Email", "mallory@evil.example,alice@example.com")},
			status: http.StatusUnauthorized, wantActor: "anonymous", wantIP: "192.0.2.1"},
		{name: "proxy header with a wrong secret is not rescued by a gateway identity", mods: []func(*http.Request){
			gateway("arn:aws:iam::1:user/x", "203.0.113.9"),
			func(r *http.Request) {
				r.Header.Set("X-Forwarded-Email", "mallory@example.com")
				r.Header.Set(auth.DefaultProxySecretHeader, "wrong")
			},
		}, status: http.StatusUnauthorized, wantActor: "anonymous", wantIP: "203.0.113.9"},
		{name: "proxy header without the secret is not rescued by a valid API key", mods: []func(*http.Request){
			bearer(testAPIKey),
			func(r *http.Request) { r.Header.Set("X-Forwarded-Email", "mallory@example.com") },
		}, status: http.StatusUnauthorized, wantActor: "anonymous", wantIP: "192.0.2.1"},
		{name: "proxy header with a wrong secret is not rescued by a valid API key", mods: []func(*http.Request){
			bearer(testAPIKey),
			func(r *http.Request) {
				r.Header.Set("X-Forwarded-Email", "mallory@example.com")
				r.Header.Set(auth.DefaultProxySecretHeader, "wrong")
			},
		}, status: http.StatusUnauthorized, wantActor: "anonymous", wantIP: "192.0.2.1"},
		{name: "two API keys", mods: []func(*http.Request){bearer(testAPIKey), func(r *http.Request) {
			r.Header.Add("Authorization", "Bearer other")
		}}, status: http.StatusUnauthorized, wantActor: "anonymous", wantIP: "192.0.2.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, allModes(t))
			resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, tc.mods...)
			b := body(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			rec := h.records()[0]
			if rec.Actor != tc.wantActor || rec.SourceIP != tc.wantIP || rec.Trigger != audit.TriggerAPI {
				t.Errorf("record actor %q ip %q trigger %q; want %q %q api", rec.Actor, rec.SourceIP, rec.Trigger, tc.wantActor, tc.wantIP)
			}
			if tc.status != http.StatusUnauthorized {
				return
			}
			if rec.Outcome != audit.OutcomeRejected || rec.ErrorCode != scan.CodeForbidden {
				t.Errorf("refusal recorded as %s %s", rec.Outcome, rec.ErrorCode)
			}
			if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if !strings.Contains(b, `"code":"unauthenticated"`) || strings.Contains(b, testAPIKey) || strings.Contains(b, proxySecret) {
				t.Errorf("body = %s", b)
			}
			if h.creates() != 0 {
				t.Error("a refused call reached TCSS")
			}
		})
	}
}

// TestBearerChallengeSaysWhyTheKeyFailed: every 401 carries a Bearer challenge (RFC 9110
// §15.5.2), on the API and on the downloads a script reads; one refusing a key that was sent
// says error="invalid_token" (RFC 6750 §3), one to a request that sent none does not.
//
// With sign-in offered too, a request that sent a key is never redirected to sign in, even
// when it looks like a browser's navigation (no Accept header, as Go's client sends): a script
// would follow the redirect and save the provider's sign-in page as its download.
func TestBearerChallengeSaysWhyTheKeyFailed(t *testing.T) {
	h := newHarness(t, withAuth(t, auth.Config{
		Modes:   []auth.Mode{auth.ModeAPIKey, auth.ModeGateway, auth.ModeProxy, auth.ModeOIDC},
		APIKeys: mustKeys(t, "ci:"+auth.HashAPIKey(testAPIKey)),
		Proxy:   auth.Proxy{Header: "X-Forwarded-Email", SecretHeader: auth.DefaultProxySecretHeader, Secret: proxySecret},
		OIDC:    testOIDC(t, "https://idp.example"),
	}, auth.Where{Platform: true}))
	for _, tc := range []struct {
		name, method, path string
		mods               []func(*http.Request)
		invalidToken       bool
	}{
		{name: "no key, API", method: http.MethodGet, path: "/api/audit"},
		// A script's download (a browser's would be sent to sign in).
		{name: "no key, download", method: http.MethodGet, path: "/audit.jsonl",
			mods: []func(*http.Request){func(r *http.Request) { r.Header.Set("Accept", "*/*") }}},
		{name: "wrong key, API read", method: http.MethodGet, path: "/api/audit", mods: []func(*http.Request){bearer("nope")}, invalidToken: true},
		{name: "wrong key, API start", method: http.MethodPost, path: "/api/scans", mods: []func(*http.Request){bearer("nope")}, invalidToken: true},
		{name: "wrong key, download", method: http.MethodGet, path: "/audit.jsonl", mods: []func(*http.Request){bearer("nope")}, invalidToken: true},
		{name: "overlong key", method: http.MethodGet, path: "/api/audit",
			mods: []func(*http.Request){bearer(strings.Repeat("k", auth.MaxAPIKeyBytes+1))}, invalidToken: true},
		{name: "wrong key, download without an Accept header", method: http.MethodGet, path: "/audit.jsonl",
			mods: []func(*http.Request){bearer("nope"), func(r *http.Request) { r.Header.Del("Accept") }}, invalidToken: true},
		{name: "wrong key, download accepting HTML", method: http.MethodGet, path: "/audit.csv",
			mods: []func(*http.Request){bearer("nope"), func(r *http.Request) { r.Header.Set("Accept", "text/html") }}, invalidToken: true},
		{name: "a valid key beside a forged proxy header", method: http.MethodGet, path: "/api/audit",
			mods: []func(*http.Request){bearer(testAPIKey), func(r *http.Request) { r.Header.Set("X-Forwarded-Email", "mallory@example.com") }}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.method == http.MethodPost {
				body = strings.NewReader(`{"LocalImageScanType":"NOT_SCAN"}`)
			}
			r := httptest.NewRequest(tc.method, tc.path, body)
			r.Header.Set("Content-Type", "application/json")
			for _, m := range tc.mods {
				m(r)
			}
			resp := h.do(r)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401", resp.StatusCode)
			}
			got := resp.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(got, `Bearer realm="vulscan"`) {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got)
			}
			if has := strings.Contains(got, `error="invalid_token"`); has != tc.invalidToken {
				t.Errorf("WWW-Authenticate = %q: invalid_token %v, want %v", got, has, tc.invalidToken)
			}
		})
	}
}

// TestRefusedReadsAreNotAudited: a read without credentials is refused (401) but leaves no
// record, so that anonymous traffic cannot grow the audit log.
func TestRefusedReadsAreNotAudited(t *testing.T) {
	h := newHarness(t, allModes(t))
	for _, path := range []string{"/", "/audit", "/api/audit", "/scans/1", "/audit.csv"} {
		if resp := h.get(path); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s = %d, want 401", path, resp.StatusCode)
		}
	}
	if resp := h.get("/static/style.css"); resp.StatusCode != http.StatusOK {
		t.Errorf("stylesheet = %d, want 200 for everyone", resp.StatusCode)
	}
	if n := len(h.records()); n != 0 {
		t.Errorf("%d records, want none", n)
	}
}

// TestGatewayIdentityNeedsTheGatewayMode: the context value a platform sets counts only when
// VULSCAN_AUTH includes gateway.
func TestGatewayIdentityNeedsTheGatewayMode(t *testing.T) {
	h := newHarness(t, withAuth(t, auth.Config{Modes: []auth.Mode{auth.ModeAPIKey},
		APIKeys: mustKeys(t, "ci:"+auth.HashAPIKey(testAPIKey))}, auth.Where{Platform: true}))
	resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, gateway("arn:aws:iam::1:user/x", "203.0.113.9"))
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401", resp.StatusCode)
	}
}

// TestLoopbackMode: mode none admits loopback callers, and nobody else, under an actor that says
// they are unauthenticated and names the server's user only as such: not as local:<user>, which
// claimed an identity nobody proved.
func TestLoopbackMode(t *testing.T) {
	h := newHarness(t, withAuth(t, auth.Config{Modes: []auth.Mode{auth.ModeNone}, LocalUser: "dev"}, auth.Where{Loopback: true}))
	for _, tc := range []struct {
		remote string
		status int
		actor  string
	}{
		{"127.0.0.1:5555", http.StatusCreated, "local:unauthenticated/server-user=dev"},
		{"[::1]:5555", http.StatusCreated, "local:unauthenticated/server-user=dev"},
		{"192.0.2.7:5555", http.StatusUnauthorized, "anonymous"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/api/scans", strings.NewReader(`{"LocalImageScanType":"NOT_SCAN"}`))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = tc.remote
		resp := h.do(r)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status = %d, want %d", tc.remote, resp.StatusCode, tc.status)
		}
		recs, _ := h.store.List(context.Background(), audit.Filter{Limit: 1})
		if len(recs) == 0 || recs[0].Actor != tc.actor {
			t.Errorf("%s: newest record %+v, want actor %s", tc.remote, recs, tc.actor)
		}
	}
}

// TestFormRedirectsToSignIn: with sign-in offered, a page refused for want of an identity sends
// the browser to sign in (relative to the page, for gateway prefixes) and back.
func TestFormRedirectsToSignIn(t *testing.T) {
	h := newHarness(t, withAuth(t, auth.Config{Modes: []auth.Mode{auth.ModeOIDC}, OIDC: testOIDC(t, "https://idp.example")}, auth.Where{}))
	for _, tc := range []struct{ method, path, want string }{
		{http.MethodGet, "/", "./auth/login?next="},
		{http.MethodGet, "/scans/7", "../auth/login?next=scans%2F7"},
		// A refused form post comes back to the form with what was posted (the key is not carried).
		{http.MethodPost, "/", "./auth/login?next=" + url.QueryEscape("?LocalImageScanType=NOT_SCAN")},
	} {
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader("LocalImageScanType=NOT_SCAN&IdempotencyKey=form-1"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp := h.do(r)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tc.want {
			t.Errorf("%s %s = %d to %q, want 303 to %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.want)
		}
	}
	recs := h.records()
	if len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected || recs[0].Trigger != audit.TriggerForm {
		t.Errorf("records %+v, want the refused form post only", recs)
	}
}

func testOIDC(t *testing.T, issuer string) *auth.OIDC {
	t.Helper()
	o, err := auth.NewOIDC(auth.OIDCConfig{Issuer: issuer, ClientID: "vulscan", RedirectURL: "https://scan.example/auth/callback",
		AllowedEmails: []string{"*"}, SessionKey: make([]byte, auth.SessionKeyBytes)})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestStartLimitAnswers429: past the per-actor limit the API answers 429 with Retry-After and
// the form keeps the values; another actor is unaffected.
func TestStartLimitAnswers429(t *testing.T) {
	now := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	h := newHarness(t, allModes(t), withGuard(guard.Config{StartsPerMinute: 2, Now: func() time.Time { return now }, Logger: discard}))
	for i := range 2 {
		if resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, bearer(testAPIKey)); resp.StatusCode != http.StatusCreated {
			t.Fatalf("start %d = %d", i+1, resp.StatusCode)
		}
	}
	resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, bearer(testAPIKey))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "30" {
		t.Errorf("3rd start = %d, Retry-After %q; want 429, 30", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Its own code: TCSS's rate limiting is 429 rate_limited (api_test), and a client slows
	// itself down for this one only. Nothing was recorded, so no id.
	var limitedBody struct {
		Code string `json:"code"`
		ID   int64  `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&limitedBody); err != nil || limitedBody.Code != scan.ESTARTLIMIT || limitedBody.ID != 0 {
		t.Errorf("3rd start's body: code %q id %d (%v), want %q and no id", limitedBody.Code, limitedBody.ID, err, scan.ESTARTLIMIT)
	}
	form := h.postForm(url.Values{"LocalImageScanType": {"NOT_SCAN"}}, viaProxy("X-Forwarded-Email", "ann@example.com"))
	if form.StatusCode != http.StatusSeeOther {
		t.Errorf("another actor's form = %d, want 303", form.StatusCode)
	}
	for range 2 {
		h.postForm(url.Values{"LocalImageScanType": {"NOT_SCAN"}}, viaProxy("X-Forwarded-Email", "ann@example.com"))
	}
	limited := h.postForm(url.Values{"LocalImageScanType": {"NOT_SCAN"}, "IdempotencyKey": {"k-ann"}}, viaProxy("X-Forwarded-Email", "ann@example.com"))
	if limited.StatusCode != http.StatusTooManyRequests || limited.Header.Get("Retry-After") == "" {
		t.Fatalf("limited form = %d", limited.StatusCode)
	}
	if key := formKey(t, document(t, limited)); key != "k-ann" {
		t.Errorf("the limited form lost its idempotency key: %q", key)
	}
}

// TestStartLimitLetsAnInvalidRequestBeRefusedForItsProblem: an actor over the limit who sends a
// request that breaks a rule is told what is wrong with it (422, recorded), not to retry it later.
func TestStartLimitLetsAnInvalidRequestBeRefusedForItsProblem(t *testing.T) {
	now := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	h := newHarness(t, allModes(t), withGuard(guard.Config{StartsPerMinute: 1, Now: func() time.Time { return now }, Logger: discard}))
	if resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, bearer(testAPIKey)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("first start = %d", resp.StatusCode)
	}
	for _, tc := range []struct {
		name, body, key, field string
	}{
		{"a rule broken", `{"LocalImageScanType":"IMAGEIDS"}`, "", "LocalImageIDs"},
		{"nothing selected", `{}`, "", ""},
		{"a key too long", `{"LocalImageScanType":"NOT_SCAN"}`, strings.Repeat("k", 200), "Idempotency-Key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.records())
			resp := h.postJSON(tc.body, bearer(testAPIKey), func(r *http.Request) {
				if tc.key != "" {
					r.Header.Set("Idempotency-Key", tc.key)
				}
			})
			if resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get("Retry-After") != "" {
				t.Fatalf("status = %d, Retry-After %q; want 422 and none: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body(t, resp))
			}
			e := decodeJSON[apiError](t, resp)
			if e.Code != scan.EINVALID || e.ID == 0 || tc.field != "" && !hasField(e.Errors, tc.field) {
				t.Errorf("error = %+v, want %s naming %q and its record", e, scan.EINVALID, tc.field)
			}
			if recs := h.records(); len(recs) != before+1 || recs[len(recs)-1].Outcome != audit.OutcomeRejected {
				t.Errorf("the refusal was not recorded as rejected: %d records, %d before", len(recs), before)
			}
		})
	}
	if resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, bearer(testAPIKey)); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a valid start over the limit = %d, want 429", resp.StatusCode)
	}
	if n := h.creates(); n != 1 {
		t.Errorf("CreateVulScanTask calls = %d, want 1", n)
	}
}

// TestStartLimitSaysHowManyScans: the 429's message counts the requests sent to TCSS in plain
// words, and does not call them started scans: those TCSS refused count too (they used its
// capacity), though they started nothing.
func TestStartLimitSaysHowManyScans(t *testing.T) {
	for _, tc := range []struct {
		name    string
		limit   int
		refused bool // TCSS refuses every request
		want    string
	}{
		{"one", 1, false, "You have sent 1 scan request to TCSS in the last minute"},
		{"two", 2, false, "You have sent 2 scan requests to TCSS in the last minute"},
		{"two TCSS refused", 2, true, "You have sent 2 scan requests to TCSS in the last minute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
			h := newHarness(t, allModes(t), withGuard(guard.Config{StartsPerMinute: tc.limit, Now: func() time.Time { return now }, Logger: discard}))
			if tc.refused {
				h.emu.InjectFault("CreateVulScanTask", tcsstest.Fault{Code: "FailedOperation", Message: "license expired"})
			}
			for range tc.limit {
				h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, bearer(testAPIKey))
			}
			resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, bearer(testAPIKey))
			if resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("status = %d, want 429", resp.StatusCode)
			}
			if e := decodeJSON[apiError](t, resp); len(e.Errors) != 1 || !strings.HasPrefix(e.Errors[0].Message, tc.want) {
				t.Errorf("error = %+v, want a message starting %q", e, tc.want)
			}
		})
	}
}

// TestBroadScopeRefusalThroughTheAPI: an actor not in VULSCAN_BROAD_SCOPE_ACTORS gets 403 for an
// ALL-scope scan, recorded as rejected.
func TestBroadScopeRefusalThroughTheAPI(t *testing.T) {
	h := newHarness(t, allModes(t), withGuard(guard.Config{BroadScopeActors: []string{"proxy:*@example.com"}, Logger: discard}))
	resp := h.postJSON(`{"LocalImageScanType":"ALL"}`, bearer(testAPIKey))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status = %d, want 403: %s", resp.StatusCode, body(t, resp))
	}
	recs := h.records()
	if len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected || recs[0].Actor != "apikey:ci" || h.creates() != 0 {
		t.Errorf("records %+v", recs)
	}
	if resp := h.postJSON(`{"LocalImageScanType":"ALL"}`, viaProxy("X-Forwarded-Email", "ann@example.com")); resp.StatusCode != http.StatusCreated {
		t.Errorf("listed actor: status %d", resp.StatusCode)
	}
}

// TestBroadScopePatternsOverGatewayCallers: a pattern's * is any text, as README says, so that
// patterns over IAM ARNs (which hold slashes) admit the callers they name, and only them.
func TestBroadScopePatternsOverGatewayCallers(t *testing.T) {
	h := newHarness(t, allModes(t), withGuard(guard.Config{
		BroadScopeActors: []string{"gateway:arn:aws:iam::123456789012:*", "gateway:arn:aws:sts::123456789012:assumed-role/Deployers/*"},
		StartsPerMinute:  -1, Logger: discard}))
	for _, tc := range []struct {
		caller string
		status int
	}{
		{"arn:aws:iam::123456789012:user/ops/alice", http.StatusCreated},
		{"arn:aws:sts::123456789012:assumed-role/Deployers/bob", http.StatusCreated},
		{"arn:aws:iam::999999999999:user/ops/alice", http.StatusForbidden},
		{"arn:aws:sts::123456789012:assumed-role/Readers/bob", http.StatusForbidden},
	} {
		resp := h.postJSON(`{"LocalImageScanType":"ALL"}`, gateway(tc.caller, "203.0.113.9"))
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.caller, resp.StatusCode, tc.status, body(t, resp))
		}
	}
}

// TestOnlyNavigationsAreSentToSignIn: a browser's background request (an icon, a script's fetch)
// gets 401, not a redirect that would start a second sign-in and spoil the first one's state;
// static files need no sign-in at all.
func TestOnlyNavigationsAreSentToSignIn(t *testing.T) {
	h := newHarness(t, withAuth(t, auth.Config{Modes: []auth.Mode{auth.ModeOIDC}, OIDC: testOIDC(t, "https://idp.example")}, auth.Where{}))
	for _, tc := range []struct {
		name    string
		path    string
		headers map[string]string
		status  int
	}{
		{"page navigation", "/audit", map[string]string{"Sec-Fetch-Mode": "navigate", "Accept": "text/html"}, http.StatusSeeOther},
		{"script fetch", "/scans/1", map[string]string{"Sec-Fetch-Mode": "cors", "Accept": "application/json"}, http.StatusUnauthorized},
		{"old browser asking for HTML", "/audit", map[string]string{"Accept": "text/html,*/*"}, http.StatusSeeOther},
		{"stylesheet", "/static/style.css", map[string]string{"Sec-Fetch-Mode": "no-cors"}, http.StatusOK},
	} {
		r := httptest.NewRequest(http.MethodGet, tc.path, nil)
		for k, v := range tc.headers {
			r.Header.Set(k, v)
		}
		if resp := h.do(r); resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
	}
}

// An idempotency key belongs to the API key that sent it: bob's request with alice's key is a
// scan of his own (never her attempt or her task ID), carol's other request with it is no
// conflict with her parameters, and alice's retry is answered from her own attempt.
func TestIdempotencyKeysAreScopedToTheCaller(t *testing.T) {
	keys := map[string]string{"alice": "vsk_test_alice_0123456789", "bob": "vsk_test_bob_0123456789ab", "carol": "vsk_test_carol_012345678"}
	var spec []string
	for name, k := range keys {
		spec = append(spec, name+":"+auth.HashAPIKey(k))
	}
	h := newHarness(t, withAuth(t, auth.Config{Modes: []auth.Mode{auth.ModeAPIKey},
		APIKeys: mustKeys(t, strings.Join(spec, ","))}, auth.Where{Platform: true}))
	shared := func(r *http.Request) { r.Header.Set("Idempotency-Key", "shared") }
	type answer struct {
		ID          int64 `json:"id"`
		LocalTaskID int64 `json:"LocalTaskID"`
	}
	post := func(who, body string) (int, answer) {
		t.Helper()
		resp := h.postJSON(body, bearer(keys[who]), shared)
		defer resp.Body.Close()
		var a answer
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Fatalf("answer: %v", err)
		}
		return resp.StatusCode, a
	}
	status, alice := post("alice", `{"LocalImageScanType":"ALL"}`)
	if status != http.StatusCreated {
		t.Fatalf("alice's start = %d", status)
	}
	for _, tc := range []struct {
		name   string
		who    string
		body   string
		status int
		same   bool // answered with alice's attempt
	}{
		{"bob's same request with alice's key is a scan of his own", "bob", `{"LocalImageScanType":"ALL"}`, http.StatusCreated, false},
		{"carol's other request with alice's key is no conflict", "carol", `{"LocalImageScanType":"NOT_SCAN","RegistryImageScanType":"ALL"}`, http.StatusCreated, false},
		{"alice's retry replays her attempt", "alice", `{"LocalImageScanType":"ALL"}`, http.StatusOK, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, got := post(tc.who, tc.body)
			if status != tc.status || (got.ID == alice.ID) != tc.same || (got.LocalTaskID == alice.LocalTaskID) != tc.same {
				t.Errorf("%d %+v; want %d, answered with alice's attempt %+v: %v", status, got, tc.status, alice, tc.same)
			}
		})
	}
	if n := h.creates(); n != 3 {
		t.Errorf("TCSS saw %d CreateVulScanTask calls, want 3 (one for each caller)", n)
	}
}

// startReadCounter counts the reads of the audit log that a start makes.
type startReadCounter struct {
	scan.AuditLog
	reads atomic.Int32
}

func (c *startReadCounter) Get(ctx context.Context, id int64) (audit.Record, error) {
	c.reads.Add(1)
	return c.AuditLog.Get(ctx, id)
}

func (c *startReadCounter) PendingByKey(ctx context.Context, actor, key string) (audit.Record, error) {
	c.reads.Add(1)
	return c.AuditLog.PendingByKey(ctx, actor, key)
}

func (c *startReadCounter) OutcomeOf(ctx context.Context, pendingID int64) (audit.Record, error) {
	c.reads.Add(1)
	return c.AuditLog.OutcomeOf(ctx, pendingID)
}

func (c *startReadCounter) KeyBound(ctx context.Context, actor, key string) (bool, error) {
	c.reads.Add(1)
	return c.AuditLog.KeyBound(ctx, actor, key)
}

// TestStartLimitRefusalReadsTheLogOnce: a request over the limit carrying a key costs one read of
// the audit log (is the key bound to a scan?), not two, since a runaway client sends many (a
// retry of an attempt TCSS refused cost two: its pending record, then its outcome); what is
// recorded and answered is as before: the 429s record nothing, and a retry of a started scan is
// still answered from it.
func TestStartLimitRefusalReadsTheLogOnce(t *testing.T) {
	now := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	counter := &startReadCounter{}
	h := newHarness(t, allModes(t), withScanLog(func(l scan.AuditLog) scan.AuditLog { counter.AuditLog = l; return counter }),
		withGuard(guard.Config{StartsPerMinute: 2, Now: func() time.Time { return now }, Logger: discard}))
	withKey := func(k string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Idempotency-Key", k) }
	}
	const notScan = `{"LocalImageScanType":"NOT_SCAN"}`
	if resp := h.postJSON(notScan, bearer(testAPIKey), withKey("started")); resp.StatusCode != http.StatusCreated {
		t.Fatalf("first start = %d", resp.StatusCode)
	}
	h.emu.InjectFault("CreateVulScanTask", tcsstest.Fault{Code: "FailedOperation", Message: "license expired"})
	if resp := h.postJSON(notScan, bearer(testAPIKey), withKey("refused")); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("second start = %d, want TCSS's refusal", resp.StatusCode)
	}
	before := len(h.records())
	for _, tc := range []struct {
		name, key string
		status    int
	}{
		{"a new key", "new-1", http.StatusTooManyRequests},
		{"the key of the attempt TCSS refused", "refused", http.StatusTooManyRequests},
		{"the started scan's key", "started", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			counter.reads.Store(0)
			resp := h.postJSON(notScan, bearer(testAPIKey), withKey(tc.key))
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, body(t, resp))
			}
			if n := counter.reads.Load(); tc.status == http.StatusTooManyRequests && n != 1 {
				t.Errorf("the refusal read the audit log %d times, want once", n)
			}
		})
	}
	// The replay is recorded (outcome replayed); the refusals are not.
	if recs := h.records(); len(recs) != before+1 || recs[len(recs)-1].Outcome != audit.OutcomeReplayed {
		t.Errorf("%d records after the over-limit requests (%d before); want the replay's only", len(recs), before)
	}
	if n := h.creates(); n != 2 {
		t.Errorf("CreateVulScanTask calls = %d, want 2", n)
	}
}
