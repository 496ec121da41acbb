package web_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/web"
)

func TestCrossSitePostsAreRefused(t *testing.T) {
	h := newHarness(t, withTrustedOrigins("https://scans.example.com"))
	for _, tc := range []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"cross-site fetch metadata", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-site is still another origin", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"mismatched Origin", map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}, http.StatusForbidden},
		{"trusted origin", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://scans.example.com"}, http.StatusSeeOther},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
		{"no browser headers", map[string]string{"Sec-Fetch-Site": ""}, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.creates()
			// Each accepted post is a new attempt, under a key of its own.
			vals := url.Values{"RegistryImageScanType": {"NOT_SCAN"}, "IdempotencyKey": {tc.name}}
			resp := h.postForm(vals, func(r *http.Request) {
				r.Host = "vulscan.example.com"
				for k, v := range tc.headers {
					r.Header.Set(k, v)
				}
			})
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == http.StatusForbidden && h.creates() != before {
				t.Error("a refused post reached TCSS")
			}
		})
	}
	t.Run("API too", func(t *testing.T) {
		resp := h.postJSON(`{"LocalImageScanType":"ALL"}`, func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") })
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		// A program, not a form, calls the API: the answer says how to call it.
		if e := decodeJSON[apiError](t, resp); e.Code != "forbidden" || len(e.Errors) != 1 ||
			strings.Contains(e.Errors[0].Message, "Submit the form") || !strings.Contains(e.Errors[0].Message, "VULSCAN_TRUSTED_ORIGINS") {
			t.Errorf("error = %+v", e)
		}
	})
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	h := newHarness(t)
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
	}
	for _, tc := range []struct {
		name string
		do   func() *http.Response
	}{
		{"form", func() *http.Response { return h.get("/") }},
		{"stylesheet", func() *http.Response { return h.get("/static/style.css") }},
		{"audit", func() *http.Response { return h.get("/audit") }},
		{"not found", func() *http.Response { return h.get("/nope") }},
		{"API error", func() *http.Response { return h.postJSON(`{`) }},
		{"refused post", func() *http.Response {
			return h.postForm(url.Values{}, func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := tc.do()
			for k, v := range want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestStrictTransportSecurityOnlyOverHTTPS: an answer that reached the client over HTTPS (this
// server's TLS, a function URL or API gateway, a TLS-terminating proxy's X-Forwarded-Proto)
// tells the browser to keep to HTTPS, error pages and refusals included; one over plain HTTP
// (the local server) does not, since a browser would ignore it there anyway.
func TestStrictTransportSecurityOnlyOverHTTPS(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name string
		mod  func(*http.Request)
		want string
	}{
		{"plain HTTP", func(*http.Request) {}, ""},
		{"this server's TLS", func(r *http.Request) { r.TLS = &tls.ConnectionState{} }, "max-age=31536000"},
		{"a function URL", func(r *http.Request) {
			*r = *r.WithContext(web.WithCaller(r.Context(), web.CallerInfo{SourceIP: "203.0.113.9", HTTPS: true}))
		}, "max-age=31536000"},
		{"a TLS-terminating proxy", func(r *http.Request) { r.Header.Set("X-Forwarded-Proto", "https") }, "max-age=31536000"},
		{"a chain of proxies, the client's hop HTTPS", func(r *http.Request) { r.Header.Set("X-Forwarded-Proto", "HTTPS, http") }, "max-age=31536000"},
		{"a proxy that took plain HTTP", func(r *http.Request) { r.Header.Set("X-Forwarded-Proto", "http") }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/", "/nope", "/api/scans/999"} {
				r := httptest.NewRequest(http.MethodGet, path, nil)
				tc.mod(r)
				if got := h.do(r).Header.Get("Strict-Transport-Security"); got != tc.want {
					t.Errorf("GET %s: Strict-Transport-Security = %q, want %q", path, got, tc.want)
				}
			}
		})
	}
}

func TestStylesheetIsEmbedded(t *testing.T) {
	h := newHarness(t)
	resp := h.get("/static/style.css")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	css := body(t, resp)
	for _, want := range []string{"prefers-color-scheme: dark", "@media (max-width"} {
		if !strings.Contains(css, want) {
			t.Errorf("stylesheet lacks %q", want)
		}
	}
	if strings.Contains(css, "http") {
		t.Error("stylesheet loads something from elsewhere")
	}
	if resp := h.get("/static/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /static/ = %d, want 404 (no listing)", resp.StatusCode)
	}
}

// TestURLsAreRelative renders every kind of page and checks that no link, form action,
// stylesheet or redirect starts with "/": the gateway's stage prefix would be lost.
func TestURLsAreRelative(t *testing.T) {
	h := newHarness(t)
	redirect := h.postForm(url.Values{"RegistryImageScanType": {"NOT_SCAN"}})
	if loc := redirect.Header.Get("Location"); strings.HasPrefix(loc, "/") || loc == "" {
		t.Errorf("redirect Location = %q", loc)
	}
	h.postForm(url.Values{"LocalImageScanType": {"IMAGEIDS"}}) // a rejected attempt
	pages := map[string]*http.Response{
		"form":         h.get("/"),
		"invalid form": h.postForm(url.Values{"LocalTaskID": {"x"}}),
		"confirmation": h.postForm(url.Values{"LocalImageScanType": {"ALL"}}),
		"attempt":      h.get("/scans/1"),
		"rejected":     h.get("/scans/3"),
		"audit":        h.get("/audit?limit=1"),
		"audit page 2": h.get("/audit?limit=1&before=3"),
		"not found":    h.get("/scans/999"),
		"deep 404":     h.get("/a/b/c"),
	}
	for name, resp := range pages {
		t.Run(name, func(t *testing.T) {
			doc := document(t, resp)
			n := 0
			doc.Find("[href], [action], [src]").Each(func(_ int, s *goquery.Selection) {
				for _, attr := range []string{"href", "action", "src"} {
					if v, ok := s.Attr(attr); ok {
						n++
						if v == "https://console.cloud.tencent.com/tcss" { // the one link out, to Tencent's console
							continue
						}
						if strings.HasPrefix(v, "/") || strings.Contains(v, "://") {
							t.Errorf("%s=%q is not relative", attr, v)
						}
					}
				}
			})
			if n == 0 {
				t.Error("no URLs checked")
			}
		})
	}
	t.Run("links resolve under a stage prefix", func(t *testing.T) {
		doc := document(t, h.get("/scans/1"))
		css := doc.Find(`link[rel=stylesheet]`).AttrOr("href", "")
		base, _ := url.Parse("https://gw.example.com/release/scans/1")
		ref, _ := url.Parse(css)
		if got := base.ResolveReference(ref).Path; got != "/release/static/style.css" {
			t.Errorf("stylesheet resolves to %q", got)
		}
	})
}

func TestIDsAreUnique(t *testing.T) {
	h := newHarness(t)
	h.postForm(url.Values{"RegistryImageScanType": {"NOT_SCAN"}})
	for name, resp := range map[string]*http.Response{
		"form":         h.get("/"),
		"invalid form": h.postForm(url.Values{"LocalImageScanType": {"IMAGEIDS"}, "RegistryTaskID": {"x"}}),
		"attempt":      h.get("/scans/1"),
		"audit":        h.get("/audit"),
	} {
		seen := map[string]bool{}
		document(t, resp).Find("[id]").Each(func(_ int, s *goquery.Selection) {
			id := s.AttrOr("id", "")
			if seen[id] {
				t.Errorf("%s: id %q appears twice", name, id)
			}
			seen[id] = true
		})
	}
}

// panicking is a scan service with a bug.
type panicking struct{ web.Scans }

func (panicking) Attempt(context.Context, int64) (scan.Attempt, error) { panic("bug") }

func TestPanicsBecomeInternalErrors(t *testing.T) {
	h := newHarness(t)
	handler := web.New(web.Config{Scans: panicking{}, Audit: h.store, Logger: discard})
	for path, wantType := range map[string]string{"/scans/1": "text/html", "/api/scans/1": "application/json"} {
		r := newRequest(http.MethodGet, path, "")
		rec := newRecorder()
		handler.ServeHTTP(rec, r)
		resp := rec.Result()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("%s: status = %d", path, resp.StatusCode)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), wantType) {
			t.Errorf("%s: Content-Type = %q", path, resp.Header.Get("Content-Type"))
		}
		b := body(t, resp)
		if !strings.Contains(b, "Internal error.") || strings.Contains(b, "bug") {
			t.Errorf("%s: body = %q", path, b)
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: security headers missing", path)
		}
	}
}

func TestRefusalsAreAudited(t *testing.T) {
	big := strings.Repeat("a", 600<<10)
	for _, tc := range []struct {
		name     string
		path, ct string
		body     string
		headers  map[string]string
		status   int
		trigger  audit.Trigger
		code     string
		key      string
	}{
		{"cross-site form post", "/", "application/x-www-form-urlencoded", "LocalImageScanType=ALL",
			map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden, audit.TriggerForm, scan.CodeForbidden, ""},
		{"cross-site API post", "/api/scans", "application/json", `{"LocalImageScanType":"ALL"}`,
			map[string]string{"Sec-Fetch-Site": "cross-site", "Idempotency-Key": "k1"}, http.StatusForbidden, audit.TriggerAPI, scan.CodeForbidden, "k1"},
		{"oversized form", "/", "application/x-www-form-urlencoded", "LocalImageIDs=" + big,
			nil, http.StatusRequestEntityTooLarge, audit.TriggerForm, scan.CodeInvalidRequest, ""},
		{"oversized API body", "/api/scans", "application/json", `{"LocalImageIDs":["` + big + `"]}`,
			nil, http.StatusRequestEntityTooLarge, audit.TriggerAPI, scan.CodeInvalidRequest, ""},
		{"form of another content type", "/", "multipart/form-data; boundary=x", "--x--",
			nil, http.StatusUnsupportedMediaType, audit.TriggerForm, scan.CodeInvalidRequest, ""},
		{"API body of another content type", "/api/scans", "text/plain", `{}`,
			map[string]string{"Idempotency-Key": "k2"}, http.StatusUnsupportedMediaType, audit.TriggerAPI, scan.CodeInvalidRequest, "k2"},
		{"form body with a bad escape", "/", "application/x-www-form-urlencoded", "IdempotencyKey=%zz&LocalImageScanType=ALL",
			nil, http.StatusBadRequest, audit.TriggerForm, scan.CodeInvalidRequest, ""},
		{"form body with a ; separator", "/", "application/x-www-form-urlencoded", "LocalImageScanType=ALL;IsLatest=true",
			nil, http.StatusBadRequest, audit.TriggerForm, scan.CodeInvalidRequest, ""},
		{"form field sent twice", "/", "application/x-www-form-urlencoded",
			"IdempotencyKey=dup-1&RegistryImageScanType=NOT_SCAN&RegistryImageScanType=ALL",
			map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusUnprocessableEntity, audit.TriggerForm, scan.CodeInvalidRequest, "dup-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			r := newRequest(http.MethodPost, tc.path, tc.body)
			r.Header.Set("Content-Type", tc.ct)
			r.Header.Set("User-Agent", "refusal-test")
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			if resp := h.do(r); resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			recs := h.records()
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1 refusal", len(recs))
			}
			rec := recs[0]
			// What was submitted is recorded when it was read: the request's fields, cleaned.
			wantParams := map[string]string{"form field sent twice": `{"RegistryImageScanType":"NOT_SCAN, ALL"}`}[tc.name]
			if wantParams == "" {
				wantParams = "{}"
			}
			if rec.Outcome != audit.OutcomeRejected || rec.Trigger != tc.trigger || rec.ErrorCode != tc.code ||
				rec.IdempotencyKey != tc.key || rec.UserAgent != "refusal-test" || rec.ErrorMessage == "" || string(rec.Params) != wantParams {
				t.Errorf("recorded %+v", rec)
			}
			if h.creates() != 0 {
				t.Error("a refused post reached TCSS")
			}
		})
	}
}

// A cross-site post is refused before authentication admits anyone, but its record names whom
// its credentials name (the person whose browser was made to send it), with no access; bad
// credentials leave it anonymous.
func TestCrossSiteRefusalNamesTheCredentialsHolder(t *testing.T) {
	for _, tc := range []struct {
		name, bearer, wantActor string
	}{
		{"valid API key", testAPIKey, "apikey:ci"},
		{"wrong API key", testAPIKey + "x", "anonymous"},
		{"none", "", "anonymous"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, allModes(t))
			resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, func(r *http.Request) {
				r.Header.Set("Sec-Fetch-Site", "cross-site")
				if tc.bearer != "" {
					r.Header.Set("Authorization", "Bearer "+tc.bearer)
				}
			})
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403", resp.StatusCode)
			}
			rec := h.records()[0]
			if rec.Outcome != audit.OutcomeRejected || rec.Actor != tc.wantActor || rec.Access != "" {
				t.Errorf("recorded %s by %q with access %q; want rejected by %q with none", rec.Outcome, rec.Actor, rec.Access, tc.wantActor)
			}
		})
	}
}
