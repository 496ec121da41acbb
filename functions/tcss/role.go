package tcss

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/vulscan/vulscan/functions/scan"
)

// Settings of the role credential (see CredentialFromEnv).
const (
	EnvRoleARN         = "TENCENTCLOUD_ROLE_ARN"
	EnvRoleSessionName = "TENCENTCLOUD_ROLE_SESSION_NAME"
	// EnvSTSEndpoint names STS's endpoint, in the forms Config.Endpoint takes.
	EnvSTSEndpoint = "VULSCAN_STS_ENDPOINT"
)

// Defaults of the role credential.
const (
	DefaultSTSEndpoint     = "sts.tencentcloudapi.com"
	DefaultRoleSessionName = "vulscan"
	// DefaultRoleDuration is the lifetime asked of STS for each temporary key: an hour, so that a
	// leaked key is soon useless while STS is asked only about once every 54 minutes. (STS's own
	// default is 7200 s, its maximum 43200 s.)
	DefaultRoleDuration = time.Hour
)

const (
	// defaultSTSRegion is sent when no region is configured: STS requires one, and this is the
	// SDK's RoleArnProvider's.
	defaultSTSRegion = "ap-guangzhou"
	// stsTimeout bounds one AssumeRole call; everyone waiting for the key waits at most this long.
	stsTimeout     = 30 * time.Second
	maxSTSDuration = 43200 * time.Second
)

// The patterns compile on first use: their large repeat counts make them the costliest part of
// the package's initialisation, and most processes (every start without a role) never use them.
var (
	roleARNPattern = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^qcs::cam::uin/[0-9]+:(roleName|role)/[\w+=,.@/-]{1,256}$`)
	})
	sessionNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]{2,128}$`) })
)

// RoleConfig configures a RoleCredential. Zero values take the documented defaults.
type RoleConfig struct {
	// RoleARN is the CAM role to assume: qcs::cam::uin/<owner uin>:roleName/<name> (or :role/<id>).
	RoleARN string
	// SessionName names vulscan's role sessions; 2 to 128 of letters, digits and =,.@_-.
	// Default DefaultRoleSessionName.
	SessionName string
	// Duration is the lifetime asked for each temporary key, whole seconds up to 12 h; default
	// DefaultRoleDuration.
	Duration time.Duration
	// Base signs the AssumeRole calls; nil means EnvCredential(os.Getenv).
	Base common.CredentialIface
	// Endpoint is STS's, in the forms of Config.Endpoint; default DefaultSTSEndpoint.
	Endpoint string
	// Region is sent to STS (which requires one); default ap-guangzhou.
	Region string
	// Transport carries the STS calls; nil means a new http.Transport of this credential's own.
	Transport http.RoundTripper
	// Now is the clock that times keys; default time.Now.
	Now func() time.Time
	// Logger receives refresh warnings, never a key or token; nil means slog.Default().
	Logger *slog.Logger
	// Tokens, when set, makes this a web-identity credential: instead of AssumeRole signed by
	// Base, each key comes from STS AssumeRoleWithWebIdentity with a fresh token from Tokens
	// (an AWS-issued JWT on Lambda), so that no Tencent key is configured anywhere. Base is
	// then unused.
	Tokens WebIdentityTokenSource
	// ProviderID names the CAM OIDC identity provider that trusts Tokens' issuer
	// (TENCENTCLOUD_OIDC_PROVIDER_ID); required with Tokens.
	ProviderID string
}

// WebIdentityTokenSource hands out signed OpenID Connect tokens that prove this function's
// identity to Tencent CAM.
type WebIdentityTokenSource interface {
	// WebIdentityToken returns a fresh token; its error never holds a secret.
	WebIdentityToken(ctx context.Context) (string, error)
}

// EnvOIDCProviderID names the CAM OIDC identity provider of the web-identity path.
const EnvOIDCProviderID = "TENCENTCLOUD_OIDC_PROVIDER_ID"

// RoleCredential is a common.CredentialIface holding a temporary key of a CAM role, obtained from
// STS AssumeRole with a base credential (a CAM user's key) through the SDK's common client.
//
// The key is assumed on first use and again once 90% of its lifetime has passed. Concurrent
// callers share one AssumeRole call. If a refresh fails while the current key is still usable
// (up to 95% of its lifetime, so that it cannot expire on its way), the key stays in use, a
// warning is logged, and the next refresh is tried no sooner than 1% of the lifetime later. If
// there is no usable key, the failure is returned (wrapping ErrNoCredential) and nothing is
// signed. A key's lifetime is counted on Now's clock from when it was asked for: the smaller of
// what STS answers and Duration, so that a clock behind Tencent's cannot stretch it.
//
// Client calls Ready with the caller's context before each request, so that an STS failure fails
// the call before anything is sent to TCSS; the SDK's signer then reads the key with
// GetCredential. An STS call runs on a context without the caller's cancellation (one caller
// giving up must not fail the others waiting for the same key), bounded by 30 s; each caller
// stops waiting when its own context ends.
type RoleCredential struct {
	arn, session string
	duration     time.Duration
	base         common.CredentialIface
	sdk          *common.Client
	now          func() time.Time
	log          *slog.Logger

	tokens     WebIdentityTokenSource // web identity instead of base, when set
	providerID string

	mu       sync.Mutex
	key      roleKey
	failedAt time.Time // of the last failed refresh since the last success; zero if none
	inflight *roleRefresh
}

var _ common.CredentialIface = (*RoleCredential)(nil)

// roleKey is a temporary key and the times that govern its use.
type roleKey struct {
	id, secret, token string
	lifetime          time.Duration
	refreshAt         time.Time // 90% of the lifetime: assume again
	retireAt          time.Time // 95%: stop using it
}

func (k roleKey) usable(now time.Time) bool { return k.id != "" && now.Before(k.retireAt) }

// roleRefresh is one AssumeRole call that callers wait for.
type roleRefresh struct {
	done chan struct{}
	err  error
}

// NewRoleCredential returns a RoleCredential for cfg, or an error naming what is wrong with cfg.
// It calls nothing: the role is assumed on first use.
func NewRoleCredential(cfg RoleConfig) (*RoleCredential, error) {
	c := &RoleCredential{
		arn:        strings.TrimSpace(cfg.RoleARN),
		session:    strings.TrimSpace(cfg.SessionName),
		duration:   cfg.Duration,
		base:       cfg.Base,
		now:        cfg.Now,
		log:        cfg.Logger,
		tokens:     cfg.Tokens,
		providerID: strings.TrimSpace(cfg.ProviderID),
	}
	if c.tokens != nil && c.providerID == "" {
		return nil, fmt.Errorf("sts: %s is not set: name the CAM OIDC identity provider that trusts the token issuer", EnvOIDCProviderID)
	}
	if c.session == "" {
		c.session = DefaultRoleSessionName
	}
	if c.duration == 0 {
		c.duration = DefaultRoleDuration
	}
	switch {
	case !roleARNPattern().MatchString(c.arn):
		return nil, fmt.Errorf("sts: %s %q is not a role ARN such as qcs::cam::uin/100000000001:roleName/VulScanRole", EnvRoleARN, c.arn)
	case !sessionNamePattern().MatchString(c.session):
		return nil, fmt.Errorf("sts: %s %q: want 2 to 128 letters, digits or =,.@_-", EnvRoleSessionName, c.session)
	case c.duration < time.Second || c.duration > maxSTSDuration || c.duration%time.Second != 0:
		return nil, fmt.Errorf("sts: role duration %v: want whole seconds from 1 s to 12 h", c.duration)
	}
	if _, _, err := parseEndpoint(cfg.Endpoint, DefaultSTSEndpoint); err != nil {
		return nil, fmt.Errorf("sts: %s: %w", EnvSTSEndpoint, err) // named as the other settings above are
	}
	if c.base == nil && c.tokens == nil {
		c.base = EnvCredential(os.Getenv)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	region := cfg.Region
	if region == "" {
		region = defaultSTSRegion
	}
	sdk, err := newSDKClient(c.base, cfg.Endpoint, DefaultSTSEndpoint, region, cfg.Transport)
	if err != nil {
		return nil, fmt.Errorf("sts: %w", err)
	}
	c.sdk = sdk
	return c, nil
}

// CredentialFromEnv returns the credential that signs vulscan's TCSS calls, chosen from getenv:
//
//  1. TENCENTCLOUD_ROLE_ARN set: a RoleCredential assuming that role, with the session name
//     TENCENTCLOUD_ROLE_SESSION_NAME (default "vulscan"), through STS at VULSCAN_STS_ENDPOINT
//     (default sts.tencentcloudapi.com), its AssumeRole calls signed by the EnvCredential below;
//  2. otherwise the EnvCredential itself: SCF's TENCENTCLOUD_SECRETID/SECRETKEY/SESSIONTOKEN,
//     else TENCENTCLOUD_SECRET_ID/SECRET_KEY (+ TENCENTCLOUD_SESSION_TOKEN), read on every call.
//
// cfg supplies the rest of a RoleCredential's settings (Region, Transport, Now, Logger); its
// RoleARN, SessionName, Endpoint and Base are taken from getenv.
func CredentialFromEnv(getenv func(string) string, cfg RoleConfig) (common.CredentialIface, error) {
	base := EnvCredential(getenv)
	arn := strings.TrimSpace(getenv(EnvRoleARN))
	if arn == "" {
		return base, nil
	}
	cfg.RoleARN = arn
	cfg.SessionName = getenv(EnvRoleSessionName)
	cfg.Endpoint = getenv(EnvSTSEndpoint)
	cfg.Base = base
	return NewRoleCredential(cfg)
}

// Ready makes sure a usable temporary key is held, assuming the role when there is none or when
// a refresh is due, and waits at most until ctx ends. The error wraps ErrNoCredential.
func (c *RoleCredential) Ready(ctx context.Context) error {
	_, err := c.current(ctx)
	return err
}

// GetCredential returns the temporary SecretId, SecretKey and token, assuming the role first
// when needed (without a caller's context: call Ready before); all three are empty when no
// usable key could be had.
func (c *RoleCredential) GetCredential() (secretID, secretKey, token string) {
	k, err := c.current(context.Background())
	if err != nil {
		return "", "", ""
	}
	return k.id, k.secret, k.token
}

// GetSecretId returns the temporary SecretId.
func (c *RoleCredential) GetSecretId() string { id, _, _ := c.GetCredential(); return id }

// GetSecretKey returns the temporary SecretKey.
func (c *RoleCredential) GetSecretKey() string { _, key, _ := c.GetCredential(); return key }

// GetToken returns the temporary key's token.
func (c *RoleCredential) GetToken() string { _, _, token := c.GetCredential(); return token }

// String names the role and session, never a key.
func (c *RoleCredential) String() string {
	if c.tokens != nil {
		return fmt.Sprintf("tcss.RoleCredential(web identity, %s, session %s)", c.arn, c.session)
	}
	return fmt.Sprintf("tcss.RoleCredential(%s, session %s)", c.arn, c.session)
}

// LogValue makes slog print String, never the secrets.
func (c *RoleCredential) LogValue() slog.Value { return slog.StringValue(c.String()) }

// current returns a usable key, joining or starting a refresh when one is due.
func (c *RoleCredential) current(ctx context.Context) (roleKey, error) {
	c.mu.Lock()
	if !c.due(c.now()) {
		k := c.key
		c.mu.Unlock()
		return k, nil
	}
	r := c.inflight
	if r == nil {
		r = &roleRefresh{done: make(chan struct{})}
		c.inflight = r
		go c.refresh(context.WithoutCancel(ctx), r)
	}
	c.mu.Unlock()

	select {
	case <-r.done:
	case <-ctx.Done():
		return roleKey{}, fmt.Errorf("%w: gave up waiting for STS to issue a key for %s: %w", ErrNoCredential, c.arn, ctx.Err())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.err != nil && !c.key.usable(c.now()) {
		return roleKey{}, r.err
	}
	return c.key, nil
}

// due says whether the role must be assumed now; c.mu must be held.
func (c *RoleCredential) due(now time.Time) bool {
	switch {
	case !c.key.usable(now):
		return true
	case now.Before(c.key.refreshAt):
		return false
	default: // a refresh is due; after a failure, wait a little before trying again
		return c.failedAt.IsZero() || !now.Before(c.failedAt.Add(c.key.lifetime/100))
	}
}

// refresh runs one AssumeRole call for r and publishes its outcome.
func (c *RoleCredential) refresh(ctx context.Context, r *roleRefresh) {
	ctx, cancel := context.WithTimeout(ctx, stsTimeout)
	defer cancel()
	k, err := c.assume(ctx)

	c.mu.Lock()
	defer c.mu.Unlock()
	defer close(r.done)
	c.inflight = nil
	if err == nil {
		c.key, c.failedAt = k, time.Time{}
		return
	}
	now := c.now()
	c.failedAt = now
	r.err = fmt.Errorf("%w: assuming role %s through STS: %w", ErrNoCredential, c.arn, err)
	if c.key.usable(now) {
		c.log.LogAttrs(ctx, slog.LevelWarn, "tcss: could not refresh the role's temporary key; using the current one",
			slog.String("role", c.arn), slog.Time("retire_at", c.key.retireAt), slog.String("error", err.Error()))
		return
	}
	c.log.LogAttrs(ctx, slog.LevelError, "tcss: could not assume the role; TCSS calls fail until STS answers",
		slog.String("role", c.arn), slog.String("error", err.Error()))
}

// assume calls STS AssumeRole (or AssumeRoleWithWebIdentity) and returns the key it issues.
func (c *RoleCredential) assume(ctx context.Context) (roleKey, error) {
	asked := c.now()
	resp := &assumeRoleResponse{}
	if c.tokens != nil {
		token, err := c.tokens.WebIdentityToken(ctx)
		if err != nil {
			return roleKey{}, fmt.Errorf("the web identity token: %w", err)
		}
		seconds := int64(c.duration / time.Second)
		req := &assumeRoleWithWebIdentityRequest{ProviderId: &c.providerID, WebIdentityToken: &token,
			RoleArn: &c.arn, RoleSessionName: &c.session, DurationSeconds: &seconds}
		c.sdk.InitBaseRequest(&req.BaseRequest, stsService, stsVersion, actionAssumeRoleWithWebIdentity)
		req.SetSkipSign(true) // the token is the proof; there is no key to sign with
		req.SetContext(ctx)
		if err := c.sdk.Send(req, resp); err != nil {
			return roleKey{}, transportError(ctx, err)
		}
	} else {
		if err := credentialProblem(ctx, c.base); err != nil {
			return roleKey{}, fmt.Errorf("the base credential: %w", err)
		}
		seconds := uint64(c.duration / time.Second)
		req := &assumeRoleRequest{RoleArn: &c.arn, RoleSessionName: &c.session, DurationSeconds: &seconds}
		c.sdk.InitBaseRequest(&req.BaseRequest, stsService, stsVersion, actionAssumeRole)
		req.SetContext(ctx)
		if err := c.sdk.Send(req, resp); err != nil {
			return roleKey{}, transportError(ctx, err)
		}
	}
	p := resp.Response
	if p == nil || p.Credentials == nil || deref(p.Credentials.TmpSecretId) == "" ||
		deref(p.Credentials.TmpSecretKey) == "" || deref(p.Credentials.Token) == "" {
		return roleKey{}, errors.New("STS's answer lacks Credentials.TmpSecretId, TmpSecretKey or Token")
	}
	expires, err := p.expiry()
	if err != nil {
		return roleKey{}, err
	}
	lifetime := min(expires.Sub(asked), c.duration)
	if lifetime <= 0 {
		return roleKey{}, fmt.Errorf("STS issued a key that expired at %s, before it was asked for (%s)",
			expires.UTC().Format(time.RFC3339), asked.UTC().Format(time.RFC3339))
	}
	return roleKey{
		id:        *p.Credentials.TmpSecretId,
		secret:    *p.Credentials.TmpSecretKey,
		token:     *p.Credentials.Token,
		lifetime:  lifetime,
		refreshAt: asked.Add(lifetime * 9 / 10),
		retireAt:  asked.Add(lifetime * 19 / 20),
	}, nil
}

// expiry reads when the key expires: ExpiredTime, else Expiration.
func (p *assumeRoleResponseParams) expiry() (time.Time, error) {
	if t := deref(p.ExpiredTime); t > 0 {
		return time.Unix(t, 0), nil
	}
	if s := deref(p.Expiration); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("STS's Expiration %q is not an ISO 8601 time", scan.Shorten(s, 64))
		}
		return t, nil
	}
	return time.Time{}, errors.New("STS's answer has neither ExpiredTime nor Expiration")
}
