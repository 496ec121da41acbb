package guard

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// allowances gives each key (an actor, a client address) its own allowance of perMinute events
// a minute, all of it usable at once. Memory is bounded: past maxTrackedActors keys, those
// whose allowance is full again are forgotten.
type allowances struct {
	perMinute int // negative: no limit

	mu   sync.Mutex
	keys map[string]*allowance
}

type allowance struct {
	*rate.Limiter
	refused bool // the last take was refused: the next refusal is not the first in its run
}

func newAllowances(perMinute int) *allowances {
	return &allowances{perMinute: perMinute, keys: map[string]*allowance{}}
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
		l = &allowance{Limiter: rate.NewLimiter(rate.Limit(float64(a.perMinute)/60), a.perMinute)}
		a.keys[key] = l
	}
	r := l.ReserveN(now, 1)
	if !r.OK() {
		first := !l.refused
		l.refused = true
		return time.Minute, false, first
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		first := !l.refused
		l.refused = true
		return d, false, first
	}
	l.refused = false
	return 0, true, false
}

// forgetIdle drops the keys whose allowance is full again; a.mu must be held.
func (a *allowances) forgetIdle(now time.Time) {
	for key, l := range a.keys {
		if l.TokensAt(now) >= float64(a.perMinute) {
			delete(a.keys, key)
		}
	}
}
