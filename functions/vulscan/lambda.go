package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/vulscan/vulscan/functions/platform"
)

func init() { lambdaMode = serveLambda }

// serveLambda is the AWS Lambda mode: build the app once (the cold start), then let aws-lambda-go
// run the invocation loop with a handler that takes every event as raw JSON and dispatches on
// its shape. lambda.Start does not return: it exits the process when the runtime API fails.
// The audit store opens when an event needs it or storeOpenDelay after start (openInBackground).
func serveLambda(ctx context.Context, e env) int {
	a, err := startApp(ctx, e)
	if err != nil {
		// Lambda reads why an instance did not start from its runtime API, not from the exit.
		// The cause is the log's last line, after any failure to report it.
		if rerr := platform.ReportLambdaInitError(ctx, e.getenv("AWS_LAMBDA_RUNTIME_API"), err); rerr != nil {
			fmt.Fprintf(e.stderr, "vulscan: %v\n", rerr)
		}
		fmt.Fprintf(e.stderr, "vulscan: %v\n", err)
		return 1
	}
	defer a.Close()
	a.startCheckpoints(ctx)
	lambda.StartWithOptions(a.invocations.lambdaHandler(a.dispatcher().Lambda(), e.stderr), lambda.WithContext(ctx))
	return 0
}

// invocationGate lets the invocations under way finish before a store that failed to open ends
// the instance. The store opens after the instance's start, often for the event that needs it;
// ending the process then, as a failed start does, cut that event off: Lambda answered it
// "Runtime exited with error: exit status 1" (Runtime.ExitError) instead of the 503 vulscan had
// for it, and SCF an error of its own. On SCF the last invocation's answer is posted by vulscan's
// own runtime loop, which then ends the instance (scfReplied). aws-lambda-go posts an answer
// after the handler returns and has no hook after that, so there an invocation that finds the
// instance ending posts its answer itself, asks for the next event (Lambda counts an invocation
// done only then), then ends the process (lambdaHandler). startApp makes one for every function
// instance, the only kind whose store opens in the background.
type invocationGate struct {
	runtimeAPI string // Lambda's, AWS_LAMBDA_RUNTIME_API; "" on SCF
	mu         sync.Mutex
	running    int  // invocations under way
	ending     bool // the store failed while one was: the last to finish ends the instance
}

// nextEventWait is how long an ending instance waits for an event the runtime API may already
// hold for it, to fail it with errInstanceEnding rather than leave it to die with the process.
const nextEventWait = 100 * time.Millisecond

// errInstanceEnding fails an event that reached an instance whose audit store failed to open.
var errInstanceEnding = errors.New("vulscan: this instance's audit store failed to open and the instance is ending; " +
	"nothing was started; retry: a new instance will serve it")

// end ends the instance now when no invocation is under way, or leaves it to the last one.
func (g *invocationGate) end(log io.Writer) {
	g.mu.Lock()
	defer g.mu.Unlock() // held while exiting: no invocation begins in a process that is ending
	if g.running > 0 {
		g.ending = true
		fmt.Fprintf(log, "vulscan: the instance ends once the %d invocation(s) under way are answered\n", g.running)
		return
	}
	exitProcess(1)
}

// begin counts an invocation under way.
func (g *invocationGate) begin() {
	g.mu.Lock()
	g.running++
	g.mu.Unlock()
}

// finish counts an invocation done and reports whether it was the last on an ending instance,
// which must end the instance once its answer is posted.
func (g *invocationGate) finish() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running--
	return g.ending && g.running == 0
}

// scfHandler wraps h so that each invocation is counted; scfReplied ends an ending instance once
// the last one's answer is posted.
func (g *invocationGate) scfHandler(h platform.Handler) platform.Handler {
	return func(ctx context.Context, inv platform.Invocation, event []byte) ([]byte, error) {
		g.begin()
		defer g.finish()
		return h(ctx, inv, event)
	}
}

// scfReplied is SCFRuntime.Replied's part of the gate: an answer was posted.
func (g *invocationGate) scfReplied() {
	g.mu.Lock()
	defer g.mu.Unlock() // held while exiting, as in end
	if g.ending && g.running == 0 {
		exitProcess(1)
	}
}

// lambdaHandler wraps h so that each invocation is counted, and the last one to finish on an
// ending instance posts its own answer (or error) and ends it.
func (g *invocationGate) lambdaHandler(h platform.LambdaHandler, log io.Writer) platform.LambdaHandler {
	return func(ctx context.Context, event []byte) ([]byte, error) {
		g.begin()
		reply, err := h(ctx, event)
		lc, ok := lambdacontext.FromContext(ctx)
		if !g.finish() || !ok {
			return reply, err // aws-lambda-go posts it
		}
		answer := context.WithoutCancel(ctx)
		perr := platform.PostLambdaError(answer, g.runtimeAPI, lc.AwsRequestID, err)
		if err == nil {
			perr = platform.PostLambdaResponse(answer, g.runtimeAPI, lc.AwsRequestID, reply)
		}
		if perr == nil {
			perr = platform.LambdaInvocationDone(answer, g.runtimeAPI, nextEventWait, errInstanceEnding)
		}
		if perr != nil {
			fmt.Fprintf(log, "vulscan: %v\n", perr)
		}
		exitProcess(1)
		return reply, err
	}
}
