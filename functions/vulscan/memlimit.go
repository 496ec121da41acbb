package main

import (
	"math"
	"runtime/debug"
)

// serveMemoryLimit is the soft memory limit a serving vulscan gives the Go runtime when
// GOMEMLIMIT does not set one. A burst holds hundreds of requests while they wait for TCSS's
// 20 calls a second; with the default GOGC alone the heap then doubles past what is live (the
// server peaked at 58 MB RSS in the bench suite's 500-request burst, 37 MB with this limit, the
// drain time unchanged). Since the requests wait in the start queue (scan.Queue) it peaks at
// 35 to 37 MB, and still at 55 MB without the limit. The limit is soft: past it the collector runs more often (at most half
// the CPU, the runtime's cap), nothing fails. Lambda and SCF instances answer one event at a
// time, where it never binds.
const serveMemoryLimit = 24 << 20

// limitMemory applies serveMemoryLimit unless the operator set GOMEMLIMIT (the runtime has
// applied theirs), and returns the limit in force.
func limitMemory(getenv func(string) string) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1) // -1 reads the limit without changing it
	}
	debug.SetMemoryLimit(serveMemoryLimit)
	return serveMemoryLimit
}

// noMemoryLimit is the runtime's default: no limit.
const noMemoryLimit = math.MaxInt64
