package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestStatistics(t *testing.T) {
	vals := []float64{5, 1, 4, 2, 3}
	if got := median(vals); got != 3 {
		t.Errorf("median = %v, want 3", got)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median of an even count = %v, want 2.5", got)
	}
	if got := percentile(vals, 99); got != 5 {
		t.Errorf("p99 = %v, want 5", got)
	}
	if got := percentile(vals, 50); got != 3 {
		t.Errorf("p50 = %v, want 3", got)
	}
	if vals[0] != 5 {
		t.Error("median sorted its argument in place")
	}
}

func TestVerdicts(t *testing.T) {
	tests := []struct {
		name         string
		r            row
		figure, want string
	}{
		{"ratio within", row{ours: []float64{3, 4, 5}, base: []float64{2, 2, 2}, target: target{kind: "ratio", limit: 2}}, "2.00×", "met"},
		{"ratio over", row{ours: []float64{5}, base: []float64{2}, target: target{kind: "ratio", limit: 2}}, "2.50×", "**not met**"},
		{"throughput ratio at least", row{ours: []float64{60}, base: []float64{100}, target: target{kind: "ratio-min", limit: 0.5}}, "0.60×", "met"},
		{"added over", row{unit: "ms", ours: []float64{4}, base: []float64{1}, target: target{kind: "added-max", limit: 2}}, "+3.00 ms", "**not met**"},
		{"absolute max", row{unit: "MB", ours: []float64{39}, target: target{kind: "max", limit: 40}}, "39.0 MB", "met"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			figure, met := tt.r.verdict()
			if figure != tt.figure || met != tt.want {
				t.Errorf("verdict = %q, %q; want %q, %q", figure, met, tt.figure, tt.want)
			}
		})
	}
	out := table([]row{{item: "x", unit: "ms", ours: []float64{1, 2, 3}, anchor: "y", base: []float64{1}, target: target{kind: "ratio", limit: 3}}})
	if !strings.Contains(out, "| x | 1.00 / 2.00 / 3.00 ms | y: 1.00 ms | 2.00× | ≤ 3× | met |") {
		t.Errorf("table:\n%s", out)
	}
}

// TestStallWatch runs both probes for a little over two sync periods: the rows must carry the
// longest sync and the longest late wake, and stop may be called twice.
func TestStallWatch(t *testing.T) {
	w := watchStalls(t.TempDir())
	time.Sleep(2*stallSyncEvery + stallSyncEvery/2)
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	if err := w.stop(); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	if len(w.syncs) < 2 || len(w.wakes) < 10 {
		t.Fatalf("%d syncs and %d wakes sampled; want at least 2 and 10", len(w.syncs), len(w.wakes))
	}
	for _, r := range []row{w.syncRow(), w.wakeRow()} {
		if len(r.ours) != 1 || math.IsNaN(r.ours[0]) || r.ours[0] < 0 {
			t.Errorf("%s: figure %v, want the longest sample", r.item, r.ours)
		}
		if !strings.Contains(r.note, "samples") {
			t.Errorf("%s: note %q does not count the samples", r.item, r.note)
		}
	}
	if got := maxOf(nil); !math.IsNaN(got) {
		t.Errorf("maxOf(nil) = %v, want NaN", got)
	}
	if got := stallNote([]float64{1, 25, 30}); got != "median 25.0 ms, 2 of 3 samples 20.0 ms or more" {
		t.Errorf("stallNote = %q", got)
	}
}
