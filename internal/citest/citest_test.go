package citest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMissing runs a test that lacks a piece in a child process, once with CI set and once
// without: it must fail in CI and skip elsewhere.
func TestMissing(t *testing.T) {
	if os.Getenv("CITEST_CHILD") != "" {
		Missing(t, "the %s is missing", "widget")
		t.Fatal("Missing returned")
	}
	for _, tc := range []struct {
		ci       string
		wantFail bool
		wantOut  string
	}{
		{"", false, "SKIP: TestMissing"},
		{"true", true, "the widget is missing (CI is set, so this test may not be skipped)"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestMissing$", "-test.v")
		cmd.Env = append(os.Environ(), "CITEST_CHILD=1", "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.wantFail || !strings.Contains(string(out), tc.wantOut) {
			t.Errorf("CI=%q: failed %v (want %v), output lacks %q:\n%s", tc.ci, failed, tc.wantFail, tc.wantOut, out)
		}
	}
}
