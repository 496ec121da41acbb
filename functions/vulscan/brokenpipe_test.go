package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// A reader of vulscan's stdout or stderr that has gone away (`vulscan scan … | head -c1`, a log
// shipper that died) must not kill the process with SIGPIPE at its next witness line or answer:
// the scan goes on and its outcome is recorded. The exit status is the scan's, or 1 when its
// answer (the JSON on stdout) could not be written.
func TestScanWithAClosedOutputPipeStillRecordsItsOutcome(t *testing.T) {
	tests := []struct {
		name           string
		stdout, stderr bool // closed
		wantCode       int
	}{
		{"stdout closed", true, false, exitFailed},
		{"stderr closed (the witness lines)", false, true, exitOK},
		{"both closed", true, true, exitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := tcsstest.RandomKey()
			_, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}})
			t.Cleanup(srv.Close)
			dir := t.TempDir()
			dsn := "sqlite:" + dir + "/audit.db"
			cmd := exec.Command(vulscanBinary(t), "scan", "--LocalImageScanType", "ALL", "--RegistryImageScanType", "NOT_SCAN")
			cmd.Env = []string{"HOME=" + dir, "VULSCAN_TCSS_ENDPOINT=" + srv.URL, "VULSCAN_AUDIT_DSN=" + dsn,
				"TENCENTCLOUD_SECRET_ID=" + key.SecretID, "TENCENTCLOUD_SECRET_KEY=" + key.SecretKey}
			closedPipe := func() *os.File {
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				r.Close() // the reader has gone
				t.Cleanup(func() { w.Close() })
				return w
			}
			if tt.stdout {
				cmd.Stdout = closedPipe()
			}
			if tt.stderr {
				cmd.Stderr = closedPipe()
			}
			err := cmd.Run()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatal(err)
			}
			if code := cmd.ProcessState.ExitCode(); code != tt.wantCode {
				t.Errorf("vulscan scan ended with %v, want exit %d (not killed by SIGPIPE)", cmd.ProcessState, tt.wantCode)
			}
			store, err := openAuditStore(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			outcome, err := store.OutcomeOf(context.Background(), 1)
			if err != nil || outcome.Outcome != audit.OutcomeSucceeded {
				t.Errorf("attempt 1's outcome: %+v %v, want succeeded", outcome, err)
			}
		})
	}
}
