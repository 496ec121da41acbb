package tests

import (
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoSettingMeansTheRealTCSS runs vulscan as the container of issue 10 did: only PORT, a
// durable audit DSN, an access decision and a key. It must call the real TCSS endpoint, never an
// emulator: the scan start is recorded against tcss.tencentcloudapi.com, no page shows the
// emulator banner, and (the machine being offline, behind a proxy that refuses) the scan fails
// instead of succeeding on a simulation.
func TestNoSettingMeansTheRealTCSS(t *testing.T) {
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "audit.db")
	cmd := exec.Command(vulscanBinary(t))
	cmd.Dir = dir
	cmd.Env = append(functionEnv(), "PORT="+port, "VULSCAN_AUDIT_DSN="+dsn, "VULSCAN_PUBLIC=I-understand",
		"TENCENTCLOUD_SECRET_ID=AKIDnosimulation0000000000000000001", "TENCENTCLOUD_SECRET_KEY=not-a-real-key",
		// Nothing may leave this machine: every HTTPS request goes to a proxy that is not there.
		"HTTPS_PROXY=http://127.0.0.1:1", "https_proxy=http://127.0.0.1:1", "NO_PROXY=", "no_proxy=")
	p := startProcess(t, cmd)
	base := "http://" + addr + "/"
	waitUntil(t, "vulscan to serve "+base, func() error {
		select {
		case <-p.exited:
			t.Fatalf("vulscan exited: %v\n%s", p.err, p.Output())
		default:
		}
		resp, err := http.Get(base)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
	// The output reaches the test through a copying goroutine: wait for the line, not for serving.
	waitUntil(t, "the start-up line naming the TCSS endpoint", func() error {
		if !strings.Contains(p.Output(), "TCSS endpoint ") {
			return errors.New("not printed yet")
		}
		return nil
	})
	if out := p.Output(); !strings.Contains(out, "TCSS endpoint tcss.tencentcloudapi.com") || strings.Contains(out, "emulator") {
		t.Errorf("start-up output does not name the real endpoint, or mentions an emulator:\n%s", out)
	}
	if page := getText(t, base); strings.Contains(page, "emulator-banner") {
		t.Error("the form shows the emulator banner with no emulator configured")
	}

	resp, err := http.Post(base+"api/scans", "application/json", strings.NewReader(`{"LocalImageScanType":"NOT_SCAN"}`))
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Outcome string `json:"outcome"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	if resp.StatusCode == http.StatusCreated || answer.Outcome == "succeeded" {
		t.Fatalf("POST /api/scans: %d %+v; an offline machine cannot have started a real scan", resp.StatusCode, answer)
	}
	recs := auditRecords(t, dsn)
	if len(recs) == 0 {
		t.Fatal("no record of the attempt")
	}
	for _, r := range recs {
		if r.Endpoint != "tcss.tencentcloudapi.com" || r.Emulated() {
			t.Errorf("record %d (%s) has endpoint %q; want tcss.tencentcloudapi.com", r.ID, r.Outcome, r.Endpoint)
		}
	}
}
