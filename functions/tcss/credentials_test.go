package tcss

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/scan"
)

// env is a fake environment; tests change it between calls.
type env map[string]string

func (e env) get(key string) string { return e[key] }

func TestEnvCredentialOrder(t *testing.T) {
	tests := []struct {
		name                string
		env                 env
		wantID, wantKey     string
		wantToken           string
		wantSource          string
		wantCheckErrMention string // "" when CheckCredential must pass
	}{
		{
			name: "SCF role variables come first",
			env: env{EnvSCFSecretID: "AKIDscf", EnvSCFSecretKey: "scfkey", EnvSCFSessionToken: "scftoken",
				EnvSecretID: "AKIDstatic", EnvSecretKey: "statickey", EnvSessionToken: "statictoken"},
			wantID: "AKIDscf", wantKey: "scfkey", wantToken: "scftoken", wantSource: EnvSCFSecretID,
		},
		{
			name:   "static key when SCF's are absent",
			env:    env{EnvSecretID: "AKIDstatic", EnvSecretKey: "statickey"},
			wantID: "AKIDstatic", wantKey: "statickey", wantSource: EnvSecretID,
		},
		{
			name:   "static temporary key takes its token from TENCENTCLOUD_SESSION_TOKEN",
			env:    env{EnvSecretID: "AKIDtmp", EnvSecretKey: "tmpkey", EnvSessionToken: "tmptoken", EnvSCFSessionToken: "not-this-one"},
			wantID: "AKIDtmp", wantKey: "tmpkey", wantToken: "tmptoken", wantSource: EnvSecretID,
		},
		{
			name:   "an incomplete SCF pair is skipped",
			env:    env{EnvSCFSecretID: "AKIDscf", EnvSecretID: "AKIDstatic", EnvSecretKey: "statickey"},
			wantID: "AKIDstatic", wantKey: "statickey", wantSource: EnvSecretID,
		},
		{
			name:   "surrounding white space is trimmed",
			env:    env{EnvSecretID: " AKIDstatic\n", EnvSecretKey: "statickey\n"},
			wantID: "AKIDstatic", wantKey: "statickey", wantSource: EnvSecretID,
		},
		{
			name:                "nothing set",
			env:                 env{},
			wantCheckErrMention: "set TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY",
		},
		{
			name:                "ID without key",
			env:                 env{EnvSecretID: "AKIDstatic"},
			wantCheckErrMention: "TENCENTCLOUD_SECRET_ID is set but TENCENTCLOUD_SECRET_KEY is empty",
		},
		{
			name:                "key without ID",
			env:                 env{EnvSCFSecretKey: "scfkey"},
			wantCheckErrMention: "TENCENTCLOUD_SECRETKEY is set but TENCENTCLOUD_SECRETID is empty",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred := EnvCredential(tt.env.get)
			id, key, token := cred.GetCredential()
			if id != tt.wantID || key != tt.wantKey || token != tt.wantToken {
				t.Errorf("GetCredential = %q, %q, %q; want %q, %q, %q", id, key, token, tt.wantID, tt.wantKey, tt.wantToken)
			}
			if cred.GetSecretId() != tt.wantID || cred.GetSecretKey() != tt.wantKey || cred.GetToken() != tt.wantToken {
				t.Error("the single getters disagree with GetCredential")
			}
			if got := cred.Source(); got != tt.wantSource {
				t.Errorf("Source = %q, want %q", got, tt.wantSource)
			}
			err := CheckCredential(tt.env.get)
			if tt.wantCheckErrMention == "" {
				if err != nil {
					t.Errorf("CheckCredential: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrNoCredential) || !strings.Contains(err.Error(), tt.wantCheckErrMention) {
				t.Errorf("CheckCredential = %v, want ErrNoCredential saying %q", err, tt.wantCheckErrMention)
			}
		})
	}
}

func TestEnvCredentialNeverShowsSecrets(t *testing.T) {
	e := env{EnvSCFSecretID: "AKIDvisible", EnvSCFSecretKey: "very-secret-key", EnvSCFSessionToken: "very-secret-token"}
	cred := EnvCredential(e.get)
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("using", "credential", cred)
	for _, shown := range []string{cred.String(), fmt.Sprint(cred), fmt.Sprintf("%v %+v %s", cred, cred, cred), logs.String()} {
		for _, secret := range []string{"very-secret-key", "very-secret-token", "AKIDvisible"} {
			if strings.Contains(shown, secret) {
				t.Errorf("%q shows %q", shown, secret)
			}
		}
	}
	if !strings.Contains(cred.String(), EnvSCFSecretID) {
		t.Errorf("String = %q, want it to name the source variable", cred.String())
	}
}

// TestCredentialIsReadOnEveryCall pins that a rotated key (SCF may rotate the role's key) is used
// by the next call, and that temporary keys send their token.
func TestCredentialIsReadOnEveryCall(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) { createdTask(w) })
	e := env{EnvSecretID: "AKIDstatic", EnvSecretKey: "statickey"}
	cfg := testConfig(f.URL)
	cfg.Credential = EnvCredential(e.get)
	c := newTestClient(t, cfg)
	call := func() {
		t.Helper()
		if _, err := c.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"}); err != nil {
			t.Fatal(err)
		}
	}

	call()
	e[EnvSCFSecretID], e[EnvSCFSecretKey], e[EnvSCFSessionToken] = "AKIDrole1", "rolekey1", "roletoken1"
	call()
	e[EnvSCFSecretID], e[EnvSCFSecretKey], e[EnvSCFSessionToken] = "AKIDrole2", "rolekey2", "roletoken2"
	call()

	want := []struct{ id, token string }{{"AKIDstatic", ""}, {"AKIDrole1", "roletoken1"}, {"AKIDrole2", "roletoken2"}}
	seen := f.requests()
	if len(seen) != len(want) {
		t.Fatalf("TCSS saw %d requests, want %d", len(seen), len(want))
	}
	for i, w := range want {
		if got := secretIDOf(seen[i].header.Get("Authorization")); got != w.id {
			t.Errorf("request %d signed by %q, want %q", i+1, got, w.id)
		}
		got, present := seen[i].header.Get("X-TC-Token"), len(seen[i].header.Values("X-TC-Token")) > 0
		if got != w.token || (w.token == "" && present) {
			t.Errorf("request %d X-TC-Token = %q (present %t), want %q", i+1, got, present, w.token)
		}
	}
}

func TestMissingCredentialSendsNothing(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) { createdTask(w) })
	cfg := testConfig(f.URL)
	cfg.Credential = EnvCredential(env{}.get)
	c := newTestClient(t, cfg)

	_, err := c.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"})
	if !errors.Is(err, ErrNoCredential) {
		t.Errorf("error = %v, want ErrNoCredential", err)
	}
	if errors.Is(err, scan.ErrOutcomeUnknown) {
		t.Error("nothing was sent: the outcome is known")
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("TCSS saw %d requests, want 0", n)
	}
}
