package tcss_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// clock is the emulator's injectable time: real time plus an offset the test moves forward.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// TestClientAgainstTheEmulator runs the real client, TC3 signing included, against the TCSS
// emulator, which verifies signatures as Tencent does.
func TestClientAgainstTheEmulator(t *testing.T) {
	key := tcsstest.RandomKey()
	temporary := tcsstest.RandomKey()
	temporary.Token = "session-token-for-the-temporary-key"
	clk := &clock{}
	emu, srv := tcsstest.NewServer(tcsstest.Options{
		Keys: []tcsstest.Key{key, temporary}, Now: clk.now, ScanDuration: time.Minute,
	})
	defer srv.Close()
	client := func(t *testing.T, cred common.CredentialIface) *tcss.Client {
		t.Helper()
		c, err := tcss.New(tcss.Config{
			Endpoint:   srv.URL,
			Region:     "ap-guangzhou",
			Credential: cred,
			Limiter:    tcss.NewPacer(math.Inf(1)),
			Backoff:    func(int) time.Duration { return 0 },
			Logger:     slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return c
	}
	ctx := context.Background()
	all := scan.Request{LocalImageScanType: "ALL", RegistryImageScanType: "ALL"}

	t.Run("a scan starts and advances to SCANNED", func(t *testing.T) {
		c := client(t, common.NewCredential(key.SecretID, key.SecretKey))
		ids, err := c.CreateVulScanTask(ctx, all)
		if err != nil {
			t.Fatalf("CreateVulScanTask: %v", err)
		}
		if ids.LocalTaskID <= 0 || ids.RegistryTaskID <= 0 || ids.RequestID == "" {
			t.Fatalf("TaskIDs = %+v, want both task IDs and a RequestId", ids)
		}
		info, err := c.DescribeVulScanInfo(ctx, ids.LocalTaskID, ids.RegistryTaskID)
		if err != nil {
			t.Fatalf("DescribeVulScanInfo: %v", err)
		}
		if info.Status != "SCANNING" || info.LocalTaskID != ids.LocalTaskID {
			t.Errorf("right after the start: %+v, want SCANNING of task %d", info, ids.LocalTaskID)
		}
		clk.advance(2 * time.Minute)
		info, err = c.DescribeVulScanInfo(ctx, ids.LocalTaskID, ids.RegistryTaskID)
		if err != nil {
			t.Fatalf("DescribeVulScanInfo: %v", err)
		}
		if info.Status != "SCANNED" {
			t.Errorf("after the scan's duration: Status %q, want SCANNED", info.Status)
		}
	})

	t.Run("a temporary key from the environment signs with its token", func(t *testing.T) {
		env := map[string]string{
			tcss.EnvSCFSecretID: temporary.SecretID, tcss.EnvSCFSecretKey: temporary.SecretKey,
			tcss.EnvSCFSessionToken: temporary.Token,
		}
		c := client(t, tcss.EnvCredential(func(k string) string { return env[k] }))
		if _, err := c.CreateVulScanTask(ctx, all); err != nil {
			t.Fatalf("CreateVulScanTask: %v", err)
		}
		delete(env, tcss.EnvSCFSessionToken)
		_, err := c.CreateVulScanTask(ctx, all)
		var apiErr *scan.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != "AuthFailure.TokenFailure" {
			t.Errorf("without its token: %v, want AuthFailure.TokenFailure", err)
		}
	})

	t.Run("a wrong key is refused with Tencent's code", func(t *testing.T) {
		c := client(t, common.NewCredential(key.SecretID, "not-the-key"))
		_, err := c.CreateVulScanTask(ctx, all)
		var apiErr *scan.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != "AuthFailure.SignatureFailure" || apiErr.RequestID == "" {
			t.Errorf("error = %v, want AuthFailure.SignatureFailure with a RequestId", err)
		}
	})

	t.Run("RequestLimitExceeded twice, then success", func(t *testing.T) {
		c := client(t, common.NewCredential(key.SecretID, key.SecretKey))
		before := emu.Calls(tcss.ActionCreateVulScanTask)
		emu.InjectFault(tcss.ActionCreateVulScanTask, tcsstest.Fault{Code: scan.CodeRequestLimitExceeded, Message: "slow down", Times: 2})
		defer emu.ClearFaults()
		if _, err := c.CreateVulScanTask(ctx, all); err != nil {
			t.Fatalf("CreateVulScanTask: %v", err)
		}
		if n := emu.Calls(tcss.ActionCreateVulScanTask) - before; n != 3 {
			t.Errorf("the emulator saw %d calls, want 3", n)
		}
	})

	t.Run("a dropped connection is outcome unknown and not retried", func(t *testing.T) {
		c := client(t, common.NewCredential(key.SecretID, key.SecretKey))
		before := emu.Calls(tcss.ActionCreateVulScanTask)
		emu.InjectFault(tcss.ActionCreateVulScanTask, tcsstest.Fault{Drop: true})
		defer emu.ClearFaults()
		_, err := c.CreateVulScanTask(ctx, all)
		if !errors.Is(err, scan.ErrOutcomeUnknown) {
			t.Errorf("error = %v, want outcome unknown", err)
		}
		if n := emu.Calls(tcss.ActionCreateVulScanTask) - before; n != 1 {
			t.Errorf("the emulator saw %d calls, want 1", n)
		}
	})
}
