package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/guard"
	"github.com/vulscan/vulscan/functions/scan"
)

// A registry-only attempt's page and API show its own task only, although TCSS reads the
// omitted local task ID as "the latest local task" (another attempt's).
func TestRegistryOnlyAttemptShowsOnlyItsOwnTask(t *testing.T) {
	h := newHarness(t)
	for _, body := range []string{`{"LocalImageScanType":"ALL"}`, `{"RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[12,13]}`} {
		if resp := h.postJSON(body); resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s = %d", body, resp.StatusCode)
		}
	}
	// Records 1-2 are the local attempt, 3-4 the registry one.
	doc := document(t, h.get("/scans/3"))
	if got := doc.Find(`#live [aria-label="Registry images results"] [data-field=RegistryImageScanCount]`).Length(); got != 1 {
		t.Errorf("the registry side's results are missing")
	}
	if local := doc.Find(`#live [aria-label="Local images results"], #live [data-field=LocalImageScanCount], #live [data-field=FoundVulCount]`); local.Length() != 0 {
		t.Errorf("the registry-only page shows local results: %q", local.Text())
	}
	if got := doc.Find("#combined-with").Text(); !strings.Contains(got, "task 36001") {
		t.Errorf("the page does not say TCSS folded the other side's latest task into the status: %q", got)
	}
	var ans struct {
		LocalTaskID int64
		Status      struct{ LocalTaskID, RegistryTaskID, LocalImageScanCount int64 } `json:"status"`
	}
	if err := json.Unmarshal([]byte(body(t, h.get("/api/scans/3"))), &ans); err != nil {
		t.Fatal(err)
	}
	if ans.LocalTaskID != 0 || ans.Status.LocalTaskID != 0 || ans.Status.RegistryTaskID == 0 {
		t.Errorf("GET /api/scans/3 names tasks %d / status %+v; want only its registry task", ans.LocalTaskID, ans.Status)
	}
}

// TCSS writes its times in UTC+8 without saying so; the page shows UTC and names both zones.
func TestAttemptPageShowsOneClock(t *testing.T) {
	h := newHarness(t)
	if resp := h.postJSON(`{"RegistryImageScanType":"NOT_SCAN"}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST = %d", resp.StatusCode)
	}
	doc := document(t, h.get("/scans/1"))
	started, note := doc.Find("#scan-started"), doc.Find("#scan-started-note").Text()
	tcss := strings.TrimSuffix(strings.TrimPrefix(note, "(TCSS: "), " UTC+8)")
	want, err := time.ParseInLocation(time.DateTime, tcss, time.FixedZone("", 8*3600))
	if err != nil {
		t.Fatalf("note %q does not hold TCSS's time: %v", note, err)
	}
	if got := started.Text(); got != want.UTC().Format("2006-01-02 15:04:05")+" UTC" {
		t.Errorf("scan start shown as %q; TCSS said %s UTC+8", got, tcss)
	}
	if got := started.AttrOr("datetime", ""); got != want.UTC().Format(time.RFC3339) {
		t.Errorf("datetime = %q", got)
	}
	for _, sel := range []string{"#requested-at", "#answered-at", "#checked-at"} {
		if got := doc.Find(sel).Text(); !strings.HasSuffix(got, " UTC") {
			t.Errorf("%s = %q, want a time in UTC with the zone named", sel, got)
		}
	}
}

func TestStaticFilesAndFavicon(t *testing.T) {
	h := newHarness(t)
	for path, wantType := range map[string]string{
		"/favicon.ico":        "image/svg+xml",
		"/static/favicon.svg": "image/svg+xml",
		"/static/live.js":     "text/javascript",
		"/static/style.css":   "text/css",
	} {
		resp := h.get(path)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), wantType) {
			t.Errorf("GET %s = %d %q, want 200 %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), wantType)
		}
	}
	if resp := h.get("/static/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /static/ = %d, want 404 (no listing)", resp.StatusCode)
	}
}

// A refusal vulscan made itself is vulscan's, not TCSS's answer: nothing was sent to TCSS.
func TestOwnRefusalsAreNotTCSSAnswers(t *testing.T) {
	notScan := url.Values{"RegistryImageScanType": {"NOT_SCAN"}}
	for _, tc := range []struct {
		name string
		opts []harnessOption
		vals url.Values
		mod  func(*http.Request)
		says string
	}{
		{"cross-site form post", nil, notScan,
			func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, "another site"},
		{"a Host not allowed", []harnessOption{withAllowedHosts("example.com")}, notScan,
			func(r *http.Request) { r.Host = "attacker.example" }, "attacker.example"},
		{"a broad scope the actor may not start", []harnessOption{withGuard(guard.Config{BroadScopeActors: []string{"proxy:*@example.com"}, Logger: discard})},
			url.Values{"LocalImageScanType": {"ALL"}, "confirm": {"1"}}, func(*http.Request) {}, "all"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opts...)
			h.postForm(tc.vals, tc.mod)
			recs := h.records()
			if len(recs) != 1 || recs[0].ErrorCode != scan.CodeForbidden {
				t.Fatalf("records %+v; want one refusal", recs)
			}
			doc := document(t, h.get("/scans/1"))
			reason := doc.Find("#reason").Text()
			if strings.Contains(reason, "TCSS answered") || !strings.HasPrefix(reason, "vulscan refused") {
				t.Errorf("reason = %q; want vulscan's own refusal", reason)
			}
			if !strings.Contains(strings.ToLower(reason), tc.says) {
				t.Errorf("reason %q does not say %q", reason, tc.says)
			}
		})
	}
}

// A replay started nothing itself: its page links to the attempt that answered it, whose page
// follows the scan.
func TestReplayLinksToTheAttemptThatAnsweredIt(t *testing.T) {
	h := newHarness(t)
	key := func(r *http.Request) { r.Header.Set("Idempotency-Key", "nightly-1") }
	for range 2 {
		h.postJSON(`{"RegistryImageScanType":"NOT_SCAN"}`, key)
	}
	// Records 1-2 are the attempt, 3 its replay.
	if recs := h.records(); len(recs) != 3 || recs[2].RelatedID != 1 {
		t.Fatalf("records %+v; want an attempt and its replay", recs)
	}
	doc := document(t, h.get("/scans/3"))
	link := doc.Find("#outcome a#answered-from")
	href, ok := link.Attr("href")
	if !ok {
		t.Fatalf("the replay's page has no link to attempt 1: %q", doc.Find("#outcome").Text())
	}
	page, _ := url.Parse("http://example.com/scans/3")
	target, err := page.Parse(href)
	if err != nil || target.Path != "/scans/1" || strings.HasPrefix(href, "/") {
		t.Errorf("link href %q leads to %v; want a relative link to /scans/1", href, target)
	}
	if !strings.Contains(link.Text(), "1") {
		t.Errorf("link text %q does not name attempt 1", link.Text())
	}
}

// A request with no parameters lets TCSS decide what to scan, but only if it was sent: a refused
// one's page says no parameters were given.
func TestRequestWithoutParametersSaysWhatHappened(t *testing.T) {
	h := newHarness(t)
	if resp := h.postJSON(`{}`); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("POST {} = %d, want 422", resp.StatusCode)
	}
	doc := document(t, h.get("/scans/1"))
	got := strings.TrimSpace(doc.Find(`section[aria-labelledby=request-heading] p`).Text())
	if got != "No parameters were given." {
		t.Errorf("request section says %q; want %q", got, "No parameters were given.")
	}
}
