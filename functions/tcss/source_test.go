package tcss

import (
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// TestCredentialSource: every credential names its source for the audit record with no more
// than the SecretId's first characters, and never a key or token.
func TestCredentialSource(t *testing.T) {
	const (
		scfID  = "AKIDscfrole0000000000000000000000000"
		userID = "AKIDstatic00000000000000000000000000"
		secret = "verysecretkey-do-not-log"
		token  = "session-token-do-not-log"
	)
	role, err := NewRoleCredential(RoleConfig{RoleARN: "qcs::cam::uin/100000000001:roleName/vulscan-scanner",
		SessionName: "vulscan-prod", Base: common.NewCredential(userID, secret)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cred common.CredentialIface
		want string
	}{
		{"SCF execution role", EnvCredential(env{EnvSCFSecretID: scfID, EnvSCFSecretKey: secret, EnvSCFSessionToken: token}.get), "scf-role:AKIDscfr…"},
		{"static key from the environment", EnvCredential(env{EnvSecretID: userID, EnvSecretKey: secret}.get), "static-key:AKIDstat…"},
		{"SCF's key wins", EnvCredential(env{EnvSCFSecretID: scfID, EnvSCFSecretKey: secret, EnvSecretID: userID, EnvSecretKey: secret}.get), "scf-role:AKIDscfr…"},
		{"nothing set", EnvCredential(env{}.get), "none"},
		{"assumed role", role, "assumed-role:qcs::cam::uin/100000000001:roleName/vulscan-scanner/vulscan-prod"},
		{"a key given in code", common.NewTokenCredential(userID, secret, token), "static-key:AKIDstat…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(Config{Credential: tc.cred})
			if err != nil {
				t.Fatal(err)
			}
			got := c.CredentialSource()
			if got != tc.want {
				t.Errorf("CredentialSource = %q, want %q", got, tc.want)
			}
			if strings.Contains(got, secret) || strings.Contains(got, token) || strings.Contains(got, scfID) || strings.Contains(got, userID) {
				t.Errorf("CredentialSource %q holds a secret or a whole SecretId", got)
			}
		})
	}
}
