package web

import (
	"context"
	"net"
	"net/http"
	"strings"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

// CallerInfo is who is calling, as the platform (API gateway, Lambda) tells it. Empty fields
// are filled from the request itself.
type CallerInfo struct {
	Actor             string // the authenticated user or API key, if the gateway knows it
	SourceIP          string // the client address the gateway saw
	FunctionRequestID string // the SCF / Lambda request ID, for the audit record
}

type callerKey struct{}

// WithCaller returns a context carrying c, for the handlers to prefer over the request's own
// RemoteAddr and headers. Platform adapters call it before handing a request to the handler.
func WithCaller(ctx context.Context, c CallerInfo) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// anonymousActor names a caller nobody identified.
const anonymousActor = "anonymous"

// caller says who sent r through trigger: the context's CallerInfo first, then the configured
// actor header, then "anonymous"; the source IP falls back to RemoteAddr.
func (s *server) caller(r *http.Request, trigger audit.Trigger) scan.Caller {
	info, _ := r.Context().Value(callerKey{}).(CallerInfo)
	actor := strings.TrimSpace(info.Actor)
	if actor == "" && s.actorHeader != "" {
		actor = strings.TrimSpace(r.Header.Get(s.actorHeader))
	}
	if actor == "" {
		actor = anonymousActor
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
		SourceIP:          ip,
		UserAgent:         r.UserAgent(),
		FunctionRequestID: info.FunctionRequestID,
	}
}
