// Package coreutils stands in for mvdan.cc/sh/x/coreutils in vulscan's tools module.
//
// Task runs its commands through an embedded shell; on Windows only (unless TASK_CORE_UTILS is
// set) it also swaps in Go implementations of cp, mv, rm and the like, built on u-root, whose
// module (with the compression libraries it brings) is the largest download of a first
// `go tool task`. Here commands always run the system's own utilities, as task does by default
// on Linux and macOS.
package coreutils

import "mvdan.cc/sh/v3/interp"

// ExecHandler leaves every command to the next handler: the system's programs.
func ExecHandler(next interp.ExecHandlerFunc) interp.ExecHandlerFunc { return next }
