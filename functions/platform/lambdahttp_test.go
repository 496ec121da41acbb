package platform

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// parseAPIGatewayV2 reads payload 2.0 as aws-lambda-go's event type does: every payload 2.0
// fixture (AWS's samples) and a JWT-authorized event, compared field by field with a decode into
// events.APIGatewayV2HTTPRequest.
func TestParseAPIGatewayV2MatchesTheEventType(t *testing.T) {
	const jwt = `{"version":"2.0","routeKey":"$default","rawPath":"/api/scans","rawQueryString":"",
		"headers":{"content-type":"application/json"},"body":"e30=","isBase64Encoded":true,
		"requestContext":{"requestId":"r-1","stage":"prod","http":{"method":"POST","sourceIp":"203.0.113.9"},
		"authorizer":{"jwt":{"claims":{"sub":"user-42","iss":"https://issuer.example"},"scopes":["scan"]}}}}`
	samples := map[string][]byte{"JWT authorizer": []byte(jwt)}
	for _, name := range []string{"apigw-v2-request-no-authorizer.json", "apigw-v2-request-iam.json", "apigw-v2-form-post.json", "lambda-urls-request.json"} {
		samples[name] = fixture(t, name)
	}
	for name, raw := range samples {
		t.Run(name, func(t *testing.T) {
			got, err := parseAPIGatewayV2(raw)
			if err != nil {
				t.Fatal(err)
			}
			want := viaEventType(t, raw)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("parseAPIGatewayV2:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// viaEventType is what parseAPIGatewayV2 read from aws-lambda-go's type before.
func viaEventType(t *testing.T, raw []byte) httpRequest {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	header := make(http.Header)
	for k, v := range ev.Headers {
		header.Add(k, v)
	}
	if len(ev.Cookies) > 0 {
		header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	rc := ev.RequestContext
	var identity string
	if a := rc.Authorizer; a != nil {
		switch {
		case a.IAM != nil && a.IAM.UserARN != "":
			identity = a.IAM.UserARN
		case a.JWT != nil:
			identity = "jwt:" + a.JWT.Claims["iss"] + "#" + a.JWT.Claims["sub"]
		}
	}
	return httpRequest{method: rc.HTTP.Method, path: ev.RawPath, rawQuery: ev.RawQueryString, header: header,
		body: ev.Body, base64: ev.IsBase64Encoded,
		gateway: Gateway{SourceIP: rc.HTTP.SourceIP, RequestID: rc.RequestID, Stage: rc.Stage, Identity: identity}}
}

// A field of the wrong type is refused, as a decode into the event type refuses it; a null or
// missing one is empty.
func TestParseAPIGatewayV2Types(t *testing.T) {
	tests := []struct {
		name, event, wantErr string
	}{
		{"nulls", `{"rawPath":null,"headers":null,"cookies":null,"requestContext":{"http":null}}`, ""},
		{"path a number", `{"rawPath":1}`, `"rawPath" is not a string`},
		{"headers a list", `{"headers":["a"]}`, `"headers" is not an object`},
		{"header value a number", `{"headers":{"a":1}}`, `"a" is not a string`},
		{"cookie a number", `{"cookies":["a",2]}`, `"cookies" holds a value that is not a string`},
		{"base64 a string", `{"isBase64Encoded":"yes"}`, `"isBase64Encoded" is not true or false`},
		{"method a list", `{"requestContext":{"http":{"method":[]}}}`, `"method" is not a string`},
		{"not an object", `[]`, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAPIGatewayV2([]byte(tt.event))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			var ev events.APIGatewayV2HTTPRequest
			if typeErr := json.Unmarshal([]byte(tt.event), &ev); (typeErr != nil) != (tt.wantErr != "") {
				t.Errorf("the event type's decode says %v", typeErr)
			}
		})
	}
}

// The payload 2.0 reply decodes to what encoding/json wrote for events.APIGatewayV2HTTPResponse
// before, for every kind of character a header or body may hold.
func TestAPIGatewayV2ReplyAsEncodingJSON(t *testing.T) {
	tricky := "<p class=\"a\">&amp; \\ back, tab\t nl\n cr\r nul\x00 bell\x07 del\x7f é 中 \u2028\u2029 😀"
	tests := []struct {
		name string
		r    apiGatewayV2Reply
	}{
		{"empty", apiGatewayV2Reply{status: 204, headers: map[string]string{}}},
		{"nil headers", apiGatewayV2Reply{status: 500}},
		{"page", apiGatewayV2Reply{status: 200, body: tricky,
			headers: map[string]string{"Content-Type": "text/html; charset=utf-8", "X-Z": "1", "A": tricky},
			cookies: []string{"session=a; Path=/; HttpOnly", "theme=\"dark\""}}},
		{"base64", apiGatewayV2Reply{status: 200, body: "AAEC", base64: true, headers: map[string]string{"Content-Type": "image/png"}}},
		{"invalid UTF-8 in a header", apiGatewayV2Reply{status: 400, headers: map[string]string{"X-Bad": "a\xffb\xc0"}, cookies: []string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := marshalReply(tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(got) {
				t.Fatalf("not JSON: %s", got)
			}
			want, err := json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: tt.r.status, Headers: tt.r.headers,
				Body: tt.r.body, IsBase64Encoded: tt.r.base64, Cookies: tt.r.cookies})
			if err != nil {
				t.Fatal(err)
			}
			var g, w map[string]any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("reply\n got %s\nwant %s", got, want)
			}
		})
	}
}

// The SCF reply (API gateway and function URL) decodes to what encoding/json wrote for
// SCFAPIGatewayResponse before.
func TestSCFReplyAsEncodingJSON(t *testing.T) {
	tricky := "<p class=\"a\">&amp; \\ tab\t nl\n nul\x00 é 中 \u2028 😀"
	tests := []SCFAPIGatewayResponse{
		{StatusCode: 204, Headers: map[string]any{}},
		{StatusCode: 500},
		{StatusCode: 200, Body: tricky, Headers: map[string]any{"Content-Type": "text/html; charset=utf-8", "A": tricky,
			"Set-Cookie": []string{"session=a; Path=/; HttpOnly", "theme=\"dark\""}}},
		{StatusCode: 200, Body: "AAEC", IsBase64Encoded: true, Headers: map[string]any{"Content-Type": "image/png", "X-Empty": []string{}}},
		{StatusCode: 400, Headers: map[string]any{"X-Bad": "a\xffb"}},
	}
	for _, r := range tests {
		got, err := marshalReply(r)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var g, w map[string]any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("reply\n got %s\nwant %s", got, want)
		}
	}
}

// A REST API event names the caller its authorizer proved (IAM's user ARN, a Lambda
// authorizer's principal), never a usage plan's API key, which AWS says not to authenticate with.
func TestAPIGatewayV1Identity(t *testing.T) {
	tests := []struct{ name, requestContext, want string }{
		{"IAM user", `{"identity":{"userArn":"arn:aws:iam::123456789012:user/alice"}}`, "arn:aws:iam::123456789012:user/alice"},
		{"Lambda authorizer", `{"identity":{"userArn":"arn:aws:iam::123456789012:user/alice"},"authorizer":{"principalId":"bob"}}`, "authorizer:bob"},
		{"Lambda authorizer naming an ARN", `{"authorizer":{"principalId":"arn:aws:iam::123456789012:user/admin"}}`, "authorizer:arn:aws:iam::123456789012:user/admin"},
		{"usage plan key only", `{"identity":{"apiKeyId":"key123","apiKey":"secret"}}`, ""},
		{"nothing", `{}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := parseAPIGatewayV1([]byte(`{"httpMethod":"GET","path":"/","requestContext":` + tt.requestContext + `}`))
			if err != nil {
				t.Fatal(err)
			}
			if req.gateway.Identity != tt.want {
				t.Errorf("identity %q, want %q", req.gateway.Identity, tt.want)
			}
		})
	}
}

// An HTTP API event names the caller its IAM or JWT authorizer proved; a JWT's subject goes with
// its issuer and a kind, so that it never reads as an IAM ARN or another issuer's subject.
func TestAPIGatewayV2Identity(t *testing.T) {
	const issuer = "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_Example"
	tests := []struct{ name, authorizer, want string }{
		{"IAM", `{"iam":{"accountId":"123456789012","userArn":"arn:aws:iam::123456789012:user/alice"}}`, "arn:aws:iam::123456789012:user/alice"},
		{"JWT", `{"jwt":{"claims":{"iss":"` + issuer + `","sub":"ci-pipeline"},"scopes":null}}`, "jwt:" + issuer + "#ci-pipeline"},
		{"JWT whose subject reads as an ARN", `{"jwt":{"claims":{"iss":"` + issuer + `","sub":"arn:aws:iam::123456789012:user/admin"}}}`,
			"jwt:" + issuer + "#arn:aws:iam::123456789012:user/admin"},
		{"JWT without an issuer claim", `{"jwt":{"claims":{"sub":"bob"}}}`, "jwt:bob"},
		{"JWT without a subject", `{"jwt":{"claims":{"iss":"` + issuer + `"}}}`, ""},
		{"nothing", `{}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := parseAPIGatewayV2([]byte(`{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"},"authorizer":` + tt.authorizer + `}}`))
			if err != nil {
				t.Fatal(err)
			}
			if req.gateway.Identity != tt.want {
				t.Errorf("identity %q, want %q", req.gateway.Identity, tt.want)
			}
		})
	}
}
