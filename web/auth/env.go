package auth

import (
	"fmt"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/scan"
)

// The settings auth reads (README's Settings table describes each).
const (
	EnvAuth              = "VULSCAN_AUTH"
	EnvAPIKeys           = "VULSCAN_API_KEYS"
	EnvProxyHeader       = "VULSCAN_PROXY_HEADER"
	EnvProxySecretHeader = "VULSCAN_PROXY_SECRET_HEADER"
	EnvProxySecret       = "VULSCAN_PROXY_SECRET"
	EnvOIDCIssuer        = "VULSCAN_OIDC_ISSUER"
	EnvOIDCClientID      = "VULSCAN_OIDC_CLIENT_ID"
	EnvOIDCClientSecret  = "VULSCAN_OIDC_CLIENT_SECRET"
	EnvOIDCRedirectURL   = "VULSCAN_OIDC_REDIRECT_URL"
	EnvOIDCAllowedEmails = "VULSCAN_OIDC_ALLOWED_EMAILS"
	EnvOIDCAllowedGroups = "VULSCAN_OIDC_ALLOWED_GROUPS"
	EnvSessionKey        = "VULSCAN_SESSION_KEY"
	EnvSessionTTL        = "VULSCAN_SESSION_TTL"
	// EnvPublic opens the pages and the API to everyone when it is exactly PublicConsent.
	EnvPublic     = "VULSCAN_PUBLIC"
	PublicConsent = "I-understand"
)

// ConfigFromEnv reads the settings of the modes VULSCAN_AUTH names (and only those: a setting
// of an unused mode is ignored). localUser names the operating-system user for mode none.
// The errors name the setting at fault and never quote a secret.
func ConfigFromEnv(getenv func(string) string, localUser string) (Config, error) {
	modes, err := ParseModes(getenv(EnvAuth))
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Modes: modes, LocalUser: localUser}
	switch p := strings.TrimSpace(getenv(EnvPublic)); p {
	case "":
	case PublicConsent:
		cfg.Public = true
	default:
		return Config{}, fmt.Errorf("%s=%q: set it to %s to let anyone who reaches the function start scans and read the audit log, or leave it unset", EnvPublic, scan.Shorten(p, 40), PublicConsent)
	}
	for _, m := range modes {
		switch m {
		case ModeAPIKey:
			if cfg.APIKeys, err = ParseAPIKeys(getenv(EnvAPIKeys)); err != nil {
				return Config{}, err
			}
		case ModeProxy:
			cfg.Proxy = Proxy{
				Header:       orDefault(getenv(EnvProxyHeader), DefaultProxyHeader),
				SecretHeader: orDefault(getenv(EnvProxySecretHeader), DefaultProxySecretHeader),
				Secret:       strings.TrimSpace(getenv(EnvProxySecret)),
			}
		case ModeOIDC:
			if cfg.OIDC, err = oidcFromEnv(getenv); err != nil {
				return Config{}, err
			}
		}
	}
	return cfg, nil
}

func oidcFromEnv(getenv func(string) string) (*OIDC, error) {
	key, err := ParseSessionKey(getenv(EnvSessionKey))
	if err != nil {
		return nil, err
	}
	var ttl time.Duration
	if s := strings.TrimSpace(getenv(EnvSessionTTL)); s != "" {
		if ttl, err = time.ParseDuration(s); err != nil || ttl <= 0 {
			return nil, fmt.Errorf("%s=%q: want a duration such as 8h", EnvSessionTTL, s)
		}
	}
	return NewOIDC(OIDCConfig{
		Issuer:        strings.TrimSpace(getenv(EnvOIDCIssuer)),
		ClientID:      strings.TrimSpace(getenv(EnvOIDCClientID)),
		ClientSecret:  strings.TrimSpace(getenv(EnvOIDCClientSecret)),
		RedirectURL:   strings.TrimSpace(getenv(EnvOIDCRedirectURL)),
		AllowedEmails: list(getenv(EnvOIDCAllowedEmails)),
		AllowedGroups: list(getenv(EnvOIDCAllowedGroups)),
		SessionKey:    key,
		SessionTTL:    ttl,
	})
}

// list splits a comma-separated setting, dropping blanks.
func list(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s = strings.TrimSpace(s); s != "" {
		return s
	}
	return def
}
