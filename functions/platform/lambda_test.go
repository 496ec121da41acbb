package platform

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/vulscan/vulscan/functions/audit"
)

// The handler goes through aws-lambda-go's own wrapper, as lambda.Start uses it (as a lambda.Handler).
func TestLambdaHandlerThroughAWSLambdaGo(t *testing.T) {
	w := newWorld(t)
	type seenCall struct {
		gateway  Gateway
		deadline time.Time
	}
	calls := make(chan seenCall, 1)
	d := New(Options{
		Scans:  w.Service,
		Logger: quietLogger(),
		Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			dl, _ := r.Context().Deadline()
			calls <- seenCall{r.Context().Value(gatewayKey{}).(Gateway), dl}
			b, _ := io.ReadAll(r.Body)
			rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
			rw.Write(b)
		}),
		RequestContext: func(ctx context.Context, g Gateway) context.Context {
			return context.WithValue(ctx, gatewayKey{}, g)
		},
	})
	h := lambda.NewHandler(d.Lambda())
	deadline := time.Date(2030, 1, 1, 0, 0, 30, 0, time.UTC)
	invoke := func(requestID string, event []byte) ([]byte, error) {
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: requestID})
		ctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		return h.Invoke(ctx, event)
	}

	out, err := invoke("aws-http-1", fixture(t, "apigw-v2-form-post.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r reply
	if err := json.Unmarshal(out, &r); err != nil || r.StatusCode != 200 || r.Body != "LocalImageScanType=ALL&Note=a%2Cb" {
		t.Errorf("reply %s (%v)", out, err)
	}
	c := <-calls
	if c.gateway.FunctionRequestID != "aws-http-1" || !c.deadline.Equal(deadline.Add(-answerMargin)) {
		t.Errorf("handler saw %+v", c)
	}

	out, err = invoke("aws-timer-1", fixture(t, "eventbridge-scheduled-scan.json"))
	var res TimerResult
	if err != nil || json.Unmarshal(out, &res) != nil || res.Outcome != audit.OutcomeSucceeded {
		t.Fatalf("schedule answered %s, %v", out, err)
	}
	if recs := w.Records(t); len(recs) != 2 || recs[1].FunctionRequestID != "aws-timer-1" {
		t.Errorf("records %+v", recs)
	}

	if _, err := invoke("aws-odd-1", fixture(t, "sqs-event.json")); err == nil || !strings.Contains(err.Error(), "unknown event shape") {
		t.Errorf("SQS event: err = %v", err)
	}
}
