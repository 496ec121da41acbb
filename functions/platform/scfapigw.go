package platform

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/vulscan/vulscan/functions/scan"
)

// SCFAPIGatewayEvent is the event Tencent's API gateway trigger sends an event function
// (https://cloud.tencent.com/document/product/583/12513): a function URL's event and the
// gateway's own keys. Header and query values are kept raw: headers are strings, query values a
// string, a list of strings, or true for a bare "?flag".
type SCFAPIGatewayEvent struct {
	SCFFunctionURLEvent
	PathParameters        map[string]string `json:"pathParameters"`
	QueryStringParameters map[string]string `json:"queryStringParameters"`
	HeaderParameters      map[string]string `json:"headerParameters"`
	StageVariables        map[string]string `json:"stageVariables"`
	RequestContext        SCFRequestContext `json:"requestContext"`
}

// rawValues is an event's headers or query string, each value undecoded. It is a named type
// because decoding a struct, encoding/json looks up each field type's pointer type: for an
// unnamed map type the binary may hold none, and reflect then searches all the binary's types
// by name (once a process: an SCF function's first event paid it, 3 samples of 5 in its decode).
type rawValues map[string]json.RawMessage

// SCFRequestContext is the gateway's part of an SCFAPIGatewayEvent.
type SCFRequestContext struct {
	ServiceID  string      `json:"serviceId"`
	Path       string      `json:"path"` // the API's path pattern, e.g. /test/{path}
	HTTPMethod string      `json:"httpMethod"`
	RequestID  string      `json:"requestId"`
	SourceIP   string      `json:"sourceIp"`
	Stage      string      `json:"stage"`
	Identity   SCFIdentity `json:"identity"`
}

// SCFIdentity is the caller the gateway authenticated: the SecretId of its key pair, if any.
type SCFIdentity struct {
	SecretID string `json:"secretId"`
}

// SCFAPIGatewayResponse is an integrated response: each header is a string, or a list of strings
// for a repeated header such as Set-Cookie.
type SCFAPIGatewayResponse struct {
	IsBase64Encoded bool           `json:"isBase64Encoded"`
	StatusCode      int            `json:"statusCode"`
	Headers         map[string]any `json:"headers"`
	Body            string         `json:"body"`
}

func parseSCFAPIGateway(raw []byte) (httpRequest, error) {
	var ev SCFAPIGatewayEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return httpRequest{}, err
	}
	req, err := ev.request()
	if err != nil {
		return httpRequest{}, err
	}
	rc := ev.RequestContext
	req.gateway = Gateway{SourceIP: rc.SourceIP, RequestID: rc.RequestID, Stage: rc.Stage, Identity: rc.Identity.SecretID}
	return req, nil
}

// scfHeaders reads header values that are strings (as documented) or lists of strings. Names
// that differ only in case are added in sorted order, so that the values' order, and what
// Header.Get returns, never depend on a map's.
func scfHeaders(in map[string]json.RawMessage) (http.Header, error) {
	h := make(http.Header, len(in))
	for _, name := range slices.Sorted(maps.Keys(in)) {
		values, err := stringOrList(in[name])
		if err != nil {
			return nil, fmt.Errorf("header %q: %w", scan.Shorten(name, 64), err)
		}
		for _, v := range values {
			h.Add(name, v)
		}
	}
	return h, nil
}

// scfQuery reads the queryString object: each value a string, a list of strings, or true for a
// parameter without a value; numbers keep their JSON text; false and null mean absent.
func scfQuery(in map[string]json.RawMessage) (url.Values, error) {
	q := make(url.Values, len(in))
	for name, raw := range in {
		var flag bool
		if json.Unmarshal(raw, &flag) == nil {
			if flag {
				q.Add(name, "")
			}
			continue
		}
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			q.Add(name, n.String())
			continue
		}
		values, err := stringOrList(raw)
		if err != nil {
			return nil, fmt.Errorf("query parameter %q: %w", scan.Shorten(name, 64), err)
		}
		q[name] = append(q[name], values...)
	}
	return q, nil
}

// stringOrList reads a JSON string or list of strings; null is no value.
func stringOrList(raw json.RawMessage) ([]string, error) {
	var s *string
	if json.Unmarshal(raw, &s) == nil {
		if s == nil {
			return nil, nil
		}
		return []string{*s}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("must be a string or a list of strings, not %s", scan.Shorten(string(raw), 32))
	}
	return list, nil
}

func encodeSCFAPIGateway(_ httpRequest, resp response) any {
	body, isBase64 := resp.encodedBody()
	headers := make(map[string]any, len(resp.header))
	for k, vs := range resp.header {
		switch len(vs) {
		case 0:
		case 1:
			headers[k] = vs[0]
		default:
			headers[k] = vs
		}
	}
	return SCFAPIGatewayResponse{IsBase64Encoded: isBase64, StatusCode: resp.status, Headers: headers, Body: body}
}

// appendJSON appends the response as encoding/json writes it (map keys sorted) without escaping
// HTML's characters (marshalReply): encoding it reflectively was a third of an SCF function's
// first answer beyond serving the page. A header value is a string or a list of strings, as
// encodeSCFAPIGateway makes them; any other value is written as JSON null.
func (r SCFAPIGatewayResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"isBase64Encoded":`...)
	b = strconv.AppendBool(b, r.IsBase64Encoded)
	b = append(b, `,"statusCode":`...)
	b = strconv.AppendInt(b, int64(r.StatusCode), 10)
	b = append(b, `,"headers":`...)
	b = appendJSONObject(b, r.Headers, func(b []byte, v any) []byte {
		switch v := v.(type) {
		case string:
			return appendJSONString(b, v)
		case []string:
			return appendJSONStrings(b, v)
		}
		return append(b, "null"...)
	})
	b = append(b, `,"body":`...)
	return append(appendJSONString(b, r.Body), '}')
}
