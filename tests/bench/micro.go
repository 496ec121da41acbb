package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// micro runs the testing.B benchmarks, compares them with the previous run's raw output (prev)
// through benchstat, replaces prev with this run's, and derives the throughput rows: the audited
// path (scan.Service.Start, SQLite, pacing off) against the signed call alone.
//
// The audit log's benchmarks (BenchmarkAudit*, the audit issue's) fill a store with a million
// records for each run, so they run once (-count 1) in a go test of their own.
func (s *suite) micro(prev string, count int) (string, []row, error) {
	var raw []byte
	for _, args := range [][]string{
		{"test", "-run", "^$", "-bench", ".", "-skip", "^BenchmarkAudit", "-benchmem", "-count", strconv.Itoa(count), "./functions/...", "./web/..."},
		{"test", "-run", "^$", "-bench", "^BenchmarkAudit", "-benchmem", "-count", "1", "-timeout", "30m", "./functions/..."},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = s.root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		raw = append(raw, out...)
		if err != nil {
			return string(raw), nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
	}
	current := filepath.Join(s.dir, "micro.txt")
	if err := os.WriteFile(current, raw, 0o644); err != nil {
		return "", nil, err
	}
	benchstat, err := s.tool("benchstat")
	if err != nil {
		return string(raw), nil, err
	}
	statArgs := []string{"this-run=" + current}
	if _, err := os.Stat(prev); err == nil {
		statArgs = []string{"previous-run=" + prev, "this-run=" + current}
	}
	stat, err := exec.Command(benchstat, statArgs...).CombinedOutput()
	if err != nil {
		return string(raw), nil, fmt.Errorf("benchstat: %v\n%s", err, stat)
	}
	if err := os.MkdirAll(filepath.Dir(prev), 0o755); err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(prev, raw, 0o644); err != nil {
		return "", nil, err
	}
	perOp := nsPerOp(raw)
	rate := func(name string) []float64 {
		var out []float64
		for _, ns := range perOp[name] {
			out = append(out, 1e9/ns)
		}
		return out
	}
	// Throughput is what a server sees: many callers at once, whose pending records share group
	// commits; the anchor makes the signed call with as many callers. One caller at a time is
	// shown too: each attempt then waits for its own pending record's fsync.
	rows := []row{
		{item: "throughput of the audited path (scan.Service.Start, SQLite, pacing off, 8 callers per CPU; BenchmarkStartParallel)", unit: "req/s",
			ours: rate("BenchmarkStartParallel"), anchor: "the signed call alone to the same emulator, as many callers (BenchmarkCreateVulScanTaskParallel)",
			base: rate("BenchmarkCreateVulScanTaskParallel"), target: target{kind: "ratio-min", limit: 0.5}},
		{item: "same, one caller at a time (BenchmarkStart)", unit: "req/s",
			ours: rate("BenchmarkStart"), anchor: "the signed call alone to the same emulator (BenchmarkCreateVulScanTask)", base: rate("BenchmarkCreateVulScanTask")},
	}
	return string(stat), rows, nil
}

// tool is the path of a developer tool built from tools/go.mod.
func (s *suite) tool(name string) (string, error) {
	out, err := exec.Command("go", "-C", filepath.Join(s.root, "tools"), "tool", "-n", name).Output()
	if err != nil {
		return "", fmt.Errorf("building %s from tools/go.mod: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// nsPerOp collects each benchmark's ns/op samples from go test -bench output, by name without
// the -GOMAXPROCS suffix.
func nsPerOp(raw []byte) map[string][]float64 {
	out := map[string][]float64{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || f[3] != "ns/op" {
			continue
		}
		ns, err := strconv.ParseFloat(f[2], 64)
		if err != nil || ns <= 0 {
			continue
		}
		name := f[0]
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		out[name] = append(out[name], ns)
	}
	return out
}
