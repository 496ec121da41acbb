package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/vulscan/vulscan/functions/scan"
)

// LambdaHandler is what vulscan hands to lambda.Start: it takes any event as raw JSON, so that
// the dispatcher sees its shape (aws-lambda-go would otherwise decode a schedule into an empty
// HTTP request without complaint). It is an aws-lambda-go lambda.Handler (Invoke), which the
// library calls with the event's bytes and whose reply it sends as they are. A plain function
// was called through reflection, with the event decoded into a json.RawMessage and the reply
// encoded again (encoding/json validating the whole page it carries): a quarter of what a
// function's first answer cost beyond a hello-world's.
type LambdaHandler func(ctx context.Context, event []byte) ([]byte, error)

// Invoke implements aws-lambda-go's lambda.Handler.
func (h LambdaHandler) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	return h(ctx, event)
}

// Lambda returns d as a Lambda handler. The invocation's request ID comes from the Lambda
// context, and its deadline is brought forward a little so that the answer reaches Lambda in time.
func (d *Dispatcher) Lambda() LambdaHandler {
	return func(ctx context.Context, event []byte) ([]byte, error) {
		var inv Invocation
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			inv.RequestID = lc.AwsRequestID
			if id := lc.Identity.CognitoIdentityID; id != "" {
				inv.Identity = "cognito:" + id
			}
		}
		if deadline, ok := ctx.Deadline(); ok {
			inv.Deadline = deadline
			var cancel context.CancelFunc
			ctx, cancel = invocationContext(ctx, deadline)
			defer cancel()
		}
		return d.Handle(ctx, inv, event)
	}
}

// maxInitErrorBytes bounds the message of an init error: Lambda shows it to the invoker and in
// the function's log, and a start-up error is one line.
const maxInitErrorBytes = 4 << 10

// ReportLambdaInitError tells Lambda's runtime API (AWS_LAMBDA_RUNTIME_API, host:port) why the
// function could not start, at POST /2018-06-01/runtime/init/error, before the process exits.
// Without it Lambda knows only that the runtime exited ("Runtime.ExitError ... exit status 1"),
// and an invoker never learns the cause. The answer of the runtime API is not waited for long:
// the process exits either way.
func ReportLambdaInitError(ctx context.Context, runtimeAPI string, cause error) error {
	msg := scan.Shorten(cause.Error(), maxInitErrorBytes)
	body, err := json.Marshal(map[string]string{"errorMessage": msg, "errorType": LambdaInitErrorType})
	if err != nil {
		return err
	}
	return postRuntimeAPI(ctx, "report init error", runtimeAPI, "init/error", body, LambdaInitErrorType)
}

// LambdaInitErrorType is the errorType of an init error, in the <category.reason> form Lambda
// recommends.
const LambdaInitErrorType = "Vulscan.StartupError"

// PostLambdaResponse sends reply as the answer to invocation requestID at Lambda's runtime API
// (AWS_LAMBDA_RUNTIME_API, host:port), POST /2018-06-01/runtime/invocation/{id}/response: what
// aws-lambda-go does after the handler returns, for an instance that must end right after its
// answer, before aws-lambda-go would post it (the library offers no hook after its post).
func PostLambdaResponse(ctx context.Context, runtimeAPI, requestID string, reply []byte) error {
	return postRuntimeAPI(ctx, "post to the runtime API", runtimeAPI, "invocation/"+url.PathEscape(requestID)+"/response", reply, "")
}

// PostLambdaError is PostLambdaResponse for a handler's error, as aws-lambda-go reports one
// (POST …/invocation/{id}/error with errorMessage and errorType); it does nothing for a nil one.
func PostLambdaError(ctx context.Context, runtimeAPI, requestID string, cause error) error {
	if cause == nil {
		return nil
	}
	body, err := json.Marshal(map[string]string{"errorMessage": cause.Error(), "errorType": fmt.Sprintf("%T", cause)})
	if err != nil {
		return err
	}
	return postRuntimeAPI(ctx, "post to the runtime API", runtimeAPI, "invocation/"+url.PathEscape(requestID)+"/error", body, "")
}

// postRuntimeAPI posts body to Lambda's runtime API at /2018-06-01/runtime/<path>, with the
// Lambda-Runtime-Function-Error-Type header when errorType is set; op names the post in its
// errors. The answer is not waited for long: the process is about to exit.
func postRuntimeAPI(ctx context.Context, op, runtimeAPI, path string, body []byte, errorType string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+runtimeAPI+"/2018-06-01/runtime/"+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("platform: %s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if errorType != "" {
		req.Header.Set("Lambda-Runtime-Function-Error-Type", errorType)
	}
	client := &http.Client{Transport: &http.Transport{}} // no proxy: the runtime API is local
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("platform: %s: %w", op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("platform: %s: runtime API answered %s to %s", op, resp.Status, path)
	}
	return nil
}

// LambdaInvocationDone tells Lambda's runtime API that this instance has finished its invocation,
// as aws-lambda-go's next loop does by asking for the next event (GET …/invocation/next): Lambda
// counts an invocation done only then, and a process that exits after posting an answer but
// before asking reports it failed (Runtime.ExitError) although the invoker got the answer. The
// instance is ending, so each event the runtime API hands over within wait of asking (at most
// maxEndingEvents) is failed at once with cause, which the invoker reads, and the next asked for:
// none is left to die with the process.
func LambdaInvocationDone(ctx context.Context, runtimeAPI string, wait time.Duration, cause error) error {
	for range maxEndingEvents {
		id, err := nextLambdaEvent(ctx, runtimeAPI, wait)
		if err != nil || id == "" {
			return err
		}
		if err := PostLambdaError(ctx, runtimeAPI, id, cause); err != nil {
			return err
		}
	}
	return nil
}

// maxEndingEvents bounds the events an ending instance fails before it ends anyway.
const maxEndingEvents = 10

// nextLambdaEvent asks the runtime API for the next event and returns its request ID, or "" when
// none came within wait (the runtime API then holds the request: the instance is idle).
func nextLambdaEvent(ctx context.Context, runtimeAPI string, wait time.Duration) (string, error) {
	next, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	req, err := http.NewRequestWithContext(next, http.MethodGet, "http://"+runtimeAPI+"/2018-06-01/runtime/invocation/next", nil)
	if err != nil {
		return "", fmt.Errorf("platform: ask for the next event: %w", err)
	}
	client := &http.Client{Transport: &http.Transport{}} // no proxy: the runtime API is local
	resp, err := client.Do(req)
	if err != nil {
		if next.Err() != nil && ctx.Err() == nil {
			return "", nil
		}
		return "", fmt.Errorf("platform: ask for the next event: %w", err)
	}
	resp.Body.Close()
	id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	if resp.StatusCode != http.StatusOK || id == "" {
		return "", fmt.Errorf("platform: ask for the next event: runtime API answered %s", resp.Status)
	}
	return id, nil
}
