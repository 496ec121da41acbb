package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

const testRoleARN = "qcs::cam::uin/100000000001:roleName/VulScanRole"

// roleSetup is one emulator serving both TCSS and STS, which knows a base key and testRoleARN,
// and the environment of a vulscan told to assume that role with that key.
type roleSetup struct {
	emu  *tcsstest.Emulator
	base tcsstest.Key
	vars map[string]string
}

func newRoleSetup(t *testing.T) *roleSetup {
	t.Helper()
	base := tcsstest.RandomKey()
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{base}, Roles: []string{testRoleARN}})
	t.Cleanup(srv.Close)
	return &roleSetup{emu: emu, base: base, vars: map[string]string{
		"TENCENTCLOUD_ROLE_ARN":   testRoleARN,
		"TENCENTCLOUD_SECRET_ID":  base.SecretID,
		"TENCENTCLOUD_SECRET_KEY": base.SecretKey,
		"VULSCAN_TCSS_ENDPOINT":   srv.URL,
		"VULSCAN_STS_ENDPOINT":    srv.URL,
		"VULSCAN_AUDIT_DSN":       "sqlite:" + filepath.Join(t.TempDir(), "audit.db"),
	}}
}

// scan runs `vulscan scan --LocalImageScanType ALL` in-process and returns its exit code, its
// output and its stderr.
func (s *roleSetup) scan(t *testing.T) (int, scanOutput, string) {
	t.Helper()
	e, out, errOut := testEnv("", s.vars)
	code := run(context.Background(), []string{"scan", "--LocalImageScanType", "ALL", "--actor", "role-test"}, e)
	var o scanOutput
	if err := json.Unmarshal(out.Bytes(), &o); err != nil {
		t.Fatalf("vulscan scan printed no JSON (exit %d): %v\n%s\n%s", code, err, out, errOut)
	}
	return code, o, errOut.String()
}

// outcome reads the audit log's outcome record of attempt pendingID.
func (s *roleSetup) outcome(t *testing.T, pendingID int64) audit.Record {
	t.Helper()
	ctx := context.Background()
	store, err := openAuditStore(ctx, s.vars["VULSCAN_AUDIT_DSN"])
	if err != nil {
		t.Fatalf("open the audit store: %v", err)
	}
	defer store.Close()
	rec, err := store.OutcomeOf(ctx, pendingID)
	if err != nil {
		t.Fatalf("the outcome of attempt %d: %v", pendingID, err)
	}
	return rec
}

func TestScanWithARoleIsSignedByTheRolesTemporaryKey(t *testing.T) {
	s := newRoleSetup(t)
	code, out, stderr := s.scan(t)
	if code != exitOK || out.Outcome != audit.OutcomeSucceeded || out.LocalTaskID == nil {
		t.Fatalf("exit %d, outcome %q, want a started scan\n%s", code, out.Outcome, stderr)
	}
	issued := s.emu.Issued()
	if len(issued) != 1 || s.emu.Calls("AssumeRole") != 1 {
		t.Fatalf("STS issued %d keys in %d calls, want 1 in 1", len(issued), s.emu.Calls("AssumeRole"))
	}
	if n := s.emu.CallsBy("AssumeRole", s.base.SecretID); n != 1 {
		t.Errorf("AssumeRole signed by the base key %d times, want 1", n)
	}
	if n := s.emu.CallsBy("CreateVulScanTask", issued[0].SecretID); n != 1 {
		t.Errorf("CreateVulScanTask signed by the role's temporary key %d times, want 1", n)
	}
	if n := s.emu.CallsBy("CreateVulScanTask", s.base.SecretID); n != 0 {
		t.Errorf("the base key signed %d TCSS calls, want 0", n)
	}
	for _, secret := range []string{s.base.SecretKey, issued[0].SecretKey, issued[0].Token} {
		if strings.Contains(stderr, secret) {
			t.Errorf("the log shows a secret:\n%s", stderr)
		}
	}
	// The record names the role (with its name) and session, never a key.
	if rec := s.outcome(t, out.AttemptID); rec.Credential != "assumed-role:"+testRoleARN+"/vulscan" {
		t.Errorf("record credential %q, want assumed-role:%s/vulscan", rec.Credential, testRoleARN)
	}
}

func TestScanWhoseRoleCannotBeAssumedIsRecordedAsNotSent(t *testing.T) {
	s := newRoleSetup(t)
	s.vars["TENCENTCLOUD_ROLE_ARN"] = "qcs::cam::uin/100000000001:roleName/NoSuchRole"
	code, out, stderr := s.scan(t)
	if code != exitFailed || out.Outcome != audit.OutcomeFailed {
		t.Fatalf("exit %d, outcome %q, want 1 and failed\n%s", code, out.Outcome, stderr)
	}
	if n := s.emu.Calls("CreateVulScanTask"); n != 0 {
		t.Errorf("TCSS saw %d calls, want 0", n)
	}
	rec := s.outcome(t, out.AttemptID)
	if rec.Outcome != audit.OutcomeFailed || rec.ErrorCode != scan.CodeNotSent ||
		!strings.Contains(rec.ErrorMessage, "ResourceNotFound.RoleNotFound") {
		t.Errorf("audit outcome %q, code %q, message %q; want failed, %s, naming STS's ResourceNotFound.RoleNotFound",
			rec.Outcome, rec.ErrorCode, rec.ErrorMessage, scan.CodeNotSent)
	}
}

func TestRoleSettingsAtStartUp(t *testing.T) {
	t.Run("a malformed role ARN stops vulscan before anything is sent", func(t *testing.T) {
		s := newRoleSetup(t)
		s.vars["TENCENTCLOUD_ROLE_ARN"] = "VulScanRole"
		code, out, _ := s.scan(t)
		if code != exitFailed || out.Error == nil || !strings.Contains(out.Error.Message, "TENCENTCLOUD_ROLE_ARN") {
			t.Errorf("exit %d, error %+v; want 1 and an error naming TENCENTCLOUD_ROLE_ARN", code, out.Error)
		}
		if n := s.emu.Calls("AssumeRole") + s.emu.Calls("CreateVulScanTask"); n != 0 {
			t.Errorf("%d calls reached the emulator, want 0", n)
		}
	})
	for _, endpoint := range []string{"ftp://sts.tencentcloudapi.com", "sts.tencentcloudapi.com/path", "https://sts.tencentcloudapi.com:99999"} {
		t.Run("a malformed STS endpoint stops vulscan, naming VULSCAN_STS_ENDPOINT: "+endpoint, func(t *testing.T) {
			s := newRoleSetup(t)
			s.vars["VULSCAN_STS_ENDPOINT"] = endpoint
			code, out, _ := s.scan(t)
			if code != exitFailed || out.Error == nil || !strings.Contains(out.Error.Message, "VULSCAN_STS_ENDPOINT") {
				t.Errorf("exit %d, error %+v; want 1 and an error naming VULSCAN_STS_ENDPOINT", code, out.Error)
			}
			if n := s.emu.Calls("AssumeRole") + s.emu.Calls("CreateVulScanTask"); n != 0 {
				t.Errorf("%d calls reached the emulator, want 0", n)
			}
		})
	}
	t.Run("the in-process emulator ignores the role", func(t *testing.T) {
		s := newRoleSetup(t)
		s.vars["VULSCAN_TCSS_ENDPOINT"] = emulatorEndpoint
		code, out, stderr := s.scan(t)
		if code != exitOK || out.Outcome != audit.OutcomeSucceeded {
			t.Errorf("exit %d, outcome %q; want a scan started on the in-process emulator\n%s", code, out.Outcome, stderr)
		}
		if n := s.emu.Calls("AssumeRole"); n != 0 {
			t.Errorf("STS was called %d times, want 0", n)
		}
	})
}
