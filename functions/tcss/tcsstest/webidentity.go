package tcsstest

import (
	"context"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// ActionAssumeRoleWithWebIdentity is STS's exchange of an OIDC token for a role's temporary key
// (https://cloud.tencent.com/document/product/1312/61292). It is called unsigned
// (Authorization: SKIP): the token is the proof.
const ActionAssumeRoleWithWebIdentity = "AssumeRoleWithWebIdentity"

// OIDCProvider is an identity provider CAM trusts (a CAM "OIDC identity provider"): tokens its
// Issuer signs, for one of its Audiences, may assume the emulator's Roles.
type OIDCProvider struct {
	ID        string   // the ProviderId callers name
	Issuer    string   // iss; its JWKS is read from <Issuer>/.well-known/jwks.json
	Audiences []string // accepted aud values (CAM's client IDs)
}

// webIdentityParams are AssumeRoleWithWebIdentity's inputs.
type webIdentityParams struct {
	ProviderId       string
	WebIdentityToken string
	RoleArn          string
	RoleSessionName  string
	DurationSeconds  int64
}

// assumeRoleWithWebIdentity verifies the token as CAM does (signature against the provider's
// JWKS, issuer, audience, expiry on the emulator's clock) and issues a key for the role.
func (e *Emulator) assumeRoleWithWebIdentity(bind binder) (map[string]any, *apiError) {
	var p webIdentityParams
	if aerr := bind(map[string]any{
		"ProviderId":       &p.ProviderId,
		"WebIdentityToken": &p.WebIdentityToken,
		"RoleArn":          &p.RoleArn,
		"RoleSessionName":  &p.RoleSessionName,
		"DurationSeconds":  &p.DurationSeconds,
	}); aerr != nil {
		return nil, aerr
	}
	switch {
	case p.ProviderId == "":
		return nil, &apiError{Code: "MissingParameter", Message: "The request is missing the required parameter ProviderId."}
	case p.WebIdentityToken == "":
		return nil, &apiError{Code: "MissingParameter", Message: "The request is missing the required parameter WebIdentityToken."}
	}
	duration, aerr := checkAssumeParams(assumeParams{RoleArn: p.RoleArn, RoleSessionName: p.RoleSessionName, DurationSeconds: p.DurationSeconds})
	if aerr != nil {
		return nil, aerr
	}
	prov, ok := e.providers[p.ProviderId]
	if !ok {
		return nil, &apiError{Code: "ResourceNotFound.IdentityNotExist", Message: "The OIDC identity provider " + p.ProviderId + " does not exist."}
	}
	if aerr := e.verifyWebIdentity(prov, p.WebIdentityToken); aerr != nil {
		return nil, aerr
	}
	if aerr := e.checkRole(p.RoleArn); aerr != nil {
		return nil, aerr
	}
	return e.issueKey(duration), nil
}

// verifyWebIdentity checks the token against the provider.
func (e *Emulator) verifyWebIdentity(prov OIDCProvider, token string) *apiError {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys := oidc.NewRemoteKeySet(ctx, prov.Issuer+"/.well-known/jwks.json")
	v := oidc.NewVerifier(prov.Issuer, keys, &oidc.Config{SkipClientIDCheck: true, Now: e.now})
	idt, err := v.Verify(ctx, token)
	if err != nil {
		return &apiError{Code: "InvalidParameter.WebIdentityTokenError", Message: "The WebIdentityToken is not valid: " + err.Error()}
	}
	for _, aud := range idt.Audience {
		for _, want := range prov.Audiences {
			if aud == want {
				return nil
			}
		}
	}
	return &apiError{Code: "InvalidParameter.WebIdentityTokenError", Message: "The WebIdentityToken's audience is not one the provider accepts."}
}
