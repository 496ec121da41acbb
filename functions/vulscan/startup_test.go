package main

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
)

// An audit store that cannot be opened, or only for reading, stops every command and mode at
// start: exit status 1 (2 means "input refused"), the cause in one line, no panic.
func TestStartupFailsClearlyWhenTheAuditStoreCannotBeWritten(t *testing.T) {
	dir := t.TempDir()
	readOnlyPG := func(t *testing.T) string {
		u, err := url.Parse(sqlstoretest.PostgresDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("default_transaction_read_only", "on") // pgx sends it as a run-time parameter
		u.RawQuery = q.Encode()
		return u.String()
	}
	immutableSQLite := func(t *testing.T) string {
		// A store created normally, then made immutable: even root cannot write it.
		path := filepath.Join(t.TempDir(), "audit.db")
		f := newCLIFixture(t)
		if r := f.run(t, []string{"VULSCAN_AUDIT_DSN=sqlite:" + path}, "--RegistryImageScanType", "IMAGEIDS", "--RegistryImageIDs", "1"); r.exit != 0 {
			t.Fatalf("creating the store: exit %d: %s", r.exit, r.stderr)
		}
		if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("chattr +i %s: %v %s (CI runs as root on a file system that supports it: the read-only SQLite row may not be skipped)", path, err, out)
			}
			t.Skipf("cannot make a file read-only for this user (chattr: %v %s); the PostgreSQL row covers a read-only store", err, out)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", path).Run() })
		return "sqlite:" + path
	}
	stores := []struct {
		name  string
		dsn   func(t *testing.T) string
		cause string
	}{
		{"SQLite file that cannot be opened", func(*testing.T) string { return "sqlite:/proc/vulscan-audit.db" }, "unable to open database file"},
		{"SQLite directory missing", func(*testing.T) string { return "sqlite:" + filepath.Join(dir, "gone", "a.db") }, "does not exist"},
		{"PostgreSQL down", func(*testing.T) string {
			return "postgres://vulscan@127.0.0.1:1/audit?sslmode=disable&connect_timeout=5"
		}, "127.0.0.1"},
		{"PostgreSQL read-only", readOnlyPG, "read-only transaction"},
		{"SQLite file read-only", immutableSQLite, "not writable"},
	}
	modes := []struct {
		name string
		args []string
		env  []string
	}{
		{"scan command", []string{"scan", "--RegistryImageScanType", "IMAGEIDS", "--RegistryImageIDs", "1"}, nil},
		{"HTTP mode", nil, []string{"VULSCAN_ADDR=127.0.0.1:0"}},
		{"Lambda mode", nil, []string{"AWS_LAMBDA_RUNTIME_API=127.0.0.1:1"}},
		{"SCF mode", nil, []string{"SCF_RUNTIME_API=127.0.0.1", "SCF_RUNTIME_API_PORT=1"}},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			dsn := st.dsn(t)
			for _, m := range modes {
				t.Run(m.name, func(t *testing.T) {
					f := newCLIFixture(t)
					// A process that starts despite the store would serve for ever: the deadline
					// turns that regression into a failure instead of a hang.
					ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
					defer cancel()
					cmd := exec.CommandContext(ctx, vulscanBinary(t), m.args...)
					cmd.Env = append(append(append([]string{}, f.env...), m.env...), "VULSCAN_AUDIT_DSN="+dsn)
					var stdout, stderr bytes.Buffer
					cmd.Stdout, cmd.Stderr = &stdout, &stderr
					err := cmd.Run()
					var exitErr *exec.ExitError
					if !errors.As(err, &exitErr) {
						t.Fatalf("want a failing exit, got %v\nstderr: %s", err, stderr.String())
					}
					if got := exitErr.ExitCode(); got != 1 {
						t.Errorf("exit status %d, want 1", got)
					}
					if strings.Contains(stderr.String(), "panic") || strings.Contains(stderr.String(), "goroutine") {
						t.Errorf("stderr shows a panic:\n%s", stderr.String())
					}
					if !strings.Contains(stderr.String(), st.cause) {
						t.Errorf("stderr does not name the cause %q:\n%s", st.cause, stderr.String())
					}
				})
			}
		})
	}
}
