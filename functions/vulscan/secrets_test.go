package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
	"github.com/vulscan/vulscan/web/auth"
)

// TestSecretsStayOutOfEverything feeds known secret strings (API keys, a wrong key, the proxy
// secret, the OIDC client secret, the cookie key, the provider's tokens, the Tencent key and the
// temporary keys STS issues) through every path of the app as its settings build it (sign-in,
// API, form, pages, downloads, refusals), then finds none of them in any log line, audit
// record, page, header or error the app produced.
func TestSecretsStayOutOfEverything(t *testing.T) {
	const (
		apiKey       = "vsk-SECRET-apikey-7f3a9c1e5b"
		wrongKey     = "vsk-SECRET-wrongkey-0d4e8a2b"
		proxySecret  = "SECRET-proxy-shared-6c1f93ad"
		clientSecret = "SECRET-oidc-client-2b7e5f0c"
		role         = "qcs::cam::uin/100000000001:roleName/vulscan-scanner"
	)
	sessionKey := hex.EncodeToString([]byte("SECRET-cookie-key-0123456789abcd"))
	base := tcsstest.Key{SecretID: "AKIDsecretsTestBaseKey000000000001", SecretKey: "SECRET-tencent-key-9e8d7c6b"}
	emu, tcssSrv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{base}, Roles: []string{role}})
	t.Cleanup(tcssSrv.Close)

	// The provider, with a known client secret, noting every token it hands out.
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	m.ClientSecret = clientSecret
	var mu sync.Mutex
	var providerTokens []string
	m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != mockoidc.TokenEndpoint {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var tok map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &tok)
			mu.Lock()
			for _, k := range []string{"access_token", "id_token", "refresh_token"} {
				if s, ok := tok[k].(string); ok && s != "" {
					providerTokens = append(providerTokens, s)
				}
			}
			mu.Unlock()
			for k, vs := range rec.Header() {
				w.Header()[k] = vs
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
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

	e, stdout, stderr := testEnv("", map[string]string{
		"VULSCAN_ADDR":                "127.0.0.1:8080",
		"VULSCAN_AUDIT_DSN":           "sqlite:" + filepath.Join(t.TempDir(), "audit.db"),
		"VULSCAN_TCSS_ENDPOINT":       tcssSrv.URL,
		"VULSCAN_STS_ENDPOINT":        tcssSrv.URL,
		"TENCENTCLOUD_SECRET_ID":      base.SecretID,
		"TENCENTCLOUD_SECRET_KEY":     base.SecretKey,
		"TENCENTCLOUD_ROLE_ARN":       role,
		"VULSCAN_AUTH":                "apikey,proxy,oidc",
		"VULSCAN_API_KEYS":            "ci:" + auth.HashAPIKey(apiKey),
		"VULSCAN_PROXY_SECRET":        proxySecret,
		"VULSCAN_OIDC_ISSUER":         m.Issuer(),
		"VULSCAN_OIDC_CLIENT_ID":      m.ClientID,
		"VULSCAN_OIDC_CLIENT_SECRET":  clientSecret,
		"VULSCAN_OIDC_REDIRECT_URL":   "https://scan.example/auth/callback",
		"VULSCAN_OIDC_ALLOWED_EMAILS": "@example.com",
		"VULSCAN_SESSION_KEY":         sessionKey,
	})
	a, err := openApp(context.Background(), e, "")
	if err != nil {
		t.Fatalf("openApp: %v\n%s", err, stderr)
	}
	defer a.Close()

	var seen bytes.Buffer // everything the app answered, but the cookies it set
	var session *http.Cookie
	do := func(r *http.Request, wantStatus int) *http.Response {
		t.Helper()
		r.RemoteAddr = "192.0.2.10:4000"
		r.Host = "127.0.0.1:8080"
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, r)
		resp := rec.Result()
		for k, vs := range resp.Header {
			if k != "Set-Cookie" {
				seen.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
			}
		}
		seen.Write(rec.Body.Bytes())
		if resp.StatusCode != wantStatus {
			t.Errorf("%s %s = %d, want %d: %.200s", r.Method, r.URL, resp.StatusCode, wantStatus, rec.Body.String())
		}
		return resp
	}
	api := func(mod func(*http.Request), want int) {
		r := httptest.NewRequest(http.MethodPost, "/api/scans", strings.NewReader(`{"LocalImageScanType":"NOT_SCAN"}`))
		r.Header.Set("Content-Type", "application/json")
		mod(r)
		do(r, want)
	}
	api(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+apiKey) }, http.StatusCreated)
	api(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+wrongKey) }, http.StatusUnauthorized)
	api(func(r *http.Request) {
		r.Header.Set("X-Forwarded-Email", "pat@example.com")
		r.Header.Set(auth.DefaultProxySecretHeader, proxySecret)
	}, http.StatusCreated)
	api(func(r *http.Request) {
		r.Header.Set("X-Forwarded-Email", "mallory@example.com")
		r.Header.Set(auth.DefaultProxySecretHeader, "guess-"+proxySecret[:10])
	}, http.StatusUnauthorized)

	// Sign in through the provider, then use the form and the pages as the person.
	login := do(httptest.NewRequest(http.MethodGet, "/auth/login", nil), http.StatusFound)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	back, err := noFollow.Get(login.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	back.Body.Close()
	cbURL, _ := url.Parse(back.Header.Get("Location"))
	cb := httptest.NewRequest(http.MethodGet, "/auth/callback?"+cbURL.RawQuery, nil)
	for _, c := range login.Cookies() {
		cb.AddCookie(c)
	}
	for _, c := range do(cb, http.StatusSeeOther).Cookies() {
		if c.Name == auth.SessionCookie {
			session = c
		}
	}
	if session == nil {
		t.Fatal("no session after sign-in")
	}
	badState := httptest.NewRequest(http.MethodGet, "/auth/callback?code=x&state=forged", nil)
	for _, c := range login.Cookies() {
		badState.AddCookie(c)
	}
	do(badState, http.StatusUnauthorized)
	form := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(url.Values{"LocalImageScanType": {"NOT_SCAN"}, "IdempotencyKey": {"form-secrets-test"}}.Encode()))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	form.Header.Set("Sec-Fetch-Site", "same-origin")
	form.AddCookie(session)
	attempt := do(form, http.StatusSeeOther).Header.Get("Location")
	for _, path := range []string{"/", "/scans/" + strings.TrimPrefix(attempt, "./scans/"), "/audit", "/audit.csv", "/audit.jsonl", "/api/audit"} {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.AddCookie(session)
		do(r, http.StatusOK)
	}
	tampered := httptest.NewRequest(http.MethodGet, "/audit", nil)
	tampered.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: session.Value[:len(session.Value)-3] + "AAA"})
	do(tampered, http.StatusSeeOther)

	var records bytes.Buffer
	var actors []string
	if err := a.store.Each(context.Background(), audit.Filter{}, func(r audit.Record) error {
		actors = append(actors, r.Actor)
		return json.NewEncoder(&records).Encode(r)
	}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(actors, " "); !strings.Contains(got, "apikey:ci") || !strings.Contains(got, "proxy:pat@example.com") ||
		!strings.Contains(got, "oidc:jane.doe@example.com") {
		t.Errorf("actors %s; the paths did not all run", got)
	}

	secrets := map[string]string{
		"API key": apiKey, "wrong API key": wrongKey, "proxy secret": proxySecret, "OIDC client secret": clientSecret,
		"cookie key": sessionKey, "session cookie": session.Value, "Tencent SecretKey": base.SecretKey,
		"Tencent SecretId (whole)": base.SecretID,
	}
	for i, k := range emu.Issued() {
		secrets["STS temporary SecretKey "+fmt.Sprint(i)] = k.SecretKey
		secrets["STS temporary token "+fmt.Sprint(i)] = k.Token
	}
	mu.Lock()
	for i, tok := range providerTokens {
		secrets["provider token "+fmt.Sprint(i)] = tok
	}
	mu.Unlock()
	if len(providerTokens) == 0 || len(emu.Issued()) == 0 {
		t.Fatal("the sign-in or the role path did not run")
	}
	for where, text := range map[string]string{"log": stderr.String() + stdout.String(), "audit records": records.String(), "responses": seen.String()} {
		for name, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("the %s show the %s", where, name)
			}
		}
	}
}
