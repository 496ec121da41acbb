package awsidentity_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss"
	"github.com/vulscan/vulscan/functions/tcss/awsidentity"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

const (
	role       = "qcs::cam::uin/100000000001:roleName/vulscan-scanner"
	provider   = "aws-lambda"
	audience   = "sts.tencentcloudapi.com"
	lambdaRole = "arn:aws:iam::123456789012:role/vulscan-lambda"
	accessKey  = "ASIAEXAMPLEACCESSKEY"
	// lifetime is short so that a refresh stays within the five minutes of clock skew the
	// emulator allows the client's real-time signatures.
	lifetime = 200 * time.Second
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		c.t = time.Now()
	}
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.now()
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// chain is the whole keyless path in-process: AWS's token issuer, Tencent STS and TCSS (the
// emulators), and a TCSS client whose only credential is the web identity.
type chain struct {
	aws    *tcsstest.AWSIssuer
	emu    *tcsstest.Emulator
	clk    *clock
	client *tcss.Client
	cred   *tcss.RoleCredential
}

func newChain(t *testing.T, tokens func(issuer *tcsstest.AWSIssuer, real tcss.WebIdentityTokenSource) tcss.WebIdentityTokenSource) *chain {
	t.Helper()
	c := &chain{clk: &clock{}}
	var awsSrvURL string
	c.aws, awsSrvURL = func() (*tcsstest.AWSIssuer, string) {
		a, srv := tcsstest.NewAWSIssuer(tcsstest.AWSIssuerOptions{AccessKeyIDs: []string{accessKey}, CallerARN: lambdaRole, Now: c.clk.now})
		t.Cleanup(srv.Close)
		return a, srv.URL
	}()
	emu, srv := tcsstest.NewServer(tcsstest.Options{Roles: []string{role}, Now: c.clk.now, RatePerSecond: 1000,
		OIDCProviders: []tcsstest.OIDCProvider{{ID: provider, Issuer: c.aws.Issuer(), Audiences: []string{audience}}}})
	t.Cleanup(srv.Close)
	c.emu = emu
	src, err := awsidentity.New(awsidentity.Config{Audience: audience, Region: "ap-southeast-1", Endpoint: awsSrvURL,
		Credentials: func(context.Context) (awsidentity.Credentials, error) {
			return awsidentity.Credentials{AccessKeyID: accessKey, SecretAccessKey: "aws-secret-not-logged", SessionToken: "aws-session"}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	var ts tcss.WebIdentityTokenSource = src
	if tokens != nil {
		ts = tokens(c.aws, src)
	}
	c.cred, err = tcss.NewRoleCredential(tcss.RoleConfig{RoleARN: role, Tokens: ts, ProviderID: provider,
		Endpoint: srv.URL, Duration: lifetime, Now: c.clk.now,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	c.client, err = tcss.New(tcss.Config{Endpoint: srv.URL, Credential: c.cred, Limiter: tcss.NewPacer(math.Inf(1)),
		Backoff: func(int) time.Duration { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *chain) scan() error {
	_, err := c.client.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"})
	return err
}

// TestKeylessChainStartsAScan: no Tencent key anywhere; the AWS token is exchanged for the role's
// key, which signs the scan; the credential names the role as web-identity.
func TestKeylessChainStartsAScan(t *testing.T) {
	c := newChain(t, nil)
	if err := c.scan(); err != nil {
		t.Fatal(err)
	}
	issued := c.emu.Issued()
	if len(issued) != 1 || c.aws.Tokens() != 1 || c.emu.Calls(tcsstest.ActionAssumeRoleWithWebIdentity) != 1 {
		t.Fatalf("issued %d keys, %d AWS tokens, %d exchanges; want 1 each", len(issued), c.aws.Tokens(), c.emu.Calls(tcsstest.ActionAssumeRoleWithWebIdentity))
	}
	if n := c.emu.CallsBy(tcss.ActionCreateVulScanTask, issued[0].SecretID); n != 1 {
		t.Errorf("the role's key signed %d scans, want 1", n)
	}
	if got := c.client.CredentialSource(); got != "web-identity:"+role {
		t.Errorf("CredentialSource = %q", got)
	}
}

// TestKeylessChainRefreshes: the key is reused while fresh and exchanged again, with a new AWS
// token, at 90% of its lifetime.
func TestKeylessChainRefreshes(t *testing.T) {
	c := newChain(t, nil)
	for range 3 {
		if err := c.scan(); err != nil {
			t.Fatal(err)
		}
	}
	c.clk.advance(lifetime * 9 / 10)
	if err := c.scan(); err != nil {
		t.Fatal(err)
	}
	if c.aws.Tokens() != 2 || len(c.emu.Issued()) != 2 {
		t.Errorf("%d AWS tokens, %d Tencent keys; want 2 each (one refresh)", c.aws.Tokens(), len(c.emu.Issued()))
	}
}

// TestForgedTokensAreRefused: Tencent STS (the emulator, as CAM does) refuses a token for another
// audience, an expired one, one from another issuer, one signed by another key; nothing is sent
// to TCSS.
func TestForgedTokensAreRefused(t *testing.T) {
	other, otherSrv := tcsstest.NewAWSIssuer(tcsstest.AWSIssuerOptions{CallerARN: lambdaRole})
	t.Cleanup(otherSrv.Close)
	for _, tc := range []struct {
		name  string
		token func(a *tcsstest.AWSIssuer) string
	}{
		{"another audience", func(a *tcsstest.AWSIssuer) string {
			return a.Sign(claims(a.Issuer(), "someone-else", time.Hour))
		}},
		{"expired", func(a *tcsstest.AWSIssuer) string {
			return a.Sign(claims(a.Issuer(), audience, -time.Minute))
		}},
		{"another issuer's claim", func(a *tcsstest.AWSIssuer) string {
			return a.Sign(claims("https://evil.example", audience, time.Hour))
		}},
		{"signed by another key", func(a *tcsstest.AWSIssuer) string {
			return other.Sign(claims(a.Issuer(), audience, time.Hour))
		}},
		{"not a JWT", func(*tcsstest.AWSIssuer) string { return "not-a-token" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t, func(a *tcsstest.AWSIssuer, _ tcss.WebIdentityTokenSource) tcss.WebIdentityTokenSource {
				return lazyForged{a: a, make: tc.token}
			})
			err := c.scan()
			if err == nil || !errors.Is(err, tcss.ErrNoCredential) || !strings.Contains(err.Error(), "WebIdentityTokenError") {
				t.Fatalf("scan error %v; want no credential, refused as WebIdentityTokenError", err)
			}
			if c.emu.Calls(tcss.ActionCreateVulScanTask) != 0 || len(c.emu.Issued()) != 0 {
				t.Error("a refused token still got a key or reached TCSS")
			}
		})
	}
}

type lazyForged struct {
	a    *tcsstest.AWSIssuer
	make func(*tcsstest.AWSIssuer) string
}

func (l lazyForged) WebIdentityToken(context.Context) (string, error) { return l.make(l.a), nil }

func claims(iss, aud string, validFor time.Duration) map[string]any {
	now := time.Now()
	return map[string]any{"iss": iss, "sub": lambdaRole, "aud": aud, "iat": now.Add(-2 * time.Minute).Unix(), "exp": now.Add(validFor).Unix()}
}

// TestAWSRefusesUnknownCallers: GetWebIdentityToken signed by a key AWS does not know fails, and
// the error holds no secret.
func TestAWSRefusesUnknownCallers(t *testing.T) {
	a, srv := tcsstest.NewAWSIssuer(tcsstest.AWSIssuerOptions{AccessKeyIDs: []string{accessKey}, CallerARN: lambdaRole})
	t.Cleanup(srv.Close)
	src, err := awsidentity.New(awsidentity.Config{Audience: audience, Region: "us-east-1", Endpoint: srv.URL,
		Getenv: func(k string) string {
			return map[string]string{"AWS_ACCESS_KEY_ID": "ASIAUNKNOWN", "AWS_SECRET_ACCESS_KEY": "aws-secret-not-logged"}[k]
		}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.WebIdentityToken(context.Background())
	if err == nil || !strings.Contains(err.Error(), "InvalidClientTokenId") || strings.Contains(err.Error(), "aws-secret-not-logged") {
		t.Errorf("error %v", err)
	}
	if a.Tokens() != 0 {
		t.Error("a token was issued")
	}
}

// AWS STS's endpoint takes plain http only on this machine: its answer is a signed token.
func TestSTSEndpointPlainHTTPOnlyOnThisMachine(t *testing.T) {
	for endpoint, ok := range map[string]bool{
		"http://127.0.0.1:9000":               true,
		"https://sts.us-east-1.amazonaws.com": true,
		"http://sts.us-east-1.amazonaws.com":  false,
		"http://10.1.2.3:8080":                false,
	} {
		_, err := awsidentity.New(awsidentity.Config{Audience: "sts.tencentcloudapi.com", Region: "us-east-1", Endpoint: endpoint, Getenv: func(string) string { return "" }})
		if ok != (err == nil) || !ok && !strings.Contains(err.Error(), "unencrypted") {
			t.Errorf("New with STS at %s: %v, want accepted %v", endpoint, err, ok)
		}
	}
}
