package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/user"
	"reflect"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
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
	gotReq  scan.Request
	gotKey  string
	caller  scan.Caller
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
			wantExit: 1, wantJSON: map[string]any{"error": map[string]any{"code": "unavailable", "message": "cannot open vulscan: bad DSN"}}},
		{name: "a bad flag exits 2 without opening anything",
			args: []string{"--RegistryImageIDs", "x"}, starter: &fakeStarter{},
			wantExit: 2, wantJSON: map[string]any{"errors": []any{map[string]any{"field": "RegistryImageIDs",
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
			if tt.args != nil && opened > 0 {
				t.Errorf("a refused command line opened the service")
			}
			if tt.starter.calls == 1 && (tt.starter.caller != scan.Caller{Trigger: audit.TriggerCLI, Actor: "alice"} || tt.starter.gotKey != "k") {
				t.Errorf("service called with caller %+v key %q", tt.starter.caller, tt.starter.gotKey)
			}
		})
	}
}
