package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/vulscan/vulscan/functions/guard"
	"github.com/vulscan/vulscan/functions/platform"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/schedule"
	"github.com/vulscan/vulscan/functions/tcss"
	"github.com/vulscan/vulscan/functions/tcss/awsidentity"
	"github.com/vulscan/vulscan/web"
	"github.com/vulscan/vulscan/web/auth"
)

// openAuth builds the caller authentication from VULSCAN_AUTH and its settings. Without
// VULSCAN_AUTH, a workstation's loopback server admits the local user (mode none) and anything
// else admits nobody: a deployed function must say who may use it.
func (a *app) openAuth(e env) (*auth.Authenticator, error) {
	getenv := e.getenv
	if getenv("VULSCAN_ACTOR_HEADER") != "" {
		// It trusted any client that set the header; refuse to start rather than drop it silently.
		return nil, fmt.Errorf("VULSCAN_ACTOR_HEADER is no longer supported: it trusted a header anyone can send; use VULSCAN_AUTH=proxy with VULSCAN_PROXY_HEADER and VULSCAN_PROXY_SECRET")
	}
	where := a.where(getenv)
	if strings.TrimSpace(getenv(auth.EnvAuth)) == "" && where.Loopback && !a.settings.deployed {
		getenv = withDefault(getenv, auth.EnvAuth, string(auth.ModeNone))
	}
	// The local user names mode none's actor, which only a loopback server may use: a function
	// does not read the user database at start (about 1% of its start's CPU).
	localUser := ""
	if !where.Platform {
		localUser = defaultActor(e)
	}
	cfg, err := auth.ConfigFromEnv(getenv, localUser)
	if err != nil {
		return nil, err
	}
	cfg.Logger = a.logger
	authn, err := auth.New(cfg, where)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Public:
		a.logger.Warn("VULSCAN_PUBLIC=I-understand: anyone who reaches the function may start scans and read the audit log")
	case len(cfg.Modes) == 0:
		a.logger.Warn("VULSCAN_AUTH is not set: every page and API call is refused (timers still run)")
	}
	return authn, nil
}

// where says how this process is reached: through a platform's events (SCF custom runtime,
// Lambda), whose gateways can prove a caller, or as an HTTP server, on loopback or not.
func (a *app) where(getenv func(string) string) auth.Where {
	platformEvents := getenv("AWS_LAMBDA_RUNTIME_API") != "" || getenv("SCF_RUNTIME_API") != ""
	return auth.Where{Platform: platformEvents, Loopback: !platformEvents && isLoopbackAddr(a.settings.addr)}
}

// isLoopbackAddr reports whether a listen address (host:port) binds loopback only.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// withDefault returns getenv with a default value for one unset variable.
func withDefault(getenv func(string) string, name, value string) func(string) string {
	return func(k string) string {
		if k == name {
			return value
		}
		return getenv(k)
	}
}

// callerFromGateway hands the gateway's view of the caller to the web handler: the identity the
// gateway proved (used only with VULSCAN_AUTH=gateway) through auth's context value, which no
// client can set, and the client address and invocation request ID for the audit record.
func callerFromGateway(ctx context.Context, g platform.Gateway) context.Context {
	if g.Identity != "" {
		ctx = auth.WithGatewayIdentity(ctx, g.Identity)
	}
	if g.Kind == platform.KindSCFURL {
		// Tencent documents no caller field in a function URL's event, CAM-authenticated or not.
		ctx = auth.WithFrontEndNamingNoCaller(ctx, "a Tencent SCF function URL")
	}
	return web.WithCaller(ctx, web.CallerInfo{
		SourceIP:          g.SourceIP,
		FunctionRequestID: g.FunctionRequestID,
		HTTPS:             g.HTTPS,
	})
}

// describeAuth says which modes admit callers, for the start-up banner.
func describeAuth(authn *auth.Authenticator) string {
	var parts []string
	for _, m := range authn.Modes() {
		parts = append(parts, string(m))
	}
	if authn.Public() {
		parts = append(parts, "anyone (VULSCAN_PUBLIC)")
	}
	if len(parts) == 0 {
		return "nobody (set VULSCAN_AUTH)"
	}
	return strings.Join(parts, ", ")
}

// openGuard builds the guard rails from VULSCAN_BROAD_SCOPE_ACTORS, VULSCAN_START_LIMIT and
// VULSCAN_SCHEDULES, in front of the start queue (VULSCAN_START_QUEUE) in front of the scan
// service: the guard refuses a runaway caller before it can fill the queue, and the queue's own
// refusals are recorded within the guard's allowance per source.
func (a *app) openGuard(e env) (*guard.Guard, error) {
	limit, err := guard.ParseStartLimit(e.getenv(guard.EnvStartLimit))
	if err != nil {
		return nil, err
	}
	schedules, err := schedule.Parse(e.getenv(schedule.Setting))
	if err != nil {
		return nil, err
	}
	a.schedule = schedules
	var g *guard.Guard
	queue := scan.NewQueue(a.service, scan.QueueConfig{
		Capacity:  a.settings.startQueue,
		PerSecond: tcss.RequestsPerSecond,
		Refuse: func(ctx context.Context, key string, c scan.Caller, cause error) (scan.Attempt, error) {
			return g.Reject(ctx, key, c, cause)
		},
	})
	a.queue = queue
	broad := guard.ParseActorPatterns(e.getenv(guard.EnvBroadScopeActors))
	a.warnOfSubjectPatterns(broad)
	g, err = guard.New(queue, guard.Config{
		BroadScopeActors: broad,
		StartsPerMinute:  limit,
		Schedules:        schedules.Names(),
		Logger:           a.logger,
		Bound:            a.service.Bound,
	})
	return g, err
}

// guardedScans is the scan service as the web handler sees it: starts and refusals go through
// the guard rails, lookups straight to the service.
type guardedScans struct {
	*scan.Service
	guard *guard.Guard
}

func (g guardedScans) Start(ctx context.Context, req scan.Request, key string, c scan.Caller) (scan.Attempt, error) {
	return g.guard.Start(ctx, req, key, c)
}

// Reject records a refused request within its source's allowance (see guard.Reject).
func (g guardedScans) Reject(ctx context.Context, key string, c scan.Caller, cause error) (scan.Attempt, error) {
	return g.guard.Reject(ctx, key, c, cause)
}

// webIdentityCredential is the keyless Lambda path: with VULSCAN_AWS_WEB_IDENTITY_AUDIENCE set,
// the Lambda's AWS identity (an STS GetWebIdentityToken JWT) is exchanged with Tencent STS
// AssumeRoleWithWebIdentity for TENCENTCLOUD_ROLE_ARN's temporary key, through the CAM OIDC
// provider TENCENTCLOUD_OIDC_PROVIDER_ID. nil, nil when the audience is not set.
func webIdentityCredential(getenv func(string) string, region string, logger *slog.Logger) (*tcss.RoleCredential, error) {
	tokens, err := awsidentity.FromEnv(getenv)
	if err != nil || tokens == nil {
		return nil, err
	}
	arn := strings.TrimSpace(getenv(tcss.EnvRoleARN))
	if arn == "" {
		return nil, fmt.Errorf("%s is set but %s is not: name the CAM role the AWS identity assumes", awsidentity.EnvAudience, tcss.EnvRoleARN)
	}
	return tcss.NewRoleCredential(tcss.RoleConfig{
		RoleARN:     arn,
		SessionName: getenv(tcss.EnvRoleSessionName),
		Endpoint:    getenv(tcss.EnvSTSEndpoint),
		Region:      region,
		Tokens:      tokens,
		ProviderID:  getenv(tcss.EnvOIDCProviderID),
		Logger:      logger,
	})
}

// warnOfSubjectPatterns warns of VULSCAN_BROAD_SCOPE_ACTORS patterns that can only have named
// a signed-in person's subject: oidc:<subject> was the actor of a person the provider gave no
// verified address, who is oidc-sub:<issuer>#<subject> now, and such a pattern admits nobody.
// A warning, not a refusal: the pattern only admits fewer than it did, and the server must start.
func (a *app) warnOfSubjectPatterns(patterns []string) {
	for _, p := range patterns {
		if rest, ok := strings.CutPrefix(p, auth.ActorPrefixOIDC); ok && !strings.ContainsAny(rest, "@*") {
			a.logger.Warn(guard.EnvBroadScopeActors+": a pattern names no address and so matches nobody: a person the provider "+
				"gives no verified address is "+auth.ActorPrefixOIDCSubject+"<issuer>#<subject>, not "+auth.ActorPrefixOIDC+"<subject>",
				"pattern", scan.Shorten(p, 200))
		}
	}
}
