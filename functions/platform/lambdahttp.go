package platform

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// AWS's HTTP events are decoded with aws-lambda-go's event types (tested by AWS against the same
// sample events we test with; payload 2.0, the function URL's, is read from a generic decode
// with the same JSON names); the translation to and from net/http is ours and shared with SCF,
// so header values are never split on commas and a handler that sets no status answers 200.

func parseAPIGatewayV1(raw []byte) (httpRequest, error) {
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return httpRequest{}, err
	}
	rc := ev.RequestContext
	// The caller an authorizer proved: IAM's user ARN, or a Lambda authorizer's principal. A
	// usage plan's API key (identity.apiKeyId) is not one: AWS meters and throttles with those
	// keys and says not to authenticate with them.
	identity := rc.Identity.UserArn
	if p, ok := rc.Authorizer["principalId"].(string); ok && p != "" {
		identity = authorizerIdentity(p)
	}
	return httpRequest{
		method:   ev.HTTPMethod,
		path:     ev.Path,
		rawQuery: multiValues(ev.MultiValueQueryStringParameters, ev.QueryStringParameters).Encode(),
		header:   canonicalHeader(multiValues(ev.MultiValueHeaders, ev.Headers)),
		body:     ev.Body,
		base64:   ev.IsBase64Encoded,
		gateway:  Gateway{SourceIP: rc.Identity.SourceIP, RequestID: rc.RequestID, Stage: rc.Stage, Identity: identity},
	}, nil
}

// A gateway identity names its kind unless the platform's own form does (an IAM ARN starts with
// "arn:", a Tencent SecretId with "AKID"), so that an identity one authorizer chose can never
// read as another's: a JWT whose subject is "arn:aws:iam::…:user/admin", or a Lambda
// authorizer's principal equal to some token subject, would otherwise name the same actor, and
// share its idempotency keys.

// jwtIdentity is a JWT authorizer's caller: "jwt:<issuer>#<subject>". A subject is unique only
// within its issuer, and an issuer URL holds no fragment, so the first '#' ends it.
func jwtIdentity(issuer, subject string) string {
	if subject == "" {
		return ""
	}
	if issuer == "" {
		return "jwt:" + subject
	}
	return "jwt:" + issuer + "#" + subject
}

// authorizerIdentity is a Lambda authorizer's principal: "authorizer:<principalId>".
func authorizerIdentity(principal string) string { return "authorizer:" + principal }

// canonicalHeader files the event's headers (in whatever case the gateway wrote them) under
// their canonical names, as net/http's server does. Names that differ only in case are added in
// sorted order, so that the values' order, and what Header.Get returns, never depend on a map's.
func canonicalHeader(in url.Values) http.Header {
	h := make(http.Header, len(in))
	for _, k := range slices.Sorted(maps.Keys(in)) {
		for _, v := range in[k] {
			h.Add(k, v)
		}
	}
	return h
}

// multiValues prefers the multi-value form of a map (it holds repeats) and canonicalizes nothing.
func multiValues(multi map[string][]string, single map[string]string) url.Values {
	out := url.Values{}
	if len(multi) > 0 {
		for k, vs := range multi {
			out[k] = slices.Clone(vs)
		}
		return out
	}
	for k, v := range single {
		out[k] = []string{v}
	}
	return out
}

// encodeAPIGatewayV1 answers with multiValueHeaders only: REST APIs merge them with headers, and
// one form keeps repeated headers (Set-Cookie) apart.
func encodeAPIGatewayV1(_ httpRequest, resp response) any {
	body, isBase64 := resp.encodedBody()
	return events.APIGatewayProxyResponse{
		StatusCode:        resp.status,
		MultiValueHeaders: resp.header,
		Body:              body,
		IsBase64Encoded:   isBase64,
	}
}

// parseAPIGatewayV2 reads payload 2.0 (HTTP APIs, function URLs; the JSON names of
// events.APIGatewayV2HTTPRequest) from a generic decode. Decoding into aws-lambda-go's type
// built reflective decoders for its every nested type on a function's first event (reflect
// looks up pointer types by name across the whole binary for each), more than a third of what
// answering that event cost beyond a hello-world's; the generic decode builds none.
func parseAPIGatewayV2(raw []byte) (httpRequest, error) {
	// Into a map, not an any: the map's pointer type is then in the binary, and making its value
	// does not search the binary's types for it by name (reflect.PointerTo's slow path).
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return httpRequest{}, err
	}
	r := jsonReader{}
	headers := r.object(ev, "headers")
	cookies := r.strings(ev, "cookies")
	rc := r.object(ev, "requestContext")
	h := r.object(rc, "http")
	authorizer := r.object(rc, "authorizer")
	req := httpRequest{
		method:   r.str(h, "method"),
		path:     r.str(ev, "rawPath"),
		rawQuery: r.str(ev, "rawQueryString"),
		header:   make(http.Header, len(headers)+1),
		body:     r.str(ev, "body"),
		base64:   r.boolean(ev, "isBase64Encoded"),
		gateway: Gateway{SourceIP: r.str(h, "sourceIp"), RequestID: r.str(rc, "requestId"), Stage: r.str(rc, "stage"),
			Identity: r.str(r.object(authorizer, "iam"), "userArn")},
	}
	if req.gateway.Identity == "" {
		claims := r.object(r.object(authorizer, "jwt"), "claims")
		req.gateway.Identity = jwtIdentity(r.str(claims, "iss"), r.str(claims, "sub"))
	}
	for k := range headers {
		req.header.Add(k, r.str(headers, k)) // payload 2.0 already joined repeats with commas: keep them joined
	}
	if len(cookies) > 0 {
		req.header.Set("Cookie", strings.Join(cookies, "; "))
	}
	if r.err != nil {
		return httpRequest{}, fmt.Errorf("payload 2.0: %w", r.err)
	}
	return req, nil
}

// jsonReader reads fields of a generic JSON decode (encoding/json's map[string]any): a missing
// or null field is its type's zero value, as with a struct; a field of another type is the
// first error, kept in err.
type jsonReader struct{ err error }

func jsonField[T any](r *jsonReader, m map[string]any, key, want string) (zero T) {
	v, ok := m[key]
	if !ok || v == nil {
		return zero
	}
	t, ok := v.(T)
	if !ok && r.err == nil {
		r.err = fmt.Errorf("%q is not %s", key, want)
	}
	return t
}

func (r *jsonReader) str(m map[string]any, key string) string {
	return jsonField[string](r, m, key, "a string")
}

func (r *jsonReader) boolean(m map[string]any, key string) bool {
	return jsonField[bool](r, m, key, "true or false")
}

func (r *jsonReader) object(m map[string]any, key string) map[string]any {
	return jsonField[map[string]any](r, m, key, "an object")
}

func (r *jsonReader) strings(m map[string]any, key string) []string {
	list := jsonField[[]any](r, m, key, "a list")
	out := make([]string, 0, len(list))
	for _, v := range list {
		s, ok := v.(string)
		if !ok && r.err == nil {
			r.err = fmt.Errorf("%q holds a value that is not a string", key)
		}
		out = append(out, s)
	}
	return out
}

// encodeAPIGatewayV2 answers payload 2.0 (HTTP APIs and function URLs): one string per header,
// and Set-Cookie in cookies, the only place 2.0 keeps repeats apart.
func encodeAPIGatewayV2(_ httpRequest, resp response) any {
	body, isBase64 := resp.encodedBody()
	return apiGatewayV2Reply{
		status:  resp.status,
		headers: singleHeaders(resp.header, "Set-Cookie"),
		cookies: resp.header.Values("Set-Cookie"),
		body:    body,
		base64:  isBase64,
	}
}

// apiGatewayV2Reply is payload 2.0's reply, events.APIGatewayV2HTTPResponse's JSON, which
// marshalReply writes with appendJSON. Encoding aws-lambda-go's type made encoding/json look up
// its fields' pointer types by name across the whole binary (reflect.PointerTo's slow path, once
// a process) when a function answered its first event, a fifth of what answering it cost beyond
// a hello-world's.
type apiGatewayV2Reply struct {
	status  int
	headers map[string]string
	cookies []string
	body    string
	base64  bool
}

// appendJSON appends the reply as encoding/json writes events.APIGatewayV2HTTPResponse (map keys
// sorted, nil as null) without escaping HTML's characters (marshalReply).
func (r apiGatewayV2Reply) appendJSON(b []byte) []byte {
	b = append(b, `{"statusCode":`...)
	b = strconv.AppendInt(b, int64(r.status), 10)
	b = append(b, `,"headers":`...)
	b = appendJSONObject(b, r.headers, appendJSONString)
	b = append(b, `,"multiValueHeaders":null,"body":`...)
	b = appendJSONString(b, r.body)
	if r.base64 {
		b = append(b, `,"isBase64Encoded":true`...)
	}
	b = append(b, `,"cookies":`...)
	return append(appendJSONStrings(b, r.cookies), '}')
}

// appendJSONObject appends m as encoding/json writes a map: keys sorted, each value by value,
// nil as null.
func appendJSONObject[V any](b []byte, m map[string]V, value func([]byte, V) []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = value(append(appendJSONString(b, k), ':'), m[k])
	}
	return append(b, '}')
}

// appendJSONStrings appends list as a JSON list of strings, nil as null.
func appendJSONStrings(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string: quotes, backslashes and control characters
// escaped, invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped as encoding/json does; HTML's
// characters as they are.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

func parseALB(raw []byte) (httpRequest, error) {
	var ev events.ALBTargetGroupRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return httpRequest{}, err
	}
	header := canonicalHeader(multiValues(ev.MultiValueHeaders, ev.Headers))
	// ALB appends the client's address to X-Forwarded-For: the last entry is the one it saw.
	var sourceIP string
	if xff := header.Values("X-Forwarded-For"); len(xff) > 0 {
		parts := strings.Split(xff[len(xff)-1], ",")
		sourceIP = strings.TrimSpace(parts[len(parts)-1])
	}
	return httpRequest{
		method:     ev.HTTPMethod,
		path:       ev.Path,
		rawQuery:   rawQueryAsSent(multiValues(ev.MultiValueQueryStringParameters, ev.QueryStringParameters)),
		header:     header,
		body:       ev.Body,
		base64:     ev.IsBase64Encoded,
		gateway:    Gateway{SourceIP: sourceIP, RequestID: header.Get("X-Amzn-Trace-Id")},
		multiValue: len(ev.MultiValueHeaders) > 0,
	}, nil
}

// rawQueryAsSent rebuilds a query string from ALB's parameters, which ALB passes on as the client
// encoded them (it does not decode them, unlike API Gateway).
func rawQueryAsSent(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range q[k] {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, "&")
}

// encodeALB answers in the form the target group expects: multiValueHeaders when multi-value
// headers are enabled (the request then carries them), else one string per header.
func encodeALB(req httpRequest, resp response) any {
	body, isBase64 := resp.encodedBody()
	out := events.ALBTargetGroupResponse{
		StatusCode:        resp.status,
		StatusDescription: statusText(resp.status),
		Body:              body,
		IsBase64Encoded:   isBase64,
	}
	if req.multiValue {
		out.MultiValueHeaders = resp.header
	} else {
		// One string per name: repeats are joined, except cookies, which cannot be (the last wins).
		out.Headers = singleHeaders(resp.header, "Set-Cookie")
		if cookies := resp.header.Values("Set-Cookie"); len(cookies) > 0 {
			out.Headers["Set-Cookie"] = cookies[len(cookies)-1]
		}
	}
	return out
}

// statusText is "200 OK", as ALB wants it.
func statusText(code int) string { return strconv.Itoa(code) + " " + http.StatusText(code) }
