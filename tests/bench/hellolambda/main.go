// Command hellolambda is the cold-start anchor for Lambda: the smallest aws-lambda-go function
// that answers an HTTP event, built like vulscan's bootstrap (CGO_ENABLED=0, -tags lambda.norpc).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "hello"}, nil
	})
}
