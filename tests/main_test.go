// Package tests holds vulscan's end-to-end tests: each drives the real binary, built as the deploy
// zips hold it, through a real entry point (a browser, AWS's Lambda Runtime Interface Emulator,
// the SCF runtime API, the Serverless Framework's packager).
//
// Shared scaffolding lives in this file; every test file of the package uses it rather than
// defining its own:
//
//   - vulscanBinary(t) is the path of ./functions/vulscan built once per `go test` run, exactly as
//     deployed (CGO_ENABLED=0, -tags lambda.norpc, named bootstrap). TestMain owns the temporary
//     directory it lives in; the first test that asks builds it.
//   - requireTool(t, name) finds an external program (chromium, npx, aws-lambda-rie, …). When it
//     is missing the test is skipped on a laptop and fails when CI is set, so CI never passes by
//     skipping. citest.Missing(t, reason) does the same for any other missing piece.
//   - freeAddr(t) is a free loopback address "127.0.0.1:PORT".
//   - startProcess(t, cmd) runs a process (in its own process group) until the test ends; its
//     output is logged when the test fails. waitUntil(t, what, check) polls for readiness.
//   - functionEnv(extra...) is this process's environment without anything that would pick
//     vulscan's mode or settings (VULSCAN_*, TENCENTCLOUD_*, the runtime APIs), plus extra.
//   - auditRecords(t, dsn) is the audit log as `vulscan audit export --format jsonl` prints it;
//     verifyAudit(t, dsn) runs `vulscan audit verify`.
package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"

	"github.com/vulscan/vulscan/internal/citest"
)

// workDir is the package's temporary directory, made by TestMain and removed after the run.
var workDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vulscan-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		os.Exit(1)
	}
	workDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var build struct {
	once sync.Once
	path string
	err  error
}

// vulscanBinary returns the path of the vulscan binary, built once for the whole run with the
// flags of the deploy zips (task package adds only -trimpath, -ldflags '-s -w' and the release
// toolchain). A failed build fails every test that needs the binary.
func vulscanBinary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		root, err := repoRoot()
		if err != nil {
			build.err = err
			return
		}
		path := filepath.Join(workDir, "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", path, "./functions/vulscan")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build ./functions/vulscan: %v\n%s", err, out)
			return
		}
		build.path = path
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// repoRoot is the module's root: the tests run in <root>/tests.
func repoRoot() (string, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("tests: no go.mod above the tests directory: %w", err)
	}
	return root, nil
}

// toolEnv names the variables that point at a tool outside PATH.
var toolEnv = map[string]string{
	"aws-lambda-rie": "VULSCAN_TEST_RIE",
}

// requireTool returns the path of the program name, found through its variable in toolEnv or on
// PATH. A missing program skips the test on a laptop and fails it when CI is set.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	if v := toolEnv[name]; v != "" && os.Getenv(v) != "" {
		path := os.Getenv(v)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%s=%s: %v", v, path, err)
		}
		return path
	}
	path, err := exec.LookPath(name)
	if err != nil {
		hint := ""
		if v := toolEnv[name]; v != "" {
			hint = " (or set " + v + ")"
		}
		citest.Missing(t, "%s not found on PATH%s", name, hint)
	}
	return path
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	return freeAddrs(t, 1)[0]
}

// freeAddrs returns n loopback addresses with distinct ports that were free a moment ago. Each
// port is held until all are chosen: the kernel may hand a port just released straight back,
// and two calls of freeAddr then name one port twice (the runtime emulator, given it for both of
// its addresses, fails to listen and resets the test's first invocation).
func freeAddrs(t testing.TB, n int) []string {
	t.Helper()
	addrs := make([]string, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is a program started by startProcess.
type process struct {
	cmd    *exec.Cmd
	output *lockedBuffer // stdout and stderr together
	exited chan struct{} // closed when the process has exited
	err    error         // Wait's result, once exited is closed
}

// Output is what the process has printed so far.
func (p *process) Output() string { return p.output.String() }

// startProcess starts cmd in its own process group and stops the whole group (children too: the
// Lambda emulator starts the bootstrap) when the test ends, first with SIGTERM. The output is
// logged if the test failed.
func startProcess(t testing.TB, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{cmd: cmd, output: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.output, p.output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("output of %s:\n%s", filepath.Base(cmd.Path), p.Output())
		}
	})
	return p
}

// stop ends the process group: SIGTERM, then SIGKILL if it has not exited after a while.
func (p *process) stop() {
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
	}
	// The leader may be gone while a child lingers; the group kill reaches it either way.
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	<-p.exited
}

// waitUntil calls check until it returns nil, failing the test with check's last error when
// that takes more than 30 seconds. It waits for readiness; it asserts nothing about speed.
func waitUntil(t testing.TB, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// functionEnv returns the environment for a vulscan process: this process's, less whatever would
// choose its mode or settings behind the test's back, plus extra ("NAME=value").
func functionEnv(extra ...string) []string {
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

// auditRecords returns every record of the audit log at dsn, oldest first, read back through the
// operator command `vulscan audit export --format jsonl`.
func auditRecords(t testing.TB, dsn string) []audit.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, vulscanBinary(t), "audit", "export", "--format", "jsonl", "--dsn", dsn)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("vulscan audit export --dsn %s: %v\n%s", dsn, err, stderr.String())
	}
	var recs []audit.Record
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var rec audit.Record
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("audit export line %q: %v", line, err)
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// verifyAudit runs `vulscan audit verify` on dsn and fails the test unless the chain is intact.
func verifyAudit(t testing.TB, dsn string) {
	t.Helper()
	out, err := exec.Command(vulscanBinary(t), "audit", "verify", "--dsn", dsn).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok") {
		t.Fatalf("vulscan audit verify --dsn %s: %v\n%s", dsn, err, out)
	}
}
