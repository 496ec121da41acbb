// Package sdkcompat proves that requests signed by Tencent's official SDKs pass the TCSS emulator
// (functions/tcss/tcsstest), and that the same request with a wrong key is refused. The Go SDK and
// the Python SDK / tccli are covered in tcsstest's own tests; this package runs the real Node.js
// SDK, installed from package-lock.json with `npm ci --prefix tests/sdkcompat`.
package sdkcompat

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/tcss/tcsstest"

	"github.com/vulscan/vulscan/internal/citest"
)

// nodeOutcome is the one JSON line nodesdk.js prints.
type nodeOutcome struct {
	OK *struct {
		LocalTaskID, RegistryTaskID int64
		RequestId                   string
	} `json:"ok"`
	Error *struct {
		Code, Message, RequestID string
	} `json:"error"`
}

// requireNodeSDK finds node and the installed SDK: missing pieces skip on a laptop and fail in CI.
func requireNodeSDK(t *testing.T) string {
	t.Helper()
	missing := func(what string) {
		citest.Missing(t, "%s is missing; install it with: npm ci --prefix tests/sdkcompat", what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "tencentcloud-sdk-nodejs-common", "package.json")); err != nil {
		missing("tencentcloud-sdk-nodejs-common")
	}
	return node
}

func runNodeSDK(t *testing.T, node, addr string, k tcsstest.Key) nodeOutcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "nodesdk.js")
	cmd.Env = append(os.Environ(), "EMULATOR_ADDR="+addr, "SECRET_ID="+k.SecretID, "SECRET_KEY="+k.SecretKey, "SESSION_TOKEN="+k.Token,
		"http_proxy=", "HTTP_PROXY=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node nodesdk.js: %v\nstdout: %s", err, out)
	}
	var o nodeOutcome
	if err := json.Unmarshal(out, &o); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	return o
}

func TestNodeSDKAgainstEmulator(t *testing.T) {
	node := requireNodeSDK(t)
	key := tcsstest.RandomKey()
	temp := tcsstest.RandomKey()
	temp.Token = "node-session-token"
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key, temp}})
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		name string
		key  tcsstest.Key
		want string // error code; "" for success
	}{
		{"permanent key accepted", key, ""},
		{"temporary key with token accepted", temp, ""},
		{"wrong key refused", tcsstest.Key{SecretID: key.SecretID, SecretKey: "wrong-" + key.SecretKey}, "AuthFailure.SignatureFailure"},
		{"temporary key without its token refused", tcsstest.Key{SecretID: temp.SecretID, SecretKey: temp.SecretKey}, "AuthFailure.TokenFailure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := runNodeSDK(t, node, addr, tt.key)
			switch {
			case tt.want == "" && (o.OK == nil || o.OK.LocalTaskID == 0 || o.OK.RegistryTaskID == 0):
				t.Fatalf("want task IDs, got %+v / error %+v", o.OK, o.Error)
			case tt.want != "" && (o.Error == nil || o.Error.Code != tt.want || o.Error.RequestID == ""):
				t.Fatalf("want %s with a RequestId, got %+v / ok %+v", tt.want, o.Error, o.OK)
			}
		})
	}
	if got := emu.Calls("CreateVulScanTask"); got != 2 {
		t.Errorf("Calls = %d, want 2 (refused requests never reach the action)", got)
	}
}
