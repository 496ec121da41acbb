package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// oneShot compares `vulscan scan` (validate, audit pending and outcome in SQLite, the signed call)
// from exec to exit with a bare Go program making the same signed call through the SDK, and with
// Tencent's Node.js SDK doing the same (what a user would otherwise write).
func (s *suite) oneShot() ([]row, error) {
	_, srv, key := emulator(1 << 30)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dsn := "sqlite:" + filepath.Join(s.dir, "oneshot.db")
	vulscanEnv := s.functionEnv(dsn, srv.URL, key)
	bareEnv := cleanEnv("ENDPOINT="+srv.URL, "SECRET_ID="+key.SecretID, "SECRET_KEY="+key.SecretKey)
	vulscanArgs := []string{s.bin["vulscan"], "scan", "--LocalImageScanType", "ALL", "--actor", "bench"}
	var wall, cpu, rss [2][]float64 // [0] vulscan, [1] bare SDK
	var pace paceGap
	for i := range s.runs {
		for _, name := range order(i, "vulscan", "baresdk") {
			k, env, args := 0, vulscanEnv, vulscanArgs
			if name == "baresdk" {
				k, env, args = 1, bareEnv, []string{s.bin["baresdk"]}
			} else {
				pace.wait()
			}
			r, err := measure(ctx, env, s.dir, args[0], args[1:]...)
			if err != nil {
				return nil, err
			}
			wall[k] = append(wall[k], ms(r.wall))
			cpu[k] = append(cpu[k], ms(r.cpu))
			// Peak RSS in a run of its own under GNU time: a child of this (large) process
			// inherits its peak through vfork, so the rusage of a direct child says nothing.
			if name == "vulscan" {
				pace.wait()
			}
			mb, err := peakRSS(ctx, env, s.dir, args...)
			if err != nil {
				return nil, err
			}
			rss[k] = append(rss[k], mb)
		}
	}
	rows := []row{
		{item: "one-shot `vulscan scan`, exec to exit", unit: "ms", ours: wall[0], anchor: "bare Go SDK program", base: wall[1], target: target{kind: "ratio", limit: 2}},
		{item: "one-shot, CPU (user + system)", unit: "ms", ours: cpu[0], anchor: "bare Go SDK program", base: cpu[1]},
		{item: "one-shot, peak RSS", unit: "MB", ours: rss[0], anchor: "bare Go SDK program", base: rss[1], target: target{kind: "ratio", limit: 1.5}},
	}
	node, err := s.nodeSDK()
	if err != nil {
		return rows, err
	}
	nodeEnv := cleanEnv("EMULATOR_ADDR="+strings.TrimPrefix(srv.URL, "http://"), "SECRET_ID="+key.SecretID,
		"SECRET_KEY="+key.SecretKey, "http_proxy=", "HTTP_PROXY=")
	var ours, base []float64
	for i := range max(s.runs/3, 3) {
		for _, name := range order(i, "vulscan", "node") {
			if name == "vulscan" {
				pace.wait()
				r, err := measure(ctx, vulscanEnv, s.dir, vulscanArgs[0], vulscanArgs[1:]...)
				if err != nil {
					return rows, err
				}
				ours = append(ours, ms(r.wall))
				continue
			}
			r, err := measure(ctx, nodeEnv, filepath.Join(s.root, "tests", "sdkcompat"), node, "nodesdk.js")
			if err != nil {
				return rows, err
			}
			if !strings.Contains(string(r.stdout), `"ok"`) {
				return rows, errors.New("the Node.js SDK's call failed: " + string(r.stdout))
			}
			base = append(base, ms(r.wall))
		}
	}
	return append(rows, row{item: "one-shot `vulscan scan`, exec to exit", unit: "ms", ours: ours,
		anchor: "Tencent's Node.js SDK", base: base, target: target{kind: "ratio", limit: 0.05}}), nil
}

// paceGap spaces the one-shots: vulscan keeps TCSS's 20 calls a second per action across
// processes (the pace it books through the audit log), so a one-shot started within 52.5 ms of
// the previous one's call waits for its slot. A user's single scan never waits; the suite, which
// starts one every few milliseconds, would measure that wait instead of the scan. The wait is
// not counted in any figure, and the anchors' runs (which keep no pace) are not spaced.
type paceGap struct{ last time.Time }

// paceGapLength is one pace interval (tcss.RequestsPerSecond with the pacer's margin) and
// enough for the previous run's booking to have come late in it on a loaded machine.
const paceGapLength = 100 * time.Millisecond

// wait sleeps until paceGapLength has passed since the previous run started.
func (p *paceGap) wait() {
	if !p.last.IsZero() {
		time.Sleep(time.Until(p.last.Add(paceGapLength)))
	}
	p.last = time.Now()
}

// peakRSS runs a program under GNU time (/usr/bin/time, Debian's time package), which forks it
// from its own small process, and returns the program's peak RSS in MB.
func peakRSS(ctx context.Context, env []string, dir string, args ...string) (float64, error) {
	out, err := os.CreateTemp("", "rss-")
	if err != nil {
		return 0, err
	}
	out.Close()
	defer os.Remove(out.Name())
	if _, err := measure(ctx, env, dir, "/usr/bin/time", append([]string{"-f", "%M", "-o", out.Name()}, args...)...); err != nil {
		return 0, fmt.Errorf("GNU time (apt-get install time): %w", err)
	}
	data, err := os.ReadFile(out.Name())
	if err != nil {
		return 0, err
	}
	kb, err := strconv.ParseFloat(strings.TrimSpace(string(data)), 64)
	if err != nil {
		return 0, fmt.Errorf("GNU time printed %q", data)
	}
	return kb / 1024, nil
}

// nodeSDK returns node's path, installing tests/sdkcompat's pinned SDK first when it is missing.
func (s *suite) nodeSDK() (string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", errors.New("node is not installed: the Node.js SDK figure is missing")
	}
	dir := filepath.Join(s.root, "tests", "sdkcompat")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "tencentcloud-sdk-nodejs-common")); err != nil {
		s.log("npm ci --prefix tests/sdkcompat")
		if err := s.cmd(nil, "npm", "ci", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error"); err != nil {
			return "", err
		}
	}
	return node, nil
}
