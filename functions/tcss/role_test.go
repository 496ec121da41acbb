package tcss_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

const testRole = "qcs::cam::uin/100000000001:roleName/VulScanRole"

// roleLifetime is short so that 180% of it (two refreshes) stays within the emulator's five minutes of allowed
// signature skew (the SDK signs with the real time, the emulator checks against the test clock).
const roleLifetime = 100 * time.Second

// roleFixture is an emulator that knows testRole and a base key, and a TCSS client signing with
// a RoleCredential on the emulator's clock.
type roleFixture struct {
	emu    *tcsstest.Emulator
	clk    *clock
	base   tcsstest.Key
	cred   *tcss.RoleCredential
	client *tcss.Client
	logs   *bytes.Buffer // slog's handler serializes the writes; read it after the calls return
}

func newRoleFixture(t *testing.T, base common.CredentialIface) *roleFixture {
	t.Helper()
	f := &roleFixture{clk: &clock{}, base: tcsstest.RandomKey(), logs: &bytes.Buffer{}}
	emu, srv := tcsstest.NewServer(tcsstest.Options{
		Keys: []tcsstest.Key{f.base}, Roles: []string{testRole}, Now: f.clk.now, RatePerSecond: 1000,
	})
	t.Cleanup(srv.Close)
	f.emu = emu
	url := srv.URL
	if base == nil {
		base = common.NewCredential(f.base.SecretID, f.base.SecretKey)
	}
	logger := slog.New(slog.NewTextHandler(f.logs, nil))
	cred, err := tcss.NewRoleCredential(tcss.RoleConfig{
		RoleARN: testRole, Duration: roleLifetime, Base: base, Endpoint: url, Now: f.clk.now, Logger: logger,
	})
	if err != nil {
		t.Fatalf("NewRoleCredential: %v", err)
	}
	f.cred = cred
	f.client, err = tcss.New(tcss.Config{
		Endpoint: url, Credential: cred, Limiter: tcss.NewPacer(math.Inf(1)),
		Backoff: func(int) time.Duration { return 0 }, Logger: logger,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f
}

func (f *roleFixture) scan(t *testing.T) (scan.TaskIDs, error) {
	t.Helper()
	return f.client.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"})
}

// mustScan starts a scan, failing the test if it does not start.
func (f *roleFixture) mustScan(t *testing.T) {
	t.Helper()
	if _, err := f.scan(t); err != nil {
		t.Fatalf("CreateVulScanTask: %v", err)
	}
}

// signedBy asserts how many CreateVulScanTask calls each issued key signed, in issue order, and
// that the base key signed none.
func (f *roleFixture) signedBy(t *testing.T, want ...int) {
	t.Helper()
	issued := f.emu.Issued()
	if len(issued) != len(want) {
		t.Fatalf("STS issued %d keys, want %d", len(issued), len(want))
	}
	for i, k := range issued {
		if got := f.emu.CallsBy(tcss.ActionCreateVulScanTask, k.SecretID); got != want[i] {
			t.Errorf("issued key %d signed %d scans, want %d", i+1, got, want[i])
		}
	}
	if n := f.emu.CallsBy(tcss.ActionCreateVulScanTask, f.base.SecretID); n != 0 {
		t.Errorf("the base key signed %d TCSS calls, want 0", n)
	}
}

func TestRoleCredentialAssumesOnFirstUseAndReusesTheKey(t *testing.T) {
	f := newRoleFixture(t, nil)
	if n := f.emu.Calls("AssumeRole"); n != 0 {
		t.Fatalf("NewRoleCredential called STS %d times, want 0 (first use assumes)", n)
	}
	for range 3 {
		f.mustScan(t)
		f.clk.advance(roleLifetime / 10)
	}
	if n := f.emu.Calls("AssumeRole"); n != 1 {
		t.Errorf("AssumeRole called %d times for three scans within 30%% of the lifetime, want 1", n)
	}
	f.signedBy(t, 3)
	if n := f.emu.CallsBy("AssumeRole", f.base.SecretID); n != 1 {
		t.Errorf("the base key signed %d AssumeRole calls, want 1", n)
	}
}

func TestRoleCredentialRefreshesAtNinetyPercent(t *testing.T) {
	f := newRoleFixture(t, nil)
	f.mustScan(t)
	f.clk.advance(roleLifetime * 85 / 100)
	f.mustScan(t)
	f.signedBy(t, 2)

	f.clk.advance(roleLifetime * 6 / 100) // 91%
	f.mustScan(t)
	f.signedBy(t, 2, 1)

	// The new key's lifetime counts from its own issue.
	f.clk.advance(roleLifetime * 85 / 100)
	f.mustScan(t)
	f.signedBy(t, 2, 2)
}

func TestRoleCredentialConcurrentCallersShareOneAssumeRole(t *testing.T) {
	f := newRoleFixture(t, nil)
	// Hold STS's answer so that every caller arrives while the first AssumeRole is in flight.
	f.emu.InjectFault("AssumeRole", tcsstest.Fault{Latency: 50 * time.Millisecond, Times: 1})
	const callers = 16
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := f.client.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("CreateVulScanTask: %v", err)
		}
	}
	if n := f.emu.Calls("AssumeRole"); n != 1 {
		t.Errorf("AssumeRole called %d times for %d concurrent callers, want 1", n, callers)
	}
	f.signedBy(t, callers)
}

func TestRoleCredentialKeepsAValidKeyWhenSTSFails(t *testing.T) {
	f := newRoleFixture(t, nil)
	f.mustScan(t)
	f.clk.advance(roleLifetime * 91 / 100)
	f.emu.InjectFault("AssumeRole", tcsstest.Fault{Code: "InternalError.SystemError", Message: "STS is down"})

	f.mustScan(t)
	f.signedBy(t, 2)
	if n := f.emu.Calls("AssumeRole"); n != 2 {
		t.Errorf("AssumeRole called %d times, want 2 (the first, and the failed refresh)", n)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "could not refresh") || !strings.Contains(logs, "InternalError.SystemError") {
		t.Errorf("no warning naming STS's error was logged:\n%s", logs)
	}
	for _, k := range append(f.emu.Issued(), f.base) {
		for _, secret := range []string{k.SecretKey, k.Token} {
			if secret != "" && strings.Contains(logs, secret) {
				t.Errorf("the logs show a secret key or token:\n%s", logs)
			}
		}
	}

	f.mustScan(t) // right after a failure: no new attempt yet
	if n := f.emu.Calls("AssumeRole"); n != 2 {
		t.Errorf("AssumeRole called %d times right after a failed refresh, want still 2", n)
	}
	f.clk.advance(roleLifetime * 2 / 100) // 93%: try again, and STS is back
	f.emu.ClearFaults()
	f.mustScan(t)
	f.signedBy(t, 3, 1)
}

func TestRoleCredentialWithoutAUsableKeySendsNothing(t *testing.T) {
	tests := []struct {
		name     string
		prepare  func(t *testing.T, f *roleFixture)
		base     common.CredentialIface
		wantText []string
		wantSTS  int // AssumeRole calls that reached the emulator
	}{
		{
			name: "STS refuses the first AssumeRole",
			prepare: func(t *testing.T, f *roleFixture) {
				f.emu.InjectFault("AssumeRole", tcsstest.Fault{Code: "ResourceNotFound.RoleNotFound", Message: "no such role"})
			},
			wantText: []string{testRole, "ResourceNotFound.RoleNotFound"},
			wantSTS:  1,
		},
		{
			name: "STS fails and the current key is past 95% of its lifetime",
			prepare: func(t *testing.T, f *roleFixture) {
				f.mustScan(t)
				f.emu.InjectFault("AssumeRole", tcsstest.Fault{Code: "InternalError.SystemError", Message: "STS is down"})
				f.clk.advance(roleLifetime * 96 / 100)
			},
			wantText: []string{"InternalError.SystemError"},
			wantSTS:  2,
		},
		{
			name: "STS drops the connection",
			prepare: func(t *testing.T, f *roleFixture) {
				f.emu.InjectFault("AssumeRole", tcsstest.Fault{Drop: true})
			},
			wantText: []string{testRole},
			wantSTS:  1,
		},
		{
			name:     "the base credential is missing",
			base:     tcss.EnvCredential(func(string) string { return "" }),
			wantText: []string{"base credential", "TENCENTCLOUD_SECRET_ID"},
			wantSTS:  0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRoleFixture(t, tt.base)
			if tt.prepare != nil {
				tt.prepare(t, f)
			}
			scansBefore := f.emu.Calls(tcss.ActionCreateVulScanTask)
			_, err := f.scan(t)
			if !errors.Is(err, tcss.ErrNoCredential) {
				t.Fatalf("error = %v, want one wrapping ErrNoCredential", err)
			}
			var apiErr *scan.APIError
			if errors.Is(err, scan.ErrOutcomeUnknown) || errors.As(err, &apiErr) {
				t.Errorf("error = %v: nothing reached TCSS, so it must be neither outcome-unknown nor TCSS's answer", err)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if n := f.emu.Calls(tcss.ActionCreateVulScanTask) - scansBefore; n != 0 {
				t.Errorf("TCSS saw %d calls, want 0", n)
			}
			if n := f.emu.Calls("AssumeRole"); n != tt.wantSTS {
				t.Errorf("AssumeRole reached STS %d times, want %d", n, tt.wantSTS)
			}
		})
	}
}

func TestRoleCredentialHonoursTheCallersContext(t *testing.T) {
	f := newRoleFixture(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.client.CreateVulScanTask(ctx, scan.Request{LocalImageScanType: "ALL"})
	if !errors.Is(err, context.Canceled) || errors.Is(err, scan.ErrOutcomeUnknown) {
		t.Errorf("error = %v, want context.Canceled and not outcome-unknown", err)
	}
	if n := f.emu.Calls(tcss.ActionCreateVulScanTask); n != 0 {
		t.Errorf("TCSS saw %d calls, want 0", n)
	}
	// The refresh the cancelled caller started still serves the next caller.
	f.mustScan(t)
	if n := f.emu.Calls("AssumeRole"); n != 1 {
		t.Errorf("AssumeRole called %d times, want 1", n)
	}
}

func TestRoleCredentialNeverShowsSecrets(t *testing.T) {
	f := newRoleFixture(t, nil)
	f.mustScan(t)
	issued := f.emu.Issued()[0]
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("using", "credential", f.cred)
	for _, shown := range []string{f.cred.String(), fmt.Sprint(f.cred), fmt.Sprintf("%v %+v %s", f.cred, f.cred, f.cred), logs.String()} {
		for _, secret := range []string{issued.SecretKey, issued.Token, issued.SecretID, f.base.SecretKey} {
			if strings.Contains(shown, secret) {
				t.Errorf("%q shows a secret", shown)
			}
		}
	}
	if !strings.Contains(f.cred.String(), testRole) {
		t.Errorf("String = %q, want it to name the role", f.cred.String())
	}
}

func TestNewRoleCredentialRefuses(t *testing.T) {
	tests := []struct {
		name string
		cfg  tcss.RoleConfig
		want string
	}{
		{"no role", tcss.RoleConfig{}, "not a role ARN"},
		{"a role name, not an ARN", tcss.RoleConfig{RoleARN: "VulScanRole"}, "not a role ARN"},
		{"a session name of one character", tcss.RoleConfig{RoleARN: testRole, SessionName: "v"}, "TENCENTCLOUD_ROLE_SESSION_NAME"},
		{"a session name with a space", tcss.RoleConfig{RoleARN: testRole, SessionName: "vul scan"}, "TENCENTCLOUD_ROLE_SESSION_NAME"},
		{"a duration over 12 h", tcss.RoleConfig{RoleARN: testRole, Duration: 13 * time.Hour}, "duration"},
		{"a duration in milliseconds", tcss.RoleConfig{RoleARN: testRole, Duration: 1500 * time.Millisecond}, "duration"},
		{"the in-process emulator as STS", tcss.RoleConfig{RoleARN: testRole, Endpoint: "emulator"}, "resolved by the caller"},
		{"an STS URL with a path", tcss.RoleConfig{RoleARN: testRole, Endpoint: "http://127.0.0.1:9/sts"}, "nothing more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tcss.NewRoleCredential(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestCredentialFromEnv(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantRole bool
		wantText string // in String(), or in the error when wantErr
		wantErr  bool
	}{
		{name: "no role: the environment's key itself",
			env:      map[string]string{tcss.EnvSecretID: "AKIDbase", tcss.EnvSecretKey: "basekey"},
			wantText: "from TENCENTCLOUD_SECRET_ID"},
		{name: "a role: assumed with the environment's key, session vulscan",
			env:      map[string]string{tcss.EnvRoleARN: testRole, tcss.EnvSecretID: "AKIDbase", tcss.EnvSecretKey: "basekey"},
			wantRole: true, wantText: "session vulscan"},
		{name: "a role with its session name",
			env:      map[string]string{tcss.EnvRoleARN: " " + testRole + " ", tcss.EnvRoleSessionName: "nightly-scan"},
			wantRole: true, wantText: "session nightly-scan"},
		{name: "a bad STS endpoint",
			env:     map[string]string{tcss.EnvRoleARN: testRole, tcss.EnvSTSEndpoint: "ftp://sts.tencentcloudapi.com"},
			wantErr: true, wantText: "scheme must be http or https"},
		{name: "a bad role",
			env:     map[string]string{tcss.EnvRoleARN: "arn:aws:iam::123:role/x"},
			wantErr: true, wantText: "TENCENTCLOUD_ROLE_ARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred, err := tcss.CredentialFromEnv(func(k string) string { return tt.env[k] }, tcss.RoleConfig{})
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("error = %v, want one saying %q", err, tt.wantText)
				}
				return
			}
			if err != nil {
				t.Fatalf("CredentialFromEnv: %v", err)
			}
			_, isRole := cred.(*tcss.RoleCredential)
			if isRole != tt.wantRole {
				t.Errorf("credential %T, want a RoleCredential: %t", cred, tt.wantRole)
			}
			if s := fmt.Sprint(cred); !strings.Contains(s, tt.wantText) {
				t.Errorf("credential %q, want it to say %q", s, tt.wantText)
			}
		})
	}
}
