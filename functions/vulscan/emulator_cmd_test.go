//go:build !release

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/vulscan/vulscan/functions/tcss"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// startEmulatorCmd runs `vulscan emulator` in-process and returns its first two stdout lines.
func startEmulatorCmd(t *testing.T, vars map[string]string) (lines []string, stderr *lockedBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	stderr = &lockedBuffer{}
	if vars["VULSCAN_ADDR"] == "" {
		vars["VULSCAN_ADDR"] = "127.0.0.1:0"
	}
	e := env{stdin: strings.NewReader(""), stdout: outW, stderr: stderr, getenv: func(k string) string { return vars[k] }}
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"emulator"}, e)
		outW.Close()
	}()
	sc := bufio.NewScanner(outR)
	for len(lines) < 2 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	if len(lines) < 2 {
		cancel()
		t.Fatalf("emulator printed %q; stderr: %s", lines, stderr.String())
	}
	return lines, stderr, func() int {
		cancel()
		select {
		case c := <-code:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("emulator did not stop when its context ended")
			return -1
		}
	}
}

func emulatorCall(t *testing.T, url string, k tcsstest.Key) string {
	t.Helper()
	r, err := tcsstest.NewRequest(url, "CreateVulScanTask", []byte(`{"LocalImageScanType":"ALL"}`), k, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct {
		Response struct{ Error *struct{ Code string } }
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	if a.Response.Error == nil {
		return ""
	}
	return a.Response.Error.Code
}

var exportRE = regexp.MustCompile(`^export TENCENTCLOUD_SECRET_ID=(\S+) TENCENTCLOUD_SECRET_KEY=(\S+) VULSCAN_TCSS_ENDPOINT=emulator:(http://\S+)$`)

func TestEmulatorCommandGeneratesAndPrintsAKey(t *testing.T) {
	lines, stderr, stop := startEmulatorCmd(t, map[string]string{})
	url, ok := strings.CutPrefix(lines[0], "listening on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q, want listening on http://127.0.0.1:PORT", lines[0])
	}
	m := exportRE.FindStringSubmatch(lines[1])
	if m == nil || m[3] != url {
		t.Fatalf("second line %q is not a pasteable export line for %s", lines[1], url)
	}
	key := tcsstest.Key{SecretID: m[1], SecretKey: m[2]}
	if code := emulatorCall(t, url, key); code != "" {
		t.Fatalf("printed key refused: %s", code)
	}
	if code := emulatorCall(t, url, tcsstest.Key{SecretID: key.SecretID, SecretKey: "wrong"}); code != "AuthFailure.SignatureFailure" {
		t.Fatalf("wrong key: %q, want AuthFailure.SignatureFailure", code)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d after ctx end; stderr: %s", code, stderr.String())
	}
	logs := stderr.String()
	for _, want := range []string{"action=CreateVulScanTask outcome=ok", "outcome=AuthFailure.SignatureFailure"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, key.SecretKey) || strings.Contains(logs, key.SecretID) {
		t.Errorf("log shows the key:\n%s", logs)
	}
}

func TestEmulatorCommandUsesTheKeyFromItsEnvironment(t *testing.T) {
	key := tcsstest.Key{SecretID: "AKIDfromenvironment000000000000000", SecretKey: "key-from-the-environment-000000"}
	lines, _, stop := startEmulatorCmd(t, map[string]string{
		"TENCENTCLOUD_SECRET_ID": key.SecretID, "TENCENTCLOUD_SECRET_KEY": key.SecretKey,
	})
	defer stop()
	url := strings.TrimPrefix(lines[0], "listening on ")
	if strings.Contains(lines[1], key.SecretKey) {
		t.Fatalf("printed the operator's own secret: %q", lines[1])
	}
	if code := emulatorCall(t, url, key); code != "" {
		t.Fatalf("environment key refused: %s", code)
	}
	if code := emulatorCall(t, url, tcsstest.RandomKey()); code != "AuthFailure.SecretIdNotFound" {
		t.Fatalf("another key: %q, want AuthFailure.SecretIdNotFound", code)
	}
}

// On all interfaces the emulator's listener is [::]:PORT, which it printed as its URL and put in
// the export line: no endpoint to give vulscan. It says the address configured, and the loopback
// URL, which answers, in both lines.
func TestEmulatorCommandOnAllInterfacesPrintsAURLThatWorks(t *testing.T) {
	lines, _, stop := startEmulatorCmd(t, map[string]string{"VULSCAN_ADDR": "0.0.0.0:0"})
	defer stop()
	where, url, ok := strings.Cut(lines[0], ", all interfaces; from this machine: ")
	if !ok || !strings.HasPrefix(where, "listening on 0.0.0.0:") || url != "http://127.0.0.1:"+strings.TrimPrefix(where, "listening on 0.0.0.0:") {
		t.Fatalf("first line %q, want listening on 0.0.0.0:PORT, all interfaces; from this machine: http://127.0.0.1:PORT", lines[0])
	}
	m := exportRE.FindStringSubmatch(lines[1])
	if m == nil || m[3] != url {
		t.Fatalf("second line %q is not a pasteable export line for %s", lines[1], url)
	}
	if code := emulatorCall(t, url, tcsstest.Key{SecretID: m[1], SecretKey: m[2]}); code != "" {
		t.Fatalf("printed key refused at %s: %s", url, code)
	}
}

// The help says what the command reads and does without it: the address it listens on without
// VULSCAN_ADDR, the session token it takes with a temporary key, and the key it makes without
// one. It listed four setting names and no default.
func TestEmulatorHelpSaysItsDefaults(t *testing.T) {
	var out, errOut bytes.Buffer
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
	if code := run(context.Background(), []string{"emulator", "--help"}, e); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	help := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{"VULSCAN_ADDR (default 127.0.0.1:8080; PORT is not read)", "TENCENTCLOUD_SESSION_TOKEN",
		"without them it makes one and prints it", "TENCENTCLOUD_ROLE_ARN"} {
		if !strings.Contains(help, want) {
			t.Errorf("help does not say %q:\n%s", want, out.String())
		}
	}
}

// Arguments are refused (exit 2); asking for help is not a mistake: usage on stdout, exit 0,
// as every other command's --help, and nothing served.
func TestEmulatorCommandRefusesArgumentsButHelps(t *testing.T) {
	cases := []struct {
		args       []string
		exit       int
		out, error string
	}{
		{[]string{"--port", "1"}, exitRejected, "", "usage: vulscan emulator"},
		{[]string{"--help"}, exitOK, "usage: vulscan emulator", ""},
		{[]string{"-h"}, exitOK, "usage: vulscan emulator", ""},
		{[]string{"help"}, exitOK, "usage: vulscan emulator", ""},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
		code := run(context.Background(), append([]string{"emulator"}, c.args...), e)
		if code != c.exit || !strings.HasPrefix(out.String(), c.out) || !strings.HasPrefix(errOut.String(), c.error) ||
			strings.Contains(out.String(), "listening") {
			t.Errorf("emulator %v: exit %d, stdout %q, stderr %q; want %d, %q, %q", c.args, code, out.String(), errOut.String(), c.exit, c.out, c.error)
		}
	}
}

// A VULSCAN_ADDR whose port is none is refused before anything listens, naming the setting:
// a service name (http) would otherwise have the emulator listen on port 80.
func TestEmulatorCommandRefusesABadAddress(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"127.0.0.1:http", `vulscan emulator: VULSCAN_ADDR="127.0.0.1:http": want host:port, e.g. 127.0.0.1:8080: port "http" is not a number from 0 to 65535`},
		{"127.0.0.1:99999", `vulscan emulator: VULSCAN_ADDR="127.0.0.1:99999": want host:port, e.g. 127.0.0.1:8080: port "99999" is not a number from 0 to 65535`},
		{"8080", `vulscan emulator: VULSCAN_ADDR="8080": want host:port, e.g. 127.0.0.1:8080: missing port in address`},
	} {
		var out, errOut bytes.Buffer
		e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(k string) string {
			if k == "VULSCAN_ADDR" {
				return tc.addr
			}
			return ""
		}}
		ctx, cancel := context.WithCancel(t.Context())
		cancel() // an emulator that listens anyway ends at once instead of serving for ever
		code := run(ctx, []string{"emulator"}, e)
		if code != exitRejected || strings.TrimSpace(errOut.String()) != tc.want || out.Len() != 0 {
			t.Errorf("VULSCAN_ADDR=%q: exit %d, stdout %q, stderr %q; want %d and %q", tc.addr, code, out.String(), errOut.String(), exitRejected, tc.want)
		}
	}
}

func TestEmulatorCommandGrantsTheRoleInItsEnvironment(t *testing.T) {
	key := tcsstest.Key{SecretID: "AKIDfromenvironment000000000000000", SecretKey: "key-from-the-environment-000000"}
	const role = "qcs::cam::uin/100000000001:roleName/VulScanTCSSRole"
	lines, _, stop := startEmulatorCmd(t, map[string]string{
		"TENCENTCLOUD_SECRET_ID": key.SecretID, "TENCENTCLOUD_SECRET_KEY": key.SecretKey, "TENCENTCLOUD_ROLE_ARN": role,
	})
	defer stop()
	url := strings.TrimPrefix(lines[0], "listening on ")
	for _, tc := range []struct {
		arn    string
		assume bool
	}{{role, true}, {"qcs::cam::uin/100000000001:roleName/Other", false}} {
		cred, err := tcss.NewRoleCredential(tcss.RoleConfig{RoleARN: tc.arn, Endpoint: url,
			Base: common.NewCredential(key.SecretID, key.SecretKey), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if err := cred.Ready(context.Background()); (err == nil) != tc.assume {
			t.Errorf("assuming %s: %v, want success %v", tc.arn, err, tc.assume)
		}
	}
}
