package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		"http://"+runtimeAPI+"/2018-06-01/runtime/init/error", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("platform: report init error: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Runtime-Function-Error-Type", LambdaInitErrorType)
	client := &http.Client{Transport: &http.Transport{}} // no proxy: the runtime API is local
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("platform: report init error: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("platform: report init error: runtime API answered %s", resp.Status)
	}
	return nil
}

// LambdaInitErrorType is the errorType of an init error, in the <category.reason> form Lambda
// recommends.
const LambdaInitErrorType = "Vulscan.StartupError"
