package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/scan/scantest"
	"github.com/vulscan/vulscan/functions/schedule"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
	"github.com/vulscan/vulscan/web"
	"github.com/vulscan/vulscan/web/auth"

	"github.com/vulscan/vulscan/internal/citest"
)

// pageSite is the web handler over the real scan path (TCSS client, emulator, SQLite audit log)
// in this process, with an emulator clock the test moves: scans finish when the test says so.
type pageSite struct {
	base  string       // ends in "/"
	ahead atomic.Int64 // how far the emulator's clock runs ahead of real time
	polls atomic.Int64 // GET api/scans/{id} requests served
	// service is the scan service behind the pages, for attempts a test makes as a timer would.
	service *scan.Service
	emu     *tcsstest.Emulator // TCSS, for faults
}

// scanDuration is how long an emulated scan runs; the test jumps the clock past it (TC3
// signatures stay valid for five minutes of skew).
const scanDuration = 2 * time.Minute

// siteClock, when set, is the clock of the pages and of the audit records (the fake clock of the
// schedules view); the emulator keeps real time, as TC3 signatures need it.
type siteOptions struct {
	clock     func() time.Time
	schedules string // VULSCAN_SCHEDULES
}

func newPageSite(t *testing.T, opts ...func(*siteOptions)) *pageSite {
	t.Helper()
	var o siteOptions
	for _, f := range opts {
		f(&o)
	}
	site := &pageSite{}
	w := scantest.New(t, scantest.Options{Now: o.clock, Emulator: func(o *tcsstest.Options) {
		o.ScanDuration = scanDuration
		o.Now = func() time.Time { return time.Now().Add(time.Duration(site.ahead.Load())) }
	}})
	set, err := schedule.Parse(o.schedules)
	if err != nil {
		t.Fatal(err)
	}
	site.service, site.emu = w.Service, w.Emulator
	h := web.New(web.Config{Scans: w.Service, Audit: w.Store, Logger: scantest.Discard, Now: o.clock, Schedules: set, Inventory: w.Client})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/scans/") {
			site.polls.Add(1)
		}
		h.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	site.base = srv.URL + "/"
	return site
}

// start posts a scan to the JSON API and returns its attempt's ID.
func (s *pageSite) start(t *testing.T, body string) int64 {
	t.Helper()
	resp, err := http.Post(s.base+"api/scans", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct{ ID int64 }
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST api/scans %s: %d, %v", body, resp.StatusCode, err)
	}
	return ans.ID
}

// countTimers makes every page of the tab count its pending setTimeout callbacks in
// window.__pendingTimers, so that a test can see that polling has stopped without waiting.
const countTimers = `window.__pendingTimers = 0;
(function () {
  var setTimeoutReal = window.setTimeout;
  window.setTimeout = function (fn, ms) {
    window.__pendingTimers++;
    return setTimeoutReal(function () { window.__pendingTimers--; fn(); }, ms);
  };
})();`

// The attempt page keeps its status region current without reloading (WCAG 2.2.1) and stops
// polling when the scan has ended.
func TestLiveStatusUpdatesInPlaceAndStops(t *testing.T) {
	tab := newBrowser(t)
	site := newPageSite(t)
	id := site.start(t, `{"LocalImageScanType":"NOT_SCAN","RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[12,13]}`)
	ctx := tab(t)
	must(t, chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: countTimers})
		return err
	})))
	must(t, chromedp.Do(ctx,
		chromedp.Navigate(site.base+"scans/"+strconv.FormatInt(id, 10)),
		chromedp.WaitVisible(chromedp.ID("scan-status")),
	))
	if got := run(t, ctx, chromedp.Text(chromedp.ID("scan-status"))); got != "Scanning" {
		t.Fatalf("status %q, want Scanning", got)
	}
	if got := run(t, ctx, chromedp.Text(chromedp.ID("badge"))); got != "Scan started" {
		t.Errorf("badge %q, want Scan started", got)
	}
	// A marker that a reload would wipe out.
	run(t, ctx, chromedp.Evaluate[bool](`window.__sameDocument = true`))

	site.ahead.Store(int64(scanDuration + 30*time.Second))
	// Waited for from here rather than with chromedp.Poll, whose own timer in the page would
	// count as pending.
	waitUntil(t, "the page to show the finished scan", func() error {
		if got := run(t, ctx, chromedp.Evaluate[string](`document.getElementById("scan-status").textContent`)); got != "Finished" {
			return fmt.Errorf("status %q", got)
		}
		return nil
	})

	if !run(t, ctx, chromedp.Evaluate[bool](`window.__sameDocument === true`)) {
		t.Error("the page reloaded to show the new status")
	}
	for sel, want := range map[string]string{
		"#badge":                                "Scan finished",
		`[data-field="RegistryImageScanCount"]`: "2",
		// The emulator's five not-yet-scanned local images hold 15 vulnerabilities, 2 critical.
		`[data-field="FoundVulCount"]`: "15",
		`[data-severity="Critical"]`:   "2",
		`[data-severity="Low"]`:        "5",
	} {
		if got := run(t, ctx, chromedp.Text(chromedp.CSS(sel))); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	ended := run(t, ctx, chromedp.Text(chromedp.ID("scan-ended")))
	if !strings.HasSuffix(ended, " UTC") {
		t.Errorf("scan end %q is not shown in UTC", ended)
	}
	// Stopped: no poll scheduled, the region no longer asks to be polled, "Check again" gone.
	if n := run(t, ctx, chromedp.Evaluate[int](`window.__pendingTimers`)); n != 0 {
		t.Errorf("%d timers still pending after the scan ended", n)
	}
	if run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("live").hasAttribute("data-poll")`)) {
		t.Error("the status region still asks to be polled")
	}
	if !run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("check-again-line").hidden`)) {
		t.Error("Check again is still offered after the scan ended")
	}
	if site.polls.Load() == 0 {
		t.Error("the page never polled the API")
	}
}

// axeSource is axe-core, installed by `npm ci --prefix tests/axe`.
func axeSource(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("axe", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		citest.Missing(t, "axe-core is not installed (npm ci --prefix tests/axe): %v", err)
	}
	return string(src)
}

// axeViolations injects axe-core into the tab's page (DevTools evaluation is not bound by the
// page's CSP) and returns its serious and critical violations, one line each.
func axeViolations(t *testing.T, ctx context.Context, src string) []string {
	t.Helper()
	run(t, ctx, chromedp.Evaluate[bool](src+";true"))
	type finding struct {
		ID, Impact, Help string
		Targets          []string
	}
	all := run(t, ctx, chromedp.Evaluate[[]finding](`axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
  return r.violations.map(function (v) {
    return {ID: v.id, Impact: v.impact || "", Help: v.help,
      Targets: v.nodes.slice(0, 3).map(function (n) { return n.target.join(" "); })};
  });
})`, chromedp.EvalAwaitPromise))
	var bad []string
	for _, f := range all {
		t.Logf("axe: %s (%s): %s at %v", f.ID, f.Impact, f.Help, f.Targets)
		if f.Impact == "serious" || f.Impact == "critical" {
			bad = append(bad, f.ID+" ("+f.Impact+"): "+f.Help+" at "+strings.Join(f.Targets, "; "))
		}
	}
	return bad
}

// Every page passes axe-core with no serious or critical violation.
func TestPagesPassAxe(t *testing.T) {
	src := axeSource(t)
	tab := newBrowser(t)
	site := newPageSite(t)
	running := site.start(t, `{"LocalImageScanType":"ALL","RegistryImageScanType":"ALL"}`)
	finished := site.start(t, `{"RegistryImageScanType":"NOT_SCAN"}`)
	_ = finished
	pages := []struct {
		name string
		path string
		do   []chromedp.Action[struct{}]
	}{
		{name: "form", path: ""},
		{name: "form with errors", path: "", do: []chromedp.Action[struct{}]{
			chromedp.Click(chromedp.ID("LocalImageScanType-IMAGEIDS")),
			chromedp.SendKeys(chromedp.ID("RegistryTaskID"), "twelve"),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("error-summary")),
		}},
		{name: "confirmation", path: "", do: []chromedp.Action[struct{}]{
			chromedp.Click(chromedp.ID("LocalImageScanType-ALL")),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("confirm")),
		}},
		{name: "attempt in progress", path: "scans/" + strconv.FormatInt(running, 10)},
		{name: "audit log", path: "audit"},
		{name: "picker", path: "pick/registry?q_name=nginx&page=1&sel=1001"},
		{name: "not found", path: "no/such/page"},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			ctx := tab(t)
			must(t, chromedp.Do(ctx, chromedp.Navigate(site.base+p.path), chromedp.WaitReady(chromedp.CSS("main"))))
			for _, a := range p.do {
				must(t, chromedp.Do(ctx, a))
			}
			if bad := axeViolations(t, ctx, src); len(bad) > 0 {
				t.Errorf("%d serious or critical violations:\n%s", len(bad), strings.Join(bad, "\n"))
			}
		})
	}
	t.Run("schedules", func(t *testing.T) {
		sched := scheduleSite(t)
		ctx := tab(t)
		must(t, chromedp.Do(ctx, chromedp.Navigate(sched.base+"schedules"), chromedp.WaitVisible(chromedp.ID("missed-nightly"))))
		if bad := axeViolations(t, ctx, src); len(bad) > 0 {
			t.Errorf("%d serious or critical violations:\n%s", len(bad), strings.Join(bad, "\n"))
		}
	})
	t.Run("failed sign-in", func(t *testing.T) {
		signIn := signInSite(t)
		ctx := tab(t)
		// A callback with no sign-in under way in this browser: the sign-in expired or was
		// started elsewhere, and the page offers to sign in again.
		must(t, chromedp.Do(ctx, chromedp.Navigate(signIn+"auth/callback?state=s&code=c"), chromedp.WaitVisible(chromedp.ID("sign-in-again"))))
		if bad := axeViolations(t, ctx, src); len(bad) > 0 {
			t.Errorf("%d serious or critical violations:\n%s", len(bad), strings.Join(bad, "\n"))
		}
	})
	t.Run("attempt finished", func(t *testing.T) {
		site.ahead.Store(int64(scanDuration + 30*time.Second))
		ctx := tab(t)
		must(t, chromedp.Do(ctx, chromedp.Navigate(site.base+"scans/"+strconv.FormatInt(finished, 10)), chromedp.WaitVisible(chromedp.ID("scan-status"))))
		if got := run(t, ctx, chromedp.Text(chromedp.ID("badge"))); got != "Scan finished" {
			t.Fatalf("badge %q, want Scan finished", got)
		}
		if bad := axeViolations(t, ctx, src); len(bad) > 0 {
			t.Errorf("%d serious or critical violations:\n%s", len(bad), strings.Join(bad, "\n"))
		}
	})
}

// signInSite serves the pages behind sign-in with an OpenID provider that is never reached
// (nothing listens at its issuer), for the pages of a sign-in that failed; it returns the
// site's address, ending in "/".
func signInSite(t *testing.T) string {
	t.Helper()
	w := scantest.New(t, scantest.Options{})
	o, err := auth.NewOIDC(auth.OIDCConfig{Issuer: "http://127.0.0.1:1", ClientID: "vulscan",
		RedirectURL: "http://127.0.0.1/auth/callback", AllowedEmails: []string{"*"},
		SessionKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.Config{Modes: []auth.Mode{auth.ModeOIDC}, OIDC: o, Logger: scantest.Discard}, auth.Where{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(web.Config{Scans: w.Service, Audit: w.Store, Logger: scantest.Discard, Auth: a}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// The audit table is readable at 1280 px and on a phone: nothing is clipped or needs scrolling
// sideways, the Detail column included.
func TestAuditTableFitsDesktopAndPhone(t *testing.T) {
	tab := newBrowser(t)
	site := newPageSite(t)
	site.start(t, `{"RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[12,13]}`)
	resp, err := http.Post(site.base+"api/scans", "application/json", strings.NewReader(`{"LocalImageScanType":"IMAGEIDS"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // rejected: its Detail is the longest text
	for _, vp := range []struct {
		name          string
		width, height int64
	}{{"desktop 1280", 1280, 900}, {"phone", 390, 844}} {
		t.Run(vp.name, func(t *testing.T) {
			ctx := tab(t)
			must(t, chromedp.Do(ctx,
				chromedp.EmulateViewport(vp.width, vp.height),
				chromedp.Navigate(site.base+"audit"),
				chromedp.WaitVisible(chromedp.ID("records")),
			))
			overflow := run(t, ctx, chromedp.Evaluate[[]int](`(function () {
  var box = document.querySelector(".table-scroll");
  var detail = document.querySelector("#records td.detail").getBoundingClientRect();
  return [box.scrollWidth - box.clientWidth, Math.ceil(detail.right - document.documentElement.clientWidth),
    document.documentElement.scrollWidth - document.documentElement.clientWidth];
})()`))
			if overflow[0] > 0 || overflow[1] > 0 || overflow[2] > 0 {
				t.Errorf("the table overflows by %d px, its Detail cell by %d px, the page by %d px", overflow[0], overflow[1], overflow[2])
			}
			// Each filter's label stays on one line and its control within the filter row: a
			// wrapped label ("To (UTC date, included)" at 1280 px) pushed its box below the others.
			for _, problem := range run(t, ctx, chromedp.Evaluate[[]string](`(function () {
  var out = [], form = document.querySelector("form.filters").getBoundingClientRect();
  document.querySelectorAll(".filters .field > label").forEach(function (label) {
    var line = parseFloat(getComputedStyle(label).lineHeight);
    var box = label.getBoundingClientRect();
    if (box.height > line * 1.5) out.push("label " + JSON.stringify(label.textContent) + " wraps: " + box.height + " px high, a line is " + line);
    var control = document.getElementById(label.htmlFor).getBoundingClientRect();
    if (control.right > form.right + 0.5 || control.left < form.left - 0.5) out.push("#" + label.htmlFor + " sticks out of the filter row");
  });
  return out;
})()`)) {
				t.Error(problem)
			}
		})
	}
}

// fakeClock is a settable clock for the pages and the audit records.
type fakeClock struct{ nanos atomic.Int64 }

func (c *fakeClock) set(t time.Time)       { c.nanos.Store(t.UnixNano()) }
func (c *fakeClock) now() time.Time        { return time.Unix(0, c.nanos.Load()).UTC() }
func (c *fakeClock) option(o *siteOptions) { o.clock = c.now }

// scheduleSite is a site with a nightly schedule that ran on 3 and 5 December 2026 but not on
// the 4th, seen on the 5th at 09:00 UTC (fake clock).
func scheduleSite(t *testing.T) *pageSite {
	t.Helper()
	clock := &fakeClock{}
	site := newPageSite(t, clock.option, func(o *siteOptions) { o.schedules = "nightly=0 0 2 * * * *;weekly=0 30 3 * * 1 *" })
	timer := scan.Caller{Trigger: audit.TriggerTimer, Actor: schedule.Actor("nightly")}
	for _, at := range []time.Time{time.Date(2026, 12, 3, 2, 0, 4, 0, time.UTC), time.Date(2026, 12, 5, 2, 0, 2, 0, time.UTC)} {
		clock.set(at)
		if _, err := site.service.Start(context.Background(), scan.Request{RegistryImageScanType: "NOT_SCAN"}, "timer/nightly@"+at.Format(time.RFC3339), timer); err != nil {
			t.Fatal(err)
		}
	}
	clock.set(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	return site
}

// The schedules view flags last night's missing run in plain words (fake clock, in Chromium).
func TestSchedulesViewFlagsAMissedRun(t *testing.T) {
	tab := newBrowser(t)
	site := scheduleSite(t)
	ctx := tab(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(site.base), chromedp.WaitVisible(chromedp.ID("submit"))))
	// Found from the site's navigation, as a person would.
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav a[href="./schedules"]`)), chromedp.WaitVisible(chromedp.ID("schedule-nightly"))))
	if got := run(t, ctx, chromedp.Text(chromedp.CSS("#missed-nightly li"))); got != "No run recorded for 2026-12-04 02:00 UTC." {
		t.Errorf("missed run: %q", got)
	}
	if got := run(t, ctx, chromedp.Text(chromedp.ID("next-nightly"))); got != "2026-12-06 02:00:00 UTC" {
		t.Errorf("next run: %q", got)
	}
	rows := run(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#schedule-nightly tbody tr")).map(function (tr) { return tr.innerText; })`))
	if len(rows) != 2 || !strings.Contains(rows[0], "2026-12-05 02:00:02 UTC") || !strings.Contains(rows[0], "Scan started") || !strings.Contains(rows[0], "registry 3600") {
		t.Errorf("runs: %q", rows)
	}
}

// A keyboard-only pick of two registry images from TCSS's inventory starts a scan with exactly
// those IDs: from the form to the picker, a search, two ticks, back to the form, start.
func TestKeyboardPickOfTwoRegistryImages(t *testing.T) {
	tab := newBrowser(t)
	site := newPageSite(t)
	ctx := tab(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(site.base), chromedp.WaitVisible(chromedp.ID("submit"))))

	tabTo(t, ctx, "pick-registry")
	must(t, chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("q-name"))))
	// Search for the payments API's images in the production registry.
	tabTo(t, ctx, "q-name")
	must(t, chromedp.Do(ctx, chromedp.KeyEvent("payments")))
	tabTo(t, ctx, "q-repo")
	must(t, chromedp.Do(ctx, chromedp.KeyEvent("prod-registry")))
	must(t, chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)))
	// The unfiltered picker already shows #results: wait for the page of this search instead.
	waitUntil(t, "the search's page", func() error {
		loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`location.search.indexOf("prod-registry") >= 0 && document.readyState === "complete" && document.getElementById("results") !== null`))
		if err == nil && !loaded {
			err = errors.New("not loaded yet")
		}
		return err
	})
	ids := run(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#results input[name=sel]")).map(function (c) { return c.value; })`))
	if len(ids) != 3 {
		t.Fatalf("search found %v, want the 3 payments-api images of prod-registry", ids)
	}
	want := []string{ids[0], ids[2]}
	for _, id := range want {
		tabTo(t, ctx, "pick-"+id)
		must(t, chromedp.Do(ctx, chromedp.KeyEvent(" ")))
	}
	tabTo(t, ctx, "use-selected")
	must(t, chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("submit"))))
	if got := run(t, ctx, chromedp.Value(chromedp.ID("RegistryImageIDs"))); got != want[0]+", "+want[1] {
		t.Fatalf("the form's registry image IDs are %q, want %s, %s", got, want[0], want[1])
	}
	tabTo(t, ctx, "submit")
	must(t, chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("registry-task-id"))))

	loc := run(t, ctx, chromedp.Location())
	id := loc[strings.LastIndex(loc, "/")+1:]
	resp, err := http.Get(site.base + "api/scans/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		Outcome string `json:"outcome"`
		Params  struct {
			RegistryImageScanType string
			RegistryImageIDs      []uint64
			LocalImageScanType    string
		} `json:"params"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(ans.Params.RegistryImageIDs)
	if ans.Outcome != "succeeded" || ans.Params.RegistryImageScanType != "IMAGEIDS" || got != "["+want[0]+" "+want[1]+"]" || ans.Params.LocalImageScanType != "" {
		t.Errorf("attempt %s: %+v; want a started scan of exactly registry images %v", id, ans, want)
	}
}
