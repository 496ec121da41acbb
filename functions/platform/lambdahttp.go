package platform

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// AWS's HTTP events are decoded with aws-lambda-go's event types (tested by AWS against the same
// sample events we test with); the translation to and from net/http is ours and shared with SCF,
// so header values are never split on commas and a handler that sets no status answers 200.

func parseAPIGatewayV1(raw []byte) (httpRequest, error) {
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return httpRequest{}, err
	}
	rc := ev.RequestContext
	identity := rc.Identity.UserArn
	if p, ok := rc.Authorizer["principalId"].(string); ok && p != "" {
		identity = p
	}
	if identity == "" {
		identity = rc.Identity.APIKeyID
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

// canonicalHeader files the event's headers (in whatever case the gateway wrote them) under
// their canonical names, as net/http's server does.
func canonicalHeader(in url.Values) http.Header {
	h := make(http.Header, len(in))
	for k, vs := range in {
		for _, v := range vs {
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

func parseAPIGatewayV2(raw []byte) (httpRequest, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return httpRequest{}, err
	}
	header := http.Header{}
	for k, v := range ev.Headers {
		header.Add(k, v) // payload 2.0 already joined repeats with commas: keep them joined
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
			identity = a.JWT.Claims["sub"]
		}
	}
	return httpRequest{
		method:   rc.HTTP.Method,
		path:     ev.RawPath,
		rawQuery: ev.RawQueryString,
		header:   header,
		body:     ev.Body,
		base64:   ev.IsBase64Encoded,
		gateway:  Gateway{SourceIP: rc.HTTP.SourceIP, RequestID: rc.RequestID, Stage: rc.Stage, Identity: identity},
	}, nil
}

// encodeAPIGatewayV2 answers payload 2.0 (HTTP APIs and function URLs): one string per header,
// and Set-Cookie in cookies, the only place 2.0 keeps repeats apart.
func encodeAPIGatewayV2(_ httpRequest, resp response) any {
	body, isBase64 := resp.encodedBody()
	return events.APIGatewayV2HTTPResponse{
		StatusCode:      resp.status,
		Headers:         singleHeaders(resp.header, "Set-Cookie"),
		Cookies:         resp.header.Values("Set-Cookie"),
		Body:            body,
		IsBase64Encoded: isBase64,
	}
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
