package tcss_test

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// The endpoint a client reports for the audit record is the one it calls, and an emulator's
// says so.
func TestTCSSEndpointNamesWhatTheClientCalls(t *testing.T) {
	tests := []struct{ endpoint, want string }{
		{"", "tcss.tencentcloudapi.com"},
		{" tcss.intl.tencentcloudapi.com ", "tcss.intl.tencentcloudapi.com"},
		{"https://proxy.example.com", "https://proxy.example.com"},
		{"emulator:http://127.0.0.1:9100", "emulator:http://127.0.0.1:9100"},
		{"emulator:http://127.0.0.1:9100/", "emulator:http://127.0.0.1:9100"},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			c, err := tcss.New(tcss.Config{Endpoint: tt.endpoint, Credential: common.NewCredential("AKIDx", "k")})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.TCSSEndpoint(); got != tt.want {
				t.Errorf("TCSSEndpoint() = %q, want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"emulator:", "emulator:127.0.0.1:9100", "emulator:emulator"} {
		if _, err := tcss.New(tcss.Config{Endpoint: bad}); err == nil || !strings.Contains(err.Error(), "by its URL") {
			t.Errorf("New(%q) = %v; want an error asking for the emulator's URL", bad, err)
		}
	}
}

// A client given an emulator's URL with the prefix calls that emulator.
func TestEmulatorPrefixedEndpointReachesTheEmulator(t *testing.T) {
	key := tcsstest.RandomKey()
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}})
	defer srv.Close()
	c, err := tcss.New(tcss.Config{
		Endpoint:   tcss.EmulatorPrefix + srv.URL,
		Credential: common.NewCredential(key.SecretID, key.SecretKey),
		Limiter:    tcss.NewPacer(math.Inf(1)),
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := c.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"})
	if err != nil || ids.LocalTaskID == 0 {
		t.Fatalf("CreateVulScanTask = %+v, %v; want a task from the emulator", ids, err)
	}
	if n := emu.Calls(tcss.ActionCreateVulScanTask); n != 1 {
		t.Errorf("the emulator saw %d calls, want 1", n)
	}
	if got := c.TCSSEndpoint(); got != "emulator:"+srv.URL {
		t.Errorf("TCSSEndpoint() = %q, want emulator:%s", got, srv.URL)
	}
}

// Plain http is accepted only where it crosses no network (this machine) or for a named
// emulator: elsewhere every call and its session token would travel unencrypted.
func TestPlainHTTPOnlyOnThisMachineOrToAnEmulator(t *testing.T) {
	tests := []struct {
		endpoint string
		ok       bool
	}{
		{"http://127.0.0.1:9000", true},
		{"http://[::1]:9000", true},
		{"http://localhost:9000", true},
		{"http://LOCALHOST", true},
		{"emulator:http://emulator.internal:9100", true},
		{"https://tcss.example.com", true},
		{"http://tcss.tencentcloudapi.com", false},
		{"http://10.0.0.5:9000", false},
		{"http://localhost.example.com:9000", false},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			_, err := tcss.New(tcss.Config{Endpoint: tt.endpoint, Credential: common.NewCredential("AKIDx", "k")})
			switch {
			case tt.ok && err != nil:
				t.Errorf("New refused it: %v", err)
			case !tt.ok && (err == nil || !strings.Contains(err.Error(), "unencrypted")):
				t.Errorf("New = %v; want a refusal saying the calls would travel unencrypted", err)
			}
		})
	}
}

// STS's endpoint follows the same rule: its answer is a temporary key.
func TestSTSPlainHTTPOnlyOnThisMachine(t *testing.T) {
	for endpoint, ok := range map[string]bool{
		"http://127.0.0.1:9000":           true,
		"https://sts.tencentcloudapi.com": true,
		"http://192.0.2.2:16120":          false,
		"http://sts.tencentcloudapi.com":  false,
	} {
		_, err := tcss.NewRoleCredential(tcss.RoleConfig{RoleARN: "qcs::cam::uin/100000000001:roleName/VulScanRole",
			Endpoint: endpoint, Base: common.NewCredential("AKIDx", "k")})
		if ok != (err == nil) || !ok && !strings.Contains(err.Error(), "unencrypted") {
			t.Errorf("NewRoleCredential with STS at %s: %v, want accepted %v", endpoint, err, ok)
		}
	}
}
