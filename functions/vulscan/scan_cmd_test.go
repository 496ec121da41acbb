package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

const (
	imageA = "sha256:0837c4abfc8a3c0cda6a87c2d882e6530abd0caf180eeb3b4dc1534f3d47c3a1"
	imageB = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
)

func testEnv(stdin string, vars map[string]string) (env, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}, &out, &errOut
}

func TestParseScanArgs(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  scanInvocation
	}{
		{name: "a scan type flag is the API field",
			args: []string{"--LocalImageScanType", "ALL"},
			want: scanInvocation{req: scan.Request{LocalImageScanType: "ALL"}}},
		{name: "single-dash and = forms work too",
			args: []string{"-RegistryImageScanType=NOT_SCAN", "-IsLatest"},
			want: scanInvocation{req: scan.Request{RegistryImageScanType: "NOT_SCAN", IsLatest: true}}},
		{name: "lists are comma-separated and may be repeated",
			args: []string{"--LocalImageScanType", "IMAGEIDS", "--LocalImageIDs", imageA + "," + imageB, "--LocalImageIDs", imageA,
				"--RegistryImageScanType", "IMAGEIDS", "--RegistryImageIDs", "12,13", "--RegistryImageIDs=14"},
			want: scanInvocation{req: scan.Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{imageA, imageB, imageA},
				RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: []uint64{12, 13, 14}}}},
		{name: "every other API field has its flag",
			args: []string{"--LocalTaskID", "7", "--RegistryTaskID=8", "--LocalClusterIDs", "cls-a,cls-b", "--ExcludeLocalImageIDs", imageA,
				"--ExcludeRegistryImageIDs", "3", "--LocalImageContainerRunning", "--RegistryImageContainerRunning=true", "--IsLatest=false"},
			want: scanInvocation{req: scan.Request{LocalTaskID: 7, RegistryTaskID: 8, LocalClusterIDs: []string{"cls-a", "cls-b"},
				ExcludeLocalImageIDs: []string{imageA}, ExcludeRegistryImageIDs: []uint64{3}, LocalImageContainerRunning: true,
				RegistryImageContainerRunning: true}}},
		{name: "the request as JSON",
			args: []string{"--json", `{"LocalImageScanType":"IMAGEIDS","LocalImageIDs":["` + imageA + `"]}`},
			want: scanInvocation{req: scan.Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{imageA}}}},
		{name: "the request as JSON from stdin",
			args: []string{"--json", "-"}, stdin: `{"RegistryImageScanType":"ALL"}`,
			want: scanInvocation{req: scan.Request{RegistryImageScanType: "ALL"}}},
		{name: "key, actor and dsn are taken as given",
			args: []string{"--LocalImageScanType", "ALL", "--idempotency-key", "k-1", "--actor", "alice", "--dsn", "sqlite:/tmp/x.db"},
			want: scanInvocation{req: scan.Request{LocalImageScanType: "ALL"}, key: "k-1", actor: "alice", dsn: "sqlite:/tmp/x.db"}},
		{name: "no flags is an empty request, for the service to refuse and audit",
			args: nil, want: scanInvocation{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, _ := testEnv(tt.stdin, nil)
			got, err := parseScanArgs(tt.args, e)
			if err != nil {
				t.Fatalf("parseScanArgs: %v", err)
			}
			if tt.want.actor == "" {
				tt.want.actor = got.actor // the OS user; TestDefaultActor pins it
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseScanArgsRefuses(t *testing.T) {
	type want struct{ field, says string }
	tests := []struct {
		name string
		args []string
		want []want
	}{
		{name: "a registry image ID that is not a number names the field",
			args: []string{"--RegistryImageScanType", "IMAGEIDS", "--RegistryImageIDs", "12,abc"},
			want: []want{{"RegistryImageIDs", `must be a list of positive whole numbers (registry image IDs), comma-separated, e.g. 12,13; "abc" is not one`}}},
		{name: "a negative registry image ID names the field",
			args: []string{"--ExcludeRegistryImageIDs", "-3"},
			want: []want{{"ExcludeRegistryImageIDs", `"-3" is not one`}}},
		{name: "a task ID that is not a number names the field",
			args: []string{"--LocalTaskID", "seven"},
			want: []want{{"LocalTaskID", "must be a positive whole number"}}},
		{name: "a task ID of 0 names no task, so the re-run asked for would not happen",
			args: []string{"--LocalTaskID", "0", "--RegistryImageScanType", "ALL"},
			want: []want{{"LocalTaskID", `must be a positive whole number (the ID of an earlier scan task); "0" is not one`}}},
		{name: "a registry task ID of 0 alone",
			args: []string{"--RegistryTaskID=0"},
			want: []want{{"RegistryTaskID", `"0" is not one`}}},
		{name: "a task ID given twice re-runs one task, not the last one named",
			args: []string{"--LocalTaskID", "7", "--LocalTaskID", "8"},
			want: []want{{"LocalTaskID", "more than once"}}},
		{name: "a switch with a value that is not a boolean names the field",
			args: []string{"--IsLatest=yes"},
			want: []want{{"IsLatest", "is a switch"}}},
		{name: "a scan type given twice",
			args: []string{"--LocalImageScanType", "ALL", "--LocalImageScanType", "NOT_SCAN"},
			want: []want{{"LocalImageScanType", "more than once"}}},
		{name: "every bad value at once",
			args: []string{"--LocalTaskID", "x", "--RegistryTaskID", "y", "--RegistryImageIDs", "z"},
			want: []want{{"LocalTaskID", "whole number"}, {"RegistryTaskID", "whole number"}, {"RegistryImageIDs", "whole numbers"}}},
		{name: "a flag without its value",
			args: []string{"--LocalImageScanType"},
			want: []want{{"LocalImageScanType", "needs a value, e.g. --LocalImageScanType ALL"}}},
		{name: "a flag in the wrong case, with the right name",
			args: []string{"--localimagescantype", "ALL"},
			want: []want{{"", "unknown flag --localimagescantype: did you mean --LocalImageScanType?"}}},
		{name: "an unknown flag",
			args: []string{"--Region", "ap-guangzhou"},
			want: []want{{"", "unknown flag --Region"}}},
		{name: "a stray argument",
			args: []string{"--LocalImageScanType", "ALL", "NOT_SCAN"},
			want: []want{{"", `unexpected argument "NOT_SCAN"`}}},
		{name: "flags and --json together",
			args: []string{"--IsLatest", "--LocalImageScanType", "ALL", "--json", `{"RegistryImageScanType":"ALL"}`},
			want: []want{{"", "--json cannot be combined with --IsLatest, --LocalImageScanType"}}},
		{name: "JSON with a type mismatch names the field",
			args: []string{"--json", `{"RegistryImageIDs":"12"}`},
			want: []want{{"RegistryImageIDs", "must be a list of positive whole numbers"}}},
		{name: "JSON with an unknown field",
			args: []string{"--json", `{"LocalImageScanType":"ALL","Schedule":"x"}`},
			want: []want{{"Schedule", "is not a field of CreateVulScanTask"}}},
		{name: "broken JSON",
			args: []string{"--json", `{"LocalImageScanType":`},
			want: []want{{"", "not valid JSON"}}},
		{name: "JSON with a task ID of 0 is refused as the flag is, not read as no task",
			args: []string{"--json", `{"LocalTaskID":0,"RegistryImageScanType":"ALL"}`},
			want: []want{{"LocalTaskID", "is 0, which is no task"}}},
		{name: "JSON with a registry task ID of -0",
			args: []string{"--json", `{"RegistryTaskID":-0}`},
			want: []want{{"RegistryTaskID", "is 0, which is no task"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, _ := testEnv("", nil)
			_, err := parseScanArgs(tt.args, e)
			var se *scan.Error
			if !errors.As(err, &se) || se.Code != scan.EINVALID {
				t.Fatalf("error %v, want an EINVALID *scan.Error", err)
			}
			if len(se.Fields) != len(tt.want) {
				t.Fatalf("got %d problems %v, want %d", len(se.Fields), se.Fields, len(tt.want))
			}
			for i, w := range tt.want {
				if se.Fields[i].Field != w.field || !strings.Contains(se.Fields[i].Message, w.says) {
					t.Errorf("problem %d = %s, want %s: …%s…", i, se.Fields[i], w.field, w.says)
				}
			}
		})
	}
}

// The terminal message names the unknown flag on a line of its own, without an empty field name.
func TestUnknownFlagMessageNamesTheFlag(t *testing.T) {
	e, _, stderr := testEnv("", nil)
	if code := runScan(context.Background(), []string{"--Bogus", "1"}, e, nil); code != exitRejected {
		t.Fatalf("exit %d, want %d", code, exitRejected)
	}
	want := "vulscan scan: The command line has 1 problem.\n  unknown flag --Bogus: see vulscan scan --help for the flags\n"
	if got := stderr.String(); got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}

func TestDefaultActor(t *testing.T) {
	u, err := user.Current()
	if err == nil && u.Username != "" {
		e, _, _ := testEnv("", map[string]string{"USER": "someone-else"})
		if got, _ := parseScanArgs([]string{"--LocalImageScanType", "ALL"}, e); got.actor != u.Username {
			t.Errorf("actor %q, want the OS user %q", got.actor, u.Username)
		}
	}
	defer func(f func() (*user.User, error)) { currentUser = f }(currentUser)
	currentUser = func() (*user.User, error) { return nil, errors.New("no passwd entry") }
	e, _, _ := testEnv("", map[string]string{"USER": "bob"})
	if got, _ := parseScanArgs(nil, e); got.actor != "bob" {
		t.Errorf("actor %q, want $USER when the OS user is unknown", got.actor)
	}
	// A blank --actor (a variable that was not set) names nobody: the default stands, never " ".
	if got, _ := parseScanArgs([]string{"--actor", "  "}, e); got.actor != "bob" {
		t.Errorf("--actor \"  \": actor %q, want the default", got.actor)
	}
	if got, _ := parseScanArgs([]string{"--actor", " ops "}, e); got.actor != "ops" {
		t.Errorf("--actor \" ops \": actor %q, want it trimmed", got.actor)
	}
	e, _, _ = testEnv("", nil)
	if got, _ := parseScanArgs(nil, e); got.actor != "unknown" {
		t.Errorf("actor %q, want \"unknown\" with neither", got.actor)
	}
}

// fakeStarter stands in for scan.Service, to pin how the command reports each answer.
type fakeStarter struct {
	attempt scan.Attempt
	err     error
	calls   int
	rejects int
	gotReq  scan.Request
	gotKey  string
	caller  scan.Caller
}

func (f *fakeStarter) Reject(_ context.Context, key string, c scan.Caller, cause error) (scan.Attempt, error) {
	f.rejects++
	f.gotKey, f.caller = key, c
	return scan.Attempt{Record: audit.Record{ID: 9, Outcome: audit.OutcomeRejected}}, cause
}

func (f *fakeStarter) Start(_ context.Context, req scan.Request, key string, c scan.Caller) (scan.Attempt, error) {
	f.calls++
	f.gotReq, f.gotKey, f.caller = req, key, c
	return f.attempt, f.err
}

func TestRunScanReportsEachAnswer(t *testing.T) {
	norm := scan.Request{LocalImageScanType: "ALL"}
	pending := audit.Record{ID: 4, Outcome: audit.OutcomePending}
	succeeded := audit.Record{ID: 5, PendingID: 4, Outcome: audit.OutcomeSucceeded, LocalTaskID: 36002, TCSSRequestID: "req-1"}
	failed := audit.Record{ID: 5, PendingID: 4, Outcome: audit.OutcomeFailed, ErrorCode: "AuthFailure", TCSSRequestID: "req-2"}
	tests := []struct {
		name     string
		starter  *fakeStarter
		openErr  error
		args     []string
		wantExit int
		wantJSON map[string]any // top-level keys and values the output must have
	}{
		{name: "a started scan exits 0 and prints the task IDs",
			starter:  &fakeStarter{attempt: scan.Attempt{Record: pending, Outcome: &succeeded, Request: norm}},
			wantExit: 0, wantJSON: map[string]any{"attempt_id": 4.0, "outcome": "succeeded", "LocalTaskID": 36002.0, "RegistryTaskID": 0.0,
				"RequestId": "req-1", "request": map[string]any{"LocalImageScanType": "ALL"}}},
		{name: "a request the service refuses exits 2 with its field errors",
			starter: &fakeStarter{attempt: scan.Attempt{Record: audit.Record{ID: 6, Outcome: audit.OutcomeRejected}},
				err: &scan.Error{Code: scan.EINVALID, Message: "The request has 1 problem.", Fields: []scan.FieldError{{Field: "LocalImageScanType", Message: "did you mean ALL?"}}}},
			wantExit: 2, wantJSON: map[string]any{"attempt_id": 6.0, "outcome": "rejected",
				"errors": []any{map[string]any{"field": "LocalImageScanType", "message": "did you mean ALL?"}}}},
		{name: "a reused idempotency key exits 2",
			starter:  &fakeStarter{err: &scan.Error{Code: scan.ECONFLICT, Message: "key used with other parameters"}},
			wantExit: 2, wantJSON: map[string]any{"error": map[string]any{"code": "conflict", "message": "key used with other parameters"}}},
		{name: "a TCSS refusal exits 1 with Tencent's RequestId",
			starter:  &fakeStarter{attempt: scan.Attempt{Record: pending, Outcome: &failed}, err: &scan.Error{Code: scan.EUPSTREAM, Message: "No scan was started"}},
			wantExit: 1, wantJSON: map[string]any{"outcome": "failed", "RequestId": "req-2"}},
		{name: "an audit log failure exits 1",
			starter:  &fakeStarter{err: &scan.Error{Code: scan.EUNAVAILABLE, Message: "The audit log is unavailable"}},
			wantExit: 1, wantJSON: map[string]any{"error": map[string]any{"code": "unavailable", "message": "The audit log is unavailable"}}},
		{name: "a service that cannot be opened exits 1",
			openErr: errors.New("bad DSN"), starter: &fakeStarter{},
			wantExit: 1, wantJSON: map[string]any{"error": map[string]any{"code": "unavailable", "message": "no scan was started: bad DSN"}}},
		{name: "a bad flag value exits 2, recorded as a refusal",
			args: []string{"--RegistryImageIDs", "x"}, starter: &fakeStarter{},
			wantExit: 2, wantJSON: map[string]any{"attempt_id": 9.0, "outcome": "rejected", "errors": []any{map[string]any{"field": "RegistryImageIDs",
				"message": `must be a list of positive whole numbers (registry image IDs), comma-separated, e.g. 12,13; "x" is not one`}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if args == nil {
				args = []string{"--LocalImageScanType", "ALL", "--actor", "alice", "--idempotency-key", "k"}
			}
			opened, closed := 0, 0
			open := func(context.Context, env, string) (scanStarter, func() error, error) {
				opened++
				if tt.openErr != nil {
					return nil, nil, tt.openErr
				}
				return tt.starter, func() error { closed++; return nil }, nil
			}
			e, out, _ := testEnv("", nil)
			if code := runScan(context.Background(), args, e, open); code != tt.wantExit {
				t.Errorf("exit %d, want %d; output %s", code, tt.wantExit, out)
			}
			var got map[string]any
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			for k, want := range tt.wantJSON {
				if !reflect.DeepEqual(got[k], want) {
					t.Errorf("%s = %#v, want %#v", k, got[k], want)
				}
			}
			if opened != closed && tt.openErr == nil {
				t.Errorf("opened %d times, closed %d", opened, closed)
			}
			if tt.args != nil && (tt.starter.calls > 0 || tt.starter.rejects != 1) {
				t.Errorf("a refused command line started %d scans and recorded %d refusals; want 0 and 1", tt.starter.calls, tt.starter.rejects)
			}
			if tt.starter.calls == 1 && (tt.starter.caller != scan.Caller{Trigger: audit.TriggerCLI, Actor: "alice", Access: "cli"} || tt.starter.gotKey != "k") {
				t.Errorf("service called with caller %+v key %q", tt.starter.caller, tt.starter.gotKey)
			}
		})
	}
}

// The tests below run the real binary, as an operator would.

var (
	buildOnce sync.Once
	binPath   string
	binErr    error
	binDir    string
)

// vulscanBinary builds ./functions/vulscan once per test run and returns its path.
func vulscanBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "vulscan-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "vulscan")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// scanRun is one run of `vulscan scan`.
type scanRun struct {
	exit   int
	out    scanOutput
	raw    string
	stderr string
}

// cliFixture is an emulator and an audit store for the binary to use.
type cliFixture struct {
	emu *tcsstest.Emulator
	env []string
	dir string
}

func newCLIFixture(t *testing.T) *cliFixture {
	t.Helper()
	key := tcsstest.RandomKey()
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}})
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "USER=cli-test",
		"VULSCAN_TCSS_ENDPOINT=" + srv.URL,
		"VULSCAN_AUDIT_DSN=sqlite:" + filepath.Join(dir, "audit.db"),
		"TENCENTCLOUD_SECRET_ID=" + key.SecretID, "TENCENTCLOUD_SECRET_KEY=" + key.SecretKey,
	}
	return &cliFixture{emu: emu, env: env, dir: dir}
}

func (f *cliFixture) run(t *testing.T, extraEnv []string, args ...string) scanRun {
	t.Helper()
	cmd := exec.Command(vulscanBinary(t), append([]string{"scan"}, args...)...)
	cmd.Env = append(append([]string{}, f.env...), extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := scanRun{raw: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.exit = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("running vulscan scan: %v", err)
	}
	if err := json.Unmarshal(stdout.Bytes(), &r.out); err != nil {
		t.Fatalf("vulscan scan %v printed no JSON (exit %d): %v\nstdout: %s\nstderr: %s", args, r.exit, err, stdout.String(), stderr.String())
	}
	return r
}

func TestScanCommandStartsAScanAgainstTheEmulator(t *testing.T) {
	f := newCLIFixture(t)
	r := f.run(t, nil, "--LocalImageScanType", "ALL", "--RegistryImageScanType", " NOT_SCAN ", "--IsLatest")
	if r.exit != exitOK {
		t.Fatalf("exit %d, want 0\n%s\n%s", r.exit, r.raw, r.stderr)
	}
	if r.out.Outcome != "succeeded" || r.out.LocalTaskID == nil || *r.out.LocalTaskID <= 0 || r.out.RequestID == "" || r.out.AttemptID <= 0 {
		t.Errorf("output lacks the outcome, a LocalTaskID, the RequestId or the attempt: %s", r.raw)
	}
	if r.out.Request == nil || r.out.Request.RegistryImageScanType != "NOT_SCAN" || !r.out.Request.IsLatest {
		t.Errorf("output does not carry the normalized request: %s", r.raw)
	}
	if n := f.emu.Calls("CreateVulScanTask"); n != 1 {
		t.Errorf("TCSS was called %d times, want 1", n)
	}
}

func TestScanCommandTakesTheRequestAsJSON(t *testing.T) {
	f := newCLIFixture(t)
	r := f.run(t, nil, "--json", `{"RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[13,12,13]}`)
	if r.exit != exitOK || r.out.RegistryTaskID == nil || *r.out.RegistryTaskID <= 0 {
		t.Fatalf("exit %d, want 0 with a RegistryTaskID\n%s\n%s", r.exit, r.raw, r.stderr)
	}
	if got := r.out.Request.RegistryImageIDs; len(got) != 2 || got[0] != 12 || got[1] != 13 {
		t.Errorf("request IDs %v, want the normalized [12 13]", got)
	}
}

func TestScanCommandRefusesInvalidInputWithExit2(t *testing.T) {
	f := newCLIFixture(t)
	tests := []struct {
		name        string
		args        []string
		field, says string
	}{
		{"an invalid field value names the field", []string{"--LocalImageScanType", "all"}, "LocalImageScanType", "did you mean ALL?"},
		{"a flag value of the wrong type names the field", []string{"--RegistryImageScanType", "IMAGEIDS", "--RegistryImageIDs", "12,x"}, "RegistryImageIDs", "positive whole numbers"},
		{"JSON of the wrong type names the field", []string{"--json", `{"LocalTaskID":"7"}`}, "LocalTaskID", "positive whole number"},
		{"a rule across fields names the field", []string{"--LocalImageScanType", "IMAGEIDS"}, "LocalImageIDs", "is required when LocalImageScanType is IMAGEIDS"},
		{"an empty request says what to choose", nil, "LocalImageScanType", "selects no images"},
		{"an actor of vulscan's own runs is refused", []string{"--actor", "system:timer/nightly", "--idempotency-key", "timer/nightly@2026-12-05T02:00:00Z",
			"--RegistryImageScanType", "NOT_SCAN"}, "", `--actor "system:timer/nightly": actors starting with "system:" are the runs vulscan starts on its own`},
		{"an API key's actor is refused", []string{"--actor", "apikey:ci", "--idempotency-key", "nightly-1",
			"--RegistryImageScanType", "NOT_SCAN"}, "", `--actor "apikey:ci": actors starting with "apikey:" are callers the web front end or the platform authenticated`},
		{"a signed-in person's actor is refused", []string{"--actor", "OIDC:alice@example.com", "--RegistryImageScanType", "NOT_SCAN"},
			"", `actors starting with "oidc:" are callers`},
		{"a signed-in person's subject actor is refused", []string{"--actor", "oidc-sub:https://login.example/#0a1b", "--RegistryImageScanType", "NOT_SCAN"},
			"", `actors starting with "oidc-sub:" are callers`},
		{"a gateway's actor is refused", []string{"--actor", "gateway:arn:aws:iam::1:user/admin", "--RegistryImageScanType", "NOT_SCAN"},
			"", `actors starting with "gateway:" are callers`},
		{"the proxy's actor is refused", []string{"--actor", "proxy:bob@example.com", "--RegistryImageScanType", "NOT_SCAN"},
			"", `actors starting with "proxy:" are callers`},
		{"the loopback user's actor is refused", []string{"--actor", "local:dev", "--RegistryImageScanType", "NOT_SCAN"},
			"", `actors starting with "local:" are callers`},
		{"an invoker's actor is refused", []string{"--actor", "invoke:cognito:x", "--RegistryImageScanType", "NOT_SCAN"},
			"", `actors starting with "invoke:" are callers`},
		{"the anonymous actor is refused", []string{"--actor", "anonymous", "--RegistryImageScanType", "NOT_SCAN"},
			"", "a caller nobody identified"},
		{"an actor of two lines is refused", []string{"--actor", "bob\nsystem:timer/nightly", "--RegistryImageScanType", "NOT_SCAN"},
			"", "without control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run(t, nil, tt.args...)
			if r.exit != exitRejected {
				t.Errorf("exit %d, want 2\n%s", r.exit, r.raw)
			}
			if len(r.out.Errors) == 0 || r.out.Errors[0].Field != tt.field || !strings.Contains(r.out.Errors[0].Message, tt.says) {
				t.Errorf("errors %v, want %s: …%s…", r.out.Errors, tt.field, tt.says)
			}
			if !strings.Contains(r.stderr, tt.field) {
				t.Errorf("stderr does not name %s: %s", tt.field, r.stderr)
			}
		})
	}
	if n := f.emu.Calls("CreateVulScanTask"); n != 0 {
		t.Errorf("TCSS was called %d times for refused input", n)
	}
}

func TestScanCommandReplaysAnIdempotencyKey(t *testing.T) {
	f := newCLIFixture(t)
	first := f.run(t, nil, "--LocalImageScanType", "NOT_SCAN", "--idempotency-key", "nightly-1")
	again := f.run(t, nil, "--LocalImageScanType", "NOT_SCAN", "--idempotency-key", "nightly-1")
	if first.exit != exitOK || again.exit != exitOK || !again.out.Replayed {
		t.Fatalf("exits %d, %d (replayed %v), want 0, 0 and a replay\n%s\n%s", first.exit, again.exit, again.out.Replayed, first.raw, again.raw)
	}
	if *again.out.LocalTaskID != *first.out.LocalTaskID || again.out.AttemptID != first.out.AttemptID {
		t.Errorf("replay answered another attempt: %s vs %s", first.raw, again.raw)
	}
	conflict := f.run(t, nil, "--LocalImageScanType", "ALL", "--idempotency-key", "nightly-1")
	if conflict.exit != exitRejected {
		t.Errorf("same key, other request: exit %d, want 2\n%s", conflict.exit, conflict.raw)
	}
	if n := f.emu.Calls("CreateVulScanTask"); n != 1 {
		t.Errorf("TCSS was called %d times, want 1", n)
	}
}

func TestScanCommandExits1WhenTCSSRefuses(t *testing.T) {
	f := newCLIFixture(t)
	f.emu.InjectFault("CreateVulScanTask", tcsstest.Fault{Code: "FailedOperation", Message: "license expired"})
	r := f.run(t, nil, "--LocalImageScanType", "ALL")
	if r.exit != exitFailed || r.out.Outcome != "failed" || r.out.Error == nil {
		t.Errorf("exit %d outcome %q, want 1 and failed\n%s", r.exit, r.out.Outcome, r.raw)
	}
	wrongKey := f.run(t, []string{"TENCENTCLOUD_SECRET_KEY=wrong"}, "--LocalImageScanType", "ALL")
	if wrongKey.exit != exitFailed || !strings.Contains(wrongKey.raw, "AuthFailure") {
		t.Errorf("wrong key: exit %d, want 1 naming AuthFailure\n%s", wrongKey.exit, wrongKey.raw)
	}
}

func TestScanCommandDSNFlagOverridesTheEnvironment(t *testing.T) {
	f := newCLIFixture(t)
	unwritable := []string{"VULSCAN_AUDIT_DSN=sqlite:" + filepath.Join(f.dir, "missing", "dir", "audit.db")}
	if r := f.run(t, unwritable, "--LocalImageScanType", "ALL"); r.exit != exitFailed {
		t.Errorf("with an unusable audit store: exit %d, want 1\n%s", r.exit, r.raw)
	}
	if n := f.emu.Calls("CreateVulScanTask"); n != 0 {
		t.Errorf("TCSS was called %d times without an audit log", n)
	}
	good := "sqlite:" + filepath.Join(f.dir, "other.db")
	if r := f.run(t, unwritable, "--LocalImageScanType", "ALL", "--dsn", good); r.exit != exitOK {
		t.Errorf("--dsn did not override VULSCAN_AUDIT_DSN: exit %d\n%s\n%s", r.exit, r.raw, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "other.db")); err != nil {
		t.Errorf("the --dsn store was not written: %v", err)
	}
}

// A request refused on the command line is on the record, as the form's and the API's are: JSON
// with an unknown field, and a flag value that is no ID; and the record says what was asked, as
// theirs do (it read {} for every command line).
func TestRefusedCommandLinesAreRecorded(t *testing.T) {
	f := newCLIFixture(t)
	for i, args := range [][]string{
		{"--json", `{"LocalImageScanType":"ALL","Bogus":1}`, "--idempotency-key", "cli-bad-1"},
		{"--RegistryImageScanType", "IMAGEIDS", "--RegistryImageIDs", "abc", "--actor", "ops"},
		{"--RegistryImageScanType", "NOT_SCAN", "--actor", "System:invoke"},
		{"--json", `{"RegistryImageScanType":"ALL"}`, "--actor", "anonymous"},
		{"--LocalTaskID", "0", "--RegistryImageScanType", "ALL", "--IsLatest"},
	} {
		r := f.run(t, nil, args...)
		if r.exit != exitRejected || r.out.AttemptID != int64(i+1) || r.out.Outcome != audit.OutcomeRejected {
			t.Errorf("%v: exit %d, attempt %d %s; want exit 2 and refusal %d recorded", args, r.exit, r.out.AttemptID, r.out.Outcome, i+1)
		}
	}
	store, err := openAuditStore(context.Background(), "sqlite:"+filepath.Join(f.dir, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var got, params []string
	store.Each(context.Background(), audit.Filter{}, func(r audit.Record) error {
		got = append(got, fmt.Sprintf("%s %s %s %s", r.Trigger, r.Actor, r.Outcome, r.IdempotencyKey))
		params = append(params, string(r.Params))
		return nil
	})
	osUser, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	me := "cli " + osUser.Username + " rejected "
	if want := []string{me + "cli-bad-1", "cli ops rejected ", me, me, me}; !slices.Equal(got, want) {
		t.Errorf("records %q, want %q", got, want)
	}
	wantParams := []string{
		`{"LocalImageScanType":"\"ALL\"","_unknown_fields":["Bogus"]}`,
		`{"RegistryImageIDs":"abc","RegistryImageScanType":"IMAGEIDS"}`,
		`{"RegistryImageScanType":"NOT_SCAN"}`,
		`{"RegistryImageScanType":"ALL"}`,
		`{"IsLatest":"true","LocalTaskID":"0","RegistryImageScanType":"ALL"}`,
	}
	if !slices.Equal(params, wantParams) {
		t.Errorf("params\n%s\nwant\n%s", strings.Join(params, "\n"), strings.Join(wantParams, "\n"))
	}
	if f.emu.Calls("CreateVulScanTask") != 0 {
		t.Error("a refused command line reached TCSS")
	}
}
