package web

import (
	"context"
	"net"
	"net/http"
	"strings"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

// CallerInfo is what the platform (API gateway, Lambda) saw of the caller. Empty fields are
// filled from the request itself. Who the caller is comes from authentication (Config.Auth),
// never from here: a gateway's proven identity travels as auth.WithGatewayIdentity.
type CallerInfo struct {
	SourceIP          string // the client address the gateway saw
	FunctionRequestID string // the SCF / Lambda request ID, for the audit record
	// HTTPS: the platform's front end took the request over HTTPS (function URLs and AWS's API
	// gateways take nothing else), so the answer may carry Strict-Transport-Security.
	HTTPS bool
}

type callerKey struct{}

// WithCaller returns a context carrying c, for the handlers to prefer over the request's own
// RemoteAddr. Platform adapters call it before handing a request to the handler.
func WithCaller(ctx context.Context, c CallerInfo) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// anonymousActor names a caller nobody identified.
const anonymousActor = "anonymous"

// caller says who sent r through trigger: the identity authentication admitted ("anonymous"
// when none: a refused request, or no Config.Auth), and the source address the gateway saw,
// else RemoteAddr.
func (s *server) caller(r *http.Request, trigger audit.Trigger) scan.Caller {
	info, _ := r.Context().Value(callerKey{}).(CallerInfo)
	actor, access := anonymousActor, ""
	if id, ok := identityFrom(r.Context()); ok {
		actor, access = id.Actor, id.Access
	}
	ip := strings.TrimSpace(info.SourceIP)
	if ip == "" {
		ip = r.RemoteAddr
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			ip = host
		}
	}
	return scan.Caller{
		Trigger:           trigger,
		Actor:             actor,
		Access:            access,
		SourceIP:          ip,
		UserAgent:         r.UserAgent(),
		FunctionRequestID: info.FunctionRequestID,
	}
}

// reachedOverHTTPS reports whether the client's connection to the first server it reached was
// HTTPS: this server's own TLS, a platform front end that takes only HTTPS (CallerInfo.HTTPS),
// or a TLS-terminating proxy or load balancer that says so in X-Forwarded-Proto (its first
// entry: the one the client's own hop wrote). That header is not proved, and need not be: a
// browser heeds Strict-Transport-Security only on a response it received over HTTPS (RFC 6797
// §8.1), so a client that writes the header over plain HTTP changes nothing.
func reachedOverHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if info, _ := r.Context().Value(callerKey{}).(CallerInfo); info.HTTPS {
		return true
	}
	first, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(first), "https")
}
