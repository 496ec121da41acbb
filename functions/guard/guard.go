// Package guard holds the rules on who may start which scan, applied in front of the scan
// service for every trigger: only the listed actors may start scans of every image (ALL scope),
// no one actor may start more than a few scans a minute, and timers may start only the
// configured schedules. It knows nothing of HTTP or of the platforms.
package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

// Settings the guard reads (README's Settings table describes each).
const (
	EnvBroadScopeActors = "VULSCAN_BROAD_SCOPE_ACTORS"
	EnvStartLimit       = "VULSCAN_START_LIMIT"
)

// DefaultStartsPerMinute is each actor's limit on starting scans: TCSS allows an account 20
// requests a second, and one runaway client must not use them up.
const DefaultStartsPerMinute = 10

// maxTrackedActors bounds the limiter's memory: past it, actors whose allowance is full again
// are forgotten.
const maxTrackedActors = 10000

// Starter is the scan service as the guard needs it; *scan.Service implements it.
type Starter interface {
	Start(ctx context.Context, req scan.Request, key string, c scan.Caller) (scan.Attempt, error)
	Reject(ctx context.Context, key string, c scan.Caller, cause error) (scan.Attempt, error)
}

// Config configures a Guard.
type Config struct {
	// BroadScopeActors are path.Match patterns over actors (apikey:ci, oidc:*@example.com) who
	// may start ALL-scope scans; nil lets everyone. Timers and the CLI are not held to it: an
	// operator configured them.
	BroadScopeActors []string
	// StartsPerMinute limits each person or API key (form and API triggers); 0 means
	// DefaultStartsPerMinute, negative means no limit.
	StartsPerMinute int
	// Schedules are the names timers may start (VULSCAN_SCHEDULES); a timer naming another
	// schedule is refused, so a forged timer event starts nothing. Empty refuses every timer.
	Schedules []string
	// Now is the limiter's clock; nil means time.Now.
	Now func() time.Time
	// Logger receives refusals that are not audited (rate limiting); nil means slog.Default().
	Logger *slog.Logger
}

// Guard applies the rules, then hands the request to the scan service.
type Guard struct {
	next      Starter
	broad     []string
	perMinute int
	schedules []string
	now       func() time.Time
	log       *slog.Logger

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// New returns a Guard in front of next. It fails on a malformed pattern.
func New(next Starter, cfg Config) (*Guard, error) {
	for _, p := range cfg.BroadScopeActors {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("%s: pattern %q: %w", EnvBroadScopeActors, scan.Shorten(p, 64), err)
		}
	}
	g := &Guard{next: next, broad: cfg.BroadScopeActors, perMinute: cfg.StartsPerMinute,
		schedules: cfg.Schedules, now: cfg.Now, log: cfg.Logger, limiters: map[string]*rate.Limiter{}}
	if g.perMinute == 0 {
		g.perMinute = DefaultStartsPerMinute
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.log == nil {
		g.log = slog.Default()
	}
	return g, nil
}

// ParseActorPatterns reads VULSCAN_BROAD_SCOPE_ACTORS: comma-separated patterns; empty means nil
// (everyone).
func ParseActorPatterns(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ParseStartLimit reads VULSCAN_START_LIMIT: scans per minute per actor, "0" or "off" for none;
// empty means the default.
func ParseStartLimit(s string) (int, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return DefaultStartsPerMinute, nil
	case "off", "0":
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 100000 {
		return 0, fmt.Errorf("%s=%q: want a number of scans per minute per actor, or off", EnvStartLimit, scan.Shorten(s, 32))
	}
	return n, nil
}

// LimitError is the cause of a start refused by the per-actor limit; RetryAfter says when the
// actor may start the next scan.
type LimitError struct {
	Actor string
	Wait  time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s started too many scans; next allowed in %s", e.Actor, e.Wait.Round(time.Second))
}

// RetryAfter is how long the caller should wait.
func (e *LimitError) RetryAfter() time.Duration { return e.Wait }

// Reject passes a refusal through to the service.
func (g *Guard) Reject(ctx context.Context, key string, c scan.Caller, cause error) (scan.Attempt, error) {
	return g.next.Reject(ctx, key, c, cause)
}

// Start applies the rules and, when they allow it, starts the scan (see scan.Service.Start).
// Refusals are *scan.Error: EFORBIDDEN for a timer of no configured schedule or a broad scan by
// an actor not allowed one (form, API or direct invocation; both audited as rejected), ERATELIMITED wrapping *LimitError when the
// actor is over the limit (logged, not audited: a runaway client must not fill the log).
func (g *Guard) Start(ctx context.Context, req scan.Request, key string, c scan.Caller) (scan.Attempt, error) {
	const op = "guard.Start"
	switch c.Trigger {
	case audit.TriggerTimer:
		name := strings.TrimPrefix(c.Actor, "system:timer/")
		if !slices.Contains(g.schedules, name) {
			return g.refuse(ctx, key, c, fmt.Sprintf("The schedule %q is not one of VULSCAN_SCHEDULES (%s); the timer event was refused.",
				scan.Shorten(name, 64), g.describeSchedules()))
		}
	case audit.TriggerForm, audit.TriggerAPI, audit.TriggerInvoke:
		// A direct invocation is a caller like any other, not a schedule.
		if req.Broad() && !g.mayScanBroadly(c.Actor) {
			return g.refuse(ctx, key, c, "You may not start a scan of every image (scope ALL): ask for a narrower scope, or an administrator to add you to VULSCAN_BROAD_SCOPE_ACTORS.")
		}
		if wait, ok := g.allow(c.Actor); !ok {
			lerr := &LimitError{Actor: c.Actor, Wait: wait}
			g.log.WarnContext(ctx, "scan start refused: actor over its limit", "actor", c.Actor,
				"limit_per_minute", g.perMinute, "retry_after", wait.String(), "source_ip", c.SourceIP)
			return scan.Attempt{}, &scan.Error{Code: scan.ERATELIMITED, Op: op, Err: lerr, Message: fmt.Sprintf(
				"You have started %d scans in the last minute, the most allowed. Try again in %d s.", g.perMinute, retrySeconds(wait))}
		}
	}
	return g.next.Start(ctx, req, key, c)
}

// refuse records a refusal and returns it.
func (g *Guard) refuse(ctx context.Context, key string, c scan.Caller, msg string) (scan.Attempt, error) {
	cause := &scan.Error{Code: scan.EFORBIDDEN, Op: "guard.Start", Message: msg}
	a, err := g.next.Reject(ctx, key, c, cause)
	if err == nil || errors.Is(err, cause) {
		return a, cause
	}
	return a, err
}

func (g *Guard) describeSchedules() string {
	if len(g.schedules) == 0 {
		return "none are set"
	}
	return strings.Join(g.schedules, ", ")
}

// mayScanBroadly applies VULSCAN_BROAD_SCOPE_ACTORS.
func (g *Guard) mayScanBroadly(actor string) bool {
	if g.broad == nil {
		return true
	}
	for _, p := range g.broad {
		if ok, _ := path.Match(p, actor); ok {
			return true
		}
	}
	return false
}

// allow takes one start from actor's allowance; when none is left it says how long until one is.
func (g *Guard) allow(actor string) (time.Duration, bool) {
	if g.perMinute < 0 {
		return 0, true
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	l, ok := g.limiters[actor]
	if !ok {
		if len(g.limiters) >= maxTrackedActors {
			g.forgetIdle(now)
		}
		l = rate.NewLimiter(rate.Limit(float64(g.perMinute)/60), g.perMinute)
		g.limiters[actor] = l
	}
	r := l.ReserveN(now, 1)
	if !r.OK() {
		return time.Minute, false
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// forgetIdle drops the limiters whose allowance is full again; g.mu must be held.
func (g *Guard) forgetIdle(now time.Time) {
	for actor, l := range g.limiters {
		if l.TokensAt(now) >= float64(g.perMinute) {
			delete(g.limiters, actor)
		}
	}
}

func retrySeconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}
