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
