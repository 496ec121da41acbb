package main

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// firstRun measures what a new user waits for: `go tool task run` in a fresh clone of this
// repository's HEAD with empty module and build caches (GOPROXY as configured), until the form
// answers; beside it, `go run ./functions/vulscan` from the same fresh state, the product alone.
// It downloads and compiles everything twice, so it runs only when asked (-first-run).
func (s *suite) firstRun() ([]row, error) {
	clone := filepath.Join(s.dir, "clone")
	if err := s.cmd(nil, "git", "clone", "-q", s.root, clone); err != nil {
		return nil, err
	}
	var taskRun, goRun, taskMB, goMB float64
	for _, which := range []string{"go run", "task run"} {
		args := []string{"run", "./functions/vulscan"}
		if which == "task run" {
			args = []string{"tool", "task", "run"}
		}
		d, mb, err := s.timeToForm(clone, args)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", which, err)
		}
		if which == "task run" {
			taskRun, taskMB = d.Seconds(), mb
		} else {
			goRun, goMB = d.Seconds(), mb
		}
	}
	return []row{
		{item: "first `go tool task run`, fresh clone, empty caches, until the form answers", unit: "s",
			ours: []float64{taskRun}, anchor: "`go run ./functions/vulscan`, same fresh state", base: []float64{goRun},
			target: target{kind: "max", limit: 90}},
		{item: "first run, module cache filled", unit: "MB", ours: []float64{taskMB}, anchor: "`go run ./functions/vulscan`", base: []float64{goMB}},
	}, nil
}

// timeToForm runs `go ARGS` in dir with empty caches until GET / answers 200, and returns that
// time and the size of the module cache it filled.
func (s *suite) timeToForm(dir string, args []string) (time.Duration, float64, error) {
	caches, err := os.MkdirTemp(s.dir, "caches-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(caches)
	addr := freeAddr()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv("GOMODCACHE="+filepath.Join(caches, "mod"), "GOCACHE="+filepath.Join(caches, "build"),
		"GOFLAGS=-modcacherw", "VULSCAN_ADDR="+addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	for {
		if resp, err := http.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-ctx.Done():
			return 0, 0, fmt.Errorf("the form did not answer within 15 minutes")
		case <-time.After(200 * time.Millisecond):
		}
	}
	d := time.Since(start)
	var size int64
	_ = filepath.WalkDir(filepath.Join(caches, "mod"), func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if fi, err := e.Info(); err == nil {
				size += fi.Size()
			}
		}
		return nil
	})
	return d, float64(size) / 1e6, nil
}
