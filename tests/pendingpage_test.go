package tests

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// A page drawn while its attempt waited for TCSS says so when TCSS answers, where the page said
// it was waiting: in its status region, which a screen reader announces, and in its headline.
// The script only changed the small note beside "Check again" (no live region), so the page
// went on saying "Waiting for TCSS" and "TCSS has not answered yet." under "TCSS has answered",
// and a screen reader said nothing at all.
func TestPendingAttemptPageSaysWhenTCSSHasAnswered(t *testing.T) {
	tab := newBrowser(t)
	site := newPageSite(t)
	site.emu.InjectFault("CreateVulScanTask", tcsstest.Fault{Latency: 3 * time.Second, Times: 1})
	answered := make(chan error, 1)
	go func() {
		resp, err := http.Post(site.base+"api/scans", "application/json", strings.NewReader(`{"RegistryImageScanType":"NOT_SCAN"}`))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				err = fmt.Errorf("POST api/scans: status %d", resp.StatusCode)
			}
		}
		answered <- err
	}()
	waitUntil(t, "attempt 1 to be pending", func() error {
		resp, err := http.Get(site.base + "api/scans/1")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var a struct{ Outcome string }
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			return fmt.Errorf("status %d: %v", resp.StatusCode, err)
		}
		if a.Outcome != "pending" {
			return fmt.Errorf("outcome %q", a.Outcome)
		}
		return nil
	})
	ctx := tab(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(site.base+"scans/1"), chromedp.WaitVisible(chromedp.ID("live-note"))))
	if got := run(t, ctx, chromedp.Text(chromedp.ID("badge"))); got != "Waiting for TCSS" {
		t.Fatalf("badge %q before TCSS answered, want Waiting for TCSS", got)
	}
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the page to stop polling", func() error {
		if run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("live").hasAttribute("data-poll")`)) {
			return fmt.Errorf("still polling")
		}
		return nil
	})
	live := run(t, ctx, chromedp.Evaluate[string](`document.getElementById("live").textContent`))
	if !strings.Contains(live, "TCSS has answered") || strings.Contains(live, "not answered") {
		t.Errorf("the status region (aria-live) says %q, want that TCSS has answered", strings.TrimSpace(live))
	}
	for _, id := range []string{"badge", "headline"} {
		if got := run(t, ctx, chromedp.Text(chromedp.ID(id))); strings.Contains(got, "Waiting") {
			t.Errorf("#%s still says %q after TCSS answered", id, got)
		}
	}
}
