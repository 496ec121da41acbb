package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// A client over its start limit that retries with the idempotency key of a scan it already
// started gets that scan back (200, replayed), as the key promises, and TCSS is not called
// again; a new key is still held to the limit (429).
func TestAStartLimitedRetryOfAStartedScanIsReplayed(t *testing.T) {
	key := tcsstest.RandomKey()
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}})
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	_, base := startServer(t, []string{"HOME=" + dir, "VULSCAN_TCSS_ENDPOINT=" + srv.URL,
		"VULSCAN_AUDIT_DSN=sqlite:" + filepath.Join(dir, "audit.db"),
		"TENCENTCLOUD_SECRET_ID=" + key.SecretID, "TENCENTCLOUD_SECRET_KEY=" + key.SecretKey,
		"VULSCAN_START_LIMIT=1", "VULSCAN_AUDIT_WITNESS=off"})

	type answer struct {
		status int
		id     int64
		code   string
	}
	post := func(idempotencyKey string) answer {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/api/scans", strings.NewReader(`{"RegistryImageScanType":"NOT_SCAN"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", idempotencyKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var a struct {
			ID   int64
			Code string
		}
		json.Unmarshal(body, &a)
		return answer{status: resp.StatusCode, id: a.ID, code: a.Code}
	}

	first := post("nightly-1")
	if first.status != http.StatusCreated {
		t.Fatalf("first start: %+v, want 201", first)
	}
	for _, tc := range []struct {
		name   string
		key    string
		status int
		id     int64
	}{
		{"a retry of the started scan is replayed", "nightly-1", http.StatusOK, first.id},
		{"a new scan is over the limit", "nightly-2", http.StatusTooManyRequests, 0},
		{"a second retry is replayed too", "nightly-1", http.StatusOK, first.id},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := post(tc.key); got.status != tc.status || got.id != tc.id {
				t.Errorf("answer %+v, want status %d with id %d", got, tc.status, tc.id)
			}
		})
	}
	if n := emu.Calls("CreateVulScanTask"); n != 1 {
		t.Errorf("TCSS called %d times, want once", n)
	}
}

// A VULSCAN_START_LIMIT the guard cannot take stops the start with one line saying what it
// takes, its range included: 100001 was refused as "want a number", which it is.
func TestABadStartLimitSaysWhatItTakes(t *testing.T) {
	for _, value := range []string{"100001", "-3", "ten", "1.5"} {
		t.Run(value, func(t *testing.T) {
			f := newCLIFixture(t)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, vulscanBinary(t))
			cmd.Env = append(append([]string{}, f.env...), "VULSCAN_ADDR=127.0.0.1:0", "VULSCAN_START_LIMIT="+value)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
				t.Fatalf("want exit status 1, got %v\nstderr: %s", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			want := `vulscan: VULSCAN_START_LIMIT="` + value + `": want a number of scans per minute per actor, 1 to 100000, or off for no limit`
			if last := lines[len(lines)-1]; last != want {
				t.Errorf("last line of stderr:\n%s\nwant\n%s", last, want)
			}
		})
	}
}
