package main

import (
	"context"
	"fmt"
)

// A mode serves the function for one platform until ctx ends; it returns the exit code.
type mode func(ctx context.Context, e env) int

// The modes, set by the init functions of lambda.go, scf.go and serve.go.
var (
	lambdaMode mode
	scfMode    mode
	httpMode   mode
)

// runDefaultMode picks the platform from the environment, as DESIGN.md's "Modes" table says.
func runDefaultMode(ctx context.Context, e env) int {
	limitMemory(e.getenv)
	name, m := "http", httpMode
	switch functionPlatform(e.getenv) {
	case "lambda":
		name, m = "lambda", lambdaMode
	case "scf":
		name, m = "scf", scfMode
	}
	if m == nil {
		fmt.Fprintf(e.stderr, "vulscan: %s mode is not part of this build\n", name)
		return 1
	}
	return m(ctx, e)
}

// functionPlatform is the function platform whose runtime API the environment names: "lambda"
// (AWS_LAMBDA_RUNTIME_API), "scf" (SCF_RUNTIME_API, a custom runtime), or "" for neither.
func functionPlatform(getenv func(string) string) string {
	switch {
	case getenv("AWS_LAMBDA_RUNTIME_API") != "":
		return "lambda"
	case getenv("SCF_RUNTIME_API") != "":
		return "scf"
	}
	return ""
}
