package tests

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestFilesTheDocsCreateAreIgnored: every file the deploy instructions have a reader write beside
// the code (`… >> .env`, which then holds the audit DSN with its password and the deployer's
// Tencent key) must be ignored by git, so that `git add -A` cannot commit a secret.
func TestFilesTheDocsCreateAreIgnored(t *testing.T) {
	git := requireTool(t, "git")
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	var created []string
	for _, doc := range []string{"README.md", "docs/deploy.md"} {
		data, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range redirectTargets(string(data)) {
			if !slices.Contains(created, name) {
				created = append(created, name)
			}
		}
	}
	if !slices.Contains(created, ".env") {
		t.Fatalf("the docs write %q; want .env among them (the deployer's settings), or update this test", created)
	}
	// Files like it that the deploy CLIs read though the docs do not write them: a stage's own
	// settings, a local override.
	for _, name := range append(created, ".env.prod", ".env.local") {
		cmd := exec.Command(git, "check-ignore", "--no-index", "--quiet", name)
		cmd.Dir = root
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exit) && exit.ExitCode() == 1:
			t.Errorf("git does not ignore %s (deploy settings, or a file the docs have you write): add it to .gitignore", name)
		default:
			t.Fatalf("git check-ignore %s: %v", name, err)
		}
	}
}

// redirectTargets returns the files that the shell code blocks of a Markdown text write with
// `>` or `>>`.
func redirectTargets(markdown string) []string {
	var names []string
	inShell := false
	for _, line := range strings.Split(markdown, "\n") {
		if fence, ok := strings.CutPrefix(strings.TrimSpace(line), "```"); ok {
			inShell = !inShell && (fence == "sh" || fence == "bash" || fence == "shell")
			continue
		}
		if !inShell {
			continue
		}
		for _, m := range shellRedirect.FindAllStringSubmatch(line, -1) {
			if m[1] != "/dev/null" {
				names = append(names, m[1])
			}
		}
	}
	return names
}

// shellRedirect matches an output redirection to a plain file name outside quotes' usual
// contents (`>> .env`, `> aws-jwks.json`).
var shellRedirect = regexp.MustCompile(`(?:^|[\s)])>>?\s*([\w./-]+)`)
