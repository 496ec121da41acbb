package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"

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
	lambda.StartWithOptions(a.dispatcher().Lambda(), lambda.WithContext(ctx))
	return 0
}
