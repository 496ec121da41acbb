package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLocalServerAndCLIShareOneEmulator runs vulscan as `go tool task run` does (HTTP mode,
// VULSCAN_TCSS_ENDPOINT=emulator) and then `vulscan scan` with nothing but the environment the
// server printed for a second terminal: the CLI's scan must land in the server's emulator (the
// server shows its live status) and in the server's audit log; the pages carry the emulator
// banner. After a restart of the server,
// with the same audit log, the emulator hands out no task ID it handed out before.
func TestLocalServerAndCLIShareOneEmulator(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "audit.db")
	seen := map[int64]string{}
	taskID := func(id int64, who string) {
		t.Helper()
		if id == 0 {
			t.Fatalf("%s started no local task", who)
		}
		if before, ok := seen[id]; ok {
			t.Errorf("task ID %d handed out twice: to %s and to %s", id, before, who)
		}
		seen[id] = who
	}

	for run := 1; run <= 2; run++ {
		base, p, exports := startLocalServer(t, dir, dsn)
		if page := getText(t, base); !strings.Contains(page, `class="emulator-banner"`) {
			t.Errorf("the form shows no emulator banner:\n%.1500s", page)
		}

		var api struct {
			LocalTaskID int64 `json:"LocalTaskID"`
		}
		postJSON(t, base+"api/scans", `{"LocalImageScanType":"ALL"}`, http.StatusCreated, &api)
		taskID(api.LocalTaskID, fmt.Sprintf("the server's scan in run %d", run))

		cli := exec.Command(vulscanBinary(t), "scan", "--json", `{"RegistryImageScanType":"NOT_SCAN","LocalImageScanType":"NOT_SCAN"}`)
		cli.Dir = t.TempDir() // nothing of the server's working directory
		cli.Env = append(localEnv(), exports...)
		out, err := cli.Output()
		if err != nil {
			t.Fatalf("vulscan scan with the printed environment: %v\n%s", err, out)
		}
		var scanned struct {
			AttemptID   int64  `json:"attempt_id"`
			Outcome     string `json:"outcome"`
			LocalTaskID *int64 `json:"LocalTaskID"`
		}
		if err := json.Unmarshal(out, &scanned); err != nil || scanned.Outcome != "succeeded" || scanned.LocalTaskID == nil {
			t.Fatalf("vulscan scan printed %s (%v); want a succeeded scan", out, err)
		}
		taskID(*scanned.LocalTaskID, fmt.Sprintf("the CLI's scan in run %d", run))

		// The server knows the CLI's attempt (one audit log) and its task (one emulator).
		var attempt struct {
			LocalTaskID int64           `json:"LocalTaskID"`
			Status      json.RawMessage `json:"status"`
			StatusError string          `json:"status_error"`
		}
		getJSON(t, fmt.Sprintf("%sapi/scans/%d", base, scanned.AttemptID), &attempt)
		if attempt.LocalTaskID != *scanned.LocalTaskID || attempt.StatusError != "" || len(attempt.Status) == 0 {
			t.Errorf("the server's view of the CLI's attempt: %+v; want task %d with its live status", attempt, *scanned.LocalTaskID)
		}
		p.stop()
	}
	verifyAudit(t, dsn)
	// Every record names the emulator as its endpoint, and verify counts them all.
	recs := auditRecords(t, dsn)
	for _, r := range recs {
		if !r.Emulated() || !strings.HasPrefix(r.Endpoint, "emulator:http://127.0.0.1:") {
			t.Errorf("record %d (%s) has endpoint %q; want the local emulator's, emulator:http://127.0.0.1:PORT", r.ID, r.Trigger, r.Endpoint)
		}
	}
	out, err := exec.Command(vulscanBinary(t), "audit", "verify", "--dsn", dsn).Output()
	if want := fmt.Sprintf("emulator: %d of the records were made against a TCSS emulator", len(recs)); err != nil || !strings.Contains(string(out), want) {
		t.Errorf("vulscan audit verify: %v\n%s\nwant %q", err, out, want)
	}
}

// startLocalServer starts vulscan in HTTP mode with the local emulator in dir and returns its
// base URL, the process and the assignments of the export line it printed.
func startLocalServer(t *testing.T, dir, dsn string) (string, *process, []string) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(vulscanBinary(t))
	cmd.Dir = dir
	cmd.Env = append(localEnv(), "VULSCAN_ADDR="+addr, "VULSCAN_AUDIT_DSN="+dsn, "VULSCAN_TCSS_ENDPOINT=emulator")
	p := startProcess(t, cmd)
	var exports []string
	waitUntil(t, "vulscan to print the second terminal's environment", func() error {
		select {
		case <-p.exited:
			t.Fatalf("vulscan exited: %v\n%s", p.err, p.Output())
		default:
		}
		for _, line := range strings.Split(p.Output(), "\n") {
			if rest, ok := strings.CutPrefix(line, "export "); ok && strings.Contains(rest, "VULSCAN_TCSS_ENDPOINT=emulator:") {
				exports = strings.Fields(strings.ReplaceAll(rest, "'", ""))
				return nil
			}
		}
		return fmt.Errorf("no export line yet")
	})
	base := "http://" + addr + "/"
	waitUntil(t, "vulscan to serve "+base, func() error {
		resp, err := http.Get(base)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
	return base, p, exports
}

func postJSON(t *testing.T, url, body string, want int, v any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if resp.StatusCode != want || json.Unmarshal(buf.Bytes(), v) != nil {
		t.Fatalf("POST %s: %d %s; want %d with JSON", url, resp.StatusCode, buf.Bytes(), want)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(buf.Bytes(), v) != nil {
		t.Fatalf("GET %s: %d %s; want 200 with JSON", url, resp.StatusCode, buf.Bytes())
	}
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return buf.String()
}
