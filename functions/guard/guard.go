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
	"slices"
	"strconv"
	"strings"
	"time"

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

// DefaultRefusalsRecordedPerMinute bounds how many refused requests from one source (client
// address, or actor when there is none) are written to the audit log a minute. Refusals need no
// credential (a cross-site post, a wrong Host), so without a bound anyone who can reach the
// server could grow the log without end. Past it the refusal is still answered the same way and
// logged, once per source until its allowance is back, but not recorded.
const DefaultRefusalsRecordedPerMinute = 30

// maxTrackedActors bounds the limiter's memory: past it, actors whose allowance is full again
// are forgotten.
const maxTrackedActors = 10000

// Starter is the scan service as the guard needs it: *scan.Service, or the start queue in front
// of it.
type Starter = scan.Starter

// Config configures a Guard.
type Config struct {
	// BroadScopeActors are patterns over actors (apikey:ci, oidc:*@example.com; * is any text) who
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
	// RefusalsRecordedPerMinute bounds the refusals recorded per source; 0 means
	// DefaultRefusalsRecordedPerMinute, negative means every refusal is recorded.
	RefusalsRecordedPerMinute int
	// Logger receives refusals that are not audited (rate limiting); nil means slog.Default().
	Logger *slog.Logger
	// Bound reports whether an idempotency key holds an actor's attempt that a retry with it is
	// answered from (scan.Service.Bound): such a retry starts nothing, so the start limit lets
	// it through. nil holds every request over the limit.
	Bound func(ctx context.Context, actor, key string) bool
}

// Guard applies the rules, then hands the request to the scan service.
type Guard struct {
	next      Starter
	broad     []string
	perMinute int
	schedules []string
	now       func() time.Time
	log       *slog.Logger
	bound     func(ctx context.Context, actor, key string) bool

	starts   *allowances // per actor: scans started
	refusals *allowances // per source: refusals recorded
}

// New returns a Guard in front of next. It fails on a malformed pattern.
func New(next Starter, cfg Config) (*Guard, error) {
	for _, p := range cfg.BroadScopeActors {
		if strings.ContainsAny(p, `?[\`) {
			// path.Match's wildcards, which these patterns once were: refused rather than taken
			// literally, so that no pattern admits fewer actors than its writer meant.
			return nil, fmt.Errorf("%s: pattern %q: only * is a wildcard (it stands for any text); ?, [ and \\ are not allowed",
				EnvBroadScopeActors, scan.Shorten(p, 64))
		}
	}
	g := &Guard{next: next, broad: cfg.BroadScopeActors, perMinute: cfg.StartsPerMinute,
		schedules: cfg.Schedules, now: cfg.Now, log: cfg.Logger, bound: cfg.Bound}
	if g.perMinute == 0 {
		g.perMinute = DefaultStartsPerMinute
	}
	refusals := cfg.RefusalsRecordedPerMinute
	if refusals == 0 {
		refusals = DefaultRefusalsRecordedPerMinute
	}
	g.starts, g.refusals = newAllowances(g.perMinute), newAllowances(refusals)
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

// maxStartsPerMinute bounds VULSCAN_START_LIMIT: far past what TCSS's 20 calls a second allow
// one actor, so a larger value is a mistake (off is the way to have no limit).
const maxStartsPerMinute = 100000

// ParseStartLimit reads VULSCAN_START_LIMIT: scans per minute per actor, "off" for none; empty
// means the default. "0" is refused: it reads as "no scans" as easily as "no limit".
func ParseStartLimit(s string) (int, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return DefaultStartsPerMinute, nil
	case "off":
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err == nil && n == 0 {
		return 0, fmt.Errorf("%s=0 is ambiguous: write off for no limit, or a number of scans per minute per actor from 1 (to stop the form and the API starting scans, deny them access with VULSCAN_AUTH)", EnvStartLimit)
	}
	if err != nil || n < 0 || n > maxStartsPerMinute {
		return 0, fmt.Errorf("%s=%q: want a number of scans per minute per actor, 1 to %d, or off for no limit",
			EnvStartLimit, scan.Shorten(s, 32), maxStartsPerMinute)
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

// Reject records a refusal through the service, as long as its source (client address, or
// actor when there is none) is within its allowance of recorded refusals. Past it the refusal
// is logged (once, until the allowance is back) and not recorded; either way cause is returned,
// so the caller answers the same.
func (g *Guard) Reject(ctx context.Context, key string, c scan.Caller, cause error) (scan.Attempt, error) {
	source := "actor:" + c.Actor
	if c.SourceIP != "" {
		source = "ip:" + c.SourceIP
	}
	if _, ok, first := g.refusals.take(source, g.now()); !ok {
		if first {
			g.log.WarnContext(ctx, "refusals from this source are no longer recorded for a while: it is over its allowance",
				"source_ip", c.SourceIP, "actor", c.Actor, "trigger", c.Trigger,
				"recorded_per_minute", g.refusals.perMinute, "cause", cause)
		}
		return scan.Attempt{}, cause
	}
	return g.next.Reject(ctx, key, c, cause)
}

// Start applies the rules and, when they allow it, starts the scan (see scan.Service.Start).
// Refusals are *scan.Error: EFORBIDDEN for a timer of no configured schedule or a broad scan by
// an actor not allowed one (form, API or direct invocation; both audited as rejected), ESTARTLIMIT wrapping *LimitError when the
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
		if wait, ok, _ := g.starts.take(c.Actor, g.now()); !ok {
			// Past the limit, two requests still go on, since neither starts a scan: an invalid
			// one, which the service refuses and records (422; held here, it was answered 429
			// "try again in N s" and refused for its real problem only on the retry), and a retry
			// of an attempt that started (or may have started) a scan, which is answered from it
			// (a client that lost its answer gets it back). Checked only here: under the limit the
			// service sees both anyway, and the allowance is given back below.
			if scan.ValidateAttempt(req, key) != nil || key != "" && g.bound != nil && g.bound(ctx, c.Actor, key) {
				return g.next.Start(ctx, req, key, c)
			}
			lerr := &LimitError{Actor: c.Actor, Wait: wait}
			g.log.WarnContext(ctx, "scan start refused: actor over its limit", "actor", c.Actor,
				"limit_per_minute", g.perMinute, "retry_after", wait.String(), "source_ip", c.SourceIP)
			return scan.Attempt{}, &scan.Error{Code: scan.ESTARTLIMIT, Op: op, Err: lerr, Message: fmt.Sprintf(
				"You have sent %s to TCSS in the last minute, the most allowed. Try again in %d s.", countRequests(g.perMinute), scan.RetrySeconds(wait))}
		}
		a, err := g.next.Start(ctx, req, key, c)
		if !sentToTCSS(a) {
			// A replay, a refused request or one the log could not take started nothing: only
			// scans sent to TCSS use the allowance, so a retry is always answered.
			g.starts.giveBack(c.Actor)
		}
		return a, err
	}
	return g.next.Start(ctx, req, key, c)
}

// sentToTCSS reports whether Start's attempt went to TCSS: a pending record was written for
// it (a replay answers from another attempt's; a rejection writes none).
func sentToTCSS(a scan.Attempt) bool {
	return !a.Replayed && a.Record.ID != 0 && a.Record.Outcome == audit.OutcomePending
}

// refuse records a refusal and returns it.
func (g *Guard) refuse(ctx context.Context, key string, c scan.Caller, msg string) (scan.Attempt, error) {
	cause := &scan.Error{Code: scan.EFORBIDDEN, Op: "guard.Start", Message: msg}
	a, err := g.Reject(ctx, key, c, cause)
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
		if matchActor(p, actor) {
			return true
		}
	}
	return false
}

// matchActor reports whether actor matches pattern, in which * stands for any text, slashes
// included (IAM ARNs and JWT issuers hold them: path.Match's * stopped at each one, so that
// gateway:arn:aws:iam::123456789012:* admitted none of that account's users), and every other
// character for itself.
func matchActor(pattern, actor string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == actor
	}
	first, last := parts[0], parts[len(parts)-1]
	if len(actor) < len(first)+len(last) || !strings.HasPrefix(actor, first) || !strings.HasSuffix(actor, last) {
		return false
	}
	// The text between the first and the last part holds the middle parts in order.
	rest := actor[len(first) : len(actor)-len(last)]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, part)
		if i < 0 {
			return false
		}
		rest = rest[i+len(part):]
	}
	return true
}

// countRequests is "1 scan request" or "n scan requests": every request sent to TCSS counts,
// one it refused too, so they are not all started scans.
func countRequests(n int) string {
	if n == 1 {
		return "1 scan request"
	}
	return fmt.Sprintf("%d scan requests", n)
}
