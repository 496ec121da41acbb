package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Every page of a failed sign-in offers to sign in again, back to where that sign-in was to
// return (escaped in the link), and the refusal of a person the allowed lists do not admit says
// whom to ask: the pages said "sign in again" with nothing to click.
func TestOIDCFailedSignInOffersToSignInAgain(t *testing.T) {
	const next = `audit?actor=oidc:*&q=<b>"x"</b>`
	again := "../auth/login?next=" + url.QueryEscape(next)
	tests := []struct {
		name     string
		allowed  []string
		fail     func(t *testing.T, p *provider, b *cookieBrowser, clock *atomic.Int64) *http.Response
		status   int
		wantLink string
		wantText string // in the page's message
	}{
		{name: "expired", allowed: []string{"*"}, status: http.StatusUnauthorized, wantLink: again,
			wantText: "sign-in expired",
			fail: func(t *testing.T, _ *provider, b *cookieBrowser, clock *atomic.Int64) *http.Response {
				callback := toProvider(t, b.get("sign-in", "/auth/login?next="+url.QueryEscape(next)))
				clock.Add(int64(11 * time.Minute))
				return b.get("callback", callback)
			}},
		{name: "started elsewhere", allowed: []string{"*"}, status: http.StatusUnauthorized, wantLink: "../auth/login",
			wantText: "started elsewhere",
			fail: func(t *testing.T, _ *provider, b *cookieBrowser, _ *atomic.Int64) *http.Response {
				return b.get("callback", "/auth/callback?state=s&code=c")
			}},
		{name: "state mismatch", allowed: []string{"*"}, status: http.StatusUnauthorized, wantLink: again,
			wantText: "state does not match",
			fail: func(t *testing.T, _ *provider, b *cookieBrowser, _ *atomic.Int64) *http.Response {
				callback := toProvider(t, b.get("sign-in", "/auth/login?next="+url.QueryEscape(next)))
				return b.get("callback", strings.Replace(callback, "state=", "state=forged", 1))
			}},
		{name: "provider refusal", allowed: []string{"*"}, status: http.StatusUnauthorized, wantLink: again,
			wantText: "refused the sign-in (access_denied)",
			fail: func(t *testing.T, _ *provider, b *cookieBrowser, _ *atomic.Int64) *http.Response {
				u, _ := url.Parse(toProvider(t, b.get("sign-in", "/auth/login?next="+url.QueryEscape(next))))
				q := u.Query()
				q.Del("code")
				q.Set("error", "access_denied")
				return b.get("callback", "/auth/callback?"+q.Encode())
			}},
		{name: "not allowed", allowed: []string{"someone@corp.example"}, status: http.StatusForbidden, wantLink: again,
			wantText: "Ask whoever runs vulscan to add your address or group",
			fail: func(t *testing.T, _ *provider, b *cookieBrowser, _ *atomic.Int64) *http.Response {
				return b.get("callback", toProvider(t, b.get("sign-in", "/auth/login?next="+url.QueryEscape(next))))
			}},
		{name: "provider down", allowed: []string{"*"}, status: http.StatusBadGateway, wantLink: again,
			wantText: "could not be reached",
			fail: func(t *testing.T, p *provider, b *cookieBrowser, _ *atomic.Int64) *http.Response {
				p.Shutdown()
				return b.get("sign-in", "/auth/login?next="+url.QueryEscape(next))
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := startProvider(t)
			var ahead atomic.Int64
			h := oidcHarness(t, p, tc.allowed, func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) })
			b := &cookieBrowser{t: t, h: h, jar: map[string]*http.Cookie{}}
			resp := tc.fail(t, p, b, &ahead)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			doc := document(t, resp)
			if msg := doc.Find(".callout").Text(); !strings.Contains(msg, tc.wantText) {
				t.Errorf("message %q, want it to say %q", msg, tc.wantText)
			}
			link := doc.Find("a#sign-in-again")
			if href, _ := link.Attr("href"); link.Length() != 1 || href != tc.wantLink || link.Text() != "Sign in again" {
				t.Errorf("sign-in link %q (%d of them, text %q), want %q", href, link.Length(), link.Text(), tc.wantLink)
			}
			if html, _ := doc.Html(); strings.Contains(html, "<b>") {
				t.Error("the return path is in the page unescaped")
			}
		})
	}
}
