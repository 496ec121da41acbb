// Package awsidentity proves an AWS Lambda function's identity to Tencent Cloud without any
// Tencent key: AWS IAM outbound identity federation (STS GetWebIdentityToken) signs a short-lived
// JWT naming the function's execution role, which Tencent CAM trusts as an OIDC identity
// provider and STS AssumeRoleWithWebIdentity exchanges for a CAM role's temporary key
// (tcss.RoleConfig.Tokens).
//
// The one call is made with the standard library (the query protocol, signed with SigV4,
// sigv4.go) rather than the AWS SDK: the SDK's STS client and its runtime were about 1 MB of
// the deploy binary and half a millisecond of every cold start's package initialisation, for a
// call made once per key lifetime.
package awsidentity

import (
	"context"
	"errors"
	"fmt"
	"github.com/vulscan/vulscan/functions/tcss"
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Settings read by FromEnv.
const (
	// EnvAudience is the token's aud, the client ID registered with the CAM OIDC provider.
	EnvAudience = "VULSCAN_AWS_WEB_IDENTITY_AUDIENCE"
	// EnvSTSEndpoint overrides AWS STS's endpoint (an http(s) URL), for emulators and VPC
	// endpoints.
	EnvSTSEndpoint = "VULSCAN_AWS_STS_ENDPOINT"
)

// tokenLifetime is asked of each token: it is used at once, for one exchange.
const tokenLifetime = 300

// Credentials are AWS credentials that sign the call.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// Source issues web identity tokens through AWS STS with the function's own AWS credentials.
type Source struct {
	endpoint    *url.URL
	region      string
	audience    string
	credentials func(context.Context) (Credentials, error)
	client      *http.Client
	now         func() time.Time
}

// Config configures a Source.
type Config struct {
	Audience string // required
	Region   string // AWS region of the STS endpoint; Lambda sets AWS_REGION
	Endpoint string // optional endpoint URL; default https://sts.REGION.amazonaws.com
	// Credentials returns the AWS credentials that sign the call; nil means the Lambda execution
	// role's, read from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN on each call.
	Credentials func(context.Context) (Credentials, error)
	// Getenv reads the environment for the default credentials; nil means none are found.
	Getenv func(string) string
	// HTTPClient carries the calls; nil means one with a 30 s timeout.
	HTTPClient *http.Client
}

// New returns a Source, or an error saying what is missing. It calls nothing.
func New(cfg Config) (*Source, error) {
	if strings.TrimSpace(cfg.Audience) == "" {
		return nil, fmt.Errorf("%s is not set: the audience the CAM OIDC provider expects", EnvAudience)
	}
	if cfg.Region == "" {
		return nil, errors.New("awsidentity: no AWS region (AWS_REGION) for STS")
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "https://sts." + cfg.Region + ".amazonaws.com"
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("awsidentity: STS endpoint %q: want an http(s) URL", endpoint)
	}
	if u.Scheme == "http" && !tcss.LoopbackHost(u.Host) {
		return nil, fmt.Errorf("awsidentity: STS endpoint %q: plain http would carry the signed request and the token "+
			"it returns unencrypted across the network; use https (plain http only on localhost or a loopback address)", endpoint)
	}
	creds := cfg.Credentials
	if creds == nil {
		creds = envCredentials(cfg.Getenv)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Source{endpoint: u, region: cfg.Region, audience: strings.TrimSpace(cfg.Audience),
		credentials: creds, client: client, now: time.Now}, nil
}

// FromEnv builds a Source from the environment, or returns nil, nil when
// VULSCAN_AWS_WEB_IDENTITY_AUDIENCE is not set (the keyless path is off).
func FromEnv(getenv func(string) string) (*Source, error) {
	audience := strings.TrimSpace(getenv(EnvAudience))
	if audience == "" {
		return nil, nil
	}
	region := strings.TrimSpace(getenv("AWS_REGION"))
	if region == "" {
		region = strings.TrimSpace(getenv("AWS_DEFAULT_REGION"))
	}
	return New(Config{Audience: audience, Region: region, Endpoint: strings.TrimSpace(getenv(EnvSTSEndpoint)), Getenv: getenv})
}

// attempts is how often a call that failed on the way (network, throttling, a 5xx) is tried.
const attempts = 3

// WebIdentityToken asks AWS STS for a fresh RS256 token for the audience.
func (s *Source) WebIdentityToken(ctx context.Context) (string, error) {
	form := url.Values{
		"Action":            {"GetWebIdentityToken"},
		"Version":           {"2011-06-15"},
		"Audience.member.1": {s.audience},
		"SigningAlgorithm":  {"RS256"},
		"DurationSeconds":   {strconv.Itoa(tokenLifetime)},
	}
	body := form.Encode()
	var err error
	for attempt := range attempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return "", fmt.Errorf("AWS STS GetWebIdentityToken: %w (after: %w)", ctx.Err(), err)
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		}
		var token string
		var retry bool
		token, retry, err = s.call(ctx, body)
		if err == nil {
			return token, nil
		}
		if !retry {
			break
		}
	}
	return "", fmt.Errorf("AWS STS GetWebIdentityToken: %w", err)
}

// call makes one signed GetWebIdentityToken request; retry says whether another try may succeed.
func (s *Source) call(ctx context.Context, body string) (token string, retry bool, err error) {
	creds, err := s.credentials(ctx)
	if err != nil {
		return "", false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint.String(), strings.NewReader(body))
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	signV4(req, []byte(body), creds, s.region, "sts", s.now())
	resp, err := s.client.Do(req)
	if err != nil {
		return "", ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", true, err
	}
	if resp.StatusCode != http.StatusOK {
		code, _ := xmlText(data, "Error", "Code")
		message, _ := xmlText(data, "Error", "Message")
		if code == "" {
			code = http.StatusText(resp.StatusCode)
		}
		retry = resp.StatusCode >= 500 || code == "Throttling" || code == "RequestLimitExceeded"
		return "", retry, fmt.Errorf("%s: %s (HTTP %d)", code, message, resp.StatusCode)
	}
	token, ok := xmlText(data, "GetWebIdentityTokenResult", "WebIdentityToken")
	if !ok {
		return "", false, errors.New("reading the answer: no GetWebIdentityTokenResult/WebIdentityToken element")
	}
	if token == "" {
		return "", false, errors.New("the answer holds no token")
	}
	return token, false, nil
}

// xmlText is the text of the first element at path (each element inside the one before), with
// XML's entity and character references replaced; ok is false when there is no such element.
// STS answers in the query protocol's small fixed shape (no prefixes, CDATA or nested namesakes),
// and scanning for two elements keeps encoding/xml (its reflection, tables and package
// initialisation) out of the deploy binary, whose cold start grows with its size.
func xmlText(doc []byte, path ...string) (text string, ok bool) {
	s := string(doc)
	for _, name := range path {
		if s, ok = xmlContent(s, name); !ok {
			return "", false
		}
	}
	return html.UnescapeString(strings.TrimSpace(s)), true
}

// xmlContent is what lies between the first <name ...> in s and the </name> after it ("" for
// <name/>).
func xmlContent(s, name string) (string, bool) {
	for i := 0; ; {
		j := strings.Index(s[i:], "<"+name)
		if j < 0 {
			return "", false
		}
		i += j + 1 + len(name)
		if i == len(s) || !strings.ContainsRune(" \t\r\n/>", rune(s[i])) {
			continue // a longer name (<ErrorResponse> when looking for <Error>)
		}
		gt := strings.IndexByte(s[i:], '>')
		if gt < 0 {
			return "", false
		}
		if s[i+gt-1] == '/' {
			return "", true
		}
		content := s[i+gt+1:]
		end := strings.Index(content, "</"+name+">")
		if end < 0 {
			return "", false
		}
		return content[:end], true
	}
}

// envCredentials reads Lambda's execution-role credentials from the environment on each call.
func envCredentials(getenv func(string) string) func(context.Context) (Credentials, error) {
	return func(context.Context) (Credentials, error) {
		if getenv == nil {
			return Credentials{}, errors.New("no AWS credentials")
		}
		c := Credentials{
			AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
			SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
			SessionToken:    getenv("AWS_SESSION_TOKEN"),
		}
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return Credentials{}, errors.New("no AWS credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (the Lambda execution role's)")
		}
		return c, nil
	}
}
