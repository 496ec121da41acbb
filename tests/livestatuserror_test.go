package tests

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// One check TCSS cannot answer while a scan runs (GET api/scans/{id} answers the attempt with a
// status_error) is a failed check, tried again, not the end of the scan: the page stopped
// polling at the first one and said "TCSS has answered: check again to see how.", though TCSS
// had answered the start minutes before and the scan went on, so the page never showed it end.
func TestLiveStatusOutlastsAStatusTCSSCouldNotGive(t *testing.T) {
	tab := newBrowser(t)
	site := newPageSite(t)
	id := site.start(t, `{"RegistryImageScanType":"NOT_SCAN"}`)
	ctx := tab(t)
	must(t, chromedp.Do(ctx,
		chromedp.Navigate(site.base+"scans/"+strconv.FormatInt(id, 10)),
		chromedp.WaitVisible(chromedp.ID("scan-status")),
	))
	before := site.polls.Load()
	site.emu.InjectFault("DescribeVulScanInfo", tcsstest.Fault{Code: "InternalError", Message: "An internal error occurred.", Times: 1})
	polling := func() bool {
		return run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("live").hasAttribute("data-poll")`))
	}
	// The poll that gets TCSS's error, and the one after it, if the page polls on.
	waitUntil(t, "two polls, or the page to stop polling", func() error {
		if site.polls.Load() >= before+2 || !polling() {
			return nil
		}
		return fmt.Errorf("%d polls", site.polls.Load()-before)
	})
	if !polling() {
		note := run(t, ctx, chromedp.Text(chromedp.ID("live-note")))
		t.Fatalf("the page stopped polling at one status TCSS could not give; it says %q", note)
	}
	site.ahead.Store(int64(scanDuration + 30*time.Second))
	waitUntil(t, "the page to show the finished scan", func() error {
		if got := run(t, ctx, chromedp.Evaluate[string](`document.getElementById("scan-status").textContent`)); got != "Finished" {
			return fmt.Errorf("status %q", got)
		}
		return nil
	})
}
