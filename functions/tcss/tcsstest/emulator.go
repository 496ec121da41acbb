// Package tcsstest emulates Tencent Cloud TCSS (tcss.tencentcloudapi.com, API 2020-11-01) for
// CreateVulScanTask and DescribeVulScanInfo, and STS (sts.tencentcloudapi.com, API 2018-08-13) for
// AssumeRole, on one handler: it verifies TC3-HMAC-SHA256 signatures as Tencent does, answers in
// Tencent's response shape (HTTP 200 with Response.Error), validates parameters, enforces the
// per-action rate limit, hands out task IDs whose scans advance with an injectable clock, issues
// temporary keys for configured roles that it then accepts until they expire on that clock, and
// lets tests inject faults. Tests run it in-process; `vulscan emulator` serves it.
//
// It also lists a seeded asset inventory (DescribeAssetImageList, DescribeAssetImageRegistryList,
// DescribeAssetClusterList) for the pickers. A filter without ExactMatch matches substrings
// (case-insensitively), as TCSS's does under either reading of that field; with it, the emulator
// follows Tencent's SDKs' description, "whether to match fuzzily" (是否模糊查询): true matches
// substrings, false the whole value. That description contradicts the field's name, and Tencent's
// Terraform provider sets it true to look one cluster up by ID, so vulscan never sends it.
package tcsstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Service and Version name the API the emulator models.
const (
	Service = "tcss"
	Version = "2020-11-01"
)

// MaxBodyBytes bounds a request body; larger ones get RequestSizeLimitExceeded. (Tencent allows
// 10 MB for TC3 POSTs; our two actions never need more than a few kilobytes.)
const MaxBodyBytes = 1 << 20

// Key is an API key pair the emulator accepts. A Key with a Token is a temporary key: its
// requests must carry X-TC-Token equal to Token.
type Key struct {
	SecretID, SecretKey, Token string
}

// RandomKey makes a fresh permanent key pair shaped like Tencent's (AKID… / 32 characters).
func RandomKey() Key {
	return Key{SecretID: "AKID" + randomHex(16), SecretKey: randomHex(16)}
}

// Options configure an Emulator. The zero value works but accepts no key.
type Options struct {
	// Keys are the accepted key pairs.
	Keys []Key
	// Roles are the CAM role ARNs, qcs::cam::uin/<uin>:roleName/<name> (or :role/<id>), that any
	// accepted key may assume through STS AssumeRole.
	Roles []string
	// OIDCProviders are the identity providers whose tokens may assume Roles through
	// AssumeRoleWithWebIdentity (e.g. an AWSIssuer).
	OIDCProviders []OIDCProvider
	// Now is the emulator's clock for signature expiry, rate limiting and scan progress;
	// default time.Now.
	Now func() time.Time
	// RatePerSecond is the per-action limit per clock second; default 20 (TCSS's limit).
	RatePerSecond int
	// ScanDuration is how long a scan takes from SCANNING to SCANNED on Now's clock; default 2m.
	ScanDuration time.Duration
	// FirstTaskID is the first scan task ID handed out; default 36001. An emulator that outlives
	// one process run (vulscan's local one) seeds it from the clock, so that task IDs never
	// repeat across restarts while an audit log remembers the old ones.
	FirstTaskID int64
	// Logger receives one line per request (action, outcome, request ID, never a key);
	// default discards.
	Logger *slog.Logger
}

// Fault makes the emulator misbehave for an action.
type Fault struct {
	// Code and Message, if Code is set, answer this Tencent error instead of handling the call.
	Code, Message string
	// Latency delays the answer; the delay ends early if the client goes away.
	Latency time.Duration
	// Drop closes the connection without answering.
	Drop bool
	// Times is how many requests the fault applies to; 0 means every request until cleared.
	Times int
}

// Emulator is an http.Handler that behaves like TCSS. It is safe for concurrent use.
type Emulator struct {
	keys      map[string]Key // the configured keys; never changed after New
	roles     map[string]bool
	providers map[string]OIDCProvider
	now       func() time.Time
	rate      int
	duration  time.Duration
	log       *slog.Logger

	mu       sync.Mutex
	calls    map[string]int
	callsBy  map[signer]int
	faults   map[string]*Fault
	window   map[string]rateWindow
	scans    scanState
	issued   map[string]issuedKey // temporary keys handed out by AssumeRole, by SecretId
	issuance []Key                // the same, in the order they were issued
}

// signer is an action and the SecretId that signed a call of it.
type signer struct{ action, secretID string }

type rateWindow struct {
	second int64
	count  int
}

// New returns an Emulator configured by opts.
func New(opts Options) *Emulator {
	e := &Emulator{
		keys:     map[string]Key{},
		roles:    map[string]bool{},
		now:      opts.Now,
		rate:     opts.RatePerSecond,
		duration: opts.ScanDuration,
		log:      opts.Logger,
		calls:    map[string]int{},
		callsBy:  map[signer]int{},
		issued:   map[string]issuedKey{},
		faults:   map[string]*Fault{},
		window:   map[string]rateWindow{},
	}
	for _, k := range opts.Keys {
		e.keys[k.SecretID] = k
	}
	for _, arn := range opts.Roles {
		e.roles[arn] = true
	}
	e.providers = map[string]OIDCProvider{}
	for _, p := range opts.OIDCProviders {
		e.providers[p.ID] = p
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.rate <= 0 {
		e.rate = 20
	}
	if e.duration <= 0 {
		e.duration = 2 * time.Minute
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.scans.nextID = firstTaskID
	if opts.FirstTaskID > 0 {
		e.scans.nextID = opts.FirstTaskID
	}
	return e
}

// NewServer starts an Emulator on a loopback httptest.Server; the caller closes the server.
// Point clients at srv.URL (or its host:port with scheme HTTP).
func NewServer(opts Options) (*Emulator, *httptest.Server) {
	e := New(opts)
	return e, httptest.NewServer(e)
}

// Calls reports how many requests for action passed authentication and reached the action
// (including those then refused by the rate limit, a fault or parameter validation).
func (e *Emulator) Calls(action string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[action]
}

// CallsBy reports how many of the requests Calls(action) counts were signed with secretID.
func (e *Emulator) CallsBy(action, secretID string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.callsBy[signer{action, secretID}]
}

// InjectFault makes requests for action (or every action, for "*") misbehave as f says,
// replacing any earlier fault for it.
func (e *Emulator) InjectFault(action string, f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults[action] = &f
}

// ClearFaults removes every injected fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.faults)
}

// apiError is a Tencent error answer.
type apiError struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
}

// handler answers one action's parameters with a response body (without RequestId) or an error.
type handler func(e *Emulator, bind binder) (map[string]any, *apiError)

// api is what the emulator knows of one action: the service its signature is scoped to, its API
// version and its handler.
type api struct {
	service, version string
	handle           handler
}

var actions = map[string]api{
	"CreateVulScanTask":             {Service, Version, (*Emulator).createVulScanTask},
	"DescribeVulScanInfo":           {Service, Version, (*Emulator).describeVulScanInfo},
	"AssumeRole":                    {STSService, STSVersion, (*Emulator).assumeRole},
	ActionAssumeRoleWithWebIdentity: {STSService, STSVersion, (*Emulator).assumeRoleWithWebIdentity},
	// The asset lists behind the pickers (inventory.go).
	"DescribeAssetImageList":         {Service, Version, (*Emulator).describeAssetImageList},
	"DescribeAssetImageRegistryList": {Service, Version, (*Emulator).describeAssetImageRegistryList},
	"DescribeAssetClusterList":       {Service, Version, (*Emulator).describeAssetClusterList},
	"DescribeVulScanLocalImageList":  {Service, Version, (*Emulator).describeVulScanLocalImageList},
}

// serviceOf is the service an action's signature must be scoped to; TCSS's for unknown actions,
// which are refused as InvalidAction once the caller is authenticated.
func serviceOf(action string) string {
	if a, ok := actions[action]; ok {
		return a.service
	}
	return Service
}

// ServeHTTP answers one API call. Every answer is HTTP 200 with a JSON Response, as TCSS's are.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	action := r.Header.Get("X-TC-Action") // serve corrects it for v1 requests, which carry it in the form
	resp, aerr, dropped := e.serve(w, r, &action)
	if dropped {
		e.log.Info("tcss call", "action", action, "outcome", "dropped", "request_id", requestID)
		return
	}
	out := map[string]any{}
	outcome := "ok"
	if aerr != nil {
		out["Error"] = aerr
		outcome = aerr.Code
	} else {
		for k, v := range resp {
			out[k] = v
		}
	}
	out["RequestId"] = requestID
	e.log.Info("tcss call", "action", action, "outcome", outcome, "request_id", requestID)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(map[string]any{"Response": out})
}

// serve runs the checks in TCSS's order. dropped means the connection was dropped or the client
// went away: nothing is to be written.
func (e *Emulator) serve(w http.ResponseWriter, r *http.Request, actionOut *string) (resp map[string]any, aerr *apiError, dropped bool) {
	if r.Method != http.MethodPost {
		return nil, &apiError{Code: "UnsupportedProtocol", Message: "Only POST requests are supported by this emulator."}, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, &apiError{Code: "InvalidRequest", Message: "The request body could not be read."}, false
	}
	if len(body) > MaxBodyBytes {
		return nil, &apiError{Code: "RequestSizeLimitExceeded", Message: "The request body exceeds 1 MiB."}, false
	}
	var c *call
	switch mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt {
	case "application/json":
		c, aerr = e.readTC3(r, body)
	case "application/x-www-form-urlencoded":
		c, aerr = e.readV1(r, body)
	default:
		aerr = &apiError{Code: "InvalidParameter", Message: "Content-Type must be application/json (TC3-HMAC-SHA256) or " +
			"application/x-www-form-urlencoded (HmacSHA256, HmacSHA1)."}
	}
	if aerr != nil {
		return nil, aerr, false
	}
	action := c.action
	*actionOut = action
	a, ok := actions[action]
	if !ok {
		return nil, &apiError{Code: "InvalidAction", Message: "The action `" + action + "` does not exist."}, false
	}
	switch c.version {
	case a.version:
	case "":
		return nil, &apiError{Code: "MissingParameter", Message: "The request is missing the required parameter Version (X-TC-Version)."}, false
	default:
		return nil, &apiError{Code: "NoSuchVersion", Message: "The API version `" + c.version + "` does not exist for " + a.service + "."}, false
	}
	e.mu.Lock()
	e.calls[action]++
	e.callsBy[signer{action, c.secretID}]++
	fault := e.takeFault(action)
	e.mu.Unlock()
	if fault != nil {
		if !sleepCtx(r.Context(), fault.Latency) {
			return nil, nil, true
		}
		if fault.Drop {
			dropConnection(w)
			return nil, nil, true
		}
		if fault.Code != "" {
			return nil, &apiError{Code: fault.Code, Message: fault.Message}, false
		}
	}
	if !e.allow(action) {
		return nil, &apiError{Code: "RequestLimitExceeded", Message: "Your request rate for " + action + " exceeds the limit of " +
			strconv.Itoa(e.rate) + " per second."}, false
	}
	resp, aerr = a.handle(e, c.bind)
	return resp, aerr, false
}

// takeFault returns the fault for action, counting down its Times; e.mu must be held.
func (e *Emulator) takeFault(action string) *Fault {
	key := action
	f := e.faults[key]
	if f == nil {
		key = "*"
		f = e.faults[key]
	}
	if f == nil {
		return nil
	}
	taken := *f
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			delete(e.faults, key)
		}
	}
	return &taken
}

// allow counts a call against action's budget for the current clock second.
func (e *Emulator) allow(action string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	sec := e.now().Unix()
	w := e.window[action]
	if w.second != sec {
		w = rateWindow{second: sec}
	}
	if w.count >= e.rate {
		e.window[action] = w
		return false
	}
	w.count++
	e.window[action] = w
	return true
}

// sleepCtx waits d unless ctx ends first; it reports whether the full wait happened.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dropConnection closes the client's connection without an HTTP answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): abort the handler, which resets the stream.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// decodeParams reads the body as a JSON object of parameters. An empty body is no parameters.
func decodeParams(body []byte) (map[string]json.RawMessage, *apiError) {
	params := map[string]json.RawMessage{}
	if len(strings.TrimSpace(string(body))) == 0 {
		return params, nil
	}
	if err := json.Unmarshal(body, &params); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, &apiError{Code: "InvalidParameter.ParsingError", Message: "The request body is not valid JSON."}
		}
		return nil, &apiError{Code: "InvalidParameter", Message: "The request body must be a JSON object."}
	}
	return params, nil
}

// newRequestID returns a random (version 4) UUID, as Tencent's RequestIds are.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
