package platform

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vulscan/vulscan/functions/scan"
)

// MaxResponseBytes bounds what a handler may answer through a gateway: Lambda and SCF refuse
// synchronous results above 6 MB, and base64 grows a body by a third.
const MaxResponseBytes = 4 << 20

// MaxReplyBytes bounds the encoded reply, the invocation's result: Lambda refuses synchronous
// results above 6 MiB, SCF above "6MB" (its status 407), read here as the smaller 6,000,000
// bytes. A text body within MaxResponseBytes may still exceed it once written as a JSON string,
// where each quote and backslash takes two bytes; MaxResponseBytes in base64 stays below it.
const MaxReplyBytes = 6_000_000

// httpRequest is an HTTP event in gateway-neutral form: every adapter's parse fills one, and one
// function turns it into an *http.Request.
type httpRequest struct {
	method   string
	path     string // as the gateway gives it, decoded or percent-encoded
	rawQuery string // already encoded
	header   http.Header
	body     string // as the event holds it
	base64   bool   // body is base64
	gateway  Gateway
	// multiValue: the event carried multi-value headers, so the reply may too (ALB).
	multiValue bool
}

// response is what the handler answered, in gateway-neutral form.
type response struct {
	status int
	header http.Header
	body   []byte
}

// httpAdapter reads one gateway's event and writes its reply. httpsOnly: the front end takes
// nothing but HTTPS (function URLs, Tencent's and AWS's, are https:// addresses only, and so
// are AWS API Gateway's REST and HTTP APIs); Tencent's API gateway and ALB may take plain HTTP.
type httpAdapter struct {
	parse     func(raw []byte) (httpRequest, error)
	encode    func(req httpRequest, resp response) any
	httpsOnly bool
}

var httpAdapters = map[Kind]httpAdapter{
	KindSCFAPIGateway: {parse: parseSCFAPIGateway, encode: encodeSCFAPIGateway},
	KindSCFURL:        {parse: parseSCFFunctionURL, encode: encodeSCFAPIGateway, httpsOnly: true},
	KindAPIGatewayV1:  {parse: parseAPIGatewayV1, encode: encodeAPIGatewayV1, httpsOnly: true},
	KindAPIGatewayV2:  {parse: parseAPIGatewayV2, encode: encodeAPIGatewayV2, httpsOnly: true},
	KindFunctionURL:   {parse: parseAPIGatewayV2, encode: encodeAPIGatewayV2, httpsOnly: true},
	KindALB:           {parse: parseALB, encode: encodeALB},
}

// errBodyTooLarge is answered 413 rather than failing the invocation: the client sent it.
var errBodyTooLarge = errors.New("request body too large")

func (d *Dispatcher) handleHTTP(ctx context.Context, kind Kind, inv Invocation, raw []byte) ([]byte, error) {
	adapter, ok := httpAdapters[kind]
	if !ok || d.opts.Handler == nil {
		return nil, fmt.Errorf("platform: %s event: no HTTP handler configured", kind)
	}
	req, err := adapter.parse(raw)
	if err != nil {
		// Answered, not failed: the platform would answer a failed invocation 502, which the API's
		// clients read as TCSS's refusal and retry. The error-level log and the record keep it
		// visible to the operator.
		d.logger.ErrorContext(ctx, "malformed HTTP event", "kind", kind, "request_id", inv.RequestID, "err", err)
		d.recordUnreadable(ctx, inv, "The HTTP event cannot be read.", fmt.Errorf("malformed %s event: %w", kind, err))
		path, multiValue := eventPath(raw)
		req = httpRequest{multiValue: multiValue}
		return marshalReply(adapter.encode(req, d.refusal(path, http.StatusBadRequest, "The request cannot be read.")))
	}
	req.gateway.Kind = kind
	req.gateway.FunctionRequestID = inv.RequestID
	req.gateway.HTTPS = adapter.httpsOnly
	reply, err := marshalReply(adapter.encode(req, d.serve(ctx, req)))
	if err != nil || len(reply) <= MaxReplyBytes {
		return reply, err
	}
	// The platform would refuse the result and answer the client with its own bare error.
	d.logger.ErrorContext(ctx, "reply too large for the platform", "request_id", inv.RequestID, "path", req.path,
		"reply_bytes", len(reply), "limit", MaxReplyBytes)
	return marshalReply(adapter.encode(req, d.tooLarge(req.path)))
}

// serve runs the handler on req and records its answer. A body too large or not decodable still
// reaches the handler, as a body whose reads fail (as net/http's server hands over a body
// http.MaxBytesReader cuts off): the handler authenticates the caller, answers in the API's
// format or the page's, and records the refusal, as it does in HTTP mode.
func (d *Dispatcher) serve(ctx context.Context, req httpRequest) response {
	body, bodyErr := decodeBody(req.body, req.base64, d.opts.MaxBodyBytes)
	if errors.Is(bodyErr, errBodyTooLarge) {
		bodyErr = &http.MaxBytesError{Limit: d.opts.MaxBodyBytes}
	} else if bodyErr != nil {
		bodyErr = fmt.Errorf("the request body is not valid base64: %w", bodyErr)
	}
	if d.opts.RequestContext != nil {
		ctx = d.opts.RequestContext(ctx, req.gateway)
	}
	r, err := newHTTPRequest(ctx, req, body)
	if err != nil {
		d.logger.ErrorContext(ctx, "HTTP event refused", "request_id", req.gateway.FunctionRequestID, "err", err)
		return d.refusal(req.path, http.StatusBadRequest, "The request cannot be read.")
	}
	if bodyErr != nil {
		d.logger.WarnContext(ctx, "HTTP event's body cannot be read; the handler answers", "request_id", req.gateway.FunctionRequestID,
			"path", r.URL.Path, "err", bodyErr)
		r.Body, r.ContentLength = io.NopCloser(failingReader{bodyErr}), -1
		r.Header.Del("Content-Length")
	}
	w := &recorder{header: http.Header{}, head: r.Method == http.MethodHead}
	aborted := d.run(w, r)
	if w.overflow {
		d.logger.ErrorContext(ctx, "response too large for the gateway", "request_id", req.gateway.FunctionRequestID,
			"path", r.URL.Path, "limit", MaxResponseBytes)
		return d.tooLarge(r.URL.Path)
	}
	if aborted {
		// What the handler wrote is a part of its answer: sent on, it would arrive as whole.
		d.logger.ErrorContext(ctx, "handler aborted its answer", "request_id", req.gateway.FunctionRequestID, "path", r.URL.Path)
		return d.refusal(r.URL.Path, http.StatusInternalServerError, "The answer could not be completed. Try again later.")
	}
	return w.response()
}

// tooLarge is the answer to a request whose answer a function cannot return. Mostly a download
// of a large audit log: it says what the limit is and the way around it, which "Internal error"
// alone did not.
func (d *Dispatcher) tooLarge(path string) response {
	return d.refusal(path, http.StatusInternalServerError, fmt.Sprintf(
		"The answer is larger than a function can return (%d MiB). Narrow it (the audit download's from and to dates), "+
			"or read the whole audit log with `vulscan audit export`.", MaxResponseBytes>>20))
}

// refusal is the answer to a request refused before the handler could serve it, in the
// handler's error format when Options.Refuse gives one, else plain text.
func (d *Dispatcher) refusal(path string, status int, message string) response {
	if d.opts.Refuse == nil {
		return plainResponse(status, message)
	}
	w := &recorder{header: http.Header{}}
	d.opts.Refuse(w, path, status, message)
	return w.response()
}

// eventPath reads the path of an HTTP event that cannot be read as a whole (path: SCF's events,
// REST APIs, ALB; rawPath: payload 2.0), and whether it carries multi-value headers (ALB's reply
// must then too); "" when even that cannot be read.
func eventPath(raw []byte) (path string, multiValue bool) {
	var ev struct {
		Path       any `json:"path"`
		RawPath    any `json:"rawPath"`
		MultiValue any `json:"multiValueHeaders"`
	}
	if json.Unmarshal(raw, &ev) != nil {
		return "", false
	}
	for _, p := range []any{ev.Path, ev.RawPath} {
		if s, ok := p.(string); ok && s != "" {
			path = s
			break
		}
	}
	return path, ev.MultiValue != nil
}

// run serves r into w and reports whether the handler aborted its answer on purpose
// (panic(http.ErrAbortHandler), as the audit download does when a write fails once its file has
// begun). net/http's server drops the connection then; here the panic would end the invocation
// instead of answering it, and Lambda's runtime exits the instance after a panic.
func (d *Dispatcher) run(w http.ResponseWriter, r *http.Request) (aborted bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			aborted = true
		}
	}()
	d.opts.Handler.ServeHTTP(w, r)
	return false
}

// failingReader is a body whose every read fails with err.
type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func plainResponse(status int, text string) response {
	h := http.Header{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	return response{status: status, header: h, body: []byte(text + "\n")}
}

// decodeBody returns the event's body as bytes, refusing more than limit bytes before decoding.
func decodeBody(body string, isBase64 bool, limit int64) ([]byte, error) {
	if !isBase64 {
		if int64(len(body)) > limit {
			return nil, errBodyTooLarge
		}
		return []byte(body), nil
	}
	if int64(base64.StdEncoding.DecodedLen(len(body))) > limit+2 {
		return nil, errBodyTooLarge
	}
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, errBodyTooLarge
	}
	return b, nil
}

// newHTTPRequest builds the server-side request a handler expects, as net/http's server would.
func newHTTPRequest(ctx context.Context, req httpRequest, body []byte) (*http.Request, error) {
	u, err := requestURL(req.path, req.rawQuery)
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequestWithContext(ctx, req.method, "/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("method %q: %w", req.method, err)
	}
	r.URL = u
	r.RequestURI = u.RequestURI()
	r.Header = req.header
	r.Host = req.header.Get("Host")
	if r.Host == "" {
		r.Host = "localhost"
	}
	r.Header.Del("Host") // the server moves it to r.Host
	r.ContentLength = int64(len(body))
	if r.Header.Get("Content-Length") != "" {
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	if r.ContentLength == 0 {
		r.Body = http.NoBody
	}
	if ip := net.ParseIP(req.gateway.SourceIP); ip != nil {
		r.RemoteAddr = net.JoinHostPort(ip.String(), "0")
	}
	return r, nil
}

// requestURL is the URL of a server-side request: path and query only.
func requestURL(path, rawQuery string) (*url.URL, error) {
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("path %q does not start with /", scan.Shorten(path, 64))
	}
	u := &url.URL{Path: path, RawQuery: rawQuery}
	if strings.Contains(path, "%") {
		decoded, err := url.PathUnescape(path)
		if err != nil {
			return nil, fmt.Errorf("path %q: %w", scan.Shorten(path, 64), err)
		}
		u.Path, u.RawPath = decoded, path
	}
	return u, nil
}

// recorder is the http.ResponseWriter the handler writes to.
type recorder struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	overflow bool
	head     bool // the request is HEAD: the answer carries the headers a GET would, no body
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *recorder) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.body.Len()+len(p) > MaxResponseBytes {
		w.overflow = true
		return 0, errors.New("platform: response larger than the gateway accepts")
	}
	return w.body.Write(p)
}

// response is what was written, with net/http's defaults: 200 when the handler set no status,
// a sniffed Content-Type when it set none, and for HEAD the headers without the body (with the
// body's length, when the handler did not say it).
func (w *recorder) response() response {
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	if w.body.Len() > 0 && w.header.Get("Content-Type") == "" {
		w.header.Set("Content-Type", http.DetectContentType(w.body.Bytes()))
	}
	if w.head {
		if w.body.Len() > 0 && w.header.Get("Content-Length") == "" {
			w.header.Set("Content-Length", strconv.Itoa(w.body.Len()))
		}
		return response{status: status, header: w.header}
	}
	return response{status: status, header: w.header, body: w.body.Bytes()}
}

// encodedBody is the body as a gateway reply carries it: text as is, anything else in base64.
func (resp response) encodedBody() (body string, isBase64 bool) {
	if len(resp.body) == 0 {
		return "", false
	}
	if isText(resp.header) && utf8.Valid(resp.body) {
		return string(resp.body), false
	}
	return base64.StdEncoding.EncodeToString(resp.body), true
}

// isText says whether a body with these headers is text a gateway may carry as a JSON string.
func isText(h http.Header) bool {
	if enc := h.Get("Content-Encoding"); enc != "" && enc != "identity" {
		return false
	}
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/javascript", "application/xml",
		"application/x-www-form-urlencoded", "image/svg+xml":
		return true
	}
	return false
}

// singleHeaders joins repeated headers with ", " (RFC 9110 §5.3), for replies that take one
// string per name. skip names headers the caller carries otherwise (Set-Cookie).
func singleHeaders(h http.Header, skip string) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		if k != skip && len(vs) > 0 {
			out[k] = strings.Join(vs, ", ")
		}
	}
	return out
}
