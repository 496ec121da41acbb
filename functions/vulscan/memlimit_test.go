package main

import (
	"runtime/debug"
	"testing"
)

func TestLimitMemory(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	tests := []struct {
		name      string
		gomemlim  string
		preset    int64 // the limit the runtime has when the mode starts
		wantLimit int64
	}{
		{"no GOMEMLIMIT: the serving default", "", noMemoryLimit, serveMemoryLimit},
		{"the operator's GOMEMLIMIT stays", "100MiB", 100 << 20, 100 << 20},
		{"GOMEMLIMIT=off stays off", "off", noMemoryLimit, noMemoryLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetMemoryLimit(tt.preset) // what the runtime did with GOMEMLIMIT at start
			getenv := func(k string) string {
				if k == "GOMEMLIMIT" {
					return tt.gomemlim
				}
				return ""
			}
			if got := limitMemory(getenv); got != tt.wantLimit {
				t.Errorf("limitMemory = %d, want %d", got, tt.wantLimit)
			}
			if got := debug.SetMemoryLimit(-1); got != tt.wantLimit {
				t.Errorf("runtime limit = %d, want %d", got, tt.wantLimit)
			}
		})
	}
}
