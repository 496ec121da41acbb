package platform

import (
	"encoding/json"
	"net"
	"strings"
)

// SCFFunctionURLHeaderRemoteAddr is the header in which an SCF function URL passes the client's
// address to an event function (the event has no requestContext.sourceIp).
const SCFFunctionURLHeaderRemoteAddr = "x-scf-remote-addr"

// SCFFunctionURLEvent is the event an SCF function URL sends an event function
// (https://www.tencentcloud.com/document/product/583/69491, in Chinese 583/96099): the API-gateway
// event without requestContext, headerParameters, pathParameters, queryStringParameters and
// isBase64Encoded. Headers arrive in lower case; queryString may be absent. IsBase64Encoded is
// read in case a binary body comes that way, as the API-gateway event does: the documentation
// shows none.
type SCFFunctionURLEvent struct {
	HTTPMethod      string    `json:"httpMethod"`
	Path            string    `json:"path"`
	Headers         rawValues `json:"headers"`
	QueryString     rawValues `json:"queryString"`
	Body            string    `json:"body"`
	IsBase64Encoded bool      `json:"isBase64Encoded"`
}

// isSCFFunctionURL says whether ev is a function URL event: an HTTP method, a path and headers
// with no requestContext (every API-gateway shape, Tencent's and AWS's, has one) and none of the
// AWS REST API's own keys.
func (ev event) isSCFFunctionURL() bool {
	return ev.has("httpMethod") && ev.has("path") && ev.has("headers") &&
		!ev.has("requestContext") && !ev.has("resource") && !ev.has("multiValueHeaders")
}

func parseSCFFunctionURL(raw []byte) (httpRequest, error) {
	var ev SCFFunctionURLEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return httpRequest{}, err
	}
	req, err := ev.request()
	if err != nil {
		return httpRequest{}, err
	}
	req.gateway = Gateway{SourceIP: remoteAddr(platformHeader(ev.Headers, SCFFunctionURLHeaderRemoteAddr))}
	return req, nil
}

// platformHeader is the one value of the header the platform itself writes, under the exact
// lower-case name it writes: a client's copy in another case (which a lookup by canonical name
// could return first) or a second value is not the platform's, and gives nothing.
func platformHeader(headers map[string]json.RawMessage, name string) string {
	values, err := stringOrList(headers[name])
	if err != nil || len(values) != 1 {
		return ""
	}
	return values[0]
}

// request is the HTTP request of ev, the part a function URL's event and an API gateway's share;
// the caller adds what its event says of the gateway.
func (ev SCFFunctionURLEvent) request() (httpRequest, error) {
	header, err := scfHeaders(ev.Headers)
	if err != nil {
		return httpRequest{}, err
	}
	query, err := scfQuery(ev.QueryString)
	if err != nil {
		return httpRequest{}, err
	}
	return httpRequest{method: ev.HTTPMethod, path: ev.Path, rawQuery: query.Encode(), header: header,
		body: ev.Body, base64: ev.IsBase64Encoded}, nil
}

// remoteAddr is the client address of x-scf-remote-addr: an IP, possibly with a port. Anything
// else is no address.
func remoteAddr(v string) string {
	v = strings.TrimSpace(v)
	if host, _, err := net.SplitHostPort(v); err == nil {
		v = host
	}
	if ip := net.ParseIP(v); ip != nil {
		return ip.String()
	}
	return ""
}
