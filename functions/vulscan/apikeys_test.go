package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/web/auth"
)

// TestStartupNamesTheFixForAnAPIKeyHash: a VULSCAN_API_KEYS entry made as the docs say
// (printf %s "$KEY" | sha256sum) but pasted with the "  -" sha256sum prints after the hash stops
// the start with a message that says to drop it, not one that takes the hash for the key itself.
func TestStartupNamesTheFixForAnAPIKeyHash(t *testing.T) {
	hash := auth.HashAPIKey("k")
	for _, tt := range []struct {
		name, keys string
		wantExit   int
		wantStderr string
	}{
		{"sha256sum's whole line", "ci:" + hash + "  -", 1, `key "ci": the hash is followed by sha256sum's "  -": keep only the 64 hex digits`},
		{"a key pasted by mistake", "ci:the-key-itself", 1, `key "ci": want the 64 hex digits of the key's SHA-256, not the key itself`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, stdout, stderr := testEnv("", map[string]string{
				"VULSCAN_ADDR": "127.0.0.1:0", "VULSCAN_TCSS_ENDPOINT": "emulator",
				"VULSCAN_AUDIT_DSN": "sqlite:" + filepath.Join(t.TempDir(), "audit.db"),
				"VULSCAN_AUTH":      "apikey", "VULSCAN_API_KEYS": tt.keys,
			})
			if code := run(context.Background(), nil, e); code != tt.wantExit {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.wantExit, stdout, stderr)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr:\n%s\nwant %q", stderr, tt.wantStderr)
			}
		})
	}
}
