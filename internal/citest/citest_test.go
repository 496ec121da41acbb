package citest

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// TestNoTestSkipsButThroughMissing: Missing is the only skip in the module, so that no test can
// skip while CI is set. A direct t.Skip, Skipf or SkipNow elsewhere would pass CI silently. Its
// own skip, after the CI check, is the one allowed, in citest.go; everything else is read, this
// package's tests included (the pattern is written in two pieces so that it does not match
// itself).
func TestNoTestSkipsButThroughMissing(t *testing.T) {
	root := filepath.Join("..", "..")
	skip := regexp.MustCompile(`\.Skip` + `(f|Now)?\(`)
	allowed := filepath.Join(root, "internal", "citest", "citest.go")
	var inCitest int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "dist":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			switch {
			case !skip.MatchString(line):
			case path == allowed:
				inCitest++
			default:
				t.Errorf("%s:%d skips directly (%s): call citest.Missing, which fails when CI is set", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if inCitest != 1 {
		t.Errorf("%s skips in %d places, want 1: Missing's, after it fails a test when CI is set", allowed, inCitest)
	}
}
