package main

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/guard"
	"github.com/vulscan/vulscan/functions/scan"
)

func TestHostAllowListDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars map[string]string
		want []string
	}{
		{"loopback: the loopback names with the port", nil,
			[]string{"localhost:8080", "127.0.0.1:8080", "[::1]:8080"}},
		{"loopback plus added names", map[string]string{"VULSCAN_ALLOWED_HOSTS": " scanner.corp.example , other:9000"},
			[]string{"scanner.corp.example", "other:9000", "localhost:8080", "127.0.0.1:8080", "[::1]:8080"}},
		{"a port chosen at listen time: the names", map[string]string{"VULSCAN_ADDR": "127.0.0.1:0"},
			[]string{"localhost", "127.0.0.1", "::1"}},
		{"all interfaces: only what is set", map[string]string{"VULSCAN_ADDR": "0.0.0.0:8080", "VULSCAN_ALLOWED_HOSTS": "scan.example"},
			[]string{"scan.example"}},
		{"deployed: no check unless set", map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "VULSCAN_AUDIT_DSN": "postgres://x/y"},
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := loadSettings(func(k string) string { return tc.vars[k] })
			if err != nil {
				t.Fatal(err)
			}
			if got := s.hostAllowList(); !slices.Equal(got, tc.want) {
				t.Errorf("allow-list %q, want %q", got, tc.want)
			}
		})
	}
}

// The deadlines nest: the TCSS call ends (with the service's answer margin to spare) before the
// request's deadline, which ends before the server stops writing, so a slow TCSS still gets
// the caller an answer.
func TestDeadlinesAreLayered(t *testing.T) {
	if call := scan.DefaultCallTimeout + scan.DefaultAnswerMargin; call >= requestTimeout {
		t.Errorf("TCSS call %s plus margin %s does not end before the request's %s", scan.DefaultCallTimeout, scan.DefaultAnswerMargin, requestTimeout)
	}
	if requestTimeout >= writeTimeout {
		t.Errorf("request deadline %s does not end before WriteTimeout %s", requestTimeout, writeTimeout)
	}
}

// The real server on loopback refuses a DNS-rebinding page: the attacker's name, resolving to
// 127.0.0.1, with its own Origin. Its own address works.
func TestTheLocalServerRefusesDNSRebinding(t *testing.T) {
	dir := t.TempDir()
	_, base := startServer(t, []string{"HOME=" + dir, "VULSCAN_TCSS_ENDPOINT=emulator",
		"VULSCAN_AUDIT_DSN=sqlite:" + filepath.Join(dir, "audit.db"), "VULSCAN_AUDIT_WITNESS=off"})
	for _, tc := range []struct {
		method, path, host, body string
		status                   int
	}{
		{http.MethodGet, "/", "", "", http.StatusOK},
		{http.MethodGet, "/audit.csv", "rebind.attacker.example", "", http.StatusMisdirectedRequest},
		{http.MethodPost, "/api/scans", "rebind.attacker.example", `{"LocalImageScanType":"ALL"}`, http.StatusMisdirectedRequest},
	} {
		req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
		if tc.host != "" {
			_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
			req.Host = tc.host + ":" + port
			req.Header.Set("Origin", "http://"+req.Host)
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s Host %q: %d, want %d", tc.method, tc.path, tc.host, resp.StatusCode, tc.status)
		}
	}
}

// A flood of refused requests (here: a foreign Host, which needs no credential) is answered in
// full but records at most the source's allowance: the audit log cannot be grown by strangers.
func TestTheServerRecordsABoundedNumberOfRefusalsPerSource(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "audit.db")
	_, base := startServer(t, []string{"HOME=" + dir, "VULSCAN_TCSS_ENDPOINT=emulator",
		"VULSCAN_AUDIT_DSN=" + dsn, "VULSCAN_AUDIT_WITNESS=off"})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	const sent = guard.DefaultRefusalsRecordedPerMinute + 10
	for i := range sent {
		// A post to the API, which could start a scan: refused reads are not recorded at all.
		req, _ := http.NewRequest(http.MethodPost, base+"/api/scans", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Host = "flood.attacker.example:" + port
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Fatalf("request %d: %d, want 421 for every one", i+1, resp.StatusCode)
		}
	}
	store, err := openAuditStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	recs, err := store.List(context.Background(), audit.Filter{Outcome: audit.OutcomeRejected, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != guard.DefaultRefusalsRecordedPerMinute {
		t.Errorf("%d refusals recorded from %d sent, want %d (the allowance)", len(recs), sent, guard.DefaultRefusalsRecordedPerMinute)
	}
}

// A server listening on another loopback address (a second local server on 127.0.0.2) answers
// to the address it prints, and still refuses other names.
func TestALoopbackServerAnswersToItsOwnAddress(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "127.0.0.2:0", "127.0.0.7:0"} {
		t.Run(addr, func(t *testing.T) {
			dir := t.TempDir()
			_, base := startServer(t, []string{"HOME=" + dir, "VULSCAN_TCSS_ENDPOINT=emulator", "VULSCAN_ADDR=" + addr,
				"VULSCAN_AUDIT_DSN=sqlite:" + filepath.Join(dir, "audit.db"), "VULSCAN_AUDIT_WITNESS=off"})
			for _, tc := range []struct {
				host   string
				status int
			}{
				{"", http.StatusOK},
				{"rebind.attacker.example", http.StatusMisdirectedRequest},
			} {
				req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
				if tc.host != "" {
					_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
					req.Host = tc.host + ":" + port
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tc.status {
					t.Errorf("GET %s with Host %q: %d, want %d", base, req.Host, resp.StatusCode, tc.status)
				}
			}
		})
	}
}
