// Package auth decides who is calling vulscan's web front end: people signed in through OpenID
// Connect, machines with API keys, callers a serverless gateway already authenticated, users an
// authenticating reverse proxy vouches for, or the developer on a loopback listener. It knows
// HTTP, never SCF or Lambda: the platform adapters hand it a gateway's proven identity through
// the request context (WithGatewayIdentity), where no client can put one.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/vulscan/vulscan/functions/scan"
)

// Mode is one way of authenticating callers; VULSCAN_AUTH lists the modes in force.
type Mode string

// The modes.
const (
	ModeOIDC    Mode = "oidc"    // people sign in with an OpenID Connect provider
	ModeAPIKey  Mode = "apikey"  // machines send Authorization: Bearer <key>
	ModeGateway Mode = "gateway" // the identity an API gateway / function URL proved
	ModeProxy   Mode = "proxy"   // an identity header from an authenticating reverse proxy
	ModeNone    Mode = "none"    // no authentication, on a loopback listener only
)

var allModes = []Mode{ModeOIDC, ModeAPIKey, ModeGateway, ModeProxy, ModeNone}

// Access values: how a caller was admitted, as the audit record's access field says it.
const (
	AccessLoopback = "loopback"
	AccessAPIKey   = "apikey"
	AccessOIDC     = "oidc"
	AccessGateway  = "gateway"
	AccessProxy    = "proxy"
	AccessPublic   = "public"
)

// Identity is an authenticated caller.
type Identity struct {
	Actor  string // who, e.g. "apikey:ci", "oidc:alice@example.com", "local:unauthenticated/server-user=alice"
	Access string // how they were admitted (Access* constants)
	// Person names a signed-in person on pages: their verified email, else their subject;
	// empty for callers who do not sign in.
	Person string
}

// ParseModes reads VULSCAN_AUTH: a comma-separated list of modes, each at most once.
func ParseModes(s string) ([]Mode, error) {
	var modes []Mode
	for part := range strings.SplitSeq(s, ",") {
		m := Mode(strings.ToLower(strings.TrimSpace(part)))
		switch {
		case m == "":
			continue
		case !slices.Contains(allModes, m):
			return nil, fmt.Errorf("VULSCAN_AUTH: unknown mode %q (want any of oidc, apikey, gateway, proxy, none)", scan.Shorten(string(m), 40))
		case slices.Contains(modes, m):
			return nil, fmt.Errorf("VULSCAN_AUTH: mode %q listed twice", m)
		}
		modes = append(modes, m)
	}
	return modes, nil
}

// Errors Authenticate returns (wrapped); the web layer answers them 401 and 403.
var (
	// ErrUnauthenticated: the request proves no identity, or a wrong one (a bad key, a forged
	// header). Answer 401.
	ErrUnauthenticated = errors.New("authentication required")
	// ErrForbidden: the caller is known but not allowed in (not on the allowed lists). Answer 403.
	ErrForbidden = errors.New("not allowed")
	// ErrAccessUndecided: nobody decided who may use this deployment (no VULSCAN_AUTH, no
	// VULSCAN_PUBLIC), so no request can be admitted, whatever it presents. Answer 403 with
	// what the operator has to decide.
	ErrAccessUndecided = errors.New("access to this deployment is not decided")
	// ErrInvalidToken: the bearer key the request presents is malformed or not one of
	// VULSCAN_API_KEYS (RFC 6750's invalid_token). Wrapped beside ErrUnauthenticated.
	ErrInvalidToken = errors.New("invalid bearer token")
)

// tokenError refuses a presented bearer key: it is both ErrUnauthenticated (answer 401) and
// ErrInvalidToken (say so in WWW-Authenticate), and reads as ErrUnauthenticated's refusals do.
type tokenError struct{ detail string }

func (e *tokenError) Error() string { return ErrUnauthenticated.Error() + ": " + e.detail }

func (e *tokenError) Is(target error) bool {
	return target == ErrUnauthenticated || target == ErrInvalidToken
}

// AccessUndecidedHelp tells a refused caller what the operator must decide; safe to show.
const AccessUndecidedHelp = "Nobody has decided who may use this vulscan deployment, so it serves no one. " +
	"Its operator sets VULSCAN_AUTH (oidc, apikey, gateway or proxy) or, for a deliberately open " +
	"deployment, VULSCAN_PUBLIC=I-understand (docs/deploy.md, \"Who may call the function\"). " +
	"Scheduled scans still run."

// Where says where the handler is served, which decides the modes it may use.
type Where struct {
	// Loopback: an HTTP server listening on a loopback address only (mode none is allowed).
	Loopback bool
	// Platform: serving events of SCF or Lambda (mode gateway is allowed); false in plain HTTP
	// mode, where nothing vouches for the request context.
	Platform bool
}

// Config configures an Authenticator.
type Config struct {
	Modes   []Mode
	APIKeys []APIKey // for ModeAPIKey
	Proxy   Proxy    // for ModeProxy
	// LocalUser names the operating-system user the server runs as, for ModeNone's actor
	// (LocalActor).
	LocalUser string
	// OIDC signs people in for ModeOIDC.
	OIDC *OIDC
	// Public admits callers no mode identifies as "anonymous" (VULSCAN_PUBLIC=I-understand): a
	// deliberately open deployment. A wrong credential is still refused.
	Public bool
	// Logger receives refusals (never a key, token or cookie); nil means slog.Default().
	Logger *slog.Logger
}

// Authenticator authenticates requests with the configured modes.
type Authenticator struct {
	modes     []Mode
	apiKeys   []APIKey
	proxy     Proxy
	localUser string
	oidc      *OIDC
	public    bool
	log       *slog.Logger
}

// New returns an Authenticator for cfg served at where, or an error saying why that combination
// is unsafe or incomplete: none off loopback, gateway in plain HTTP mode, a mode without its
// settings.
func New(cfg Config, where Where) (*Authenticator, error) {
	a := &Authenticator{modes: cfg.Modes, apiKeys: cfg.APIKeys, proxy: cfg.Proxy,
		localUser: cfg.LocalUser, oidc: cfg.OIDC, public: cfg.Public, log: cfg.Logger}
	if a.log == nil {
		a.log = slog.Default()
	}
	for _, m := range cfg.Modes {
		if err := a.check(m, where); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *Authenticator) check(m Mode, where Where) error {
	switch m {
	case ModeNone:
		if !where.Loopback || where.Platform {
			return errors.New("VULSCAN_AUTH=none is allowed only on a loopback listener (VULSCAN_ADDR 127.0.0.1:… or [::1]:…), never on a deployed function")
		}
		if a.localUser == "" {
			return errors.New("VULSCAN_AUTH=none: the local user is unknown")
		}
	case ModeGateway:
		if !where.Platform {
			return errors.New("VULSCAN_AUTH=gateway is accepted only on SCF or Lambda, where the platform proves the caller; in plain HTTP mode nothing does")
		}
	case ModeAPIKey:
		if len(a.apiKeys) == 0 {
			return errors.New("VULSCAN_AUTH=apikey needs VULSCAN_API_KEYS (name:sha256hex pairs)")
		}
	case ModeProxy:
		if err := a.proxy.validate(); err != nil {
			return err
		}
	case ModeOIDC:
		if a.oidc == nil {
			return errors.New("VULSCAN_AUTH=oidc needs the VULSCAN_OIDC_* settings")
		}
	}
	return nil
}

// OIDC returns the sign-in flow, nil unless mode oidc is in force.
func (a *Authenticator) OIDC() *OIDC {
	if !a.Has(ModeOIDC) {
		return nil
	}
	return a.oidc
}

// Public reports whether callers nobody identifies are admitted (VULSCAN_PUBLIC).
func (a *Authenticator) Public() bool { return a.public }

// Modes returns the modes in force.
func (a *Authenticator) Modes() []Mode { return slices.Clone(a.modes) }

// Has reports whether mode m is in force.
func (a *Authenticator) Has(m Mode) bool { return slices.Contains(a.modes, m) }

// SignInOffered reports whether people can sign in (mode oidc), so that a page refused for want
// of an identity should send the browser to the sign-in page.
func (a *Authenticator) SignInOffered() bool { return a.Has(ModeOIDC) }

// Authenticate says who sent r. Credentials the request presents are checked first and a wrong
// one is never passed over: a bad API key, a proxy header without its secret, or a gateway
// identity that fails the allowed lists refuses the request even if another mode would admit it.
//
// Returns an error wrapping ErrUnauthenticated (answer 401), ErrForbidden or ErrAccessUndecided
// (answer 403); its text is safe to log and show (it never holds a presented secret).
func (a *Authenticator) Authenticate(r *http.Request) (Identity, error) {
	if len(a.modes) == 0 && !a.public {
		return Identity{}, ErrAccessUndecided
	}
	if a.Has(ModeAPIKey) {
		if id, presented, err := a.apiKey(r); presented {
			if err != nil {
				return id, err
			}
			// The key admits the caller only if the proxy's headers beside it are not forged.
			if a.Has(ModeProxy) {
				if _, proxied, perr := a.proxy.identify(r); proxied && perr != nil {
					return Identity{}, perr
				}
			}
			return id, nil
		}
	}
	if a.Has(ModeProxy) {
		if id, presented, err := a.proxy.identify(r); presented {
			return id, err
		}
	}
	if a.Has(ModeOIDC) {
		if id, ok, err := a.oidc.sessionIdentity(r); ok || err != nil {
			return id, err
		}
	}
	// Last of the modes that prove a caller: the platform proves it whatever else the request
	// carries, so a wrong credential beside it must have been refused above.
	if a.Has(ModeGateway) {
		if g, ok := GatewayIdentityFrom(r.Context()); ok && g != "" {
			return Identity{Actor: "gateway:" + g, Access: AccessGateway}, nil
		}
	}
	if a.Has(ModeNone) && isLoopback(r.RemoteAddr) {
		return Identity{Actor: LocalActor(a.localUser), Access: AccessLoopback}, nil
	}
	if a.public {
		return Identity{Actor: "anonymous", Access: AccessPublic}, nil
	}
	return Identity{}, fmt.Errorf("%w: %s", ErrUnauthenticated, a.howToAuthenticate(r.Context()))
}

// LocalActor is the actor of a caller mode none admits: local:unauthenticated/server-user=<user>.
// Nobody proved who the caller is, only that the request came from this machine's loopback;
// serverUser is the operating-system user the server runs as, the one thing known about whose
// server it is. It was local:<user>, which read as if that user had been identified: any
// account on the machine, or a process of any user, is admitted the same.
func LocalActor(serverUser string) string {
	return "local:unauthenticated/server-user=" + serverUser
}

// howToAuthenticate tells a refused caller which credentials would be accepted.
func (a *Authenticator) howToAuthenticate(ctx context.Context) string {
	var ways []string
	for _, m := range a.modes {
		switch m {
		case ModeOIDC:
			ways = append(ways, "sign in")
		case ModeAPIKey:
			ways = append(ways, "send an API key as Authorization: Bearer <key>")
		case ModeGateway:
			if frontEnd, ok := ctx.Value(namesNoCallerKey{}).(string); ok {
				// The caller may well have come through the authentication its operator chose
				// (a CAM-signed function URL): say why it still proves nobody here.
				ways = append(ways, "call through an authenticating gateway that names its caller ("+frontEnd+
					" names none, whatever its own authentication)")
				continue
			}
			ways = append(ways, "call through the authenticating gateway")
		case ModeProxy:
			ways = append(ways, "come through the authenticating proxy")
		case ModeNone:
			ways = append(ways, "call from this machine")
		}
	}
	if len(ways) == 0 {
		return "no authentication mode is configured (VULSCAN_AUTH), so nobody is admitted"
	}
	return strings.Join(ways, ", or ")
}

// isLoopback reports whether addr (a RemoteAddr host:port, or a host alone) names this machine:
// a loopback address, or localhost.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type gatewayKey struct{}

// WithGatewayIdentity returns a context carrying the caller a serverless gateway authenticated
// (an IAM ARN, a JWT authorizer's subject). Only platform adapters call it, from the event the
// platform delivered: a client cannot set a context value, so it cannot forge this.
func WithGatewayIdentity(ctx context.Context, identity string) context.Context {
	return context.WithValue(ctx, gatewayKey{}, strings.TrimSpace(identity))
}

type namesNoCallerKey struct{}

// WithFrontEndNamingNoCaller returns a context saying that the front end that delivered the
// request (frontEnd, e.g. "a Tencent SCF function URL") never names its caller, so that mode
// gateway's refusal says so rather than ask for the gateway the caller came through.
func WithFrontEndNamingNoCaller(ctx context.Context, frontEnd string) context.Context {
	return context.WithValue(ctx, namesNoCallerKey{}, frontEnd)
}

// GatewayIdentityFrom returns the identity WithGatewayIdentity put into ctx.
func GatewayIdentityFrom(ctx context.Context) (string, bool) {
	g, ok := ctx.Value(gatewayKey{}).(string)
	return g, ok
}
