// Command vulscan is the one binary of vulscan for every platform. Without a subcommand it picks
// its mode from the environment: AWS Lambda (AWS_LAMBDA_RUNTIME_API), Tencent SCF custom runtime
// (SCF_RUNTIME_API), or an HTTP server. Subcommands serve operators: `vulscan scan`,
// `vulscan audit verify|export`, `vulscan emulator`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"
)

// env is what a command may touch of the process, so that tests can run commands in-process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// environ lists the environment as NAME=value lines, for the check that every VULSCAN_
	// variable is one vulscan reads (unknownSetting); nil skips it (in-process tests).
	environ func() []string
	now     func() time.Time // nil: time.Now; tests move it on instead of waiting
}

// clock is the time the command takes as now.
func (e env) clock() time.Time {
	if e.now == nil {
		return time.Now()
	}
	return e.now()
}

// command is one subcommand: run returns the process exit code.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, e env) int
}

// commands is filled by each command's file in its init function, so that every command lives in
// a file of its own.
var commands = map[string]command{}

func main() {
	// A reader of stdout or stderr that has gone away (`vulscan scan … | head -c1`, a log shipper
	// that died) must not end the process: Go raises SIGPIPE for writes to fds 1 and 2, which
	// killed it at the next witness or log line, between an attempt's pending record and its TCSS
	// call or before its outcome was recorded. Ignored, such a write fails with EPIPE, which the
	// witness reports and the attempt outlives. Ignore sets no handler up: no thread, no goroutine.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := processContext(os.Args[1:], os.Getenv)
	code := run(ctx, os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, environ: os.Environ})
	stop()
	os.Exit(code)
}

// processContext is the context every mode and command runs in. For the HTTP server and the
// commands, SIGINT and SIGTERM end it: they finish what they are doing and close the audit store.
// A function instance (Lambda, SCF custom runtime) does not listen for signals. Its platform
// retires an instance between invocations (Lambda signals its runtime only when extensions are
// registered) or kills it outright, so there is nothing to finish: the default action ends the
// process, and the store's connection with it; an attempt cut short by a kill has its pending
// record, durable before TCSS was called, and reconciliation closes it. Listening cost every
// cold start os/signal's set-up, a thread of its own (locked, for the signal mask) and two
// goroutines before init/ready: 6 to 8% of an SCF start's CPU, measured side by side.
// `vulscan scan` listens once it has run for scanListenAfter (lateSignalContext).
func processContext(args []string, getenv func(string) string) (context.Context, context.CancelFunc) {
	if len(args) == 0 && functionPlatform(getenv) != "" {
		return context.WithCancel(context.Background())
	}
	if len(args) > 0 && args[0] == "scan" {
		return lateSignalContext(scanListenAfter, nil)
	}
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// scanListenAfter is how long a one-shot `vulscan scan` runs before it listens for SIGINT and
// SIGTERM. A scan that waits for nothing ends well within it (about 10 ms here: the store, two
// records and the call to a nearby TCSS) and never pays for os/signal: three of the six threads
// the process started (the runtime's signal-mask thread, locked; the one blocked receiving
// signals; one more to run goroutines beside them), their wake-ups and two goroutines: CPU
// -6 to -8%, 21 of 133 context switches and 23 of 782 page faults a run (perf stat, 30
// interleaved runs, three times). A scan that waits (for the log's write lock, its pace slot, or
// TCSS over the internet) listens from then on, and a signal cancels it as before: TCSS not yet
// called records nothing or a refusal, a call under way ends as unknown. A signal in the first
// scanListenAfter ends the process by the default action, as one before main did and as a kill
// does at any time: the pending record, if any, is durable before TCSS is called, and
// reconciliation closes it as unknown (so a signal between TCSS's answer and the outcome's
// record loses the task ID from the log; the TCSS console still lists the task).
const scanListenAfter = 50 * time.Millisecond

// lateSignalContext is signal.NotifyContext for SIGINT and SIGTERM, listening only from after
// on; the context's cause names the signal, as NotifyContext's does. listening, when not nil,
// is closed once it listens (for tests).
func lateSignalContext(after time.Duration, listening chan<- struct{}) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	var (
		mu          sync.Mutex
		stopped     bool
		stopListens = func() {}
	)
	timer := time.AfterFunc(after, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		signalled, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		context.AfterFunc(signalled, func() { cancel(context.Cause(signalled)) })
		stopListens = stop
		if listening != nil {
			close(listening)
		}
	})
	return ctx, func() {
		timer.Stop()
		mu.Lock()
		stopped = true
		stopListens()
		mu.Unlock()
		cancel(nil)
	}
}

func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		return runDefaultMode(ctx, e)
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" {
		usage(e.stdout)
		return 0
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(e.stderr, "vulscan: unknown command %q\n\n", name)
		usage(e.stderr)
		return 2
	}
	return cmd.run(ctx, args[1:], e)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: vulscan [command] [flags]")
	fmt.Fprintln(w, "\nWithout a command, vulscan serves: as an AWS Lambda function when AWS_LAMBDA_RUNTIME_API is set,")
	fmt.Fprintln(w, "as a Tencent SCF custom runtime when SCF_RUNTIME_API is set, else as an HTTP server on VULSCAN_ADDR.")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
}
