package auth

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/internal/citest"
)

func TestParseModes(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "", want: ""},
		{in: "oidc, APIKEY ,gateway", want: "oidc apikey gateway"},
		{in: "apikey,,none", want: "apikey none"},
		{in: "apikey,apikey", wantErr: "listed twice"},
		{in: "basic", wantErr: "unknown mode"},
	} {
		modes, err := ParseModes(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseModes(%q) error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		var got []string
		for _, m := range modes {
			got = append(got, string(m))
		}
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("ParseModes(%q) = %v, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseAPIKeys(t *testing.T) {
	h := HashAPIKey("k")
	for _, tc := range []struct {
		in      string
		want    int
		wantErr string
	}{
		{in: "ci:" + h + ", deploy:" + strings.ToUpper(HashAPIKey("d")), want: 2},
		{in: "ci:" + h + ",ci:" + HashAPIKey("x"), wantErr: "twice"},
		{in: "ci:" + h + ",deploy:" + strings.ToUpper(h), wantErr: `keys "ci" and "deploy" have the same hash`},
		{in: "ci:secret-key-pasted-by-mistake", wantErr: "not the key itself"},
		{in: "bad name:" + h, wantErr: "entry 1"},
		{in: "justakey", wantErr: "entry 1"},
	} {
		keys, err := ParseAPIKeys(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseAPIKeys(%q) error %v, want %q", tc.in, err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret-key-pasted") {
				t.Errorf("error quotes the pasted key: %v", err)
			}
			continue
		}
		if err != nil || len(keys) != tc.want {
			t.Errorf("ParseAPIKeys(%q) = %d keys, %v", tc.in, len(keys), err)
		}
	}
}

// TestHashAPIKeyMatchesTheREADME: the README's `printf %s "$KEY" | sha256sum` makes the hash
// VULSCAN_API_KEYS wants.
func TestHashAPIKeyMatchesTheREADME(t *testing.T) {
	out, err := exec.Command("sh", "-c", `KEY=vsk_example_key; printf %s "$KEY" | sha256sum`).Output()
	if err != nil {
		citest.Missing(t, "sh/sha256sum: %v", err)
	}
	if got := strings.Fields(string(out))[0]; got != HashAPIKey("vsk_example_key") {
		t.Errorf("sha256sum says %s, HashAPIKey %s", got, HashAPIKey("vsk_example_key"))
	}
}

// TestNewRefusesUnsafeCombinations: none only on loopback, gateway only on a platform, and no
// mode without its settings.
func TestNewRefusesUnsafeCombinations(t *testing.T) {
	keys, _ := ParseAPIKeys("ci:" + HashAPIKey("k"))
	for _, tc := range []struct {
		name    string
		cfg     Config
		where   Where
		wantErr string
	}{
		{"none on loopback", Config{Modes: []Mode{ModeNone}, LocalUser: "u"}, Where{Loopback: true}, ""},
		{"none on 0.0.0.0", Config{Modes: []Mode{ModeNone}, LocalUser: "u"}, Where{}, "loopback"},
		{"none on a platform", Config{Modes: []Mode{ModeNone}, LocalUser: "u"}, Where{Platform: true}, "loopback"},
		{"gateway on a platform", Config{Modes: []Mode{ModeGateway}}, Where{Platform: true}, ""},
		{"gateway in plain HTTP mode", Config{Modes: []Mode{ModeGateway}}, Where{Loopback: true}, "plain HTTP"},
		{"apikey without keys", Config{Modes: []Mode{ModeAPIKey}}, Where{}, "VULSCAN_API_KEYS"},
		{"apikey with keys", Config{Modes: []Mode{ModeAPIKey}, APIKeys: keys}, Where{}, ""},
		{"proxy with a short secret", Config{Modes: []Mode{ModeProxy},
			Proxy: Proxy{Header: DefaultProxyHeader, SecretHeader: DefaultProxySecretHeader, Secret: "short"}}, Where{}, "at least 16"},
		{"proxy with one header for both", Config{Modes: []Mode{ModeProxy},
			Proxy: Proxy{Header: "X-A", SecretHeader: "x-a", Secret: strings.Repeat("s", 16)}}, Where{}, "differ"},
		{"oidc without settings", Config{Modes: []Mode{ModeOIDC}}, Where{}, "VULSCAN_OIDC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, tc.where)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("New error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestSealedCookies: a cookie opens only under its own name, key and scope, unchanged.
func TestSealedCookies(t *testing.T) {
	key := make([]byte, SessionKeyBytes)
	key[0] = 1
	s, err := newSealer(key, "https://idp.example\nvulscan")
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.seal(SessionCookie, session{Subject: "alice", Expires: 99})
	if err != nil {
		t.Fatal(err)
	}
	var got session
	if err := s.open(SessionCookie, v, &got); err != nil || got.Subject != "alice" {
		t.Fatalf("open = %+v, %v", got, err)
	}
	other, _ := newSealer(make([]byte, SessionKeyBytes), "https://idp.example\nvulscan")
	otherIssuer, _ := newSealer(key, "https://test-idp.example\nvulscan")
	otherClient, _ := newSealer(key, "https://idp.example\nstaging")
	flipped := []byte(v)
	flipped[len(flipped)/2] ^= 1
	for name, try := range map[string]func() error{
		"another cookie's name": func() error { return s.open("__Host-vulscan_login", v, &got) },
		"another key":           func() error { return other.open(SessionCookie, v, &got) },
		"another issuer":        func() error { return otherIssuer.open(SessionCookie, v, &got) },
		"another client":        func() error { return otherClient.open(SessionCookie, v, &got) },
		"a flipped character":   func() error { return s.open(SessionCookie, string(flipped), &got) },
		"truncated":             func() error { return s.open(SessionCookie, v[:10], &got) },
		"not base64":            func() error { return s.open(SessionCookie, "%%%", &got) },
	} {
		if err := try(); err != errBadCookie {
			t.Errorf("%s: %v, want errBadCookie", name, err)
		}
	}
}

func TestParseSessionKey(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	if k, err := ParseSessionKey(hex); err != nil || len(k) != 32 {
		t.Errorf("hex: %v", err)
	}
	for _, bad := range []string{"", "tooshort", strings.Repeat("ab", 16)} {
		if _, err := ParseSessionKey(bad); err == nil {
			t.Errorf("ParseSessionKey(%q) accepted", bad)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"scans/3":              "scans/3",
		"/audit?outcome=x":     "audit?outcome=x",
		"//evil.example/x":     "evil.example/x",
		"https://evil.example": "",
		"../x":                 "",
		`\evil`:                "",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// An OpenID provider is reached over https, and the callback is https, unless both ends are
// this machine: over plain http, anyone on the network path could serve the provider's keys
// and sign in as anyone, or read the client secret.
func TestOIDCRefusesPlainHTTPOffLoopback(t *testing.T) {
	for _, tc := range []struct {
		issuer, redirect, wantErr string
	}{
		{"https://idp.example.com", "https://scan.example/auth/callback", ""},
		{"http://127.0.0.1:9999/realm", "http://127.0.0.1:8080/auth/callback", ""},
		{"http://localhost:9999", "http://[::1]:8080/auth/callback", ""},
		{"http://idp.example.com", "https://scan.example/auth/callback", "VULSCAN_OIDC_ISSUER \"http://idp.example.com\": want an https URL"},
		{"ftp://idp.example.com", "https://scan.example/auth/callback", "VULSCAN_OIDC_ISSUER \"ftp://idp.example.com\": want an https URL"},
		{"https://idp.example.com", "http://scan.example/auth/callback", "VULSCAN_OIDC_REDIRECT_URL: want this function's absolute https"},
		// A subject's actor is oidc-sub:<issuer>#<subject>: an issuer has no fragment or query.
		{"https://idp.example.com/#x", "https://scan.example/auth/callback", "VULSCAN_OIDC_ISSUER: want the provider's issuer URL, without query or fragment"},
		{"https://idp.example.com/?tenant=x", "https://scan.example/auth/callback", "VULSCAN_OIDC_ISSUER: want the provider's issuer URL, without query or fragment"},
	} {
		_, err := NewOIDC(OIDCConfig{Issuer: tc.issuer, ClientID: "vulscan", RedirectURL: tc.redirect,
			AllowedEmails: []string{"*"}, SessionKey: []byte("0123456789abcdef0123456789abcdef")})
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s, %s: %v", tc.issuer, tc.redirect, err)
		case tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr)):
			t.Errorf("%s, %s: error %v, want %q…", tc.issuer, tc.redirect, err, tc.wantErr)
		}
	}
}

// A proxy header name no request can carry, or an allowed-email entry that is no address, would
// admit nobody while the operator believed otherwise: both stop the start, naming the setting.
func TestSettingsThatCouldAdmitNobodyAreRefused(t *testing.T) {
	proxy := Proxy{Header: "X Bad:Header", SecretHeader: DefaultProxySecretHeader, Secret: "0123456789abcdef"}
	if err := proxy.validate(); err == nil || !strings.Contains(err.Error(), EnvProxyHeader) {
		t.Errorf("proxy header %q: %v", proxy.Header, err)
	}
	proxy.Header = "X-Auth-Request-Email"
	if err := proxy.validate(); err != nil {
		t.Errorf("proxy header %q: %v", proxy.Header, err)
	}
	for entry, ok := range map[string]bool{"alice": false, "@": false, "alice@": false, "a b@example.com": false, "@example": false,
		"*": true, "@example.com": true, "alice@example.com": true} {
		_, err := NewOIDC(OIDCConfig{Issuer: "https://idp.example.com", ClientID: "vulscan", RedirectURL: "https://scan.example/auth/callback",
			AllowedEmails: []string{entry}, SessionKey: []byte("0123456789abcdef0123456789abcdef")})
		if (err == nil) != ok || (err != nil && !strings.HasPrefix(err.Error(), EnvOIDCAllowedEmails+": ")) {
			t.Errorf("allowed email %q: %v, want accepted %v", entry, err, ok)
		}
	}
}

// A session sealed before the sign-in under way moved into its cookie (the session's fields
// alone) still signs its person in: deploying the change signs nobody out.
func TestSessionSealedAloneStillReads(t *testing.T) {
	o, err := NewOIDC(OIDCConfig{Issuer: "https://idp.example.com", ClientID: "vulscan", RedirectURL: "https://scan.example/auth/callback",
		AllowedEmails: []string{"*"}, SessionKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	v, err := o.seal.seal(SessionCookie, session{Subject: "u-1", Email: "alice@example.com", Expires: time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: SessionCookie, Value: v})
	if id, ok, err := o.sessionIdentity(r); !ok || err != nil || id.Actor != "oidc:alice@example.com" {
		t.Errorf("sessionIdentity = %+v, %v, %v; want oidc:alice@example.com", id, ok, err)
	}
}
