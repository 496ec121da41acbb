package guard_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/guard"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/scan/scantest"
)

type world struct {
	*scantest.World
	guard *guard.Guard
	now   time.Time
}

func newWorld(t *testing.T, cfg guard.Config) *world {
	t.Helper()
	w := &world{World: scantest.New(t, scantest.Options{}), now: time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)}
	cfg.Now = func() time.Time { return w.now }
	cfg.Logger = slog.New(slog.DiscardHandler)
	g, err := guard.New(w.Service, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.guard = g
	return w
}

func (w *world) start(t *testing.T, req scan.Request, c scan.Caller) (scan.Attempt, error) {
	t.Helper()
	return w.guard.Start(context.Background(), req, "", c)
}

func (w *world) records(t *testing.T) []audit.Record {
	t.Helper()
	var out []audit.Record
	w.Store.Each(context.Background(), audit.Filter{}, func(r audit.Record) error { out = append(out, r); return nil })
	return out
}

var narrow = scan.Request{LocalImageScanType: "NOT_SCAN"}
var broad = scan.Request{LocalImageScanType: "ALL"}

func api(actor string) scan.Caller {
	return scan.Caller{Trigger: audit.TriggerAPI, Actor: actor, Access: "apikey", SourceIP: "192.0.2.1"}
}

func TestBroadScopeActors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		patterns []string
		caller   scan.Caller
		req      scan.Request
		allowed  bool
	}{
		{"everyone when unset", nil, api("apikey:ci"), broad, true},
		{"a listed actor", []string{"apikey:nightly", "oidc:*@example.com"}, api("oidc:ann@example.com"), broad, true},
		{"an unlisted actor", []string{"apikey:nightly", "oidc:*@example.com"}, api("oidc:eve@evil.example"), broad, false},
		{"an unlisted actor's narrow scan", []string{"apikey:nightly"}, api("apikey:ci"), narrow, true},
		// README: "* matches any text", slashes included: IAM ARNs and JWT issuers hold them.
		{"a pattern over an account's IAM callers", []string{"gateway:arn:aws:iam::123456789012:*"},
			api("gateway:arn:aws:iam::123456789012:user/ops/alice"), broad, true},
		{"a pattern over a role's sessions", []string{"gateway:arn:aws:sts::123456789012:assumed-role/Deployers/*"},
			api("gateway:arn:aws:sts::123456789012:assumed-role/Deployers/alice"), broad, true},
		{"every gateway caller", []string{"gateway:*"}, api("gateway:jwt:https://idp.example/#u-1"), broad, true},
		{"another account's caller", []string{"gateway:arn:aws:iam::123456789012:*"},
			api("gateway:arn:aws:iam::999999999999:user/alice"), broad, false},
		{"a pattern is whole, not a prefix", []string{"apikey:ci"}, api("apikey:ci2"), broad, false},
		{"a direct invocation is held to the list like any caller", []string{"apikey:nightly"},
			scan.Caller{Trigger: audit.TriggerInvoke, Actor: "system:invoke", Access: "invoke"}, broad, false},
		{"a timer is held only to the schedules", []string{"apikey:nightly"},
			scan.Caller{Trigger: audit.TriggerTimer, Actor: "system:timer/nightly"}, broad, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, guard.Config{BroadScopeActors: tc.patterns, Schedules: []string{"nightly"}})
			_, err := w.start(t, tc.req, tc.caller)
			if tc.allowed {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if scan.ErrorCode(err) != scan.EFORBIDDEN {
				t.Fatalf("error %v, want forbidden", err)
			}
			recs := w.records(t)
			if len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected || recs[0].Actor != tc.caller.Actor {
				t.Errorf("records %+v, want one rejected record naming the actor", recs)
			}
			if w.Emulator.Calls("CreateVulScanTask") != 0 {
				t.Error("a refused scan reached TCSS")
			}
		})
	}
}

func TestBadPatternIsRefused(t *testing.T) {
	if _, err := guard.New(nil, guard.Config{BroadScopeActors: []string{"apikey:["}}); err == nil {
		t.Error("a malformed pattern was accepted")
	}
}

// TestStartLimitPerActor: each actor gets its own allowance; past it, starts are refused with
// how long to wait, nothing is recorded or sent, and the allowance comes back with time.
func TestStartLimitPerActor(t *testing.T) {
	w := newWorld(t, guard.Config{StartsPerMinute: 3})
	for i := range 3 {
		if _, err := w.start(t, narrow, api("apikey:ci")); err != nil {
			t.Fatalf("start %d refused: %v", i+1, err)
		}
	}
	_, err := w.start(t, narrow, api("apikey:ci"))
	var lerr *guard.LimitError
	if scan.ErrorCode(err) != scan.ESTARTLIMIT || !errors.As(err, &lerr) || lerr.RetryAfter() != 20*time.Second {
		t.Fatalf("4th start: %v; want rate limited, retry in 20s", err)
	}
	if _, err := w.start(t, narrow, api("apikey:other")); err != nil {
		t.Errorf("another actor was limited too: %v", err)
	}
	if n := len(w.records(t)); n != 8 {
		t.Errorf("%d records, want 8 (4 scans: pending and outcome each; the refusal is not recorded)", n)
	}
	w.now = w.now.Add(20 * time.Second)
	if _, err := w.start(t, narrow, api("apikey:ci")); err != nil {
		t.Errorf("after 20s: %v", err)
	}
	timer := scan.Caller{Trigger: audit.TriggerTimer, Actor: "system:timer/nightly"}
	w2 := newWorld(t, guard.Config{StartsPerMinute: 1, Schedules: []string{"nightly"}})
	for i := range 3 {
		if _, err := w2.guard.Start(context.Background(), narrow, "timer/nightly@"+string(rune('a'+i)), timer); err != nil {
			t.Errorf("timer start %d: %v; timers are not per-actor limited", i, err)
		}
	}
}

// Only scans sent to TCSS use an actor's allowance: a replay is always answered, and refused
// input does not stand in the way of the next valid request.
func TestStartLimitCountsOnlyScansSent(t *testing.T) {
	w := newWorld(t, guard.Config{StartsPerMinute: 2})
	ci := api("apikey:ci")
	first, err := w.guard.Start(context.Background(), narrow, "nightly-1", ci)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		a, err := w.guard.Start(context.Background(), narrow, "nightly-1", ci)
		if err != nil || !a.Replayed {
			t.Fatalf("replay %d: replayed %v, %v; want the first attempt's answer", i+1, a.Replayed, err)
		}
		if _, err := w.start(t, scan.Request{LocalImageScanType: "bogus"}, ci); scan.ErrorCode(err) != scan.EINVALID {
			t.Fatalf("invalid request %d: %v; want EINVALID, not the limit", i+1, err)
		}
	}
	second, err := w.start(t, narrow, ci)
	if err != nil {
		t.Fatalf("the second scan of the minute: %v", err)
	}
	if _, err := w.start(t, narrow, ci); scan.ErrorCode(err) != scan.ESTARTLIMIT {
		t.Fatalf("the third scan of the minute: %v; want rate limited", err)
	}
	if first.ID() == second.ID() || w.Emulator.Calls("CreateVulScanTask") != 2 {
		t.Errorf("attempts %d and %d, %d TCSS calls; want two scans", first.ID(), second.ID(), w.Emulator.Calls("CreateVulScanTask"))
	}
}

func TestParseStartLimit(t *testing.T) {
	for in, want := range map[string]int{"": 10, "5": 5, "off": -1, " off ": -1} {
		if got, err := guard.ParseStartLimit(in); err != nil || got != want {
			t.Errorf("ParseStartLimit(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"ten", "-3", "5/min", "0", "00"} {
		if _, err := guard.ParseStartLimit(bad); err == nil {
			t.Errorf("ParseStartLimit(%q) accepted", bad)
		}
	}
}

// TestTimersOnlyForNamedSchedules: a timer event naming a schedule that is not configured (a
// forged event, or a trigger nobody declared) starts nothing and is recorded as rejected.
func TestTimersOnlyForNamedSchedules(t *testing.T) {
	for _, tc := range []struct {
		name      string
		schedules []string
		actor     string
		allowed   bool
	}{
		{"configured schedule", []string{"nightly", "weekly"}, "system:timer/weekly", true},
		{"unknown schedule", []string{"nightly"}, "system:timer/evil", false},
		{"no schedules configured", nil, "system:timer/nightly", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, guard.Config{Schedules: tc.schedules})
			_, err := w.start(t, narrow, scan.Caller{Trigger: audit.TriggerTimer, Actor: tc.actor})
			if tc.allowed != (err == nil) {
				t.Fatalf("error %v, allowed want %t", err, tc.allowed)
			}
			if !tc.allowed {
				recs := w.records(t)
				if len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected || w.Emulator.Calls("CreateVulScanTask") != 0 {
					t.Errorf("records %+v; want one rejection and no TCSS call", recs)
				}
			}
		})
	}
}

// TestRefusalsRecordedPerSource: refusals need no credential, so each source gets a bounded
// number recorded a minute; past it the refusal is answered the same, with nothing recorded,
// other sources are unaffected, and the allowance comes back with time.
func TestRefusalsRecordedPerSource(t *testing.T) {
	w := newWorld(t, guard.Config{RefusalsRecordedPerMinute: 3, BroadScopeActors: []string{"apikey:ci"}})
	cause := &scan.Error{Code: scan.EFORBIDDEN, Op: "web", Message: "not from this site"}
	from := func(ip string) scan.Caller {
		return scan.Caller{Trigger: audit.TriggerForm, Actor: "anonymous", SourceIP: ip}
	}
	reject := func(c scan.Caller) int64 {
		t.Helper()
		a, err := w.guard.Reject(context.Background(), "", c, cause)
		if !errors.Is(err, cause) {
			t.Fatalf("Reject returned %v, want the cause itself", err)
		}
		return a.ID()
	}
	for i := range 5 {
		id := reject(from("198.51.100.7"))
		if recorded := id != 0; recorded != (i < 3) {
			t.Errorf("refusal %d from one source: recorded=%v (id %d), want recorded only for the first 3", i+1, recorded, id)
		}
	}
	if reject(from("198.51.100.8")) == 0 {
		t.Error("another source's refusal was not recorded")
	}
	if _, err := w.start(t, broad, scan.Caller{Trigger: audit.TriggerForm, Actor: "oidc:a@example.com", SourceIP: "198.51.100.7"}); scan.ErrorCode(err) != scan.EFORBIDDEN {
		t.Errorf("a guard refusal from the exhausted source: %v, want forbidden all the same", err)
	}
	if n := len(w.records(t)); n != 4 {
		t.Errorf("%d records, want 4 (3 from the first source, 1 from the second)", n)
	}
	w.now = w.now.Add(20 * time.Second)
	if reject(from("198.51.100.7")) == 0 {
		t.Error("after 20 s (one refusal's worth at 3 a minute) the source's refusal was still not recorded")
	}
	w2 := newWorld(t, guard.Config{RefusalsRecordedPerMinute: -1})
	for range 5 {
		_, _ = w2.guard.Reject(context.Background(), "", from("198.51.100.9"), cause)
	}
	if n := len(w2.records(t)); n != 5 {
		t.Errorf("with no limit: %d records, want 5", n)
	}
}
