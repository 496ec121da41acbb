package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// SIGINT and SIGTERM end the HTTP server and the commands (they close the store); a function
// instance, which its platform retires between invocations or kills, does not listen; a one-shot
// scan listens once it has run for scanListenAfter.
func TestProcessContextListensOutsideFunctions(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		listen bool
	}{
		{"HTTP server", nil, nil, true},
		{"Lambda", nil, map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, false},
		{"SCF custom runtime", nil, map[string]string{"SCF_RUNTIME_API": "127.0.0.1", "SCF_RUNTIME_API_PORT": "9001"}, false},
		{"a command on Lambda", []string{"audit", "verify"}, map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, true},
		{"a command", []string{"audit", "verify"}, nil, true},
		{"a one-shot scan, at its start", []string{"scan"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, stop := processContext(tt.args, func(k string) string { return tt.env[k] })
			defer stop()
			if listens := strings.HasPrefix(fmt.Sprint(ctx), "signal.NotifyContext"); listens != tt.listen {
				t.Errorf("listens for signals: %v (context %v), want %v", listens, ctx, tt.listen)
			}
		})
	}
}

// A late listener that is stopped before its time never listens, and its context ends.
func TestLateSignalContextStoppedEarlyNeverListens(t *testing.T) {
	listening := make(chan struct{})
	ctx, stop := lateSignalContext(20*time.Millisecond, listening)
	stop()
	if ctx.Err() == nil {
		t.Fatal("the context did not end when stopped")
	}
	select {
	case <-listening:
		t.Fatal("it started listening after it was stopped")
	case <-time.After(100 * time.Millisecond):
	}
}

// Once it listens, SIGINT cancels the context, with the signal as its cause.
func TestLateSignalContextCancelsOnSIGINT(t *testing.T) {
	listening := make(chan struct{})
	ctx, stop := lateSignalContext(time.Millisecond, listening)
	defer stop()
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		t.Fatal("it never listened")
	}
	if ctx.Err() != nil {
		t.Fatalf("the context ended before any signal: %v", ctx.Err())
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGINT did not end the context")
	}
	if !errors.Is(ctx.Err(), context.Canceled) || !strings.Contains(context.Cause(ctx).Error(), "interrupt") {
		t.Errorf("ended with %v, cause %v; want canceled by the interrupt", ctx.Err(), context.Cause(ctx))
	}
}

// Through the real entry point: a `vulscan scan` still waiting for TCSS after scanListenAfter is
// ended by SIGINT as before the late listener: it records the call's outcome as unknown itself
// (no reconciliation needed) and exits with status 1.
func TestScanInterruptedDuringTheCallRecordsUnknown(t *testing.T) {
	emu, env, dsn := hangingTCSS(t)
	cmd := exec.Command(vulscanBinary(t), "scan", "--LocalImageScanType", "ALL", "--actor", "ops")
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for emu.Calls("CreateVulScanTask") == 0 {
		if time.Since(started) > time.Minute {
			t.Fatalf("the call never reached TCSS:\n%s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The listener starts scanListenAfter after the process, which started before its call
	// reached TCSS; counted from then, so that a slow start cannot put the signal before it, and
	// a margin covers a loaded machine.
	time.Sleep(scanListenAfter + 500*time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitFailed {
		t.Fatalf("exit: %v, want status %d\nstdout:\n%s\nstderr:\n%s", err, exitFailed, stdout.String(), stderr.String())
	}
	var out scanOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.AttemptID == 0 || out.Outcome != audit.OutcomeUnknown {
		t.Fatalf("printed %+v (%v), want the attempt with outcome unknown:\n%s", out, err, stdout.String())
	}
	store, err := openAuditStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	outcome, err := store.OutcomeOf(context.Background(), out.AttemptID)
	if err != nil || outcome.Outcome != audit.OutcomeUnknown {
		t.Errorf("attempt %d's outcome in the log: %+v %v, want unknown", out.AttemptID, outcome, err)
	}
}
