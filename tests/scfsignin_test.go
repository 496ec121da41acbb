package tests

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
)

// TestSCFFunctionURLSignIn signs a person in and out through the real bootstrap, the fake SCF
// runtime API and function URL events, against an OpenID Connect provider in this process
// (mockoidc), and checks that every reply's headers are single strings: Tencent documents no
// other form for a function URL's reply, so what a real one does with a list of Set-Cookie
// values (join them, keep one, refuse the reply) is unknown, and sign-in must not depend on it.
func TestSCFFunctionURLSignIn(t *testing.T) {
	m := startProvider(t)

	const site = "https://1250000000-abcd1234.ap-guangzhou.tencentscf.com/"
	fn := startSCF(t, vulscanBinary(t),
		"VULSCAN_AUTH=oidc",
		"VULSCAN_OIDC_ISSUER="+m.Issuer(),
		"VULSCAN_OIDC_CLIENT_ID="+m.ClientID,
		"VULSCAN_OIDC_CLIENT_SECRET="+m.ClientSecret,
		"VULSCAN_OIDC_REDIRECT_URL="+site+"auth/callback",
		"VULSCAN_OIDC_ALLOWED_GROUPS=secops",
		"VULSCAN_SESSION_KEY="+strings.Repeat("5a", 32),
	)
	jar := map[string]string{} // the browser's cookies: name to value
	request := func(step, method, path string, query map[string]any, headers map[string]string, body []byte) gatewayReply {
		t.Helper()
		hdr := map[string]string{"sec-fetch-mode": "navigate"}
		var cookies []string
		for name, value := range jar {
			cookies = append(cookies, name+"="+value)
		}
		if len(cookies) > 0 {
			hdr["cookie"] = strings.Join(cookies, "; ")
		}
		for k, v := range headers {
			hdr[k] = v
		}
		reply := fn.singleStringHTTP(t, step, scfFunctionURLEvent(method, path, hdr, body, query, false))
		for _, line := range reply.headers.Values("Set-Cookie") {
			c, err := http.ParseSetCookie(line)
			if err != nil {
				t.Fatalf("%s: Set-Cookie %q: %v", step, line, err)
			}
			if c.MaxAge < 0 || c.Value == "" {
				delete(jar, c.Name)
			} else {
				jar[c.Name] = c.Value
			}
		}
		return reply
	}

	login := request("url-signin", "GET", "/auth/login", map[string]any{"next": "audit"}, nil, nil)
	login.wantStatus(t, http.StatusFound)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(login.headers.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(back.String(), site+"auth/callback?") || back.Query().Get("code") == "" {
		t.Fatalf("the provider sent the browser to %q", resp.Header.Get("Location"))
	}
	callbackQuery := map[string]any{}
	for k, v := range back.Query() {
		callbackQuery[k] = v[0]
	}
	callback := request("url-callback", "GET", "/auth/callback", callbackQuery, nil, nil)
	callback.wantStatus(t, http.StatusSeeOther)
	if loc := callback.headers.Get("Location"); loc != "../audit" {
		t.Errorf("the callback sends the browser to %q, want ../audit", loc)
	}

	form := request("url-form", "GET", "/", nil, nil, nil)
	form.wantStatus(t, http.StatusOK)
	if !strings.Contains(string(form.body), "ann.lee@example.com") {
		t.Fatalf("the form does not name the person signed in:\n%.2000s", form.body)
	}
	post := url.Values{"LocalImageScanType": {"NOT_SCAN"}, "IdempotencyKey": {form.formKey(t)}}
	request("url-form-post", "POST", "/", nil, formHeaders(), []byte(post.Encode())).wantStatus(t, http.StatusSeeOther)

	// The callback again: its sign-in was used, so it signs nobody in.
	request("url-callback-replayed", "GET", "/auth/callback", callbackQuery, nil, nil).wantStatus(t, http.StatusUnauthorized)

	request("url-signout", "POST", "/auth/logout", nil, nil, nil).wantStatus(t, http.StatusOK)
	if len(jar) != 0 {
		t.Errorf("after signing out the browser keeps cookies %v", jar)
	}
	request("url-after-signout", "GET", "/audit", nil, nil, nil).wantStatus(t, http.StatusSeeOther)

	var byPerson int
	for _, r := range auditRecords(t, fn.dsn) {
		if r.Outcome == audit.OutcomeSucceeded && r.Actor == "oidc:ann.lee@example.com" && r.Access == "oidc" {
			byPerson++
		}
	}
	if byPerson != 1 {
		t.Errorf("%d scans recorded as oidc:ann.lee@example.com, want the one the form started", byPerson)
	}
}
