package main

import (
	"context"
	"strings"
	"testing"
)

// TestEveryDSNHelpSaysWhereTheLogIsWithoutOne: every command that takes --dsn falls back to
// VULSCAN_AUDIT_DSN and then to a SQLite file in the working directory (loadSettings,
// firstNonEmpty); its help says both, so that nobody finds the log they meant to write empty and
// another one beside them.
func TestEveryDSNHelpSaysWhereTheLogIsWithoutOne(t *testing.T) {
	for _, args := range [][]string{
		{"scan", "--help"},
		{"schedules", "--help"},
		{"audit", "verify", "--help"},
		{"audit", "export", "--help"},
		{"audit", "reconcile", "--help"},
		{"audit", "checkpoint", "--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			e, stdout, stderr := testEnv("", nil)
			if code := run(context.Background(), args, e); code != exitOK {
				t.Fatalf("exit %d, want %d\n%s%s", code, exitOK, stdout, stderr)
			}
			help := strings.Join(strings.Fields(stdout.String()), " ")
			for _, want := range []string{"--dsn DSN", "VULSCAN_AUDIT_DSN, else " + defaultAuditDSN + ", a file in the working directory"} {
				if !strings.Contains(help, want) {
					t.Errorf("help does not say %q:\n%s", want, stdout)
				}
			}
		})
	}
}
