package main

import (
	"bufio"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
)

// The local server prints an export line for a second terminal. A SQLite log's DSN is in it; a
// PostgreSQL DSN's password is printed nowhere: the line leaves the DSN out and says so.
func TestTheEmulatorsExportLineHoldsNoDatabasePassword(t *testing.T) {
	const password = "S3cret-pw-9f2c"
	withPassword := func(t *testing.T) string {
		u, err := url.Parse(sqlstoretest.PostgresDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(u.User.Username(), password)
		return u.String()
	}
	for _, tc := range []struct {
		name       string
		dsn        func(t *testing.T) string
		dsnInLine  bool
		notPrinted bool
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "audit.db") }, true, false},
		{"postgres with a password", withPassword, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := tc.dsn(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			cmd := exec.Command(vulscanBinary(t))
			cmd.Env = []string{"HOME=" + t.TempDir(), "VULSCAN_ADDR=" + addr, "VULSCAN_TCSS_ENDPOINT=emulator",
				"VULSCAN_AUDIT_DSN=" + dsn}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			var printed []string
			export := ""
			lines := bufio.NewScanner(stdout)
			for export == "" && lines.Scan() {
				printed = append(printed, lines.Text())
				if rest, ok := strings.CutPrefix(lines.Text(), "export "); ok {
					export = rest
				}
			}
			if export == "" {
				t.Fatalf("no export line in:\n%s", strings.Join(printed, "\n"))
			}
			// A scan's witness line follows whatever the banner printed after the export line.
			resp, err := http.Post("http://"+addr+"/api/scans", "application/json", strings.NewReader(`{"RegistryImageScanType":"NOT_SCAN"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var after []string
			for lines.Scan() && !strings.HasPrefix(lines.Text(), `{"witness"`) {
				after = append(after, lines.Text())
			}
			printed = append(printed, after...)
			if tc.notPrinted && (len(after) != 1 || !strings.Contains(after[0], "VULSCAN_AUDIT_DSN as this server's") ||
				!strings.Contains(after[0], ":xxxxx@")) {
				t.Errorf("after the export line: %q, want the DSN redacted and why", after)
			}
			out := strings.Join(printed, "\n")
			if strings.Contains(out, password) {
				t.Errorf("the database password is printed:\n%s", out)
			}
			if got := strings.Contains(export, "VULSCAN_AUDIT_DSN="+shellQuote(dsn)); got != tc.dsnInLine {
				t.Errorf("export line %q: holds the DSN %v, want %v", export, got, tc.dsnInLine)
			}
		})
	}
}
