package scan

import (
	"sync"
	"time"
)

// A finished task's severity breakdown takes up to maxSeverityPages TCSS calls (one per page of
// its images), each counted against TCSS's 20 calls a second that scans also need. It does not
// change once the task is SCANNED, except when someone ignores vulnerabilities in the console, so
// the service keeps each breakdown for severityTTL, for at most severityCacheSize tasks.
const (
	severityTTL       = 10 * time.Minute
	severityCacheSize = 256
)

// severityCache holds recent breakdowns by local task ID. When full, an expired entry or else
// the oldest makes room, so its size is bounded whatever task IDs are asked about.
type severityCache struct {
	mu      sync.Mutex
	entries map[int64]severityEntry
}

type severityEntry struct {
	sev     Severities
	fetched time.Time
}

func (c *severityCache) get(taskID int64, now time.Time) (Severities, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[taskID]
	if !ok || now.Sub(e.fetched) >= severityTTL || now.Before(e.fetched) {
		return Severities{}, false
	}
	return e.sev, true
}

func (c *severityCache) put(taskID int64, sev Severities, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[int64]severityEntry)
	}
	if _, ok := c.entries[taskID]; !ok && len(c.entries) >= severityCacheSize {
		var oldest int64
		var oldestAt time.Time
		for id, e := range c.entries {
			if now.Sub(e.fetched) >= severityTTL {
				oldest = id
				break
			}
			if oldestAt.IsZero() || e.fetched.Before(oldestAt) {
				oldest, oldestAt = id, e.fetched
			}
		}
		delete(c.entries, oldest)
	}
	c.entries[taskID] = severityEntry{sev: sev, fetched: now}
}
