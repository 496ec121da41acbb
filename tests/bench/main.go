// Command bench is vulscan's benchmark suite (`go tool task bench`). It builds vulscan as the
// deploy zips hold it and, beside it, the anchor each figure is compared with; measures both in
// the same run, interleaved, so that a noisy machine moves both alike; and writes
// docs/BENCHMARKS.md with every figure's min / median / max, the ratio and the target.
//
// Items: deploy size; cold start under AWS's Lambda runtime emulator (first answer) and under a
// fake SCF runtime API (start to init/ready); the one-shot CLI against a bare Go SDK program and
// Tencent's Node.js SDK (wall, CPU, peak RSS); warm latency and a 500-request burst against the
// HTTP server, driven by an open-loop load generator in its own process; and the testing.B
// micro-benchmarks, compared by benchstat with the previous run's (docs/bench/micro.txt).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

func main() {
	out := flag.String("out", "docs/BENCHMARKS.md", "the report to write")
	var c config
	flag.IntVar(&c.runs, "runs", 15, "samples per one-shot figure")
	flag.IntVar(&c.coldRuns, "cold-runs", 101, "samples per cold-start figure (a few ms each: their medians move with the machine's load, so they take many)")
	flag.IntVar(&c.microCount, "micro-count", 6, "go test -count for the micro-benchmarks (benchstat needs 6)")
	flag.BoolVar(&c.firstRun, "first-run", false, "also time a new user's first `go tool task run` (fresh clone, empty caches; minutes)")
	flag.StringVar(&c.only, "only", "", "run only the items whose names contain this text (e.g. burst), for a quick look; the report says so")
	flag.Parse()
	if err := run(*out, c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is what the flags choose.
type config struct {
	runs, coldRuns, microCount int
	firstRun                   bool
	only                       string
}

// suite holds what every item needs: the built programs and a scratch directory.
type suite struct {
	root, dir      string
	runs, coldRuns int
	bin            map[string]string // program name -> path
	log            func(format string, args ...any)
}

func run(out string, c config) error {
	start := time.Now()
	loadBefore := loadAverage()
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	commit := gitCommit(root) // before the run rewrites docs/bench/micro.txt
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return fmt.Errorf("run the suite from the repository root: %w", err)
	}
	dir, err := os.MkdirTemp("", "vulscan-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s := &suite{root: root, dir: dir, runs: c.runs, coldRuns: c.coldRuns, bin: map[string]string{},
		log: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "bench %6.1fs: %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
		}}
	if err := s.build(); err != nil {
		return err
	}
	var rows []row
	var notes []string
	items := []struct {
		name string
		fn   func() ([]row, error)
	}{
		{"deploy size", s.sizes},
		{"Lambda cold start", s.lambdaColdStart},
		{"SCF cold start", s.scfColdStart},
		{"one-shot CLI", s.oneShot},
		{"warm latency", s.warmLatency},
		{"500-request burst", s.burst},
		{"audit at 1M records", s.auditScale},
	}
	if c.firstRun {
		items = append(items, struct {
			name string
			fn   func() ([]row, error)
		}{"first run", s.firstRun})
	} else {
		notes = append(notes, "- first run: not measured in this run (`go tool task bench -- -first-run` adds it; it downloads and compiles everything twice)")
	}
	if c.only != "" {
		notes = append(notes, fmt.Sprintf("- a partial run: only the items named like %q", c.only))
	}
	for _, item := range items {
		if c.only != "" && !strings.Contains(item.name, c.only) {
			continue
		}
		s.log("%s", item.name)
		r, err := item.fn()
		if err != nil {
			notes = append(notes, fmt.Sprintf("- %s: not measured: %v", item.name, err))
			s.log("%s failed: %v", item.name, err)
		}
		rows = append(rows, r...)
	}
	var micro string
	if c.only == "" || strings.Contains("micro-benchmarks", c.only) {
		s.log("micro-benchmarks")
		var microRows []row
		micro, microRows, err = s.micro(filepath.Join(root, "docs", "bench", "micro.txt"), c.microCount)
		if err != nil {
			notes = append(notes, fmt.Sprintf("- micro-benchmarks: %v", err))
		}
		rows = append(rows, microRows...)
	}
	report := s.report(rows, notes, micro, commit, time.Since(start), loadBefore+" at the start, "+loadAverage()+" at the end")
	if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
		return err
	}
	s.log("wrote %s", out)
	return nil
}

// build compiles vulscan, the one-shot anchor and the load generator with the deploy zips' flags
// less -trimpath, which would recompile every package (the tests' and developers' builds share
// these compiled packages); then the deploy bootstrap and the cold starts' anchors (buildDeployed).
func (s *suite) build() error {
	for name, pkg := range map[string]string{
		"vulscan": "./functions/vulscan",
		"baresdk": "./tests/bench/baresdk",
		"loadgen": "./tests/bench/loadgen",
	} {
		path := filepath.Join(s.dir, name)
		s.log("build %s", pkg)
		if err := s.cmd(nil, "go", "build", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", path, pkg); err != nil {
			return err
		}
		s.bin[name] = path
	}
	return s.buildDeployed()
}

// buildDeployed builds the deploy zips' bootstrap exactly as `task package` does (release tag:
// no TCSS emulator, no SQLite; -trimpath; the release toolchain), for the deploy size and the
// cold starts: the figures are the deployed binary's. The cold starts' anchors (the hello-world
// Lambda, the minimal SCF runtime) are built the same way, so that a ratio compares the programs,
// not two Go releases or two sets of flags. The same command as the task's shares its compiled
// packages (CI packages before it tests).
func (s *suite) buildDeployed() error {
	toolchain, err := releaseToolchain(s.root)
	if err != nil {
		return err
	}
	env := []string{"GOTOOLCHAIN=" + toolchain, "GOOS=linux", "GOARCH=" + runtime.GOARCH, "TZ=UTC"}
	for _, b := range []struct{ name, tags, pkg string }{
		{"bootstrap", "lambda.norpc,release", "./functions/vulscan"},
		{"hellolambda", "lambda.norpc", "./tests/bench/hellolambda"},
		{"minimalscf", "", "./tests/bench/minimalscf"},
	} {
		path := filepath.Join(s.dir, b.name)
		s.log("build %s (%s, as the deploy bootstrap)", b.pkg, toolchain)
		if err := s.cmd(env, "go", "build", "-tags", b.tags, "-trimpath", "-ldflags=-s -w", "-o", path, b.pkg); err != nil {
			return err
		}
		s.bin[b.name] = path
	}
	return nil
}

// releaseToolchain is Taskfile.yml's RELEASE_TOOLCHAIN, the Go release `task package` builds with.
func releaseToolchain(root string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "Taskfile.yml"))
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "RELEASE_TOOLCHAIN:"); ok {
			return strings.Trim(strings.TrimSpace(v), `"'`), nil
		}
	}
	return "", errors.New("no RELEASE_TOOLCHAIN in Taskfile.yml")
}

// cmd runs a command in the repository root with CGO off, failing with its output.
func (s *suite) cmd(env []string, name string, args ...string) error {
	c := exec.Command(name, args...)
	c.Dir = s.root
	c.Env = append(append(os.Environ(), "CGO_ENABLED=0"), env...)
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// report renders docs/BENCHMARKS.md.
func (s *suite) report(rows []row, notes []string, micro, commit string, took time.Duration, load string) string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Written by `go tool task bench` (tests/bench); do not edit by hand. Every figure and its anchor\n")
	b.WriteString("come from this one run, measured interleaved on the same machine: compare ratios, not absolute\n")
	b.WriteString("times (the machine is shared and noisy).\n\n")
	fmt.Fprintf(&b, "- machine: %s, %d CPUs, %s/%s\n", cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "- Go: %s\n", goVersion(s.root))
	fmt.Fprintf(&b, "- commit: %s\n", commit)
	fmt.Fprintf(&b, "- date: %s; the suite took %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), took.Round(time.Second))
	fmt.Fprintf(&b, "- load average (1 min): %s\n", load)
	fmt.Fprintf(&b, "- samples: %d per cold-start figure, %d per one-shot figure\n\n", s.coldRuns, s.runs)
	b.WriteString(table(rows))
	if len(notes) > 0 {
		b.WriteString("\nNotes on this run:\n\n" + strings.Join(notes, "\n") + "\n")
	}
	b.WriteString("\n" + explanations + "\n" + profiles)
	b.WriteString("\n## Micro-benchmarks\n\n`go test -bench` over ./functions/... and ./web/..., compared by benchstat with the previous\nrun's raw output (docs/bench/micro.txt, which this run replaces):\n\n```\n")
	b.WriteString(strings.TrimRight(micro, "\n") + "\n```\n")
	return b.String()
}

// loadAverage is the one-minute load average: how busy the rest of the machine was.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(data))[0]
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func goVersion(root string) string {
	out, err := exec.Command("go", "version").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
}

func gitCommit(root string) string {
	c := exec.Command("git", "describe", "--always", "--dirty", "--abbrev=12")
	c.Dir = root
	out, err := c.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// sampleRun is one run of a program to its end, with its resource use.
type sampleRun struct {
	wall, cpu time.Duration
	stdout    []byte
}

// measure runs one program to its end and reports wall time, CPU time and peak RSS.
func measure(ctx context.Context, env []string, dir string, name string, args ...string) (sampleRun, error) {
	c := exec.CommandContext(ctx, name, args...)
	c.Env, c.Dir = env, dir
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	start := time.Now()
	err := c.Run()
	wall := time.Since(start)
	if err != nil {
		return sampleRun{}, fmt.Errorf("%s: %v\n%s%s", filepath.Base(name), err, stdout.Bytes(), stderr.Bytes())
	}
	st := c.ProcessState
	return sampleRun{wall: wall, cpu: st.UserTime() + st.SystemTime(), stdout: stdout.Bytes()}, nil
}

// cleanEnv is this environment less anything that would choose vulscan's mode or settings.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "VULSCAN_"), strings.HasPrefix(name, "TENCENTCLOUD_"),
			strings.HasPrefix(name, "SCF_"), strings.HasPrefix(name, "AWS_LAMBDA_"), name == "PORT":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
