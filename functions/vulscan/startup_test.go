package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit/sqlstore"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"

	"github.com/vulscan/vulscan/internal/citest"
)

// An audit store that cannot be opened, or only for reading, stops every command and mode at
// start: exit status 1 (2 means "input refused"), the cause in one line, no panic. The CLI and
// the HTTP server stop before they serve; a function instance (SCF, Lambda) has reported ready
// or asked for its first event meanwhile, and stops as soon as the open fails.
func TestStartupFailsClearlyWhenTheAuditStoreCannotBeWritten(t *testing.T) {
	dir := t.TempDir()
	readOnlyPG := func(t *testing.T) string {
		// A role that may read the log but not write it, as a replica's or a reporting role's
		// DSN would be. (The driver begins every write transaction READ WRITE, so a session
		// default of default_transaction_read_only cannot stand in for a read-only store.)
		dsn := sqlstoretest.PostgresDSN(t)
		s, err := sqlstore.OpenPostgres(t.Context(), dsn) // the log, created by its owner
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		admin, err := sql.Open("postgres", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		schema := u.Query().Get("search_path")
		role := "reader_" + schema // roles are cluster-wide: named after the test's own schema
		for _, q := range []string{
			`CREATE ROLE ` + role + ` LOGIN`,
			`GRANT USAGE ON SCHEMA ` + schema + ` TO ` + role,
			`GRANT SELECT ON ALL TABLES IN SCHEMA ` + schema + ` TO ` + role,
		} {
			if _, err := admin.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		t.Cleanup(func() { // before sqlstoretest drops the schema (cleanups run last first)
			db, err := sql.Open("postgres", dsn)
			if err != nil {
				t.Error(err)
				return
			}
			defer db.Close()
			for _, q := range []string{`DROP OWNED BY ` + role, `DROP ROLE ` + role} {
				if _, err := db.Exec(q); err != nil {
					t.Errorf("%s: %v", q, err)
				}
			}
		})
		u.User = url.User(role)
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
			citest.Missing(t, "cannot make a file read-only for this user (chattr +i %s: %v %s); CI runs as root on a file system that supports it, elsewhere the PostgreSQL row covers a read-only store", path, err, out)
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
		{"PostgreSQL read-only", readOnlyPG, "permission denied"},
		{"SQLite file read-only", immutableSQLite, "not writable"},
	}
	// Function instances open the store while they report ready (SCF) or wait for their first
	// event (Lambda): they get a runtime API that answers and holds the next-event poll, as the
	// platform's does, so that only the store can stop them.
	runtimeAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/init/ready") {
			return
		}
		<-r.Context().Done() // the next-event long poll: held until the process goes
	}))
	defer runtimeAPI.Close()
	modes := startModes(runtimeAPI)
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

// startMode is one way vulscan starts: a command, or serving in one of its modes.
type startMode struct {
	name string
	args []string
	env  []string
}

// startModes are the ways vulscan starts that read its settings and open its store: the scan
// command, HTTP mode, and the Lambda and SCF modes against runtimeAPI, a fake runtime API.
func startModes(runtimeAPI *httptest.Server) []startMode {
	host, port, _ := net.SplitHostPort(runtimeAPI.Listener.Addr().String())
	return []startMode{
		{"scan command", []string{"scan", "--RegistryImageScanType", "IMAGEIDS", "--RegistryImageIDs", "1"}, nil},
		{"HTTP mode", nil, []string{"VULSCAN_ADDR=127.0.0.1:0"}},
		{"Lambda mode", nil, []string{"AWS_LAMBDA_RUNTIME_API=" + runtimeAPI.Listener.Addr().String()}},
		{"SCF mode", nil, []string{"SCF_RUNTIME_API=" + host, "SCF_RUNTIME_API_PORT=" + port}},
	}
}
