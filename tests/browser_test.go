package tests

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/vulscan/vulscan/functions/audit"
)

// TestBrowser drives the form in headless Chromium against `task run`-equivalent wiring: the
// real binary in HTTP mode, with the built-in TCSS emulator and a SQLite audit log.
//
// Set VULSCAN_SCREENSHOT=docs/screenshot-form.png to refresh the README's screenshot.
func TestBrowser(t *testing.T) {
	base, auditDSN := startVulscanHTTP(t)
	tab := newBrowser(t)

	t.Run("fill and submit the form, see the task IDs", func(t *testing.T) {
		ctx := tab(t)
		image := "sha256:" + strings.Repeat("ab", 32)
		must(t, chromedp.Do(ctx,
			chromedp.Navigate(base),
			chromedp.WaitVisible(chromedp.ID("submit")),
			chromedp.Click(chromedp.ID("LocalImageScanType-IMAGEIDS")),
			chromedp.SendKeys(chromedp.ID("LocalImageIDs"), image),
			chromedp.Click(chromedp.ID("RegistryImageScanType-ALL")),
			chromedp.Click(chromedp.ID("IsLatest")),
			chromedp.Click(chromedp.ID("submit")),
			// ALL asks first.
			chromedp.WaitVisible(chromedp.ID("confirm")),
		))
		scope := run(t, ctx, chromedp.Text(chromedp.ID("scope")))
		if !strings.Contains(scope, "Registry images: every image (ALL), only the latest version") {
			t.Errorf("confirmation says %q", scope)
		}
		must(t, chromedp.Do(ctx,
			chromedp.Click(chromedp.ID("confirm")),
			chromedp.WaitVisible(chromedp.ID("local-task-id")),
		))
		loc := run(t, ctx, chromedp.Location())
		if !regexp.MustCompile(`/scans/\d+$`).MatchString(loc) {
			t.Errorf("result page is at %s", loc)
		}
		for _, id := range []string{"local-task-id", "registry-task-id"} {
			if txt := run(t, ctx, chromedp.Text(chromedp.ID(id))); !regexp.MustCompile(`^\d+$`).MatchString(txt) {
				t.Errorf("#%s = %q, want a task ID", id, txt)
			}
		}
		if status := run(t, ctx, chromedp.Text(chromedp.ID("scan-status"))); status != "Scanning" {
			t.Errorf("live status = %q", status)
		}
		// The attempt is in the audit log, which verifies.
		must(t, chromedp.Do(ctx,
			chromedp.Navigate(base+"audit"),
			chromedp.WaitVisible(chromedp.ID("records")),
		))
		if chain := run(t, ctx, chromedp.Text(chromedp.ID("chain"))); !strings.Contains(chain, "verified") {
			t.Errorf("chain status = %q", chain)
		}
		recs := auditRecords(t, auditDSN)
		if len(recs) != 2 || recs[1].Outcome != audit.OutcomeSucceeded || recs[0].Trigger != audit.TriggerForm {
			t.Errorf("audit log = %+v, want a pending and a succeeded form record", recs)
		}
	})

	t.Run("a validation error focuses the summary", func(t *testing.T) {
		ctx := tab(t)
		must(t, chromedp.Do(ctx,
			chromedp.Navigate(base),
			chromedp.WaitVisible(chromedp.ID("submit")),
			chromedp.Click(chromedp.ID("LocalImageScanType-IMAGEIDS")),
			chromedp.SendKeys(chromedp.ID("RegistryTaskID"), "twelve"),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("error-summary")),
		))
		if id := activeElementID(t, ctx); id != "error-summary" {
			t.Errorf("focus is on %q, want the error summary", id)
		}
		if v := run(t, ctx, chromedp.Value(chromedp.ID("RegistryTaskID"))); v != "twelve" {
			t.Errorf("RegistryTaskID = %q after the error", v)
		}
		// Following a summary link lands on the field.
		must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#error-summary a[href="#RegistryTaskID"]`))))
		if id := activeElementID(t, ctx); id != "RegistryTaskID" {
			t.Errorf("after the summary link, focus is on %q", id)
		}
	})

	t.Run("keyboard only", func(t *testing.T) {
		ctx := tab(t)
		must(t, chromedp.Do(ctx,
			chromedp.Navigate(base),
			chromedp.WaitVisible(chromedp.ID("submit")),
		))
		// The registry scope group is one tab stop; arrows move the choice (None → ALL → NOT_SCAN).
		tabTo(t, ctx, "RegistryImageScanType")
		must(t, chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowRight)))
		if id := activeElementID(t, ctx); id != "RegistryImageScanType-NOT_SCAN" {
			t.Fatalf("arrows moved to %q", id)
		}
		tabTo(t, ctx, "IsLatest")
		must(t, chromedp.Do(ctx, chromedp.KeyEvent(" ")))
		if !run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("IsLatest").checked`)) {
			t.Fatal("Space did not tick IsLatest")
		}
		tabTo(t, ctx, "submit")
		must(t, chromedp.Do(ctx,
			chromedp.KeyEvent(kb.Enter),
			chromedp.WaitVisible(chromedp.ID("registry-task-id")),
		))
		if txt := run(t, ctx, chromedp.Text(chromedp.ID("registry-task-id"))); !regexp.MustCompile(`^\d+$`).MatchString(txt) {
			t.Errorf("registry task ID = %q", txt)
		}
	})

	t.Run("screenshot of the form", func(t *testing.T) {
		ctx := tab(t)
		must(t, chromedp.Do(ctx,
			chromedp.EmulateViewport(1100, 900),
			chromedp.Navigate(base),
			chromedp.WaitVisible(chromedp.ID("submit")),
		))
		png := run(t, ctx, chromedp.FullScreenshot(100))
		path := os.Getenv("VULSCAN_SCREENSHOT")
		if path == "" {
			path = filepath.Join(t.TempDir(), "screenshot-form.png")
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		if len(png) < 1000 || string(png[1:4]) != "PNG" {
			t.Errorf("screenshot is %d bytes, not a PNG", len(png))
		}
	})
}

// newBrowser starts headless Chromium for the test and returns a function that opens a fresh
// tab of it for a subtest.
func newBrowser(t *testing.T) func(t *testing.T) context.Context {
	t.Helper()
	chromium := requireTool(t, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1200, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return func(t *testing.T) context.Context {
		ctx, cancel := chromedp.NewContext(browserCtx)
		t.Cleanup(cancel)
		return ctx
	}
}

// tabTo presses Tab until the element with this id has focus, failing if it never does: the
// element must be reachable by keyboard, in a sensible number of steps.
func tabTo(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	for range 60 {
		if activeElementID(t, ctx) == id {
			return
		}
		must(t, chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)))
	}
	t.Fatalf("#%s is not reachable with Tab", id)
}

func activeElementID(t *testing.T, ctx context.Context) string {
	t.Helper()
	return run(t, ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// startVulscanHTTP runs the vulscan binary as `task run` does: HTTP mode on a free loopback
// port, the in-process TCSS emulator, a SQLite audit log in a temporary directory. It returns the
// base URL (ending in "/") once the form answers, and the audit log's DSN.
func startVulscanHTTP(t *testing.T) (base, auditDSN string) {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	auditDSN = "sqlite:" + filepath.Join(dir, "audit.db")
	cmd := exec.Command(vulscanBinary(t))
	cmd.Dir = dir
	cmd.Env = append(localEnv(), "VULSCAN_ADDR="+addr, "VULSCAN_AUDIT_DSN="+auditDSN, "VULSCAN_TCSS_ENDPOINT=emulator")
	p := startProcess(t, cmd)
	base = "http://" + addr + "/"
	waitUntil(t, "vulscan to serve "+base, func() error {
		select {
		case <-p.exited:
			t.Fatalf("vulscan exited before serving: %v\n%s", p.err, p.Output())
		default:
		}
		resp, err := http.Get(base)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: status %d", base, resp.StatusCode)
		}
		return nil
	})
	return base, auditDSN
}

// localEnv is this process's environment without the variables that would make vulscan pick the
// Lambda or SCF mode, or leave the local defaults.
func localEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == "AWS_LAMBDA_RUNTIME_API" || name == "SCF_RUNTIME_API" || name == "TENCENTCLOUD_RUNENV" ||
			strings.HasPrefix(name, "VULSCAN_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
