package templates

import "context"

type emulatorKey struct{}

// WithEmulator returns a context under which every page shows a banner saying that TCSS is an
// emulator at endpoint: nothing started there reaches Tencent Cloud. The web handler sets it for
// every request while vulscan runs against an emulator.
func WithEmulator(ctx context.Context, endpoint string) context.Context {
	return context.WithValue(ctx, emulatorKey{}, endpoint)
}

// emulatorEndpoint is the emulator in use, or "" when TCSS is real.
func emulatorEndpoint(ctx context.Context) string {
	e, _ := ctx.Value(emulatorKey{}).(string)
	return e
}
