package platform

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
)

// seen is what the handler got from one event.
type seen struct {
	method, path, rawQuery, requestURI, host, remoteAddr string
	header                                               http.Header
	body                                                 string
	gateway                                              Gateway
	haveGateway                                          bool
}

type gatewayKey struct{}

// recordingHandler records the request and answers with answer (nil: writes nothing at all).
func recordingHandler(got *seen, answer func(w http.ResponseWriter)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		*got = seen{
			method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery, requestURI: r.RequestURI,
			host: r.Host, remoteAddr: r.RemoteAddr, header: r.Header, body: string(body),
		}
		got.gateway, got.haveGateway = r.Context().Value(gatewayKey{}).(Gateway)
		if answer != nil {
			answer(w)
		}
	})
}

func newTestDispatcher(h http.Handler) *Dispatcher {
	return New(Options{
		Handler: h,
		RequestContext: func(ctx context.Context, g Gateway) context.Context {
			return context.WithValue(ctx, gatewayKey{}, g)
		},
	})
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reply is the union of the gateways' reply formats.
type reply struct {
	StatusCode        int                 `json:"statusCode"`
	StatusDescription string              `json:"statusDescription"`
	Headers           map[string]any      `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

func decodeReply(t *testing.T, b []byte) reply {
	t.Helper()
	var r reply
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("reply %s: %v", b, err)
	}
	return r
}

func TestHTTPEventsReachTheHandlerAsTheClientSentThem(t *testing.T) {
	tests := []struct {
		fixture  string
		kind     Kind
		want     seen
		headers  map[string]string // header values that must arrive whole (never split on commas)
		wantForm map[string]string
	}{
		{
			fixture: "scf-apigw-request.json", kind: KindSCFAPIGateway,
			want: seen{method: "POST", path: "/test/value", rawQuery: "bob=alice&foo=bar", requestURI: "/test/value?bob=alice&foo=bar",
				host: "service-3ei3tii4-251000691.ap-guangzhou.apigateway.myqloud.com", remoteAddr: "10.0.2.14:0", body: `{"test":"body"}`,
				gateway: Gateway{Kind: KindSCFAPIGateway, SourceIP: "10.0.2.14", RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
					Stage: "release", Identity: "abdcdxxxxxxxsdfs", FunctionRequestID: "fn-req-1"}},
			headers: map[string]string{"Accept-Language": "en-US,en,cn", "User-Agent": "User Agent String"},
		},
		{
			fixture: "scf-apigw-query-forms.json", kind: KindSCFAPIGateway,
			want: seen{method: "GET", path: "/audit", rawQuery: "outcome=rejected&trigger=timer&trigger=api&verbose=",
				requestURI: "/audit?outcome=rejected&trigger=timer&trigger=api&verbose=",
				host:       "service-3ei3tii4-251000691.ap-guangzhou.apigateway.myqloud.com", remoteAddr: "203.0.113.7:0",
				gateway: Gateway{Kind: KindSCFAPIGateway, SourceIP: "203.0.113.7", RequestID: "0f4c9d0e-7b61-11e6-9a41-93e8deadbeef",
					Stage: "release", FunctionRequestID: "fn-req-1"}},
			headers: map[string]string{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"},
		},
		{
			fixture: "scf-apigw-form-base64.json", kind: KindSCFAPIGateway,
			want: seen{method: "POST", path: "/scans", requestURI: "/scans",
				host: "service-3ei3tii4-251000691.ap-guangzhou.apigateway.myqloud.com", remoteAddr: "203.0.113.8:0",
				body: "LocalImageScanType=ALL&Note=a%2Cb",
				gateway: Gateway{Kind: KindSCFAPIGateway, SourceIP: "203.0.113.8", RequestID: "3a1d2b7c-7b61-11e6-9a41-93e8deadbeef",
					Stage: "release", FunctionRequestID: "fn-req-1"}},
			headers:  map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Cookie": "session=abc; theme=dark", "Content-Length": "33"},
			wantForm: map[string]string{"LocalImageScanType": "ALL", "Note": "a,b"},
		},
		{
			// Tencent's published function URL sample (its content-length is not the body's).
			fixture: "scf-url-request.json", kind: KindSCFURL,
			want: seen{method: "POST", path: "/", rawQuery: "a=1&b=2", requestURI: "/?a=1&b=2", host: "localhost",
				remoteAddr: "111.206.96.145:0", body: `{"test":"hello world"}`,
				gateway: Gateway{Kind: KindSCFURL, HTTPS: true, SourceIP: "111.206.96.145", FunctionRequestID: "fn-req-1"}},
			headers: map[string]string{"Accept-Encoding": "gzip, deflate, br", "Content-Length": "22", "X-Scf-Remote-Addr": "111.206.96.145"},
		},
		{
			fixture: "scf-url-get-no-query.json", kind: KindSCFURL,
			want: seen{method: "GET", path: "/", requestURI: "/", host: "1250000000-abcd1234.ap-guangzhou.tencentscf.com",
				remoteAddr: "203.0.113.20:0",
				gateway:    Gateway{Kind: KindSCFURL, HTTPS: true, SourceIP: "203.0.113.20", FunctionRequestID: "fn-req-1"}},
			headers: map[string]string{"Accept-Language": "en-US,en;q=0.9,zh;q=0.8"},
		},
		{
			fixture: "scf-url-form-post.json", kind: KindSCFURL,
			want: seen{method: "POST", path: "/", requestURI: "/", host: "1250000000-abcd1234.ap-guangzhou.tencentscf.com",
				remoteAddr: "203.0.113.21:0", body: "LocalImageScanType=ALL&Note=a%2Cb",
				gateway: Gateway{Kind: KindSCFURL, HTTPS: true, SourceIP: "203.0.113.21", FunctionRequestID: "fn-req-1"}},
			headers:  map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Cookie": "session=abc; theme=dark"},
			wantForm: map[string]string{"LocalImageScanType": "ALL", "Note": "a,b"},
		},
		{
			fixture: "scf-url-form-base64.json", kind: KindSCFURL,
			want: seen{method: "POST", path: "/", rawQuery: "lang=en&lang=zh&verbose=", requestURI: "/?lang=en&lang=zh&verbose=",
				host: "1250000000-abcd1234.ap-guangzhou.tencentscf.com", remoteAddr: "[2001:db8::7]:0",
				body:    "LocalImageScanType=ALL&Note=a%2Cb",
				gateway: Gateway{Kind: KindSCFURL, HTTPS: true, SourceIP: "2001:db8::7", FunctionRequestID: "fn-req-1"}},
			headers:  map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			wantForm: map[string]string{"LocalImageScanType": "ALL", "Note": "a,b", "lang": "en"},
		},
		{
			fixture: "scf-url-api-scans.json", kind: KindSCFURL,
			want: seen{method: "POST", path: "/api/scans", requestURI: "/api/scans", host: "1250000000-abcd1234.ap-guangzhou.tencentscf.com",
				remoteAddr: "198.51.100.30:0", body: `{"LocalImageScanType":"NOT_SCAN","RegistryImageScanType":"NOT_SCAN"}`,
				gateway: Gateway{Kind: KindSCFURL, HTTPS: true, SourceIP: "198.51.100.30", FunctionRequestID: "fn-req-1"}},
			headers: map[string]string{"Content-Type": "application/json", "Idempotency-Key": "nightly-2026-12-03"},
		},
		{
			fixture: "apigw-request.json", kind: KindAPIGatewayV1,
			want: seen{method: "POST", path: "/hello/world", rawQuery: "name=me", requestURI: "/hello/world?name=me",
				host: "gy415nuibc.execute-api.us-east-1.amazonaws.com", remoteAddr: "192.168.196.186:0", body: "{\r\n\t\"a\": 1\r\n}",
				gateway: Gateway{Kind: KindAPIGatewayV1, HTTPS: true, SourceIP: "192.168.196.186", RequestID: "deef4878-7910-11e6-8f14-25afc3e9ae33",
					Stage: "testStage", Identity: "authorizer:admin", FunctionRequestID: "fn-req-1"}},
			headers: map[string]string{"Accept-Encoding": "gzip, deflate", "X-Forwarded-For": "54.240.196.186, 54.182.214.83", "Headername": "headerValue"},
		},
		{
			fixture: "apigw-v2-request-no-authorizer.json", kind: KindAPIGatewayV2,
			want: seen{method: "GET", path: "/", requestURI: "/", host: "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com",
				remoteAddr: "1.2.3.4:0",
				gateway:    Gateway{Kind: KindAPIGatewayV2, HTTPS: true, SourceIP: "1.2.3.4", RequestID: "LV7fzho-PHcEJPw=", Stage: "$default", FunctionRequestID: "fn-req-1"}},
			headers: map[string]string{"User-Agent": "curl/7.58.0", "X-Forwarded-Port": "443"},
		},
		{
			fixture: "apigw-v2-request-iam.json", kind: KindAPIGatewayV2,
			want: seen{method: "GET", path: "/my/path", rawQuery: "parameter1=value1&parameter1=value2&parameter2=value",
				requestURI: "/my/path?parameter1=value1&parameter1=value2&parameter2=value", host: "localhost",
				body: "{\r\n\t\"a\": 1\r\n}",
				gateway: Gateway{Kind: KindAPIGatewayV2, HTTPS: true, SourceIP: "IP", RequestID: "id", Stage: "$default",
					Identity: "arn:aws:iam::1234567890:user/Admin", FunctionRequestID: "fn-req-1"}},
			headers: map[string]string{"Cookie": "cookie1; cookie2", "Header1": "value1"},
		},
		{
			fixture: "apigw-v2-form-post.json", kind: KindAPIGatewayV2,
			want: seen{method: "POST", path: "/scans", rawQuery: "lang=en&lang=zh", requestURI: "/scans?lang=en&lang=zh",
				host: "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com", remoteAddr: "198.51.100.4:0",
				body:    "LocalImageScanType=ALL&Note=a%2Cb",
				gateway: Gateway{Kind: KindAPIGatewayV2, HTTPS: true, SourceIP: "198.51.100.4", RequestID: "JKJaXmPLvHcESHA=", Stage: "$default", FunctionRequestID: "fn-req-1"}},
			headers:  map[string]string{"Cookie": "session=abc; theme=dark", "Accept": "text/html,application/xhtml+xml"},
			wantForm: map[string]string{"LocalImageScanType": "ALL", "Note": "a,b", "lang": "en"},
		},
		{
			fixture: "lambda-urls-request.json", kind: KindFunctionURL,
			want: seen{method: "POST", path: "/my/path", rawQuery: "parameter1=value1&parameter1=value2&parameter2=value",
				requestURI: "/my/path?parameter1=value1&parameter1=value2&parameter2=value", host: "localhost",
				remoteAddr: "123.123.123.123:0", body: "Hello from client!",
				gateway: Gateway{Kind: KindFunctionURL, HTTPS: true, SourceIP: "123.123.123.123", RequestID: "id", Identity: "arn:aws:iam::111122223333:user/example-user", FunctionRequestID: "fn-req-1"}},
			headers: map[string]string{"Header2": "value1,value2", "Cookie": "cookie1; cookie2"},
		},
		{
			fixture: "alb-lambda-target-request-multivalue-headers.json", kind: KindALB,
			want: seen{method: "GET", path: "/", rawQuery: "key=hello", requestURI: "/?key=hello",
				host: "lambda-test-alb-1234567.us-east-1.elb.amazonaws.com", remoteAddr: "72.21.198.67:0",
				gateway: Gateway{Kind: KindALB, SourceIP: "72.21.198.67", RequestID: "Root=1-5c34e7d4-00ca239424b68028d4c56d68", FunctionRequestID: "fn-req-1"}},
			headers: map[string]string{"X-Myheader": "123"},
		},
		{
			fixture: "alb-lambda-target-request-headers-only.json", kind: KindALB,
			want: seen{method: "GET", path: "/", rawQuery: "key=hello", requestURI: "/?key=hello",
				host: "lambda-test-alb-1334523864.us-east-1.elb.amazonaws.com", remoteAddr: "25.12.198.67:0",
				gateway: Gateway{Kind: KindALB, SourceIP: "25.12.198.67", RequestID: "Root=1-5c34e93e-4dea0086f9763ac0667b115a", FunctionRequestID: "fn-req-1"}},
			headers: map[string]string{"User-Agent": "curl/7.54.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			raw := fixture(t, tt.fixture)
			kind, err := Classify(raw)
			if err != nil || kind != tt.kind {
				t.Fatalf("Classify = %q, %v; want %q", kind, err, tt.kind)
			}
			var got seen
			var form map[string][]string
			h := recordingHandler(&got, nil)
			d := newTestDispatcher(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.wantForm != nil {
					// Read the body for the record first, then parse it again as a form.
					b, _ := io.ReadAll(r.Body)
					r.Body = io.NopCloser(bytes.NewReader(b))
					h.ServeHTTP(w, r)
					r.Body = io.NopCloser(bytes.NewReader(b))
					if err := r.ParseForm(); err != nil {
						t.Errorf("ParseForm: %v", err)
					}
					form = r.Form
					return
				}
				h.ServeHTTP(w, r)
			}))
			out, err := d.Handle(context.Background(), Invocation{RequestID: "fn-req-1"}, raw)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if !got.haveGateway {
				t.Error("RequestContext was not applied to the request's context")
			}
			header := got.header
			got.header, got.haveGateway = nil, false
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("handler saw\n %+v\nwant\n %+v", got, tt.want)
			}
			for name, want := range tt.headers {
				if v := header.Values(name); len(v) != 1 || v[0] != want {
					t.Errorf("header %s = %q, want exactly [%q]", name, v, want)
				}
			}
			for name, want := range tt.wantForm {
				if v := form[name]; len(v) == 0 || v[0] != want {
					t.Errorf("form %s = %q, want %q", name, v, want)
				}
			}
			if r := decodeReply(t, out); r.StatusCode != http.StatusOK || r.Body != "" || r.IsBase64Encoded {
				t.Errorf("reply to a handler that wrote nothing = %+v, want 200 with an empty text body", r)
			}
		})
	}
}

// Every kind's reply format, for the same handler answers.
func TestRepliesInEachGatewaysFormat(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")
	cookies := func(w http.ResponseWriter) {
		w.Header().Add("Set-Cookie", "session=abc; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly")
		w.Header().Add("Set-Cookie", "theme=dark; Path=/")
		w.Header().Add("Vary", "Accept")
		w.Header().Add("Vary", "Cookie")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusSeeOther)
		io.WriteString(w, "<p>see other</p>")
	}
	binary := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(png)
	}
	sniffed := func(w http.ResponseWriter) { io.WriteString(w, `<!DOCTYPE html><html></html>`) }

	type check func(t *testing.T, r reply)
	setCookies := []string{"session=abc; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly", "theme=dark; Path=/"}
	cookiesAsList := func(t *testing.T, r reply) {
		got, _ := r.Headers["Set-Cookie"].([]any)
		if len(got) != 2 || got[0] != setCookies[0] || got[1] != setCookies[1] {
			t.Errorf("headers[Set-Cookie] = %#v, want the list %q", r.Headers["Set-Cookie"], setCookies)
		}
		if r.Headers["Content-Type"] != "text/html; charset=utf-8" {
			t.Errorf("single header as list: %#v", r.Headers["Content-Type"])
		}
	}
	cookiesMulti := func(t *testing.T, r reply) {
		if !slices.Equal(r.MultiValueHeaders["Set-Cookie"], setCookies) || !slices.Equal(r.MultiValueHeaders["Vary"], []string{"Accept", "Cookie"}) {
			t.Errorf("multiValueHeaders = %q", r.MultiValueHeaders)
		}
	}
	cookiesV2 := func(t *testing.T, r reply) {
		if !slices.Equal(r.Cookies, setCookies) {
			t.Errorf("cookies = %q, want %q", r.Cookies, setCookies)
		}
		if _, ok := r.Headers["Set-Cookie"]; ok {
			t.Errorf("Set-Cookie also in headers: %#v", r.Headers)
		}
		if r.Headers["Vary"] != "Accept, Cookie" {
			t.Errorf("headers[Vary] = %#v, want the values joined", r.Headers["Vary"])
		}
	}
	cookiesALBSingle := func(t *testing.T, r reply) {
		if r.Headers["Set-Cookie"] != setCookies[1] || r.StatusDescription != "303 See Other" {
			t.Errorf("ALB single-value reply = %+v", r)
		}
	}
	cookiesALBMulti := func(t *testing.T, r reply) {
		cookiesMulti(t, r)
		if r.StatusDescription != "303 See Other" {
			t.Errorf("statusDescription = %q", r.StatusDescription)
		}
	}
	bodyText := func(want string) check {
		return func(t *testing.T, r reply) {
			if r.IsBase64Encoded || r.Body != want {
				t.Errorf("body = %q (base64 %v), want text %q", r.Body, r.IsBase64Encoded, want)
			}
		}
	}
	bodyBinary := func(t *testing.T, r reply) {
		b, err := base64.StdEncoding.DecodeString(r.Body)
		if !r.IsBase64Encoded || err != nil || !bytes.Equal(b, png) {
			t.Errorf("binary body = %q (base64 %v), want the PNG bytes in base64", r.Body, r.IsBase64Encoded)
		}
	}
	fixtures := map[Kind]string{
		KindSCFAPIGateway: "scf-apigw-request.json",
		KindSCFURL:        "scf-url-get-no-query.json",
		KindAPIGatewayV1:  "apigw-request.json",
		KindAPIGatewayV2:  "apigw-v2-request-no-authorizer.json",
		KindFunctionURL:   "lambda-urls-request.json",
		KindALB:           "alb-lambda-target-request-multivalue-headers.json",
	}
	tests := []struct {
		name    string
		fixture string // default: fixtures[kind]
		kind    Kind
		answer  func(w http.ResponseWriter)
		status  int
		checks  []check
	}{
		{name: "SCF cookies as a list", kind: KindSCFAPIGateway, answer: cookies, status: 303, checks: []check{cookiesAsList, bodyText("<p>see other</p>")}},
		{name: "SCF binary body in base64", kind: KindSCFAPIGateway, answer: binary, status: 200, checks: []check{bodyBinary}},
		{name: "SCF sniffs a missing content type", kind: KindSCFAPIGateway, answer: sniffed, status: 200, checks: []check{bodyText(`<!DOCTYPE html><html></html>`)}},
		{name: "SCF function URL cookies as a list", kind: KindSCFURL, answer: cookies, status: 303, checks: []check{cookiesAsList, bodyText("<p>see other</p>")}},
		{name: "SCF function URL binary body in base64", kind: KindSCFURL, answer: binary, status: 200, checks: []check{bodyBinary}},
		{name: "REST API cookies in multiValueHeaders", kind: KindAPIGatewayV1, answer: cookies, status: 303, checks: []check{cookiesMulti, bodyText("<p>see other</p>")}},
		{name: "REST API binary body", kind: KindAPIGatewayV1, answer: binary, status: 200, checks: []check{bodyBinary}},
		{name: "HTTP API cookies in cookies", kind: KindAPIGatewayV2, answer: cookies, status: 303, checks: []check{cookiesV2}},
		{name: "HTTP API binary body", kind: KindAPIGatewayV2, answer: binary, status: 200, checks: []check{bodyBinary}},
		{name: "function URL cookies in cookies", kind: KindFunctionURL, answer: cookies, status: 303, checks: []check{cookiesV2}},
		{name: "ALB multi-value target group", kind: KindALB, answer: cookies, status: 303, checks: []check{cookiesALBMulti}},
		{name: "ALB single-value target group", kind: KindALB, fixture: "alb-lambda-target-request-headers-only.json", answer: cookies, status: 303, checks: []check{cookiesALBSingle}},
		{name: "ALB binary body", kind: KindALB, answer: binary, status: 200, checks: []check{bodyBinary}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := tt.fixture
			if name == "" {
				name = fixtures[tt.kind]
			}
			var got seen
			out, err := newTestDispatcher(recordingHandler(&got, tt.answer)).Handle(context.Background(), Invocation{}, fixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			r := decodeReply(t, out)
			if r.StatusCode != tt.status {
				t.Errorf("statusCode = %d, want %d", r.StatusCode, tt.status)
			}
			for _, c := range tt.checks {
				c(t, r)
			}
		})
	}
}

// An event's body is bounded before it is decoded. One too large or not decodable still reaches
// the handler, as a body whose reads fail (413 from an *http.MaxBytesError, as net/http's
// MaxBytesReader gives), so that the handler authenticates, answers and records the refusal.
func TestBodiesAreBounded(t *testing.T) {
	var ev SCFAPIGatewayEvent
	if err := json.Unmarshal(fixture(t, "scf-apigw-request.json"), &ev); err != nil {
		t.Fatal(err)
	}
	const limit = 64
	tests := []struct {
		name   string
		body   string
		base64 bool
		status int
	}{
		{"text at the limit", strings.Repeat("a", limit), false, http.StatusOK},
		{"text over the limit", strings.Repeat("a", limit+1), false, http.StatusRequestEntityTooLarge},
		{"base64 at the limit", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, limit)), true, http.StatusOK},
		{"base64 over the limit", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, limit+1)), true, http.StatusRequestEntityTooLarge},
		{"base64 far over the limit, refused before decoding", strings.Repeat("QUFB", 1<<16), true, http.StatusRequestEntityTooLarge},
		{"not base64", "%%%", true, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev.Body, ev.IsBase64Encoded = tt.body, tt.base64
			raw, _ := json.Marshal(ev)
			// The handler answers as vulscan's does: 413 for a body over the limit, 400 for one
			// it cannot read.
			d := New(Options{MaxBodyBytes: limit, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, err := io.ReadAll(r.Body)
				var mbe *http.MaxBytesError
				switch {
				case errors.As(err, &mbe) && mbe.Limit == limit:
					w.WriteHeader(http.StatusRequestEntityTooLarge)
				case err != nil:
					w.WriteHeader(http.StatusBadRequest)
				}
			})})
			out, err := d.Handle(context.Background(), Invocation{}, raw)
			if err != nil {
				t.Fatal(err)
			}
			if r := decodeReply(t, out); r.StatusCode != tt.status {
				t.Errorf("status %d, want %d", r.StatusCode, tt.status)
			}
		})
	}
}

func TestLargeResponsesBecomeAnError(t *testing.T) {
	d := New(Options{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for range 5 {
			w.Write(chunk)
		}
	})})
	out, err := d.Handle(context.Background(), Invocation{}, fixture(t, "apigw-v2-request-no-authorizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := decodeReply(t, out)
	if r.StatusCode != http.StatusInternalServerError || len(r.Body) > 300 {
		t.Errorf("reply = %d with %d bytes, want a short 500", r.StatusCode, len(r.Body))
	}
	// The caller learns the limit and the way around it.
	for _, want := range []string{"4 MiB", "vulscan audit export"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("reply %q does not say %q", r.Body, want)
		}
	}
}

// A text body within MaxResponseBytes can still make a reply the platform refuses once it is a
// JSON string: an audit CSV whose cells are full of quotes (a caller's User-Agent, which every
// recorded refusal keeps) doubles. The reply is then the too-large answer, not the platform's
// bare error; a body that fits passes as it is.
func TestRepliesStayWithinThePlatformsLimit(t *testing.T) {
	row := `1,"` + strings.Repeat(`""`, 30) + `"` + "\n"
	quoted := strings.Repeat(row, MaxResponseBytes/len(row))
	plain := strings.Repeat("x", MaxResponseBytes-1)
	fixtures := map[Kind]string{
		KindSCFURL:       "scf-url-get-no-query.json",
		KindAPIGatewayV1: "apigw-request.json",
		KindFunctionURL:  "lambda-urls-request.json",
		KindALB:          "alb-lambda-target-request-multivalue-headers.json",
	}
	tests := []struct {
		name    string
		body    string
		tooLong bool
	}{
		{name: "quote-heavy CSV", body: quoted, tooLong: true},
		{name: "plain text near the limit", body: plain},
	}
	for kind, name := range fixtures {
		for _, tt := range tests {
			t.Run(string(kind)+"/"+tt.name, func(t *testing.T) {
				d := New(Options{Logger: quietLogger(), Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "text/csv; charset=utf-8")
					io.WriteString(w, tt.body)
				})})
				out, err := d.Handle(context.Background(), Invocation{}, fixture(t, name))
				if err != nil {
					t.Fatal(err)
				}
				if len(out) > MaxReplyBytes {
					t.Fatalf("reply of %d bytes; the platform refuses more than %d", len(out), MaxReplyBytes)
				}
				r := decodeReply(t, out)
				if tt.tooLong {
					if r.StatusCode != http.StatusInternalServerError || !strings.Contains(r.Body, "vulscan audit export") {
						t.Errorf("reply %d %.200q; want the too-large answer", r.StatusCode, r.Body)
					}
				} else if r.StatusCode != http.StatusOK || r.Body != tt.body {
					t.Errorf("reply %d with %d bytes of body; want the %d bytes as they are", r.StatusCode, len(r.Body), len(tt.body))
				}
			})
		}
	}
}

func TestUnknownEventsAreRefusedWithAClearError(t *testing.T) {
	tests := []struct {
		name  string
		event string
	}{
		{"S3 notification", string(fixture(t, "s3-event.json"))},
		{"SQS batch", string(fixture(t, "sqs-event.json"))},
		{"empty object", `{}`},
		{"JSON list", `[{"httpMethod":"GET"}]`},
		{"null", `null`},
		{"string", `"hello"`},
		{"not JSON", `<xml/>`},
		{"empty", ``},
		{"timer type without trigger fields", `{"Type":"Timer"}`},
		{"HTTP method without any gateway's keys", `{"httpMethod":"GET","path":"/"}`},
		{"a request context no gateway sends", `{"httpMethod":"GET","path":"/","headers":{},"requestContext":{}}`},
		{"another EventBridge event", `{"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","detail":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New(Options{Handler: http.NotFoundHandler(), Scans: &recordingStarter{}})
			out, err := d.Handle(context.Background(), Invocation{RequestID: "r"}, []byte(tt.event))
			if !errors.Is(err, ErrUnknownEvent) || out != nil {
				t.Errorf("Handle = %s, %v; want ErrUnknownEvent", out, err)
			}
		})
	}
}

// TestMalformedHTTPEventsAreAnswered400: an HTTP event that cannot be decoded is answered 400 in
// the gateway's reply format (a failed invocation the platform answers 502, which the API's
// clients read as TCSS's refusal and retry) and recorded as a rejected event.
func TestMalformedHTTPEventsAreAnswered400(t *testing.T) {
	tests := []struct{ name, event string }{
		{"query value of the wrong type", `{"httpMethod":"GET","path":"/","queryString":{"a":{"b":1}},"requestContext":{"serviceId":"s"}}`},
		{"header value of the wrong type", `{"httpMethod":"GET","path":"/","headers":{"a":1},"requestContext":{"serviceId":"s"}}`},
		{"body of the wrong type", `{"httpMethod":"GET","path":"/","body":5,"requestContext":{"serviceId":"s"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			d := New(Options{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler called") }),
				Scans: w.Service, Logger: quietLogger()})
			out, err := d.Handle(context.Background(), Invocation{RequestID: "req-bad"}, []byte(tt.event))
			if err != nil {
				t.Fatalf("Handle failed the invocation: %v", err)
			}
			if r := decodeReply(t, out); r.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", r.StatusCode)
			}
			recs := w.Records(t)
			if len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected || recs[0].Trigger != audit.TriggerEvent ||
				recs[0].FunctionRequestID != "req-bad" {
				t.Errorf("records = %+v; want one rejected event", recs)
			}
		})
	}
}

func TestBadRequestLinesAreAnswered400(t *testing.T) {
	tests := []struct{ name, event string }{
		{"relative path", `{"httpMethod":"GET","path":"etc/passwd","requestContext":{"serviceId":"s"}}`},
		{"bad method", `{"httpMethod":"GE T","path":"/","requestContext":{"serviceId":"s"}}`},
		{"bad escape", `{"httpMethod":"GET","path":"/a%zz","requestContext":{"serviceId":"s"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New(Options{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler called") })})
			out, err := d.Handle(context.Background(), Invocation{}, []byte(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			if r := decodeReply(t, out); r.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", r.StatusCode)
			}
		})
	}
}

func TestEncodedPathsKeepTheirEscapes(t *testing.T) {
	var got seen
	var rawPath string
	h := recordingHandler(&got, nil)
	d := New(Options{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rawPath = r.URL.EscapedPath()
		h.ServeHTTP(w, r)
	})})
	ev := `{"version":"2.0","rawPath":"/audit/a%2Fb","requestContext":{"http":{"method":"GET","sourceIp":"2001:db8::1"}}}`
	if _, err := d.Handle(context.Background(), Invocation{}, []byte(ev)); err != nil {
		t.Fatal(err)
	}
	if got.path != "/audit/a/b" || rawPath != "/audit/a%2Fb" || got.remoteAddr != "[2001:db8::1]:0" {
		t.Errorf("path %q, escaped %q, remote %q", got.path, rawPath, got.remoteAddr)
	}
}

func TestHTTPEventsWithoutAHandlerFail(t *testing.T) {
	_, err := New(Options{}).Handle(context.Background(), Invocation{}, fixture(t, "apigw-request.json"))
	if err == nil || !strings.Contains(err.Error(), "no HTTP handler") {
		t.Errorf("err = %v", err)
	}
}

// FuzzHandle pins down that no event, however shaped, makes the dispatcher panic.
func FuzzHandle(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			b, _ := os.ReadFile(filepath.Join("testdata", e.Name()))
			f.Add(b)
		}
	}
	f.Add([]byte(`{"httpMethod":"GET","queryString":{"a":[true]},"requestContext":{"serviceId":1}}`))
	f.Add([]byte(`{"version":"2.0","requestContext":{"http":null}}`))
	f.Add([]byte(`{"Type":"TIMER","Time":"x","Message":7}`))
	d := New(Options{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	}), Scans: &recordingStarter{}})
	f.Fuzz(func(t *testing.T, event []byte) {
		d.Handle(context.Background(), Invocation{RequestID: "fuzz"}, event)
	})
}

// The client address of a function URL event is x-scf-remote-addr's IP, with or without a port;
// anything else leaves the address unknown rather than trusted.
func TestSCFFunctionURLClientAddress(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]any
		want    string
	}{
		{"address", map[string]any{"x-scf-remote-addr": "111.206.96.145"}, "111.206.96.145:0"},
		{"spaces", map[string]any{"x-scf-remote-addr": " 111.206.96.145 "}, "111.206.96.145:0"},
		{"with port", map[string]any{"x-scf-remote-addr": "111.206.96.145:51234"}, "111.206.96.145:0"},
		{"IPv6", map[string]any{"x-scf-remote-addr": "2001:db8::7"}, "[2001:db8::7]:0"},
		{"IPv6 with port", map[string]any{"x-scf-remote-addr": "[2001:db8::7]:443"}, "[2001:db8::7]:0"},
		{"not an address", map[string]any{"x-scf-remote-addr": "evil.example, 10.0.0.1"}, ""},
		{"empty", map[string]any{"x-scf-remote-addr": ""}, ""},
		// A client's own copy in another case is not the platform's, whichever a map yields first.
		{"client copy beside", map[string]any{"X-Scf-Remote-Addr": "7.7.7.7", "x-scf-remote-addr": "198.51.100.9"}, "198.51.100.9:0"},
		{"client copy alone", map[string]any{"X-SCF-Remote-Addr": "7.7.7.7"}, ""},
		{"two values", map[string]any{"x-scf-remote-addr": []string{"7.7.7.7", "198.51.100.9"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, _ := json.Marshal(map[string]any{"httpMethod": "GET", "path": "/", "headers": tt.headers})
			// Go's map order changes from run to run: an answer that depended on it would differ.
			for range 20 {
				var got seen
				if _, err := newTestDispatcher(recordingHandler(&got, nil)).Handle(context.Background(), Invocation{}, ev); err != nil {
					t.Fatal(err)
				}
				if got.remoteAddr != tt.want {
					t.Fatalf("RemoteAddr = %q, want %q", got.remoteAddr, tt.want)
				}
			}
		})
	}
}

// A header sent under two spellings of its name reaches the handler with its values in one
// order, the names' sorted order, in every gateway's event: never in a map's random order.
func TestHeaderSpellingsKeepOneOrder(t *testing.T) {
	events := map[string]string{
		"SCF function URL": `{"httpMethod":"GET","path":"/","headers":{"x-forwarded-email":"alice@example.com","X-Forwarded-Email":"bob@example.com"}}`,
		"API gateway v1": `{"httpMethod":"GET","path":"/","resource":"/{proxy+}","requestContext":{"stage":"prod"},` +
			`"headers":{"x-forwarded-email":"alice@example.com","X-Forwarded-Email":"bob@example.com"}}`,
	}
	want := []string{"bob@example.com", "alice@example.com"}
	for name, ev := range events {
		t.Run(name, func(t *testing.T) {
			for range 20 {
				var got seen
				if _, err := newTestDispatcher(recordingHandler(&got, nil)).Handle(context.Background(), Invocation{}, []byte(ev)); err != nil {
					t.Fatal(err)
				}
				if v := got.header.Values("X-Forwarded-Email"); !slices.Equal(v, want) {
					t.Fatalf("X-Forwarded-Email = %q, want %q", v, want)
				}
			}
		})
	}
}

// HEAD is answered with the headers GET's answer has, its length included, and no body, as
// net/http's server answers it.
func TestHeadAnswersCarryNoBody(t *testing.T) {
	page := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<p>the form</p>")
	}
	events := map[string]string{
		"SCF function URL": `{"httpMethod":"HEAD","path":"/","headers":{}}`,
		"function URL":     `{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"HEAD","sourceIp":"198.51.100.1"}}}`,
	}
	for name, ev := range events {
		t.Run(name, func(t *testing.T) {
			var got seen
			out, err := newTestDispatcher(recordingHandler(&got, page)).Handle(context.Background(), Invocation{}, []byte(ev))
			if err != nil {
				t.Fatal(err)
			}
			r := decodeReply(t, out)
			if got.method != http.MethodHead || r.StatusCode != http.StatusOK || r.Body != "" {
				t.Errorf("method %s: status %d body %q; want 200 and no body", got.method, r.StatusCode, r.Body)
			}
			if r.Headers["Content-Length"] != "15" || r.Headers["Content-Type"] != "text/html; charset=utf-8" {
				t.Errorf("headers %v; want GET's Content-Type and Content-Length 15", r.Headers)
			}
		})
	}
}
