package scan

import (
	"testing"
	"time"
)

func TestSeverityCacheIsBounded(t *testing.T) {
	var c severityCache
	start := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	for i := range int64(3 * severityCacheSize) {
		c.put(i+1, Severities{High: i}, start.Add(time.Duration(i)*time.Millisecond))
	}
	if len(c.entries) != severityCacheSize {
		t.Fatalf("%d entries, want at most %d", len(c.entries), severityCacheSize)
	}
	// The newest stay; the oldest went first.
	newest := int64(3 * severityCacheSize)
	if _, ok := c.get(newest, start.Add(time.Second)); !ok {
		t.Error("the newest breakdown was evicted")
	}
	if _, ok := c.get(1, start.Add(time.Second)); ok {
		t.Error("the oldest breakdown was kept past the bound")
	}
}
