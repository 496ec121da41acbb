// Command task launches the task runner that tools/go.mod pins, so that `go tool task …` stays
// the README's command while the runner's dependencies stay out of vulscan's own module graph.
//
// The product's go.mod names only this launcher as a tool; it has no dependencies and builds in
// a moment. It asks the go command for the runner built from the tools module
// (`go -C <root>/tools tool -n task`, which builds it once and then answers from the build
// cache) and runs it in the caller's directory, where it finds Taskfile.yml as usual.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	runner, err := buildRunner()
	if err != nil {
		fmt.Fprintln(os.Stderr, "task:", err)
		os.Exit(1)
	}
	if err := run(runner, append([]string{"task"}, os.Args[1:]...)); err != nil {
		fmt.Fprintln(os.Stderr, "task:", err)
		os.Exit(1)
	}
}

// buildRunner returns the path of the task runner the tools module pins, building it if the
// build cache does not hold it yet (the go command prints its own build errors).
func buildRunner() (string, error) {
	tools, err := toolsDir()
	if err != nil {
		return "", err
	}
	// `go tool` puts its own GOROOT/bin first on PATH, so this is the go command that started us.
	cmd := exec.Command("go", "-C", tools, "tool", "-n", "task")
	cmd.Stderr = os.Stderr
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the task runner in %s: %w", tools, err)
	}
	// -n prints the command line it would run: the cached executable, as nothing follows it.
	path := strings.TrimSpace(out.String())
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("go tool -n task printed %q, not the runner's path", path)
	}
	return path, nil
}

// toolsDir finds the tools module in the working directory or the nearest parent that has one.
func toolsDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		tools := filepath.Join(dir, "tools")
		if _, err := os.Stat(filepath.Join(tools, "go.mod")); err == nil {
			return tools, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no tools/go.mod in this directory or any parent: run `go tool task` inside the vulscan repository")
		}
		dir = parent
	}
}
