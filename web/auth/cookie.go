package auth

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// SessionKeyBytes is the length of VULSCAN_SESSION_KEY: an AES-256 key.
const SessionKeyBytes = 32

// ParseSessionKey reads VULSCAN_SESSION_KEY: 32 random bytes as 64 hex digits or as base64
// (make one with: openssl rand -hex 32). Every instance of the function must share it, so that
// any instance can read a session another one issued.
func ParseSessionKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("VULSCAN_SESSION_KEY is not set: sign-in cookies need a key shared by every instance (openssl rand -hex 32)")
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == SessionKeyBytes {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == SessionKeyBytes {
			return b, nil
		}
	}
	return nil, fmt.Errorf("VULSCAN_SESSION_KEY: want %d random bytes as 64 hex digits or base64", SessionKeyBytes)
}

// sealer encrypts and authenticates cookie values with AES-256-GCM, so that a client can
// neither read nor change them. The cookie's name and the sealer's scope are authenticated with
// its value, so that one kind of cookie cannot be passed off as another, nor one sealed for
// another sign-in (another provider or client, under the same key) be taken for this one's.
type sealer struct {
	aead  cipher.AEAD
	scope string
}

// newSealer seals under key, for scope (OIDC: the issuer and client ID the sign-in proved).
func newSealer(key []byte, scope string) (sealer, error) {
	if len(key) != SessionKeyBytes {
		return sealer{}, fmt.Errorf("session key: want %d bytes, have %d", SessionKeyBytes, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealer{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealer{}, err
	}
	return sealer{aead: aead, scope: scope}, nil
}

// maxCookieBytes bounds a cookie value read back: browsers keep 4 KB per cookie.
const maxCookieBytes = 4096

var errBadCookie = errors.New("the cookie is not one vulscan issued, or it was changed")

// seal returns v, JSON-encoded and sealed, as a cookie value. Without HTML escaping: nothing
// sealed is ever HTML, and json.Marshal would write each &, < and > of a return path as 6 bytes,
// making the cookie longer than a browser keeps.
func (s sealer) seal(name string, v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	plain := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := s.aead.Seal(nonce, nonce, plain, s.additionalData(name))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// additionalData is what a cookie's seal covers beside its value: its name and the scope, each
// ended by a NUL, which neither holds.
func (s sealer) additionalData(name string) []byte {
	return []byte(name + "\x00" + s.scope + "\x00")
}

// open reads a sealed cookie value into v; errBadCookie for anything vulscan did not seal under
// this name and key.
func (s sealer) open(name, value string, v any) error {
	if len(value) > maxCookieBytes {
		return errBadCookie
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return errBadCookie
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], s.additionalData(name))
	if err != nil {
		return errBadCookie
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return errBadCookie
	}
	return nil
}

// setCookie sets a sealed, Secure, HttpOnly, SameSite=Lax cookie for the whole site. The path
// is "/" because the function does not know the prefix (a gateway stage) it is served under.
func setCookie(w http.ResponseWriter, name, value string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: max(1, int(ttl.Seconds())),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// clearCookie tells the browser to forget a cookie.
func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}
