package tests

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestProductModuleGraphHoldsNoTools pins issue 13's fast first run: the developer tools (the task
// runner with its cloud storage SDKs, staticcheck, the templ command) live in tools/go.mod, so the
// product's module graph, as `go list -m all` shows it to a user, holds none of them.
func TestProductModuleGraphHoldsNoTools(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-m", "all")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -m all: %v\n%s", err, out)
	}
	toolOnly := []string{
		"github.com/go-task/task/v3", "honnef.co/go/tools", "github.com/hashicorp/go-getter",
		"cloud.google.com/go/storage", "github.com/aws/aws-sdk-go-v2/service/s3", "go.opentelemetry.io/otel",
	}
	for line := range strings.Lines(string(out)) {
		mod, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		for _, tool := range toolOnly {
			if mod == tool {
				t.Errorf("go list -m all lists %s: a tool's dependency leaked into the product's go.mod", mod)
			}
		}
	}
}

// TestTemplCommandMatchesRuntime: the generated *_templ.go files call the templ runtime the
// product links, so the templ command that generates them must be the same version.
func TestTemplCommandMatchesRuntime(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	product := requiredVersion(t, filepath.Join(root, "go.mod"), "github.com/a-h/templ")
	tools := requiredVersion(t, filepath.Join(root, "tools", "go.mod"), "github.com/a-h/templ")
	if product != tools {
		t.Errorf("templ runtime %s in go.mod, templ command %s in tools/go.mod: keep them equal", product, tools)
	}
}

// TestTaskLauncher runs the README's `go tool task` from a subdirectory of the repository (the
// test's own): the launcher finds tools/go.mod above it and the runner finds Taskfile.yml.
func TestTaskLauncher(t *testing.T) {
	cmd := exec.Command("go", "tool", "task", "--list")
	// Task colours its output whenever CI is set; the test reads plain text.
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go tool task --list: %v\n%s", err, out)
	}
	for _, task := range []string{"* run:", "* test:", "* bench:"} {
		if !strings.Contains(string(out), task) {
			t.Errorf("go tool task --list does not list %q:\n%s", task, out)
		}
	}
}

// requiredVersion is the version a go.mod file requires of module.
func requiredVersion(t *testing.T, gomod, module string) string {
	t.Helper()
	f, err := os.Open(gomod)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
		if len(fields) >= 2 && fields[0] == module {
			return fields[1]
		}
	}
	t.Fatalf("%s requires no %s", gomod, module)
	return ""
}
