package tcsstest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signature algorithm the emulator accepts.
const Algorithm = "TC3-HMAC-SHA256"

// UnsignedPayload is the X-TC-Content-SHA256 value with which a client opts out of signing the
// body; TC3 then hashes this literal string instead of the body.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// Header is one canonical header: a lower-case name and its value as signed.
type Header struct {
	Name, Value string
}

// Canonical is what TC3-HMAC-SHA256 signs about a request (step 1 of Tencent's signing
// documentation, https://www.tencentcloud.com/document/product/1163/52898).
type Canonical struct {
	Method        string   // POST
	URI           string   // always "/" for API 3.0
	Query         string   // empty for POST
	Headers       []Header // in SignedHeaders order, names lower-case
	PayloadSHA256 string   // hex SHA-256 of the body, or of UnsignedPayload
}

// SignedHeaders is the SignedHeaders list: the header names joined by ";".
func (c Canonical) SignedHeaders() string {
	names := make([]string, len(c.Headers))
	for i, h := range c.Headers {
		names[i] = h.Name
	}
	return strings.Join(names, ";")
}

// String is the CanonicalRequest: method, URI, query, "name:value\n" per header, a blank line,
// SignedHeaders and the payload hash, joined by newlines.
func (c Canonical) String() string {
	var hs strings.Builder
	for _, h := range c.Headers {
		hs.WriteString(h.Name + ":" + h.Value + "\n")
	}
	return strings.Join([]string{c.Method, c.URI, c.Query, hs.String(), c.SignedHeaders(), c.PayloadSHA256}, "\n")
}

// HashHex is hex(SHA-256(b)).
func HashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Date is the credential-scope date of a timestamp: its UTC day as YYYY-MM-DD.
func Date(timestamp int64) string {
	return time.Unix(timestamp, 0).UTC().Format(time.DateOnly)
}

// StringToSign is step 2: algorithm, timestamp, credential scope and the hashed canonical request.
func StringToSign(timestamp int64, service string, c Canonical) string {
	return strings.Join([]string{
		Algorithm,
		strconv.FormatInt(timestamp, 10),
		Date(timestamp) + "/" + service + "/tc3_request",
		HashHex([]byte(c.String())),
	}, "\n")
}

// Signature is step 3: the hex HMAC chain kDate -> kService -> kSigning over StringToSign.
func Signature(secretKey, date, service, stringToSign string) string {
	kDate := hmacSHA256([]byte("TC3"+secretKey), date)
	kService := hmacSHA256(kDate, service)
	kSigning := hmacSHA256(kService, "tc3_request")
	return hex.EncodeToString(hmacSHA256(kSigning, stringToSign))
}

// Authorization is step 4: the Authorization header value.
func Authorization(secretID string, timestamp int64, service string, c Canonical, signature string) string {
	return fmt.Sprintf("%s Credential=%s/%s/%s/tc3_request, SignedHeaders=%s, Signature=%s",
		Algorithm, secretID, Date(timestamp), service, c.SignedHeaders(), signature)
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// SignOptions say how Sign composes the canonical request, so that tests can reproduce each
// official SDK's choices.
type SignOptions struct {
	// Service is the credential-scope service; default "tcss".
	Service string
	// Time is the signing time; default time.Now().
	Time time.Time
	// SignedHeaders lists the header names to sign, in order; default content-type;host.
	// "host" is taken from the request's Host (or URL host); other names from its headers.
	// x-tc-action is signed lower-cased, as Tencent's documentation does.
	SignedHeaders []string
	// SignedHost, if set, replaces the host value that is signed (the Node.js SDK signs the
	// hostname without its port).
	SignedHost string
	// UnsignedPayload signs the literal UNSIGNED-PAYLOAD instead of the body and sets
	// X-TC-Content-SHA256 accordingly.
	UnsignedPayload bool
}

// Sign signs r (whose body is body) with key k as an official SDK does: it sets X-TC-Timestamp,
// X-TC-Token (for a temporary key) and Authorization. r must already carry Content-Type,
// X-TC-Action and X-TC-Version.
func Sign(r *http.Request, body []byte, k Key, opts SignOptions) {
	if opts.Service == "" {
		opts.Service = "tcss"
	}
	if opts.Time.IsZero() {
		opts.Time = time.Now()
	}
	if len(opts.SignedHeaders) == 0 {
		opts.SignedHeaders = []string{"content-type", "host"}
	}
	ts := opts.Time.Unix()
	r.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	if k.Token != "" {
		r.Header.Set("X-TC-Token", k.Token)
	}
	payload := HashHex(body)
	if opts.UnsignedPayload {
		r.Header.Set("X-TC-Content-SHA256", UnsignedPayload)
		payload = HashHex([]byte(UnsignedPayload))
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	if opts.SignedHost != "" {
		host = opts.SignedHost
	}
	c := Canonical{Method: r.Method, URI: "/", PayloadSHA256: payload}
	for _, name := range opts.SignedHeaders {
		name = strings.ToLower(name)
		v := strings.TrimSpace(r.Header.Get(name))
		switch name {
		case "host":
			v = host
		case "x-tc-action":
			v = strings.ToLower(v)
		}
		c.Headers = append(c.Headers, Header{Name: name, Value: v})
	}
	sig := Signature(k.SecretKey, Date(ts), opts.Service, StringToSign(ts, opts.Service, c))
	r.Header.Set("Authorization", Authorization(k.SecretID, ts, opts.Service, c, sig))
}

// NewRequest builds a POST to url for action (API 2020-11-01) with a JSON body, signed with k as
// the Go SDK signs (content-type "application/json", SignedHeaders content-type;host).
func NewRequest(url, action string, body []byte, k Key, at time.Time) (*http.Request, error) {
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("tcsstest: new request: %w", err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", action)
	r.Header.Set("X-TC-Version", Version)
	Sign(r, body, k, SignOptions{Time: at})
	return r, nil
}

// sortedKeys returns m's keys in order; used for deterministic messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
