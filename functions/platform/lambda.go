package platform

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// LambdaHandler is the function vulscan hands to lambda.Start: it takes any event as raw JSON,
// so that the dispatcher sees its shape (aws-lambda-go would otherwise decode a schedule into an
// empty HTTP request without complaint).
type LambdaHandler func(ctx context.Context, event json.RawMessage) (json.RawMessage, error)

// Lambda returns d as a Lambda handler. The invocation's request ID comes from the Lambda
// context, and its deadline is brought forward a little so that the answer reaches Lambda in time.
func (d *Dispatcher) Lambda() LambdaHandler {
	return func(ctx context.Context, event json.RawMessage) (json.RawMessage, error) {
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
		out, err := d.Handle(ctx, inv, event)
		if err != nil {
			return nil, err
		}
		return json.RawMessage(out), nil
	}
}
