//go:build !unix

package main

import (
	"errors"
	"os"
	"os/exec"
)

// run starts the runner and exits with its status (no exec(2) outside Unix).
func run(path string, args []string) error {
	cmd := exec.Command(path, args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	return err
}
