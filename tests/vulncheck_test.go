package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/internal/citest"
)

// TestREADMEVulncheckCommandShowsTheFindings runs the command the README gives for seeing the
// vulnerabilities govulncheck finds with the development toolchain, and wants it to report as
// many as the README says it has: a command that checks another toolchain prints "No
// vulnerabilities found." and hides them. It builds govulncheck's database the first time
// (about a minute), so -short skips it on a laptop; with CI set, -short fails it.
func TestREADMEVulncheckCommandShowsTheFindings(t *testing.T) {
	if testing.Short() {
		citest.Missing(t, "-short: this test runs govulncheck over the source")
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	m := regexp.MustCompile("(go1\\.[0-9.]+)'s standard library has ([0-9]+)\\s+\\(`([^`]+)` shows them").FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("the README does not say which command shows the development toolchain's vulnerabilities")
	}
	toolchain, want, command := m[1], m[2], m[3]
	args := strings.Fields(command)
	if len(args) < 3 || args[0] != "go" {
		t.Fatalf("README command %q is not a go command", command)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args[1:]...)
	cmd.Dir = root
	out, _ := cmd.CombinedOutput()
	found := map[string]bool{}
	for _, id := range regexp.MustCompile(`(?m)^Vulnerability #[0-9]+: (GO-[0-9]+-[0-9]+)`).FindAllStringSubmatch(string(out), -1) {
		found[id[1]] = true
	}
	if n, _ := strconv.Atoi(want); len(found) != n {
		t.Errorf("`%s` reports %d vulnerabilities; the README says %s's standard library has %s:\n%s", command, len(found), toolchain, want, out)
	}
}
