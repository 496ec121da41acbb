package tests

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// TestKeylessLambdaChain runs the Lambda bootstrap under the runtime emulator with no Tencent key
// configured anywhere: the function's AWS credentials get a JWT from AWS STS
// GetWebIdentityToken (the AWS issuer emulator), Tencent STS AssumeRoleWithWebIdentity (the
// Tencent emulator, which verifies the JWT against the issuer's JWKS) exchanges it for the CAM
// role's temporary key, and that key signs the scan. The record names the role as web-identity.
func TestKeylessLambdaChain(t *testing.T) {
	const (
		role       = "qcs::cam::uin/100000000001:roleName/vulscan-scanner"
		provider   = "aws-lambda"
		audience   = "sts.tencentcloudapi.com"
		accessKey  = "ASIAKEYLESSTESTKEY01"
		awsSecret  = "aws-secret-access-key-keyless-test"
		lambdaRole = "arn:aws:iam::123456789012:role/vulscan-lambda"
	)
	issuer, awsSrv := tcsstest.NewAWSIssuer(tcsstest.AWSIssuerOptions{AccessKeyIDs: []string{accessKey}, CallerARN: lambdaRole})
	t.Cleanup(awsSrv.Close)
	emu, srv := tcsstest.NewServer(tcsstest.Options{Roles: []string{role},
		OIDCProviders: []tcsstest.OIDCProvider{{ID: provider, Issuer: issuer.Issuer(), Audiences: []string{audience}}}})
	t.Cleanup(srv.Close)

	fn := startLambdaWith(t, emu, srv.URL,
		// What Lambda gives every function: its execution role's AWS credentials and region.
		"AWS_ACCESS_KEY_ID="+accessKey, "AWS_SECRET_ACCESS_KEY="+awsSecret, "AWS_SESSION_TOKEN=aws-session-token",
		"AWS_REGION=ap-southeast-1",
		// The keyless path: no TENCENTCLOUD_SECRET_* anywhere.
		"VULSCAN_AWS_WEB_IDENTITY_AUDIENCE="+audience,
		"VULSCAN_AWS_STS_ENDPOINT="+awsSrv.URL,
		"TENCENTCLOUD_ROLE_ARN="+role,
		"TENCENTCLOUD_OIDC_PROVIDER_ID="+provider,
		"VULSCAN_STS_ENDPOINT="+srv.URL,
	)
	headers := map[string]string{"content-type": "application/json", "idempotency-key": "keyless-1"}
	resp := fn.http(t, jwtCaller(httpAPIEvent("POST", "/api/scans", headers, []byte(`{"LocalImageScanType":"NOT_SCAN"}`), false)))
	resp.wantStatus(t, http.StatusCreated)

	issued := emu.Issued()
	if issuer.Tokens() != 1 || len(issued) != 1 {
		t.Fatalf("AWS issued %d tokens, Tencent STS %d keys; want 1 each", issuer.Tokens(), len(issued))
	}
	if n := emu.CallsBy(createAction, issued[0].SecretID); n != 1 {
		t.Errorf("the role's temporary key signed %d scans, want 1", n)
	}
	var started int
	for _, r := range auditRecords(t, fn.dsn) {
		if r.Outcome == audit.OutcomeSucceeded {
			started++
			if r.Credential != "web-identity:"+role {
				t.Errorf("record %d credential %q, want web-identity:%s", r.ID, r.Credential, role)
			}
		}
		if strings.Contains(r.Credential, accessKey) || strings.Contains(r.Credential, issued[0].SecretID) {
			t.Errorf("record %d shows a key: %q", r.ID, r.Credential)
		}
	}
	if started != 1 {
		t.Errorf("%d started scans recorded, want 1", started)
	}
}
