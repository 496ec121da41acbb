//go:build unix

package main

import (
	"os"
	"syscall"
)

// run replaces this process with the runner, so that signals (Ctrl-C in `task run`) and the
// exit status reach the runner and come back from it unchanged.
func run(path string, args []string) error {
	return syscall.Exec(path, args, os.Environ())
}
