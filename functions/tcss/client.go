// Package tcss is vulscan's client of the Tencent Cloud TCSS API (version 2020-11-01). It declares
// typed models for CreateVulScanTask and DescribeVulScanInfo, sends them through the SDK's common
// client (TC3 signing), paces itself per action, retries RequestLimitExceeded with backoff, never
// retries a CreateVulScanTask whose answer was lost, and reads its credential from the
// environment on every call, or assumes a CAM role through STS AssumeRole with it
// (CredentialFromEnv). *Client implements scan.Scanner.
package tcss

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/vulscan/vulscan/functions/scan"
)

// DefaultEndpoint is TCSS's public endpoint (mainland China site; the international one is
// tcss.intl.tencentcloudapi.com).
const DefaultEndpoint = "tcss.tencentcloudapi.com"

const (
	defaultMaxRateLimitRetries = 3
	// maxReadRetries bounds the network-failure retries of read-only actions.
	maxReadRetries = 2
	// maxResponseBytes bounds what is read of an answer; TCSS's answers here are tiny.
	maxResponseBytes = 1 << 20
	// requestTimeoutSeconds is a safety net behind the caller's context deadline.
	requestTimeoutSeconds = 60
)

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	// Endpoint is a host name such as tcss.tencentcloudapi.com (HTTPS), a full
	// http(s)://host:port URL (proxies), or an emulator's URL with EmulatorPrefix
	// ("emulator:http://127.0.0.1:9100"). Default DefaultEndpoint. The value "emulator" is
	// refused: the caller resolves it by starting the emulator and passing its URL.
	Endpoint string
	// Region such as ap-guangzhou; optional for TCSS.
	Region string
	// Credential signs requests; nil means EnvCredential(os.Getenv).
	Credential common.CredentialIface
	// Transport carries the requests; nil means a new http.Transport of this Client's own.
	Transport http.RoundTripper
	// Limiter paces the calls; nil means DefaultPacer(), shared by the whole process.
	Limiter *Pacer
	// MaxRateLimitRetries is how often a call answered RequestLimitExceeded is retried;
	// 0 means 3, a negative value means never.
	MaxRateLimitRetries int
	// Backoff says how long to wait before retry number attempt (0-based); nil means
	// exponential from 250 ms, capped at 4 s, with jitter.
	Backoff func(attempt int) time.Duration
	// Logger receives retry warnings; nil means slog.Default(). Secrets are never logged.
	Logger *slog.Logger
}

// Client calls TCSS. It is safe for concurrent use.
type Client struct {
	// sdk builds the SDK's client on the first call and returns it from then on. Building it
	// (the SDK's reflective transport clone, our own transport, its logger) cost 0.17 to 0.5 ms
	// in a fresh process, which a function paid before its first event although the form
	// (GET /) never calls TCSS; New still checks everything that could make building it fail.
	sdk                 func() *common.Client
	endpoint            string // as TCSSEndpoint reports it
	cred                common.CredentialIface
	pacer               *Pacer
	maxRateLimitRetries int
	backoff             func(int) time.Duration
	log                 *slog.Logger
}

var _ scan.Scanner = (*Client)(nil)

// New returns a Client for cfg, or an error naming what is wrong with cfg.
func New(cfg Config) (*Client, error) {
	c := &Client{
		cred:                cfg.Credential,
		pacer:               cfg.Limiter,
		maxRateLimitRetries: cfg.MaxRateLimitRetries,
		backoff:             cfg.Backoff,
		log:                 cfg.Logger,
	}
	if c.cred == nil {
		c.cred = EnvCredential(os.Getenv)
	}
	if c.pacer == nil {
		c.pacer = DefaultPacer()
	}
	switch {
	case c.maxRateLimitRetries == 0:
		c.maxRateLimitRetries = defaultMaxRateLimitRetries
	case c.maxRateLimitRetries < 0:
		c.maxRateLimitRetries = 0
	}
	if c.backoff == nil {
		c.backoff = DefaultBackoff
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	dial, record, err := splitEmulator(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("tcss: %w", err)
	}
	c.endpoint = record
	scheme, host, err := checkSDKConfig(dial, DefaultEndpoint, cfg.Region)
	if err != nil {
		return nil, fmt.Errorf("tcss: %w", err)
	}
	if scheme == "HTTP" && !strings.HasPrefix(record, EmulatorPrefix) && !LoopbackHost(host) {
		return nil, fmt.Errorf("tcss: endpoint %q: plain http would carry every call and its session token unencrypted "+
			"across the network; use https, or name an emulator as %shttp://host:port", dial, EmulatorPrefix)
	}
	cred, region, transport := c.cred, cfg.Region, cfg.Transport
	c.sdk = sync.OnceValue(func() *common.Client {
		return buildSDKClient(cred, scheme, host, region, transport)
	})
	return c, nil
}

// newSDKClient returns the SDK's common client signing with cred, sending to endpoint (see
// Config.Endpoint; empty means defaultHost) over transport (nil: a transport of its own), with
// the SDK's retries and region fail-over off and every answer bounded. TCSS and STS clients
// are both made here.
func newSDKClient(cred common.CredentialIface, endpoint, defaultHost, region string, transport http.RoundTripper) (*common.Client, error) {
	scheme, host, err := checkSDKConfig(endpoint, defaultHost, region)
	if err != nil {
		return nil, err
	}
	if scheme == "HTTP" && !LoopbackHost(host) {
		// STS answers with a temporary key: over plain http it would cross the network in clear.
		return nil, fmt.Errorf("endpoint %q: plain http would carry the signed request and the temporary key it "+
			"returns unencrypted across the network; use https (plain http only on localhost or a loopback address)", endpoint)
	}
	return buildSDKClient(cred, scheme, host, region, transport), nil
}

// checkSDKConfig is every check newSDKClient makes before building: the endpoint's scheme and
// host, the region's name, and no shared DefaultHttpClient.
func checkSDKConfig(endpoint, defaultHost, region string) (scheme, host string, err error) {
	scheme, host, err = parseEndpoint(endpoint, defaultHost)
	if err != nil {
		return "", "", err
	}
	if !regionName(region) {
		return "", "", fmt.Errorf("region %q is not a region name such as ap-guangzhou", scan.Shorten(region, 32))
	}
	if common.DefaultHttpClient != nil {
		// The SDK would hand every client that shared http.Client and then set its Timeout and
		// Transport: two clients would overwrite each other's.
		return "", "", errors.New("common.DefaultHttpClient is set, so the SDK would share one http.Client between clients; leave it nil")
	}
	return scheme, host, nil
}

// buildSDKClient builds the SDK's client for an endpoint checkSDKConfig accepted.
func buildSDKClient(cred common.CredentialIface, scheme, host, region string, transport http.RoundTripper) *common.Client {
	if transport == nil {
		transport = newTransport()
	}
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = host
	prof.HttpProfile.Scheme = scheme
	prof.HttpProfile.ReqMethod = http.MethodPost
	prof.HttpProfile.ReqTimeout = requestTimeoutSeconds
	prof.SignMethod = "TC3-HMAC-SHA256"
	prof.Language = "en-US"
	prof.DisableRegionBreaker = true // it would fail over to another region's endpoint
	// Retries are ours: the SDK's sleep ignores the context, and a second CreateVulScanTask
	// may start a second scan.
	prof.NetworkFailureMaxRetries = 0
	prof.RateLimitExceededMaxRetries = 0
	prof.UnsafeRetryOnConnectionFailure = false
	// NewCommonClient gives each client an http.Client of its own (DefaultHttpClient is nil), so
	// setting its Transport below touches no one else.
	sdk := common.NewCommonClient(cred, region, prof)
	sdk.WithHttpTransport(boundedTransport{next: transport, limit: maxResponseBytes})
	sdk.WithRequestClient("vulscan")
	return sdk
}

// CreateVulScanTask starts a TCSS scan of r (already validated and normalized). It returns a
// wrapped *scan.APIError when TCSS refused, an error wrapping scan.ErrOutcomeUnknown when the
// request may have reached TCSS but its answer was lost, and any other error only when nothing
// was sent.
func (c *Client) CreateVulScanTask(ctx context.Context, r scan.Request) (scan.TaskIDs, error) {
	req := newCreateVulScanTaskRequest(r)
	c.sdk().InitBaseRequest(&req.BaseRequest, service, apiVersion, ActionCreateVulScanTask)
	resp := &CreateVulScanTaskResponse{}
	if err := c.call(ctx, ActionCreateVulScanTask, req, resp, false); err != nil {
		return scan.TaskIDs{}, err
	}
	if resp.Response == nil {
		return scan.TaskIDs{}, fmt.Errorf("tcss %s: %w: the answer has no Response object", ActionCreateVulScanTask, scan.ErrOutcomeUnknown)
	}
	ids := scan.TaskIDs{
		LocalTaskID:    deref(resp.Response.LocalTaskID),
		RegistryTaskID: deref(resp.Response.RegistryTaskID),
		RequestID:      deref(resp.Response.RequestId),
	}
	if ids.LocalTaskID < 0 || ids.RegistryTaskID < 0 {
		// Not an answer TCSS gives: whatever sent it (a proxy, a broken endpoint) cannot say which
		// task, if any, was started, and recording it as succeeded would show a task that is none.
		return scan.TaskIDs{}, fmt.Errorf("tcss %s: %w: the answer names LocalTaskID %d and RegistryTaskID %d, which are no task IDs (RequestId %q)",
			ActionCreateVulScanTask, scan.ErrOutcomeUnknown, ids.LocalTaskID, ids.RegistryTaskID, scan.Clean(ids.RequestID, 128))
	}
	return ids, nil
}

// DescribeVulScanInfo reports where a scan task stands; zero IDs mean the latest task. Being
// read-only, it is retried after network failures too. Errors as CreateVulScanTask, except that
// a lost answer is a plain error.
func (c *Client) DescribeVulScanInfo(ctx context.Context, localTaskID, registryTaskID int64) (scan.ScanInfo, error) {
	req := &DescribeVulScanInfoRequest{LocalTaskID: nonZero(localTaskID), RegistryTaskID: nonZero(registryTaskID)}
	c.sdk().InitBaseRequest(&req.BaseRequest, service, apiVersion, ActionDescribeVulScanInfo)
	resp := &DescribeVulScanInfoResponse{}
	if err := c.call(ctx, ActionDescribeVulScanInfo, req, resp, true); err != nil {
		return scan.ScanInfo{}, err
	}
	p := resp.Response
	if p == nil {
		return scan.ScanInfo{}, fmt.Errorf("tcss %s: the answer has no Response object", ActionDescribeVulScanInfo)
	}
	return scan.ScanInfo{
		Status:                 deref(p.Status),
		ScanProgress:           deref(p.ScanProgress),
		RemainingTime:          deref(p.RemainingTime),
		ScanStartTime:          deref(p.ScanStartTime),
		ScanEndTime:            deref(p.ScanEndTime),
		LocalImageScanCount:    deref(p.LocalImageScanCount),
		RegistryImageScanCount: deref(p.RegistryImageScanCount),
		FoundRiskImageCount:    deref(p.FoundRiskImageCount),
		FoundVulCount:          deref(p.FoundVulCount),
		RegistryFoundVulCount:  deref(p.RegistryFoundVulCount),
		IgnoreVulCount:         deref(p.IgnoreVulCount),
		LocalTaskID:            deref(p.LocalTaskID),
		RegistryTaskID:         deref(p.RegistryTaskID),
		RequestID:              deref(p.RequestId),
	}, nil
}

// newCreateVulScanTaskRequest maps r onto the model, leaving zero values out of the request.
func newCreateVulScanTaskRequest(r scan.Request) *CreateVulScanTaskRequest {
	return &CreateVulScanTaskRequest{
		LocalImageScanType:            nonZero(r.LocalImageScanType),
		LocalImageIDs:                 pointers(r.LocalImageIDs),
		RegistryImageScanType:         nonZero(r.RegistryImageScanType),
		RegistryImageIDs:              pointers(r.RegistryImageIDs),
		LocalTaskID:                   nonZero(r.LocalTaskID),
		RegistryTaskID:                nonZero(r.RegistryTaskID),
		LocalImageContainerRunning:    nonZero(r.LocalImageContainerRunning),
		RegistryImageContainerRunning: nonZero(r.RegistryImageContainerRunning),
		IsLatest:                      nonZero(r.IsLatest),
		ExcludeLocalImageIDs:          pointers(r.ExcludeLocalImageIDs),
		ExcludeRegistryImageIDs:       pointers(r.ExcludeRegistryImageIDs),
		LocalClusterIDs:               pointers(r.LocalClusterIDs),
	}
}

// call sends req, decoding the answer into resp. Every attempt waits for its pacing slot and
// tells the pacer when its answer came; RequestLimitExceeded is retried up to
// maxRateLimitRetries times, and network failures of read-only actions up to maxReadRetries
// times.
func (c *Client) call(ctx context.Context, action string, req tchttp.Request, resp tchttp.Response, readOnly bool) error {
	if err := credentialProblem(ctx, c.cred); err != nil {
		return fmt.Errorf("tcss %s: nothing sent: %w", action, err)
	}
	rateLimited, failed := 0, 0
	for {
		answered, err := c.pacer.Wait(ctx, action)
		if err != nil {
			return fmt.Errorf("tcss %s: nothing sent: %w", action, err)
		}
		req.SetContext(ctx)
		err = c.sdk().Send(req, resp)
		answered() // the call holds its place in the pacer's window until now
		if err == nil {
			return nil
		}
		var (
			apiErr = asAPIError(err)
			last   error
			delay  time.Duration
		)
		switch {
		case apiErr != nil && scan.IsRateLimited(apiErr.Code) && rateLimited < c.maxRateLimitRetries:
			last, delay = apiErr, c.backoff(rateLimited)
			rateLimited++
		case apiErr != nil:
			return fmt.Errorf("tcss %s: %w", action, apiErr)
		case !readOnly && mayHaveBeenSent(err):
			return fmt.Errorf("tcss %s: %w: %w", action, scan.ErrOutcomeUnknown, transportError(ctx, err))
		case readOnly && ctx.Err() == nil && failed < maxReadRetries:
			last, delay = transportError(ctx, err), c.backoff(failed)
			failed++
		default:
			return fmt.Errorf("tcss %s: %w", action, transportError(ctx, err))
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "tcss: retrying",
			slog.String("action", action), slog.String("error", last.Error()), slog.Duration("delay", delay))
		if err := sleep(ctx, delay); err != nil {
			return fmt.Errorf("tcss %s: gave up waiting to retry after %w: %w", action, last, err)
		}
	}
}

// asAPIError returns the error TCSS answered with, or nil when err arose on this side (the SDK's
// "ClientError.*" codes: network, parsing, HTTP status).
func asAPIError(err error) *scan.APIError {
	var sdkErr *tcerr.TencentCloudSDKError
	if !errors.As(err, &sdkErr) || strings.HasPrefix(sdkErr.Code, "ClientError") {
		return nil
	}
	return &scan.APIError{Code: sdkErr.Code, Message: sdkErr.Message, RequestID: sdkErr.RequestId}
}

// mayHaveBeenSent is false only when err proves the request never left: the connection to TCSS
// could not be opened. A lost answer, a reset, a timeout, a proxy failure or an answer that is
// not TCSS's JSON (a gateway's 502 page) all may follow a request TCSS acted on.
func mayHaveBeenSent(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return false
	}
	var dnsErr *net.DNSError
	return !errors.As(err, &dnsErr)
}

// transportError keeps err's chain, adds ctx's error when the SDK dropped it (it does when a
// body read fails), and shortens the text, which may quote a whole response body.
func transportError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", err, ctxErr)
	}
	return clipped{err}
}

// clipped is an error whose text is cut to a length fit for logs and audit records.
type clipped struct{ err error }

const maxErrorText = 400

func (c clipped) Error() string {
	s := c.err.Error()
	if len(s) <= maxErrorText {
		return s
	}
	return strings.ToValidUTF8(s[:maxErrorText], "") + "…"
}

func (c clipped) Unwrap() error { return c.err }

// DefaultBackoff waits 250 ms before the first retry, doubling each time up to 4 s, with the
// upper half of each step chosen at random so that callers rate-limited together spread out.
func DefaultBackoff(attempt int) time.Duration {
	step := 4 * time.Second
	if attempt < 4 {
		step = 250 * time.Millisecond << attempt
	}
	return step/2 + rand.N(step/2)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// regionName reports whether s is empty or a region name such as ap-guangzhou: lower-case
// letters, then one or more "-" parts of lower-case letters and digits. It and hostName are
// written out rather than regular expressions: compiled at package initialisation, those cost
// every cold start about 0.1 ms.
func regionName(s string) bool {
	if s == "" {
		return true
	}
	parts := strings.Split(s, "-")
	if len(parts) < 2 {
		return false
	}
	for i, p := range parts {
		if p == "" {
			return false
		}
		for _, c := range p {
			if !(c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

// hostName reports whether s is a host name of two or more dot-separated labels of ASCII
// letters, digits and inner hyphens.
func hostName(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// parseEndpoint turns an endpoint setting (a host name, host:port, or an http(s)://host[:port]
// URL; empty means defaultHost) into the SDK's scheme ("HTTP" or "HTTPS") and host[:port].
func parseEndpoint(endpoint, defaultHost string) (scheme, host string, err error) {
	endpoint = strings.TrimSpace(endpoint)
	if len(endpoint) > maxEndpointLen {
		return "", "", fmt.Errorf("endpoint %q is %d bytes, longer than any http(s)://host:port (at most %d)",
			scan.Shorten(endpoint, 64), len(endpoint), maxEndpointLen)
	}
	switch {
	case endpoint == "":
		return "HTTPS", defaultHost, nil
	case endpoint == "emulator":
		return "", "", errors.New(`endpoint "emulator" must be resolved by the caller: start the emulator and pass its http://host:port URL`)
	case strings.Contains(endpoint, "://"):
		u, err := url.Parse(endpoint)
		if err != nil {
			return "", "", fmt.Errorf("endpoint %q is not a URL: %w", endpoint, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return "", "", fmt.Errorf("endpoint %q: scheme must be http or https", endpoint)
		}
		if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return "", "", fmt.Errorf("endpoint %q: want http(s)://host[:port] and nothing more (TC3 signs the path /)", endpoint)
		}
		if name := u.Hostname(); !hostName(name) && !LoopbackHost(name) && net.ParseIP(name) == nil {
			return "", "", fmt.Errorf("endpoint %q: %q is not a host name such as %s", endpoint, name, defaultHost)
		}
		if port := u.Port(); port != "" && !validPort(port) || strings.HasSuffix(u.Host, ":") {
			return "", "", fmt.Errorf("endpoint %q: the port is not a number from 1 to 65535", endpoint)
		}
		return strings.ToUpper(u.Scheme), u.Host, nil
	}
	name, port := endpoint, ""
	if h, p, err := net.SplitHostPort(endpoint); err == nil {
		name, port = h, p
	}
	if !hostName(name) || (port != "" && !validPort(port)) {
		return "", "", fmt.Errorf("endpoint %q is neither a host name such as %s nor an http(s)://host:port URL", endpoint, defaultHost)
	}
	return "HTTPS", endpoint, nil
}

// LoopbackHost reports whether host[:port] names this machine (localhost or a loopback
// address), where plain http leaves nothing on a network.
func LoopbackHost(hostPort string) bool {
	name := hostPort
	if h, _, err := net.SplitHostPort(hostPort); err == nil {
		name = h
	}
	if strings.EqualFold(name, "localhost") {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n < 65536
}

// maxIdleConnsPerHost is how many connections to TCSS the client keeps open between calls. Go's
// default of 2 closes every connection beyond the second as soon as its call ends, so calls made
// at once (a server's queue workers, up to DefaultQueueWorkers of scan) each dial, and against
// TCSS each dial is a TLS handshake: a new TCP and TLS setup per call under concurrency, 7% of
// the audited path's CPU in BenchmarkStartParallel. Idle connections still close after the
// transport's IdleConnTimeout (90 s).
const maxIdleConnsPerHost = 32

// newTransport returns a transport of the Client's own, configured like http.DefaultTransport
// (proxy from the environment, dial and TLS timeouts) without sharing or changing it, keeping up
// to maxIdleConnsPerHost connections open.
func newTransport() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true, IdleConnTimeout: 90 * time.Second}
	} else {
		t = t.Clone()
	}
	t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, maxIdleConnsPerHost)
	t.MaxIdleConns = max(t.MaxIdleConns, maxIdleConnsPerHost)
	return t
}

// boundedTransport refuses to read more than limit bytes of any answer.
type boundedTransport struct {
	next  http.RoundTripper
	limit int64
}

func (t boundedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &boundedBody{ReadCloser: resp.Body, left: t.limit, limit: t.limit}
	return resp, nil
}

type boundedBody struct {
	io.ReadCloser
	left, limit int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, fmt.Errorf("tcss: answer longer than %d bytes", b.limit)
	}
	return n, err
}

// nonZero returns a pointer to v, or nil for the zero value: TCSS treats absent and zero alike,
// and leaving zeros out keeps the request as small as the caller's intent.
func nonZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// pointers returns the SDK's list-of-pointers form of vs, nil for an empty list.
func pointers[T any](vs []T) []*T {
	if len(vs) == 0 {
		return nil
	}
	ps := make([]*T, len(vs))
	for i := range vs {
		ps[i] = &vs[i]
	}
	return ps
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// CredentialSource names the credential that signs this client's calls, for the audit record
// (scan.Provenance): scf-role:AKIDab12…, static-key:AKIDab12…, assumed-role:<ARN>/<session>,
// web-identity:<ARN>. It never holds a secret or more than the SecretId's first characters.
func (c *Client) CredentialSource() string { return credentialSource(c.cred) }
