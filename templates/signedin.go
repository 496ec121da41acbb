package templates

import "context"

type signedInKey struct{}

// WithSignedIn returns a context under which every page names the signed-in person and offers
// to sign out. The web handler sets it for requests admitted by a sign-in session.
func WithSignedIn(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, signedInKey{}, actor)
}

// signedIn is the signed-in person, or "" when the caller did not sign in.
func signedIn(ctx context.Context) string {
	a, _ := ctx.Value(signedInKey{}).(string)
	return a
}
