package tcsstest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AWSIssuer plays the AWS side of IAM outbound identity federation: STS GetWebIdentityToken
// (the query protocol, API version 2011-06-15) signs a JWT naming the calling role, and the
// issuer publishes its OpenID discovery document and JWKS, which Tencent CAM's OIDC provider
// trusts. It checks that a request is SigV4-authorized by a known access key, not the SigV4
// signature itself: vulscan's side under test is the token exchange, and the AWS SDK signs.
type AWSIssuer struct {
	key       *rsa.PrivateKey
	kid       string
	callerARN string
	keys      map[string]bool
	now       func() time.Time

	mu     sync.Mutex
	url    string
	tokens int
}

// AWSIssuerOptions configure an AWSIssuer.
type AWSIssuerOptions struct {
	// AccessKeyIDs are the AWS access keys whose calls are answered (Lambda's role credentials).
	AccessKeyIDs []string
	// CallerARN is the token's subject: the IAM role the Lambda runs as.
	CallerARN string
	// Now is the clock the tokens are dated by; default time.Now.
	Now func() time.Time
}

// NewAWSIssuer starts an AWSIssuer on a loopback server; its URL is the token issuer.
func NewAWSIssuer(opts AWSIssuerOptions) (*AWSIssuer, *httptest.Server) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	a := &AWSIssuer{key: key, kid: randomHex(8), callerARN: opts.CallerARN, keys: map[string]bool{}, now: opts.Now}
	for _, k := range opts.AccessKeyIDs {
		a.keys[k] = true
	}
	if a.now == nil {
		a.now = time.Now
	}
	srv := httptest.NewServer(a)
	a.mu.Lock()
	a.url = srv.URL
	a.mu.Unlock()
	return a, srv
}

// Issuer is the iss of the tokens.
func (a *AWSIssuer) Issuer() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.url
}

// Tokens reports how many tokens GetWebIdentityToken issued.
func (a *AWSIssuer) Tokens() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tokens
}

// ServeHTTP answers discovery, the JWKS and STS calls.
func (a *AWSIssuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/.well-known/openid-configuration":
		writeJSON(w, map[string]any{"issuer": a.Issuer(), "jwks_uri": a.Issuer() + "/.well-known/jwks.json",
			"id_token_signing_alg_values_supported": []string{"RS256"}, "response_types_supported": []string{"id_token"},
			"subject_types_supported": []string{"public"}})
	case r.Method == http.MethodGet && r.URL.Path == "/.well-known/jwks.json":
		writeJSON(w, map[string]any{"keys": []map[string]string{{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": a.kid,
			"n": b64(a.key.N.Bytes()), "e": b64(big.NewInt(int64(a.key.E)).Bytes())}}})
	case r.Method == http.MethodPost:
		a.sts(w, r)
	default:
		http.NotFound(w, r)
	}
}

// sts answers GetWebIdentityToken.
func (a *AWSIssuer) sts(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		awsError(w, http.StatusBadRequest, "MalformedQueryString", "The request body is not a form.")
		return
	}
	cred, _, _ := strings.Cut(strings.TrimPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="), "/")
	if !a.keys[cred] {
		awsError(w, http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
		return
	}
	if r.PostForm.Get("Action") != "GetWebIdentityToken" || r.PostForm.Get("Version") != "2011-06-15" {
		awsError(w, http.StatusBadRequest, "InvalidAction", "Could not find operation "+r.PostForm.Get("Action")+".")
		return
	}
	var audience []string
	for i := 1; r.PostForm.Has("Audience.member." + strconv.Itoa(i)); i++ {
		audience = append(audience, r.PostForm.Get("Audience.member."+strconv.Itoa(i)))
	}
	duration := 300
	if s := r.PostForm.Get("DurationSeconds"); s != "" {
		duration, _ = strconv.Atoi(s)
	}
	switch {
	case len(audience) == 0:
		awsError(w, http.StatusBadRequest, "ValidationError", "Audience is required.")
		return
	case r.PostForm.Get("SigningAlgorithm") != "RS256":
		awsError(w, http.StatusBadRequest, "ValidationError", "This emulator signs with RS256 only.")
		return
	case duration < 60 || duration > 3600:
		awsError(w, http.StatusBadRequest, "ValidationError", "DurationSeconds must be 60 to 3600.")
		return
	}
	now := a.now().UTC()
	expires := now.Add(time.Duration(duration) * time.Second)
	var aud any = audience
	if len(audience) == 1 {
		aud = audience[0]
	}
	token := a.Sign(map[string]any{"iss": a.Issuer(), "sub": a.callerARN, "aud": aud, "iat": now.Unix(),
		"nbf": now.Unix(), "exp": expires.Unix(), "jti": randomHex(16)})
	a.mu.Lock()
	a.tokens++
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	type result struct {
		WebIdentityToken string
		Expiration       string
	}
	type response struct {
		XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetWebIdentityTokenResponse"`
		Result  result   `xml:"GetWebIdentityTokenResult"`
		Meta    struct {
			RequestID string `xml:"RequestId"`
		} `xml:"ResponseMetadata"`
	}
	out := response{Result: result{WebIdentityToken: token, Expiration: expires.Format(time.RFC3339)}}
	out.Meta.RequestID = newRequestID()
	_ = xml.NewEncoder(w).Encode(out)
}

// Sign signs claims as the issuer (RS256, with the JWKS's key ID), so that tests can make
// tokens the issuer would never issue: another audience, expired, another subject.
func (a *AWSIssuer) Sign(claims map[string]any) string {
	return signJWT(a.key, a.kid, claims)
}

// signJWT makes a compact RS256 JWS.
func signJWT(key *rsa.PrivateKey, kid string, claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	payload, _ := json.Marshal(claims)
	signing := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err) // a valid key cannot fail to sign
	}
	return signing + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// awsError answers in the query protocol's error shape.
func awsError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	type errorBody struct {
		Type    string
		Code    string
		Message string
	}
	type response struct {
		XMLName   xml.Name  `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
		Error     errorBody `xml:"Error"`
		RequestID string    `xml:"RequestId"`
	}
	_ = xml.NewEncoder(w).Encode(response{Error: errorBody{Type: "Sender", Code: code, Message: message}, RequestID: newRequestID()})
}
