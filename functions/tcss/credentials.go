package tcss

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// Environment variables the credential is read from, in the order they are tried.
const (
	// Set by SCF from the function's execution role; temporary, with a session token.
	EnvSCFSecretID     = "TENCENTCLOUD_SECRETID"
	EnvSCFSecretKey    = "TENCENTCLOUD_SECRETKEY"
	EnvSCFSessionToken = "TENCENTCLOUD_SESSIONTOKEN"
	// A static key (session token optional, for a temporary key), as Tencent's SDKs and tccli name it.
	EnvSecretID     = "TENCENTCLOUD_SECRET_ID"
	EnvSecretKey    = "TENCENTCLOUD_SECRET_KEY"
	EnvSessionToken = "TENCENTCLOUD_SESSION_TOKEN"
)

// ErrNoCredential is wrapped by the errors that say no usable credential is configured.
var ErrNoCredential = errors.New("no Tencent Cloud credential")

// EnvCredential is a common.CredentialIface that reads the credential from the environment
// through its getenv function (os.Getenv in production, a map in tests), again on every call,
// because SCF may rotate the execution role's key during an instance's life.
//
// Order:
//  1. TENCENTCLOUD_SECRETID + TENCENTCLOUD_SECRETKEY (+ TENCENTCLOUD_SESSIONTOKEN): SCF's role key;
//  2. TENCENTCLOUD_SECRET_ID + TENCENTCLOUD_SECRET_KEY (+ TENCENTCLOUD_SESSION_TOKEN).
//
// A pair is used only when both its ID and key are non-empty; the token always comes from the
// same pair's variable. GetCredential reads the three values together: the SDK's TC3 signer
// (common v1.3.211, sendWithSignatureV3) calls GetCredential once per request, so one request
// never mixes an old ID with a new key. The separate getters exist for the interface only.
//
// To assume a CAM role with this credential, see CredentialFromEnv and RoleCredential.
type EnvCredential func(key string) string

var _ common.CredentialIface = EnvCredential(nil)

// source is one pair of variables.
type source struct{ id, key, token string }

var sources = []source{
	{EnvSCFSecretID, EnvSCFSecretKey, EnvSCFSessionToken},
	{EnvSecretID, EnvSecretKey, EnvSessionToken},
}

func (e EnvCredential) getenv(key string) string {
	get := e
	if get == nil {
		get = os.Getenv
	}
	return strings.TrimSpace(get(key))
}

// lookup returns the first complete pair and its values, or ok false.
func (e EnvCredential) lookup() (src source, id, key, token string, ok bool) {
	for _, s := range sources {
		id, key = e.getenv(s.id), e.getenv(s.key)
		if id != "" && key != "" {
			return s, id, key, e.getenv(s.token), true
		}
	}
	return source{}, "", "", "", false
}

// GetCredential returns SecretId, SecretKey and token from one reading of the environment; all
// three are empty when no pair is set.
func (e EnvCredential) GetCredential() (secretID, secretKey, token string) {
	_, secretID, secretKey, token, _ = e.lookup()
	return secretID, secretKey, token
}

// GetSecretId returns the current SecretId.
func (e EnvCredential) GetSecretId() string { id, _, _ := e.GetCredential(); return id }

// GetSecretKey returns the current SecretKey.
func (e EnvCredential) GetSecretKey() string { _, key, _ := e.GetCredential(); return key }

// GetToken returns the current session token ("" for a permanent key).
func (e EnvCredential) GetToken() string { _, _, token := e.GetCredential(); return token }

// Source names the variable holding the SecretId in use, or "" when none is set.
func (e EnvCredential) Source() string {
	src, _, _, _, _ := e.lookup()
	return src.id
}

// String describes where the credential comes from, never its values.
func (e EnvCredential) String() string {
	src, _, _, token, ok := e.lookup()
	if !ok {
		return "tcss.EnvCredential(unset)"
	}
	return fmt.Sprintf("tcss.EnvCredential(from %s, temporary=%t)", src.id, token != "")
}

// LogValue makes slog print the description of String, never the secrets.
func (e EnvCredential) LogValue() slog.Value { return slog.StringValue(e.String()) }

// CheckCredential returns an error wrapping ErrNoCredential, naming the variables to set, when
// getenv offers no complete credential; nil otherwise. Call it at start-up to fail early.
func CheckCredential(getenv func(string) string) error {
	e := EnvCredential(getenv)
	if _, _, _, _, ok := e.lookup(); ok {
		return nil
	}
	for _, s := range sources {
		id, key := e.getenv(s.id), e.getenv(s.key)
		switch {
		case id != "" && key == "":
			return fmt.Errorf("%w: %s is set but %s is empty", ErrNoCredential, s.id, s.key)
		case id == "" && key != "":
			return fmt.Errorf("%w: %s is set but %s is empty", ErrNoCredential, s.key, s.id)
		}
	}
	return fmt.Errorf("%w: set %s and %s (SCF sets them, with %s, from the function's role), or %s and %s (+ %s for a temporary key)",
		ErrNoCredential, EnvSCFSecretID, EnvSCFSecretKey, EnvSCFSessionToken, EnvSecretID, EnvSecretKey, EnvSessionToken)
}

// readier is a credential that may have to fetch its key over the network (RoleCredential):
// Ready gets it with the caller's context, before anything is signed.
type readier interface {
	Ready(ctx context.Context) error
}

// credentialProblem says why cred cannot sign a request, before anything is sent.
func credentialProblem(ctx context.Context, cred common.CredentialIface) error {
	switch c := cred.(type) {
	case EnvCredential:
		return CheckCredential(c.getenv)
	case readier:
		return c.Ready(ctx)
	}
	id, key, _ := cred.GetCredential()
	if id == "" || key == "" {
		return fmt.Errorf("%w: the configured credential has an empty SecretId or SecretKey", ErrNoCredential)
	}
	return nil
}

// Credential sources, as the audit record names them (shared contract: audit.Record.Credential).
const (
	SourceSCFRole      = "scf-role"     // SCF's execution-role key (TENCENTCLOUD_SECRETID…)
	SourceStaticKey    = "static-key"   // a key from TENCENTCLOUD_SECRET_ID… or given in code
	SourceAssumedRole  = "assumed-role" // a role assumed through STS AssumeRole
	SourceWebIdentity  = "web-identity" // a role assumed through STS AssumeRoleWithWebIdentity
	secretIDPrefixLen  = 8              // how much of a SecretId a record may show
	secretIDPrefixMark = "…"
)

// sourceDescriber is a credential that can say where it comes from without its secrets.
type sourceDescriber interface{ CredentialSource() string }

// SecretIDPrefix is the first characters of a SecretId, enough to tell keys apart in a record and
// too few to use.
func SecretIDPrefix(id string) string {
	id = strings.TrimSpace(id)
	if id == "" {
		return "(none)"
	}
	if len(id) <= secretIDPrefixLen {
		return id[:min(len(id), 4)] + secretIDPrefixMark
	}
	return id[:secretIDPrefixLen] + secretIDPrefixMark
}

// CredentialSource names the source of the credential in use and the first characters of its
// SecretId: scf-role:AKIDab12… or static-key:AKIDab12…; "none" when no pair is set.
func (e EnvCredential) CredentialSource() string {
	src, id, _, _, ok := e.lookup()
	switch {
	case !ok:
		return "none"
	case src.id == EnvSCFSecretID:
		return SourceSCFRole + ":" + SecretIDPrefix(id)
	}
	return SourceStaticKey + ":" + SecretIDPrefix(id)
}

// CredentialSource names the role and session whose temporary keys sign:
// assumed-role:<role ARN>/<session>.
func (c *RoleCredential) CredentialSource() string {
	if c.tokens != nil {
		return SourceWebIdentity + ":" + c.arn
	}
	return SourceAssumedRole + ":" + c.arn + "/" + c.session
}

// credentialSource describes any credential: its own description when it has one, else a
// static key with its SecretId's first characters.
func credentialSource(cred common.CredentialIface) string {
	if d, ok := cred.(sourceDescriber); ok {
		return d.CredentialSource()
	}
	return SourceStaticKey + ":" + SecretIDPrefix(cred.GetSecretId())
}
