// Package citest decides what a test does when a piece it needs from outside Go is missing
// (PostgreSQL, Chromium, the Lambda runtime emulator, Node.js, a shell tool): on a developer's
// machine it skips, and when the CI variable is set it fails, because a green CI run that skipped
// the end-to-end tests would be a lie. .ci/run installs every such piece and sets CI.
package citest

import (
	"fmt"
	"os"
	"testing"
)

// Set reports whether the CI environment variable is set: then no test may be skipped for want
// of a piece.
func Set() bool { return os.Getenv("CI") != "" }

// Missing ends t for want of a piece, described by format and args: it skips t on a laptop and
// fails it when CI is set.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Set() {
		t.Fatalf("%s (CI is set, so this test may not be skipped)", msg)
	}
	t.Skip(msg)
}
