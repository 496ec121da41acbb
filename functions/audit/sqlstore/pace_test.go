package sqlstore

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// Processes that book slots at once through one store get slots one interval apart, whatever
// their clocks read when they asked; a slot past the caller's deadline is not booked.
func TestBookSlotSharesOnePace(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		other := h.reopen(t) // another process, as far as the database can tell
		const interval = 50 * time.Millisecond
		now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		var slots []time.Time
		var wg sync.WaitGroup
		for i := range 40 {
			s := h.store
			if i%2 == 1 {
				s = other
			}
			wg.Go(func() {
				slot, ok, err := s.BookSlot(ctx, "CreateVulScanTask", now.Add(time.Duration(i%3)*time.Millisecond), interval, 1, time.Time{})
				if err != nil || !ok {
					t.Errorf("BookSlot: %v, %v", ok, err)
					return
				}
				mu.Lock()
				slots = append(slots, slot)
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.SortFunc(slots, func(a, b time.Time) int { return a.Compare(b) })
		for i := 1; i < len(slots); i++ {
			if gap := slots[i].Sub(slots[i-1]); gap < interval {
				t.Fatalf("slots %d and %d are %v apart, want at least %v", i-1, i, gap, interval)
			}
		}
		if len(slots) != 40 || slots[0].Before(now) {
			t.Fatalf("%d slots from %v", len(slots), slots[0])
		}
		// The 41st slot is two seconds out: a caller whose deadline is sooner gets none.
		if _, ok, err := h.store.BookSlot(ctx, "CreateVulScanTask", now, interval, 1, now.Add(time.Second)); ok || err != nil {
			t.Errorf("BookSlot before a near deadline: ok %v, %v; want no slot", ok, err)
		}
		// Another action has a pace of its own. A booking of several slots takes them all: the
		// next booking's slot comes after the last of them.
		if slot, ok, err := other.BookSlot(ctx, "DescribeVulScanInfo", now, interval, 4, time.Time{}); !ok || err != nil || !slot.Equal(now) {
			t.Errorf("first DescribeVulScanInfo slot = %v, %v, %v; want now", slot, ok, err)
		}
		if slot, ok, err := h.store.BookSlot(ctx, "DescribeVulScanInfo", now, interval, 1, time.Time{}); !ok || err != nil || !slot.Equal(now.Add(4*interval)) {
			t.Errorf("the slot after a booking of four = %v, %v, %v; want now + 4 intervals", slot, ok, err)
		}
	})
}
