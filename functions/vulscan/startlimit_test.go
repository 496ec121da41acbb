package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

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
