package tests

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// A page drawn while TCSS could not tell where its scan stood checks again, and when TCSS can
// tell, says to check again to see it, without calling the scan's start an answer just come.
func TestAttemptPageDrawnWithoutStatusSaysWhenTCSSCanTell(t *testing.T) {
	tab := newBrowser(t)
	site := newPageSite(t)
	id := site.start(t, `{"RegistryImageScanType":"NOT_SCAN"}`)
	site.emu.InjectFault("DescribeVulScanInfo", tcsstest.Fault{Code: "InternalError", Message: "An internal error occurred.", Times: 1})
	ctx := tab(t)
	must(t, chromedp.Do(ctx,
		chromedp.Navigate(site.base+"scans/"+strconv.FormatInt(id, 10)),
		chromedp.WaitVisible(chromedp.ID("status-error")),
	))
	waitUntil(t, "the page to stop polling", func() error {
		if run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("live").hasAttribute("data-poll")`)) {
			return fmt.Errorf("still polling")
		}
		return nil
	})
	note := `(document.getElementById("live-note") || {textContent: "(no note)"}).textContent`
	if got := run(t, ctx, chromedp.Evaluate[string](note)); !strings.Contains(got, "TCSS can tell where the scan stands now") {
		t.Errorf("the note says %q, want that TCSS can tell where the scan stands now", got)
	}
	if got := run(t, ctx, chromedp.Text(chromedp.ID("badge"))); got != "Scan started" {
		t.Errorf("badge %q, want Scan started", got)
	}
}
