package guard

import (
	"sync"
	"time"
)

// allowances gives each key (an actor, a client address) its own allowance of perMinute events
// a minute, all of it usable at once, refilled evenly over the minute (a token bucket). An event
// that turned out not to happen is given back. Memory is bounded: past maxTrackedActors keys,
// those whose allowance is full again are forgotten.
type allowances struct {
	perMinute int // negative: no limit

	mu   sync.Mutex
	keys map[string]*allowance
}

type allowance struct {
	tokens  float64   // events left at last
	last    time.Time // when tokens was last brought up to date
	refused bool      // the last take was refused: the next refusal is not the first in its run
}

func newAllowances(perMinute int) *allowances {
	return &allowances{perMinute: perMinute, keys: map[string]*allowance{}}
}

// at brings l's tokens up to now; a.mu must be held.
func (a *allowances) at(l *allowance, now time.Time) float64 {
	if now.After(l.last) {
		l.tokens = min(float64(a.perMinute), l.tokens+now.Sub(l.last).Minutes()*float64(a.perMinute))
		l.last = now
	}
	return l.tokens
}

// take uses one event of key's allowance at now. When none is left it says how long until one
// is, and whether this is the first refusal since the key was last allowed (to log once).
func (a *allowances) take(key string, now time.Time) (wait time.Duration, ok, firstRefusal bool) {
	if a.perMinute < 0 {
		return 0, true, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	l, found := a.keys[key]
	if !found {
		if len(a.keys) >= maxTrackedActors {
			a.forgetIdle(now)
		}
		l = &allowance{tokens: float64(a.perMinute), last: now}
		a.keys[key] = l
	}
	if tokens := a.at(l, now); tokens < 1 {
		first := !l.refused
		l.refused = true
		if a.perMinute == 0 {
			return time.Minute, false, first
		}
		return time.Duration((1 - tokens) / float64(a.perMinute) * float64(time.Minute)), false, first
	}
	l.tokens--
	l.refused = false
	return 0, true, false
}

// giveBack returns one event that take allowed but that did not happen.
func (a *allowances) giveBack(key string) {
	if a.perMinute < 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if l, ok := a.keys[key]; ok {
		l.tokens = min(float64(a.perMinute), l.tokens+1)
	}
}

// forgetIdle drops the keys whose allowance is full again; a.mu must be held.
func (a *allowances) forgetIdle(now time.Time) {
	for key, l := range a.keys {
		if a.at(l, now) >= float64(a.perMinute) {
			delete(a.keys, key)
		}
	}
}
