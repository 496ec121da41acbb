package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

// APIKey is one machine caller's key, stored as the SHA-256 of the key so that the settings
// never hold a usable secret.
type APIKey struct {
	Name string   // names the caller in the audit record: apikey:<Name>
	Hash [32]byte // sha256(key)
}

// keyNamePattern compiles on first use: its repeat count made it most of this package's
// initialisation, which every run paid, the one-shot CLI included.
var keyNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`) })

// MaxAPIKeyBytes bounds a presented key: longer ones are refused before hashing.
const MaxAPIKeyBytes = 512

// ParseAPIKeys reads VULSCAN_API_KEYS: comma-separated name:sha256hex pairs, e.g.
// "ci:9f86d081…,deploy:60303ae2…" (make one with: printf %s "$KEY" | sha256sum | cut -d' ' -f1). Names are
// unique, up to 64 of letters, digits and ._-.
func ParseAPIKeys(s string) ([]APIKey, error) {
	var keys []APIKey
	seen := map[string]bool{}
	nameOf := map[string]string{} // hash -> the name it was first listed under
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, hexHash, ok := strings.Cut(part, ":")
		name, hexHash = strings.TrimSpace(name), strings.ToLower(strings.TrimSpace(hexHash))
		if !ok || !keyNamePattern().MatchString(name) {
			// The entry is not quoted back: it might be a key pasted by mistake.
			return nil, fmt.Errorf("VULSCAN_API_KEYS: entry %d: want name:sha256hex, with a name of up to 64 letters, digits and ._-", len(keys)+1)
		}
		if digits, rest, ok := strings.Cut(hexHash, " "); ok && len(digits) == 2*sha256.Size && strings.TrimSpace(rest) == "-" {
			// The whole line of `printf %s "$KEY" | sha256sum`, whose "  -" names its input.
			return nil, fmt.Errorf("VULSCAN_API_KEYS: key %q: the hash is followed by sha256sum's \"  -\": keep only the 64 hex digits (printf %%s \"$KEY\" | sha256sum | cut -d' ' -f1)", name)
		}
		raw, err := hex.DecodeString(hexHash)
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("VULSCAN_API_KEYS: key %q: want the 64 hex digits of the key's SHA-256, not the key itself", name)
		}
		if seen[name] {
			return nil, fmt.Errorf("VULSCAN_API_KEYS: key %q listed twice", name)
		}
		seen[name] = true
		// One key under two names would be recorded as whichever matched last: the audit log
		// could not say which caller started a scan, and each name had a start limit of its own.
		if other, dup := nameOf[hexHash]; dup {
			return nil, fmt.Errorf("VULSCAN_API_KEYS: keys %q and %q have the same hash: give each caller a key of its own", other, name)
		}
		nameOf[hexHash] = name
		k := APIKey{Name: name}
		copy(k.Hash[:], raw)
		keys = append(keys, k)
	}
	return keys, nil
}

// HashAPIKey returns the VULSCAN_API_KEYS form of key's hash (64 hex digits).
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// apiKey checks the bearer key r presents. presented is false when r carries no
// Authorization: Bearer header (another mode may then admit it).
func (a *Authenticator) apiKey(r *http.Request) (id Identity, presented bool, err error) {
	header := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(header, " ")
	if header == "" || !ok || !strings.EqualFold(scheme, "Bearer") {
		return Identity{}, false, nil
	}
	if len(r.Header.Values("Authorization")) > 1 {
		return Identity{}, true, fmt.Errorf("%w: the request carries more than one Authorization header", ErrUnauthenticated)
	}
	key = strings.TrimSpace(key)
	if key == "" || len(key) > MaxAPIKeyBytes {
		return Identity{}, true, &tokenError{"the API key is malformed"}
	}
	sum := sha256.Sum256([]byte(key))
	match := -1
	// Compare with every key, in constant time, so that timing tells nothing about which
	// stored hash came close.
	for i, k := range a.apiKeys {
		if subtle.ConstantTimeCompare(sum[:], k.Hash[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return Identity{}, true, &tokenError{"the API key is not valid"}
	}
	return Identity{Actor: "apikey:" + a.apiKeys[match].Name, Access: AccessAPIKey}, true, nil
}

// Proxy configures ModeProxy: an authenticating reverse proxy (oauth2-proxy, …) puts the user
// into Header and proves itself with Secret in SecretHeader; requests without the secret are
// refused, so a client that reaches vulscan around the proxy cannot name itself.
type Proxy struct {
	Header       string // e.g. X-Forwarded-Email (oauth2-proxy's)
	SecretHeader string // e.g. X-Vulscan-Proxy-Secret
	Secret       string // the shared secret the proxy sends; at least 16 characters
}

// Defaults of Proxy.
const (
	DefaultProxyHeader       = "X-Forwarded-Email"
	DefaultProxySecretHeader = "X-Vulscan-Proxy-Secret"
	minProxySecretLen        = 16
	maxProxyIdentityLen      = 256
)

func (p Proxy) validate() error {
	switch {
	case p.Header == "" || p.SecretHeader == "":
		return fmt.Errorf("VULSCAN_AUTH=proxy: the identity and secret header names must not be empty")
	case !validHeaderName(p.Header) || !validHeaderName(p.SecretHeader):
		// No request carries such a header, so the mode would admit nobody.
		return fmt.Errorf("VULSCAN_AUTH=proxy: %s and %s must be HTTP header names (letters, digits and -, e.g. %s)",
			EnvProxyHeader, EnvProxySecretHeader, DefaultProxyHeader)
	case http.CanonicalHeaderKey(p.Header) == http.CanonicalHeaderKey(p.SecretHeader):
		return fmt.Errorf("VULSCAN_AUTH=proxy: the identity and secret headers must differ")
	case len(p.Secret) < minProxySecretLen:
		return fmt.Errorf("VULSCAN_AUTH=proxy needs VULSCAN_PROXY_SECRET of at least %d characters", minProxySecretLen)
	}
	return nil
}

// validHeaderName reports whether s is an HTTP field name (RFC 9110's token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return true
}

// identify reads the proxy's identity header. presented is false when r carries neither the
// identity nor the secret header.
func (p Proxy) identify(r *http.Request) (id Identity, presented bool, err error) {
	user := strings.TrimSpace(r.Header.Get(p.Header))
	secret := r.Header.Get(p.SecretHeader)
	if user == "" && secret == "" {
		return Identity{}, false, nil
	}
	// Two identities (a client's own header that the proxy passed on beside its own) or two
	// secrets name nobody: which one the proxy meant cannot be told.
	if len(r.Header.Values(p.Header)) > 1 || len(r.Header.Values(p.SecretHeader)) > 1 {
		return Identity{}, true, fmt.Errorf("%w: the request carries more than one %s or %s header", ErrUnauthenticated, p.Header, p.SecretHeader)
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(p.Secret)) != 1 {
		return Identity{}, true, fmt.Errorf("%w: the %s header came without the proxy's secret", ErrUnauthenticated, p.Header)
	}
	if user == "" || len(user) > maxProxyIdentityLen {
		return Identity{}, true, fmt.Errorf("%w: the proxy sent no usable %s", ErrUnauthenticated, p.Header)
	}
	// A comma is how HTTP joins repeated headers (API Gateway's payload 2.0, intermediaries):
	// "mallory@evil.example,alice@example.com" is two identities in one value, and would match
	// an allowed pattern for either. No address or user name holds one, nor a control character.
	if strings.ContainsRune(user, ',') || strings.IndexFunc(user, audit.IsControl) >= 0 {
		return Identity{}, true, fmt.Errorf("%w: the %s header holds more than one identity, or characters no identity has", ErrUnauthenticated, p.Header)
	}
	return Identity{Actor: "proxy:" + scan.Shorten(user, maxProxyIdentityLen), Access: AccessProxy}, true, nil
}
