package platform

import (
	"context"

	"github.com/aws/aws-lambda-go/lambdacontext"
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
