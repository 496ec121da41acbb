package main

import (
	"context"
	"strings"
	"testing"
)

// An audit store that does not open stops the start, and the command, with one line that names
// where its DSN came from (VULSCAN_AUDIT_DSN, or --dsn), is bounded however long the DSN is, and
// never holds a password: "audit store: …" named no setting, and a 100 KB sqlite: path or
// postgres:// host came back whole.
func TestAnAuditStoreThatDoesNotOpenNamesItsDSNsSetting(t *testing.T) {
	huge := strings.Repeat("a", 100_000)
	for _, tt := range []struct {
		name string
		args []string // nil: HTTP mode
		dsn  string   // VULSCAN_AUDIT_DSN
		want string
	}{
		{"serving, a directory that is not there", nil, "sqlite:/nonexistent-dir/audit.db",
			"vulscan: audit store: VULSCAN_AUDIT_DSN: audit log directory /nonexistent-dir does not exist"},
		{"serving, a 100 KB sqlite path", nil, "sqlite:/tmp/" + huge,
			"vulscan: audit store: VULSCAN_AUDIT_DSN: the DSN (sqlite) is 100012 bytes, more than the 4096 an audit DSN may have"},
		{"serving, a 100 KB postgres host", nil, "postgres://ops:SECRETPW@" + huge + "/audit",
			"vulscan: audit store: VULSCAN_AUDIT_DSN: the DSN (postgres) is 100030 bytes, more than the 4096"},
		{"serving, a postgres that refuses", nil, "postgres://ops:SECRETPW@127.0.0.1:1/audit?sslmode=disable",
			"vulscan: audit store: VULSCAN_AUDIT_DSN: sqlstore: preparing PostgreSQL audit log"},
		{"serving, an unknown scheme", nil, "mysql://ops:SECRETPW@db/audit",
			"vulscan: audit store: VULSCAN_AUDIT_DSN: unsupported audit DSN (mysql)"},
		{"verify, a 100 KB sqlite path", []string{"audit", "verify"}, "sqlite:/tmp/" + huge,
			"vulscan audit verify: VULSCAN_AUDIT_DSN: the DSN (sqlite) is 100012 bytes"},
		{"verify, a log that is not there", []string{"audit", "verify"}, "sqlite:/nonexistent-dir/audit.db",
			"vulscan audit verify: VULSCAN_AUDIT_DSN: no audit log at /nonexistent-dir/audit.db"},
		{"verify, nothing set: the default", []string{"audit", "verify"}, "",
			"vulscan audit verify: VULSCAN_AUDIT_DSN (not set: the default sqlite:vulscan-audit.db): no audit log at "},
		{"schedules, a postgres that refuses", []string{"schedules"}, "postgres://ops:SECRETPW@127.0.0.1:1/audit?sslmode=disable",
			"vulscan schedules: VULSCAN_AUDIT_DSN: sqlstore: reading PostgreSQL audit log"},
		{"scan, a directory that is not there", []string{"scan", "--LocalImageScanType", "ALL", "--dsn", "sqlite:/nonexistent-dir/audit.db"}, "",
			"vulscan scan: no scan was started: audit store: --dsn: audit log directory /nonexistent-dir does not exist"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir()) // the default log, when nothing names one, is not there
			_, env, _ := hangingTCSS(t)
			vars := []string{"VULSCAN_ADDR=127.0.0.1:0", "VULSCAN_AUDIT_WITNESS=off", "VULSCAN_SCHEDULES=nightly=0 0 2 * * * *"}
			for _, kv := range env {
				if !strings.HasPrefix(kv, "VULSCAN_AUDIT_DSN=") {
					vars = append(vars, kv)
				}
			}
			if tt.dsn != "" {
				vars = append(vars, "VULSCAN_AUDIT_DSN="+tt.dsn)
			}
			stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
			if code := run(context.Background(), tt.args, env2(vars, stdout, stderr)); code == exitOK {
				t.Fatalf("exit 0, want a failure; stdout:\n%s", stdout)
			}
			line := lastLine(stderr.String())
			if !strings.HasPrefix(line, tt.want) {
				t.Errorf("last line of stderr:\n%.300s\nwant it to begin %q", line, tt.want)
			}
			if len(stderr.String()) > 1000 || strings.Contains(stderr.String()+stdout.String(), "SECRETPW") {
				t.Errorf("the output is %d bytes (want at most 1000, no password):\n%.1000s", len(stderr.String()), stderr)
			}
		})
	}
}

// lastLine is the last line of out.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	return lines[len(lines)-1]
}
