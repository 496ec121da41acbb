package tcss_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// inventoryClient is a real client, TC3 signing included, against a fresh emulator.
func inventoryClient(t *testing.T, limiter *tcss.Pacer, rate int) (*tcss.Client, *tcsstest.Emulator) {
	t.Helper()
	key := tcsstest.RandomKey()
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}, RatePerSecond: rate})
	t.Cleanup(srv.Close)
	c, err := tcss.New(tcss.Config{
		Endpoint:   srv.URL,
		Credential: common.NewCredential(key.SecretID, key.SecretKey),
		Limiter:    limiter,
		Backoff:    func(int) time.Duration { return time.Millisecond },
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, emu
}

func TestInventoryListsAgainstTheEmulator(t *testing.T) {
	c, emu := inventoryClient(t, tcss.NewPacer(math.Inf(1)), 0)
	ctx := context.Background()

	t.Run("registry images filtered by name, tag and registry, paged", func(t *testing.T) {
		q := scan.InventoryQuery{Name: "payments", Tag: "latest", Registry: "tencentcloudcr", Limit: 10}
		page, err := c.RegistryImages(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 1 || len(page.Items) != 1 {
			t.Fatalf("page %+v, want the one latest payments-api image of tcr-prod", page)
		}
		img := page.Items[0]
		if img.Name != "payments-api" || img.Tag != "latest" || img.Registry != "tcr-prod" || !img.Latest || img.ID < tcsstest.FirstRegistryImageID {
			t.Errorf("row %+v", img)
		}
		all, err := c.RegistryImages(ctx, scan.InventoryQuery{Limit: 5, Offset: 40})
		if err != nil || all.Total != int64(len(tcsstest.RegistryImages())) || len(all.Items) != 2 {
			t.Errorf("last page: %d of %d rows, %v", len(all.Items), all.Total, err)
		}
	})
	t.Run("local images by name", func(t *testing.T) {
		page, err := c.LocalImages(ctx, scan.InventoryQuery{Name: "redis", Limit: 100})
		if err != nil || page.Total != 3 || !strings.HasPrefix(page.Items[0].ID, "sha256:") || page.Items[0].Name != "redis:1.0.0" {
			t.Errorf("page %+v, %v", page, err)
		}
	})
	t.Run("clusters by name", func(t *testing.T) {
		page, err := c.Clusters(ctx, scan.InventoryQuery{Name: "prod", Limit: 10})
		if err != nil || page.Total != 2 || !strings.HasPrefix(page.Items[0].ID, "cls-") {
			t.Errorf("page %+v, %v", page, err)
		}
	})
	for _, action := range []string{tcss.ActionDescribeAssetImageList, tcss.ActionDescribeAssetImageRegistryList, tcss.ActionDescribeAssetClusterList} {
		if emu.Calls(action) == 0 {
			t.Errorf("%s was never called", action)
		}
	}
}

// The lists go through the same per-action pacing as every TCSS call (TCSS allows 20 a second):
// with a budget of one call an hour, a second list waits for its turn instead of being sent.
func TestInventoryListsArePaced(t *testing.T) {
	c, emu := inventoryClient(t, tcss.NewPacer(1.0/3600), 0)
	if _, err := c.RegistryImages(context.Background(), scan.InventoryQuery{Limit: 10}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.RegistryImages(ctx, scan.InventoryQuery{Limit: 10}); err == nil || !strings.Contains(err.Error(), "nothing sent") {
		t.Fatalf("second call: %v, want it held back by the pacer", err)
	}
	if n := emu.Calls(tcss.ActionDescribeAssetImageRegistryList); n != 1 {
		t.Errorf("TCSS saw %d calls, want 1", n)
	}
}

func TestInventoryRefusalsAreAPIErrors(t *testing.T) {
	c, emu := inventoryClient(t, tcss.NewPacer(math.Inf(1)), 0)
	emu.InjectFault(tcss.ActionDescribeAssetImageList, tcsstest.Fault{Code: "AuthFailure.UnauthorizedOperation", Message: "no permission", Times: 1})
	_, err := c.LocalImages(context.Background(), scan.InventoryQuery{Limit: 10})
	var apiErr *scan.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "AuthFailure.UnauthorizedOperation" {
		t.Fatalf("error %v, want TCSS's AuthFailure.UnauthorizedOperation", err)
	}
}

// A finished local task's vulnerabilities by severity add up to the task's FoundVulCount.
func TestLocalVulSeveritiesAddUpTheTask(t *testing.T) {
	key := tcsstest.RandomKey()
	clk := &clock{}
	_, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}, Now: clk.now, ScanDuration: time.Minute})
	t.Cleanup(srv.Close)
	c, err := tcss.New(tcss.Config{Endpoint: srv.URL, Credential: common.NewCredential(key.SecretID, key.SecretKey),
		Limiter: tcss.NewPacer(math.Inf(1)), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ids, err := c.CreateVulScanTask(ctx, scan.Request{LocalImageScanType: "ALL"})
	if err != nil {
		t.Fatal(err)
	}
	clk.advance(2 * time.Minute)
	info, err := c.DescribeVulScanInfo(ctx, ids.LocalTaskID, 0)
	if err != nil || info.Status != "SCANNED" {
		t.Fatalf("status %+v, %v", info, err)
	}
	sev, err := c.LocalVulSeverities(ctx, ids.LocalTaskID)
	if err != nil {
		t.Fatal(err)
	}
	if total := sev.Critical + sev.High + sev.Medium + sev.Low; total != info.FoundVulCount || sev.Images != info.LocalImageScanCount || sev.Critical == 0 || sev.Partial {
		t.Errorf("severities %+v add up to %d; the task found %d vulnerabilities in %d images", sev, total, info.FoundVulCount, info.LocalImageScanCount)
	}
	if _, err := c.LocalVulSeverities(ctx, ids.LocalTaskID+100); err == nil {
		t.Error("a task that does not exist has severities")
	}
}
