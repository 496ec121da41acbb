package tcsstest

import (
	"crypto/hmac"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxSkew is how far X-TC-Timestamp may be from the server's clock, either way.
const maxSkew = 5 * time.Minute

// authorization is a parsed TC3 Authorization header.
type authorization struct {
	secretID, date, service string
	signedHeaders           []string
	signature               string
}

// parseAuthorization reads "TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request,
// SignedHeaders=a;b, Signature=hex". Spacing after the commas varies between clients.
func parseAuthorization(v string) (authorization, *apiError) {
	var a authorization
	alg, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || alg != Algorithm {
		return a, errInvalidAuthorization("the Authorization header must start with " + Algorithm)
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, errInvalidAuthorization("the Authorization header has a part without '='")
		}
		fields[k] = strings.TrimSpace(val)
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 4 || scope[0] == "" || scope[3] != "tc3_request" {
		return a, errInvalidAuthorization("Credential must be SecretId/YYYY-MM-DD/service/tc3_request")
	}
	if _, err := time.Parse(time.DateOnly, scope[1]); err != nil {
		return a, errInvalidAuthorization("the Credential date must be YYYY-MM-DD")
	}
	a.secretID, a.date, a.service = scope[0], scope[1], scope[2]
	sh := fields["SignedHeaders"]
	if sh == "" {
		return a, errInvalidAuthorization("SignedHeaders is missing")
	}
	seen := map[string]bool{}
	for name := range strings.SplitSeq(sh, ";") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" || seen[name] {
			return a, errInvalidAuthorization("SignedHeaders has an empty or repeated name")
		}
		seen[name] = true
		a.signedHeaders = append(a.signedHeaders, name)
	}
	if !seen["content-type"] || !seen["host"] {
		return a, errInvalidAuthorization("SignedHeaders must include content-type and host")
	}
	a.signature = strings.ToLower(fields["Signature"])
	if len(a.signature) != 64 || strings.Trim(a.signature, "0123456789abcdef") != "" {
		return a, errInvalidAuthorization("Signature must be 64 hex digits")
	}
	return a, nil
}

// call is an authenticated request: its action, API version, the SecretId that signed it and a
// way to bind its parameters.
type call struct {
	action, version, secretID string
	bind                      binder
}

// readTC3 authenticates a TC3-HMAC-SHA256 request (JSON body) the way TCSS does, in its order:
// the Authorization header, the timestamp, the SecretId, the signature, then the token.
func (e *Emulator) readTC3(r *http.Request, body []byte) (*call, *apiError) {
	c := &call{action: r.Header.Get("X-TC-Action"), version: r.Header.Get("X-TC-Version")}
	if c.action == "" {
		return nil, &apiError{Code: "MissingParameter", Message: "The request is missing the required header X-TC-Action."}
	}
	raw := r.Header.Get("Authorization")
	if raw == "" {
		return nil, errInvalidAuthorization("the Authorization header is missing")
	}
	if raw == "SKIP" && c.action == ActionAssumeRoleWithWebIdentity {
		// Called unsigned, as Tencent's SDKs do: the web identity token is the proof.
		c.bind = func(fields map[string]any) *apiError {
			params, aerr := decodeParams(body)
			if aerr != nil {
				return aerr
			}
			return bindJSON(params, fields)
		}
		return c, nil
	}
	a, aerr := parseAuthorization(raw)
	if aerr != nil {
		return nil, aerr
	}
	tsText := r.Header.Get("X-TC-Timestamp")
	if tsText == "" {
		return nil, &apiError{Code: "MissingParameter", Message: "The request is missing the required header X-TC-Timestamp."}
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return nil, &apiError{Code: "InvalidParameter", Message: "X-TC-Timestamp must be a Unix time in seconds."}
	}
	if aerr := e.checkSkew(ts); aerr != nil {
		return nil, aerr
	}
	key, expires, ok := e.lookupKey(a.secretID)
	if !ok {
		return nil, errSecretIDNotFound()
	}
	if a.date != Date(ts) {
		return nil, errSignature("the credential date " + a.date + " is not the UTC date of X-TC-Timestamp")
	}
	if service := serviceOf(c.action); a.service != service {
		return nil, errSignature("the credential service of " + c.action + " must be " + service)
	}
	if !signatureMatches(r, body, a, ts, key.SecretKey) {
		return nil, errSignature("")
	}
	if aerr := e.checkToken(key, expires, r.Header.Get("X-TC-Token")); aerr != nil {
		return nil, aerr
	}
	c.secretID = key.SecretID
	c.bind = func(fields map[string]any) *apiError {
		params, aerr := decodeParams(body)
		if aerr != nil {
			return aerr
		}
		return bindJSON(params, fields)
	}
	return c, nil
}

// checkSkew refuses a timestamp more than five minutes from the emulator's clock.
func (e *Emulator) checkSkew(ts int64) *apiError {
	now := e.now()
	if d := now.Sub(time.Unix(ts, 0)); d > maxSkew || d < -maxSkew {
		return &apiError{Code: "AuthFailure.SignatureExpire", Message: "Signature expired: the timestamp " + strconv.FormatInt(ts, 10) +
			" is more than five minutes from the server time " + strconv.FormatInt(now.Unix(), 10) + "."}
	}
	return nil
}

// checkToken requires a temporary key's token, and a key issued by AssumeRole (expires set) to
// be used before it expires on the emulator's clock.
func (e *Emulator) checkToken(k Key, expires time.Time, got string) *apiError {
	if k.Token == "" {
		return nil
	}
	if got == "" {
		return &apiError{Code: "AuthFailure.TokenFailure", Message: "A temporary key needs its token (X-TC-Token)."}
	}
	if !hmac.Equal([]byte(got), []byte(k.Token)) {
		return &apiError{Code: "AuthFailure.TokenFailure", Message: "The token is invalid."}
	}
	if !expires.IsZero() && !e.now().Before(expires) {
		return &apiError{Code: "AuthFailure.TokenFailure", Message: "The token has expired (at " +
			strconv.FormatInt(expires.Unix(), 10) + "); assume the role again."}
	}
	return nil
}

func errSecretIDNotFound() *apiError {
	return &apiError{Code: "AuthFailure.SecretIdNotFound", Message: "The SecretId is not found, please ensure that your SecretId is correct."}
}

// signatureMatches recomputes the signature from what the client says it signed. Clients differ:
// values may be signed as sent or lower-cased (Tencent's documentation lower-cases them, e.g.
// x-tc-action), and the Node.js SDK signs the host without its port (invisible against the real
// endpoint on port 443, visible against an emulator on another port). Each candidate is tried.
func signatureMatches(r *http.Request, body []byte, a authorization, ts int64, secretKey string) bool {
	payload := HashHex(body)
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("X-TC-Content-SHA256")), UnsignedPayload) {
		payload = HashHex([]byte(UnsignedPayload))
	}
	hosts := []string{r.Host}
	if h, _, err := net.SplitHostPort(r.Host); err == nil && h != r.Host {
		hosts = append(hosts, h)
	}
	want := []byte(a.signature)
	for _, host := range hosts {
		for _, lower := range []bool{false, true} {
			c := Canonical{Method: r.Method, URI: "/", Query: r.URL.RawQuery, PayloadSHA256: payload}
			for _, name := range a.signedHeaders {
				v := strings.TrimSpace(r.Header.Get(name))
				if name == "host" {
					v = host
				}
				if lower {
					v = strings.ToLower(v)
				}
				c.Headers = append(c.Headers, Header{Name: name, Value: v})
			}
			got := Signature(secretKey, a.date, a.service, StringToSign(ts, a.service, c))
			if hmac.Equal([]byte(got), want) {
				return true
			}
		}
	}
	return false
}

func errInvalidAuthorization(why string) *apiError {
	return &apiError{Code: "AuthFailure.InvalidAuthorization", Message: "The Authorization header is invalid: " + why + "."}
}

func errSignature(why string) *apiError {
	msg := "The provided credentials could not be validated. Please check your signature is correct."
	if why != "" {
		msg += " (" + why + ")"
	}
	return &apiError{Code: "AuthFailure.SignatureFailure", Message: msg}
}
