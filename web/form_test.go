package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/PuerkitoBio/goquery"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
	"github.com/vulscan/vulscan/web"
)

// formFields are every CreateVulScanTask input the form must offer, by kind.
var formFields = []struct {
	name string
	kind string // radio | textarea | text | checkbox
}{
	{"LocalImageScanType", "radio"},
	{"LocalImageIDs", "textarea"},
	{"LocalClusterIDs", "textarea"},
	{"ExcludeLocalImageIDs", "textarea"},
	{"LocalImageContainerRunning", "checkbox"},
	{"LocalTaskID", "text"},
	{"RegistryImageScanType", "radio"},
	{"RegistryImageIDs", "textarea"},
	{"ExcludeRegistryImageIDs", "textarea"},
	{"RegistryImageContainerRunning", "checkbox"},
	{"IsLatest", "checkbox"},
	{"RegistryTaskID", "text"},
}

func TestFormHasEveryFieldWithLabelAndHint(t *testing.T) {
	h := newHarness(t)
	resp := h.get("/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	doc := document(t, resp)
	for _, f := range formFields {
		t.Run(f.name, func(t *testing.T) {
			sel := map[string]string{
				"radio":    `input[type=radio]`,
				"textarea": `textarea`,
				"text":     `input[type=text]`,
				"checkbox": `input[type=checkbox]`,
			}[f.kind] + `[name="` + f.name + `"]`
			inputs := doc.Find("form " + sel)
			if inputs.Length() == 0 {
				t.Fatalf("no %s", sel)
			}
			inputs.Each(func(_ int, in *goquery.Selection) {
				id, _ := in.Attr("id")
				if id == "" || doc.Find(`label[for="`+id+`"]`).Length() != 1 {
					t.Errorf("%s (id %q) has no label", sel, id)
				}
				for _, d := range strings.Fields(in.AttrOr("aria-describedby", "")) {
					if doc.Find("#"+d).Length() != 1 {
						t.Errorf("%s: aria-describedby names %q, which is not on the page", id, d)
					}
				}
			})
			if doc.Find("#"+f.name+"-hint").Text() == "" {
				t.Errorf("%s has no one-line explanation", f.name)
			}
			if doc.Find("#"+f.name).Length() != 1 {
				t.Errorf("no element with id %s for the error summary to link to", f.name)
			}
		})
	}
	t.Run("scope choices", func(t *testing.T) {
		for field, want := range map[string][]string{
			"LocalImageScanType":    {"", "ALL", "NOT_SCAN", "IMAGEIDS", "CLUSTER"},
			"RegistryImageScanType": {"", "ALL", "NOT_SCAN", "IMAGEIDS"},
		} {
			got := doc.Find(`input[type=radio][name="` + field + `"]`).Map(func(_ int, s *goquery.Selection) string {
				return s.AttrOr("value", "?")
			})
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s choices = %q, want %q", field, got, want)
			}
			if v := doc.Find(`input[type=radio][name="`+field+`"][checked]`).AttrOr("value", "?"); v != "" {
				t.Errorf("%s: a fresh form selects %q, want none", field, v)
			}
		}
	})
	t.Run("groups", func(t *testing.T) {
		got := doc.Find("form section h2").Map(func(_ int, s *goquery.Selection) string { return s.Text() })
		if strings.Join(got, ",") != "Local images,Registry images" {
			t.Errorf("groups = %q", got)
		}
		if doc.Find(`#local-heading ~ [name="LocalImageIDs"], section:has(#local-heading) [name="LocalImageIDs"]`).Length() == 0 {
			t.Error("LocalImageIDs is not in the Local images group")
		}
		if doc.Find(`section:has(#registry-heading) [name="IsLatest"]`).Length() == 0 {
			t.Error("IsLatest is not in the Registry images group")
		}
	})
	t.Run("no JavaScript", func(t *testing.T) {
		if n := doc.Find("script").Length(); n != 0 {
			t.Errorf("%d script elements", n)
		}
	})
}

func TestEachFormRenderingHasAFreshKey(t *testing.T) {
	h := newHarness(t)
	a, b := formKey(t, document(t, h.get("/"))), formKey(t, document(t, h.get("/")))
	if a == b {
		t.Errorf("two renderings share key %q", a)
	}
}

func TestInvalidSubmissionReRendersWithErrors(t *testing.T) {
	h := newHarness(t)
	key := formKey(t, document(t, h.get("/")))
	sent := url.Values{
		"IdempotencyKey":        {key},
		"LocalImageScanType":    {"IMAGEIDS"},
		"LocalImageIDs":         {"not-an-image\n" + localImage('a')},
		"RegistryImageScanType": {"IMAGEIDS"},
		"RegistryImageIDs":      {"12, twelve"},
		"RegistryTaskID":        {"abc"},
		"IsLatest":              {"true"},
	}
	resp := h.postForm(sent)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status = %d, want 422", resp.StatusCode)
	}
	doc := document(t, resp)

	t.Run("summary", func(t *testing.T) {
		s := doc.Find("#error-summary")
		if s.Length() != 1 {
			t.Fatal("no error summary")
		}
		for attr, want := range map[string]string{"role": "alert", "tabindex": "-1"} {
			if got := s.AttrOr(attr, ""); got != want {
				t.Errorf("summary %s = %q, want %q", attr, got, want)
			}
		}
		if _, ok := s.Attr("autofocus"); !ok {
			t.Error("summary does not take focus (autofocus)")
		}
		if doc.Find("#error-summary").Prev().Is("h1, p") == false {
			t.Error("summary is not at the top, before the form")
		}
	})
	for _, tc := range []struct {
		field string
		says  string
	}{
		{"LocalImageIDs", "not-an-image"},
		{"RegistryImageIDs", `"twelve"`},
		{"RegistryTaskID", `"abc"`},
		{"IsLatest", ""},
	} {
		t.Run("field "+tc.field, func(t *testing.T) {
			link := doc.Find(`#error-summary a[href="#` + tc.field + `"]`)
			if link.Length() == 0 {
				t.Fatalf("summary does not link to #%s", tc.field)
			}
			if !strings.Contains(link.Text(), tc.says) {
				t.Errorf("summary entry %q does not mention %q", link.Text(), tc.says)
			}
			in := doc.Find("#" + tc.field)
			if in.AttrOr("aria-invalid", "") != "true" {
				t.Errorf("#%s lacks aria-invalid=true", tc.field)
			}
			if !strings.Contains(in.AttrOr("aria-describedby", ""), tc.field+"-error") {
				t.Errorf("#%s aria-describedby = %q, want it to name %s-error", tc.field, in.AttrOr("aria-describedby", ""), tc.field)
			}
			if doc.Find("#"+tc.field+"-error").Text() == "" {
				t.Errorf("no inline message for %s", tc.field)
			}
			if !in.Closest(".field").HasClass("field-invalid") {
				t.Errorf("the field around #%s is not marked field-invalid", tc.field)
			}
		})
	}
	t.Run("valid fields unmarked", func(t *testing.T) {
		for _, field := range []string{"LocalTaskID", "ExcludeLocalImageIDs", "LocalImageContainerRunning", "LocalImageScanType"} {
			if f := doc.Find("#" + field).Closest(".field"); f.Length() != 1 || f.HasClass("field-invalid") {
				t.Errorf("the field around #%s: found %d, class %q; want one, not field-invalid", field, f.Length(), f.AttrOr("class", ""))
			}
		}
	})
	t.Run("values kept", func(t *testing.T) {
		for name, want := range map[string]string{
			"LocalImageIDs":    sent.Get("LocalImageIDs"),
			"RegistryImageIDs": sent.Get("RegistryImageIDs"),
		} {
			if got := doc.Find("textarea#" + name).Text(); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if got := doc.Find("#RegistryTaskID").AttrOr("value", ""); got != "abc" {
			t.Errorf("RegistryTaskID = %q", got)
		}
		if doc.Find(`#LocalImageScanType-IMAGEIDS[checked]`).Length() != 1 {
			t.Error("the IMAGEIDS scope is no longer selected")
		}
		if doc.Find(`#IsLatest[checked]`).Length() != 1 {
			t.Error("IsLatest is no longer checked")
		}
		if got := formKey(t, doc); got != key {
			t.Errorf("key changed from %q to %q", key, got)
		}
	})
	if n := h.creates(); n != 0 {
		t.Errorf("TCSS was called %d times", n)
	}
	recs := h.records()
	if len(recs) != 1 || recs[0].Outcome != "rejected" || !strings.Contains(recs[0].ErrorMessage, "twelve") {
		t.Errorf("audit log = %+v, want one rejection naming the bad number", recs)
	}
}

func TestValidationErrorIsAuditedAsRejected(t *testing.T) {
	h := newHarness(t)
	resp := h.postForm(url.Values{"LocalImageScanType": {"IMAGEIDS"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	doc := document(t, resp)
	if doc.Find(`#error-summary a[href="#LocalImageIDs"]`).Length() == 0 {
		t.Error("summary does not link to the missing image IDs")
	}
	recs := h.records()
	if len(recs) != 1 || recs[0].Outcome != "rejected" || recs[0].Trigger != "form" {
		t.Errorf("audit log = %+v, want one rejected form record", recs)
	}
}

func TestBroadScanAsksForConfirmation(t *testing.T) {
	h := newHarness(t)
	key := formKey(t, document(t, h.get("/")))
	vals := url.Values{
		"IdempotencyKey":             {key},
		"LocalImageScanType":         {"ALL"},
		"ExcludeLocalImageIDs":       {localImage('b')},
		"LocalImageContainerRunning": {"true"},
	}
	resp := h.postForm(vals)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200 (confirmation page)", resp.StatusCode)
	}
	doc := document(t, resp)
	if doc.Find("button#confirm[name=confirm]").Length() != 1 || doc.Find("button#edit[name=edit]").Length() != 1 {
		t.Fatal("confirmation page lacks its buttons")
	}
	if !strings.Contains(doc.Find("#scope").Text(), "every image (ALL)") {
		t.Errorf("scope says %q", doc.Find("#scope").Text())
	}
	hidden := url.Values{}
	doc.Find("form input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		hidden.Add(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	for name := range vals {
		if hidden.Get(name) != vals.Get(name) {
			t.Errorf("hidden %s = %q, want %q", name, hidden.Get(name), vals.Get(name))
		}
	}
	if h.creates() != 0 || len(h.records()) != 0 {
		t.Fatal("something was sent or recorded before confirmation")
	}

	t.Run("change", func(t *testing.T) {
		edit := url.Values{"edit": {"yes"}}
		for k, v := range hidden {
			edit[k] = v
		}
		resp := h.postForm(edit)
		doc := document(t, resp)
		if resp.StatusCode != http.StatusOK || doc.Find("#LocalImageScanType-ALL[checked]").Length() != 1 {
			t.Errorf("change: status %d, ALL selected: %d", resp.StatusCode, doc.Find("#LocalImageScanType-ALL[checked]").Length())
		}
		if doc.Find("#error-summary").Length() != 0 {
			t.Error("change shows an error summary")
		}
	})
	t.Run("confirm", func(t *testing.T) {
		hidden.Set("confirm", "yes")
		resp := h.postForm(hidden)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status = %d, want 303", resp.StatusCode)
		}
		if h.creates() != 1 {
			t.Errorf("TCSS calls = %d, want 1", h.creates())
		}
	})
}

func TestSuccessRedirectsToTheAttemptPage(t *testing.T) {
	h := newHarness(t, withProxyAuth(t, "X-Forwarded-User"))
	resp := h.postForm(url.Values{
		"IdempotencyKey":        {"k1"},
		"LocalImageScanType":    {"IMAGEIDS"},
		"LocalImageIDs":         {localImage('c') + ", " + localImage('d')},
		"RegistryImageScanType": {"NOT_SCAN"},
		"IsLatest":              {"true"},
	}, viaProxy("X-Forwarded-User", "alice@example.com"))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303: %s", resp.StatusCode, body(t, resp))
	}
	loc := resp.Header.Get("Location")
	if loc != "./scans/1" {
		t.Fatalf("Location = %q, want the relative ./scans/1", loc)
	}
	get := httptest.NewRequest(http.MethodGet, "/scans/1", nil)
	viaProxy("X-Forwarded-User", "alice@example.com")(get)
	page := h.do(get)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET /scans/1 = %d", page.StatusCode)
	}
	doc := document(t, page)
	recs := h.records()
	if len(recs) != 2 {
		t.Fatalf("audit log has %d records, want pending and succeeded", len(recs))
	}
	done := recs[1]
	for sel, want := range map[string]string{
		"#local-task-id":    itoa(done.LocalTaskID),
		"#registry-task-id": itoa(done.RegistryTaskID),
		"#request-id":       done.TCSSRequestID,
		"#trigger":          "form",
		"#actor":            "proxy:alice@example.com",
		"#access":           "proxy",
		"#credential":       done.Credential,
		"#scan-status":      "Scanning",
		"#badge":            "Scan started", // the API call succeeded, not (yet) the scan
	} {
		if got := strings.TrimSpace(doc.Find(sel).Text()); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if done.LocalTaskID == 0 || done.RegistryTaskID == 0 {
		t.Errorf("emulator answered task IDs %d/%d", done.LocalTaskID, done.RegistryTaskID)
	}
	if !strings.HasPrefix(done.Credential, "static-key:AKID") || !strings.HasSuffix(done.Credential, "…") {
		t.Errorf("record credential %q; want the static key's SecretId prefix", done.Credential)
	}
	// No timed reload (WCAG 2.2.1): a link without JavaScript, polling by static/live.js with it.
	if doc.Find(`meta[http-equiv=refresh]`).Length() != 0 {
		t.Error("a scanning attempt's page reloads itself")
	}
	if doc.Find("a#check-again").AttrOr("href", "") != "1" {
		t.Errorf("check-again link = %q", doc.Find("a#check-again").AttrOr("href", ""))
	}
	if got := doc.Find(`#live[aria-live=polite]`).AttrOr("data-poll", ""); got != "../api/scans/1" {
		t.Errorf("live region polls %q, want ../api/scans/1", got)
	}
	if doc.Find(`script[src="../static/live.js?v=`+web.StaticVersion()+`"]`).Length() != 1 {
		t.Error("the attempt page does not load static/live.js")
	}
	if !strings.Contains(doc.Find("table.params").Text(), "IMAGEIDS") {
		t.Error("the normalized parameters are not shown")
	}
}

// itoa shows a task ID as the page does.
func itoa(n int64) string {
	if n == 0 {
		return "—"
	}
	return formatInt(n)
}

func TestDoubleSubmitStartsOneScan(t *testing.T) {
	h := newHarness(t)
	key := formKey(t, document(t, h.get("/")))
	vals := url.Values{"IdempotencyKey": {key}, "RegistryImageScanType": {"NOT_SCAN"}}
	first, second := h.postForm(vals), h.postForm(vals)
	if first.StatusCode != http.StatusSeeOther || second.StatusCode != http.StatusSeeOther {
		t.Fatalf("statuses %d, %d; want 303 twice", first.StatusCode, second.StatusCode)
	}
	if a, b := first.Header.Get("Location"), second.Header.Get("Location"); a != b {
		t.Errorf("the second submit went to %q, the first to %q", b, a)
	}
	if n := h.creates(); n != 1 {
		t.Errorf("TCSS CreateVulScanTask calls = %d, want 1", n)
	}
}

func TestReusedKeyWithOtherValuesGetsAFreshKey(t *testing.T) {
	h := newHarness(t)
	h.postForm(url.Values{"IdempotencyKey": {"k"}, "RegistryImageScanType": {"NOT_SCAN"}})
	resp := h.postForm(url.Values{"IdempotencyKey": {"k"}, "LocalImageScanType": {"NOT_SCAN"}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("status = %d, want 409", resp.StatusCode)
	}
	doc := document(t, resp)
	if formKey(t, doc) == "k" {
		t.Error("the re-rendered form keeps the used key")
	}
	if doc.Find("#LocalImageScanType-NOT_SCAN[checked]").Length() != 1 {
		t.Error("values not kept")
	}
	if !strings.Contains(doc.Find("#error-summary").Text(), "other parameters") {
		t.Errorf("summary = %q", doc.Find("#error-summary").Text())
	}
}

func TestFailedAttemptsHavePagesWithReasons(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   string
		outcome string
		says    string
	}{
		{"TCSS refused", "ResourceInUse", "failed", "busy with another scan"},
		{"rate limited", "RequestLimitExceeded", "failed", "rate limiting"},
		{"rate limited across regions", "RequestLimitExceeded.GlobalRegionUinLimitExceeded", "failed", "rate limiting"},
		{"credentials", "AuthFailure.SecretIdNotFound", "failed", "credentials"},
		{"not allowed by CAM", "UnauthorizedOperation", "failed", "role needs the TCSS actions"},
		{"not allowed by CAM, with a sub-code", "UnauthorizedOperation.CamNoAuth", "failed", "tcss:CreateVulScanTask"},
		// Tencent's "request not authorized by CAM" is an AuthFailure, but no credential's fault.
		{"not allowed by CAM, as an AuthFailure", "AuthFailure.UnauthorizedOperation", "failed", "role needs the TCSS actions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.emu.InjectFault("CreateVulScanTask", faultCode(tc.fault))
			resp := h.postForm(url.Values{"RegistryImageScanType": {"NOT_SCAN"}})
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("status = %d, want 303", resp.StatusCode)
			}
			doc := document(t, h.get("/scans/1"))
			if got := doc.Find("#outcome").AttrOr("data-outcome", ""); got != tc.outcome {
				t.Errorf("outcome = %q, want %q", got, tc.outcome)
			}
			if got := doc.Find("#badge").Text(); got != "No scan started" {
				t.Errorf("badge = %q, want %q", got, "No scan started")
			}
			if r := doc.Find("#reason").Text(); !strings.Contains(r, tc.says) {
				t.Errorf("reason %q does not say %q", r, tc.says)
			}
			if doc.Find("meta[http-equiv=refresh]").Length() != 0 {
				t.Error("a finished attempt refreshes itself")
			}
			if doc.Find("a#check-again").Length() != 0 || doc.Find("#live[data-poll]").Length() != 0 {
				t.Error("an attempt that started no scan offers to check again")
			}
		})
	}
	t.Run("rejected", func(t *testing.T) {
		h := newHarness(t)
		h.postForm(url.Values{"LocalClusterIDs": {"cls-abcd1234"}})
		doc := document(t, h.get("/scans/1"))
		if got, badge := doc.Find("#outcome").AttrOr("data-outcome", ""), doc.Find("#badge").Text(); got != "rejected" || badge != "Refused" {
			t.Errorf("outcome = %q, badge %q", got, badge)
		}
		if r := doc.Find("#reason").Text(); !strings.Contains(r, "LocalClusterIDs") {
			t.Errorf("reason = %q", r)
		}
	})
	t.Run("lost answer", func(t *testing.T) {
		h := newHarness(t)
		h.emu.InjectFault("CreateVulScanTask", faultDrop())
		resp := h.postForm(url.Values{"RegistryImageScanType": {"NOT_SCAN"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status = %d, want 303", resp.StatusCode)
		}
		doc := document(t, h.get("/scans/1"))
		if got, badge := doc.Find("#outcome").AttrOr("data-outcome", ""), doc.Find("#badge").Text(); got != "unknown" || badge != "Outcome unknown" {
			t.Errorf("outcome = %q, badge %q", got, badge)
		}
		// Sending the form again replays this answer: starting a scan anyway takes a new form.
		r := doc.Find("#reason").Text()
		for _, says := range []string{"TCSS console", "only shows this answer", "start a new form"} {
			if !strings.Contains(r, says) {
				t.Errorf("reason %q does not say %q", r, says)
			}
		}
	})
}

func TestFormBodyBounds(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name   string
		ct     string
		body   string
		status int
	}{
		{"too large", "application/x-www-form-urlencoded", "LocalImageIDs=" + strings.Repeat("a", 600<<10), http.StatusRequestEntityTooLarge},
		{"multipart", "multipart/form-data; boundary=x", "--x--", http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRequest(http.MethodPost, "/", tc.body)
			r.Header.Set("Content-Type", tc.ct)
			resp := h.do(r)
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("error page Content-Type = %q", ct)
			}
		})
	}
}

func TestConcurrentDoubleSubmitStartsOneScan(t *testing.T) {
	h := newHarness(t)
	// TCSS answers slowly, so the second click arrives while the first is still pending.
	h.emu.InjectFault("CreateVulScanTask", tcsstest.Fault{Latency: 300 * time.Millisecond, Times: 1})
	vals := url.Values{"IdempotencyKey": {"double-click"}, "RegistryImageScanType": {"NOT_SCAN"}}
	var wg sync.WaitGroup
	locations := make([]string, 2)
	for i := range locations {
		wg.Go(func() {
			resp := h.postForm(vals)
			if resp.StatusCode != http.StatusSeeOther {
				t.Errorf("submit %d: status %d", i, resp.StatusCode)
			}
			locations[i] = resp.Header.Get("Location")
		})
	}
	wg.Wait()
	if locations[0] != locations[1] || locations[0] == "" {
		t.Errorf("the two submits went to %q", locations)
	}
	if n := h.creates(); n != 1 {
		t.Errorf("TCSS CreateVulScanTask calls = %d, want 1", n)
	}
}

func TestUnavailableAuditLogKeepsTheForm(t *testing.T) {
	h := newHarness(t, withScanLog(func(l scan.AuditLog) scan.AuditLog { return failingAppend{l} }))
	resp := h.postForm(url.Values{"IdempotencyKey": {"k"}, "RegistryImageScanType": {"NOT_SCAN"}})
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	doc := document(t, resp)
	if !strings.Contains(doc.Find("#error-summary").Text(), "no scan was started") {
		t.Errorf("summary = %q", doc.Find("#error-summary").Text())
	}
	if formKey(t, doc) != "k" || doc.Find("#RegistryImageScanType-NOT_SCAN[checked]").Length() != 1 {
		t.Error("the form lost its key or values")
	}
	if h.creates() != 0 {
		t.Error("TCSS was called without an audit record")
	}
}

// A form posted while the start queue is full keeps its values and key, answers 503 with
// Retry-After, and is recorded as refused (busy); the requests ahead of it are served.
func TestFullStartQueueKeepsTheForm(t *testing.T) {
	h := newHarness(t, withStartQueue(scan.QueueConfig{Capacity: 1, Workers: 1}))
	h.emu.InjectFault("CreateVulScanTask", tcsstest.Fault{Latency: 500 * time.Millisecond, Times: 1})
	var wg sync.WaitGroup
	ahead := func(key string) {
		wg.Go(func() {
			if resp := h.postForm(url.Values{"IdempotencyKey": {key}, "RegistryImageScanType": {"NOT_SCAN"}}); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("%s: status %d, want 303", key, resp.StatusCode)
			}
		})
	}
	ahead("in-the-worker")
	for h.emu.Calls("CreateVulScanTask") == 0 { // the worker's call hangs for a while
		time.Sleep(time.Millisecond)
	}
	ahead("waiting")
	for h.queue.Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	resp := h.postForm(url.Values{"IdempotencyKey": {"k-busy"}, "RegistryImageScanType": {"NOT_SCAN"}})
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	doc := document(t, resp)
	if !strings.Contains(doc.Find("#error-summary").Text(), "busy") {
		t.Errorf("summary = %q", doc.Find("#error-summary").Text())
	}
	if formKey(t, doc) != "k-busy" || doc.Find("#RegistryImageScanType-NOT_SCAN[checked]").Length() != 1 {
		t.Error("the form lost its key or values")
	}
	wg.Wait()
	var busy, started int
	for _, r := range h.records() {
		switch {
		case r.Outcome == audit.OutcomeRejected && r.ErrorCode == scan.CodeBusy && r.IdempotencyKey == "k-busy":
			busy++
		case r.Outcome == audit.OutcomePending:
			started++
		}
	}
	if busy != 1 || started != 2 || h.creates() != 2 {
		t.Errorf("%d busy refusals, %d attempts, %d TCSS calls; want 1, 2, 2", busy, started, h.creates())
	}
}

// Control characters a caller typed or sent reach no page raw: the re-shown form and a refused
// attempt's page write them as escapes (\x1b), as the error messages do; so do the pages that
// show records written before a character was escaped on the way in. The characters that
// reorder or break shown text (a bidi override, a line separator) count as control characters.
func TestControlCharactersNeverReachThePage(t *testing.T) {
	rawControl := func(page string) int {
		return strings.IndexFunc(page, func(r rune) bool {
			hidden := unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
			return hidden && r != '\n' && r != '\r' && r != '\t'
		})
	}
	h := newHarness(t)
	t.Run("re-shown form", func(t *testing.T) {
		resp := h.postForm(url.Values{"LocalImageScanType": {"IMAGEIDS"}, "LocalImageIDs": {"sha256:\x1b[31mred\nsha256:\x00nul"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status = %d, want 422", resp.StatusCode)
		}
		page := body(t, resp)
		if i := rawControl(page); i >= 0 {
			t.Errorf("raw control character at %d: %q", i, page[max(0, i-40):min(len(page), i+40)])
		}
		if !strings.Contains(page, `sha256:\x1b[31mred`+"\n"+`sha256:\x00nul`) {
			t.Error("the textarea does not show the typed lines with their control characters escaped")
		}
	})
	t.Run("form key", func(t *testing.T) {
		// The form writes its own key: one with control characters is replaced, never shown.
		for _, edit := range []string{"", "yes"} {
			resp := h.postForm(url.Values{"IdempotencyKey": {"kA\x00B\x1bC\x7fD\u0085E"}, "LocalImageScanType": {"ALL"},
				"RegistryImageScanType": {"NOT_SCAN"}, "edit": {edit}})
			page := body(t, resp)
			if i := rawControl(page); i >= 0 {
				t.Errorf("edit %q: raw control character at %d: %q", edit, i, page[max(0, i-40):min(len(page), i+40)])
			}
			if !strings.Contains(page, `name="IdempotencyKey" value="form-`) {
				t.Errorf("edit %q: the page does not carry a fresh form key", edit)
			}
		}
	})
	t.Run("refused attempt's page", func(t *testing.T) {
		resp := h.postJSON(`{"LocalImageScanType":"CLUSTER","LocalClusterIDs":["cls-<b>x</b>\u0000\u001b[31m"]}`)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status = %d, want 422", resp.StatusCode)
		}
		recs := h.records()
		page := body(t, h.get(fmt.Sprintf("/scans/%d", recs[len(recs)-1].ID)))
		if i := rawControl(page); i >= 0 {
			t.Errorf("raw control character at %d: %q", i, page[max(0, i-40):min(len(page), i+40)])
		}
		if !strings.Contains(page, `cls-&lt;b&gt;x&lt;/b&gt;\x00\x1b[31m`) {
			t.Error("the page does not show the cluster ID with its markup and control characters escaped")
		}
	})
	t.Run("records written raw", func(t *testing.T) {
		ctx := context.Background()
		open, err := h.store.Append(ctx, audit.Record{Time: h.now, Trigger: audit.TriggerAPI, Actor: "admin\u202egnp.exe",
			Action: audit.ActionCreateVulScanTask, Params: json.RawMessage(`{}`), Outcome: audit.OutcomePending})
		if err != nil {
			t.Fatal(err)
		}
		done := open
		done.ID, done.PrevHash, done.Hash, done.PendingID, done.Outcome = 0, "", "", open.ID, audit.OutcomeFailed
		done.ErrorCode, done.ErrorMessage = "InternalError", "first line\u2028forged line\x1b[2J"
		if _, err := h.store.Append(ctx, done); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/audit", fmt.Sprintf("/scans/%d", open.ID)} {
			page := body(t, h.get(path))
			if i := rawControl(page); i >= 0 {
				t.Errorf("%s: raw control character at %d: %q", path, i, page[max(0, i-40):min(len(page), i+40)])
			}
			if !strings.Contains(page, `admin\u202egnp.exe`) {
				t.Errorf("%s does not show the actor with its bidi override escaped", path)
			}
		}
		if page := body(t, h.get("/audit")); !strings.Contains(page, `first line\u2028forged line\x1b[2J`) {
			t.Error("the audit page does not show the error message with its line separator and ESC escaped")
		}
	})
}

// The key the form's page writes is what keeps a double submit from starting two scans: a post
// without one its page could have written starts nothing, however often it is sent, and is
// recorded with the key it carried; the form comes back with its values under a fresh key.
func TestFormWithoutItsKeyStartsNothing(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct{ name, key string }{
		{"missing", ""},
		{"blank", "   "},
		{"too long", strings.Repeat("k", 129)},
		{"control character", "bad\nkey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.records())
			for range 2 {
				resp := h.postForm(url.Values{"IdempotencyKey": {tc.key}, "RegistryImageScanType": {"NOT_SCAN"}})
				if resp.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", resp.StatusCode)
				}
				doc := document(t, resp)
				if !strings.Contains(doc.Text(), "without the key its page gives every form") {
					t.Error("the page does not say why nothing was started")
				}
				if v, _ := doc.Find(`input[name="IdempotencyKey"]`).Attr("value"); !strings.HasPrefix(v, "form-") {
					t.Errorf("the form comes back with key %q, want a fresh one", v)
				}
				if v, _ := doc.Find(`input[name="RegistryImageScanType"][checked]`).Attr("value"); v != "NOT_SCAN" {
					t.Errorf("the form lost the chosen registry scan type (%q)", v)
				}
			}
			recs := h.records()[before:]
			if h.creates() != 0 || len(recs) != 2 {
				t.Fatalf("%d TCSS calls, %d new records; want 0 and 2 refusals", h.creates(), len(recs))
			}
			for _, r := range recs {
				if r.Outcome != audit.OutcomeRejected || r.IdempotencyKey != strings.TrimSpace(scan.Clean(tc.key, scan.MaxIdempotencyKeyLen)) {
					t.Errorf("record %d: %s with key %q", r.ID, r.Outcome, r.IdempotencyKey)
				}
			}
		})
	}
}

// A message quotes an entry as it was typed, escaped once: the form builds its request from the
// text as sent, not from the text it shows again.
func TestFormErrorsQuoteEntriesEscapedOnce(t *testing.T) {
	h := newHarness(t)
	resp := h.postForm(url.Values{"LocalImageScanType": {"IMAGEIDS"}, "LocalImageIDs": {"sha256:\u202eabc\nsha256:\x1bdef"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", resp.StatusCode)
	}
	page := body(t, resp)
	for _, want := range []string{`&#34;sha256:\u202eabc&#34;`, `&#34;sha256:\x1bdef&#34;`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not quote %s", want)
		}
	}
	if strings.Contains(page, `\\u202e`) || strings.Contains(page, `\\x1b`) {
		t.Error("an entry is escaped twice")
	}
}

// The confirmation step says of each side what will be scanned, in words that cannot be taken
// for another scope: a side left out is not "not scanned", which reads as NOT_SCAN.
func TestConfirmationNamesEachSidesScope(t *testing.T) {
	tests := []struct {
		name string
		vals url.Values
		want []string
	}{
		{"local ALL, registry left out", url.Values{"LocalImageScanType": {"ALL"}},
			[]string{"Local images: every image (ALL).", "Registry images: none (left out of this scan)."}},
		{"registry ALL, local NOT_SCAN", url.Values{"RegistryImageScanType": {"ALL"}, "LocalImageScanType": {"NOT_SCAN"}},
			[]string{"Local images: every image not scanned before (NOT_SCAN).", "Registry images: every image (ALL)."}},
		{"registry ALL, local left out", url.Values{"RegistryImageScanType": {"ALL"}, "IsLatest": {"true"}},
			[]string{"Local images: none (left out of this scan).", "Registry images: every image (ALL), only the latest version of each image."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			resp := h.postForm(tt.vals)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200 (the confirmation step)", resp.StatusCode)
			}
			var got []string
			document(t, resp).Find("#scope li").Each(func(_ int, s *goquery.Selection) { got = append(got, s.Text()) })
			if !slices.Equal(got, tt.want) {
				t.Errorf("scope %q, want %q", got, tt.want)
			}
		})
	}
}

// A task ID of 0 in "Re-run … task" is refused and recorded, not read as "no task": the request
// would otherwise start a new scan of the chosen scope instead of the re-run that was asked for.
func TestFormRefusesTaskIDZero(t *testing.T) {
	tests := []struct{ field, text string }{
		{"LocalTaskID", "0"},
		{"LocalTaskID", "00"},
		{"RegistryTaskID", "-0"},
		{"RegistryTaskID", " 0 "},
	}
	for _, tt := range tests {
		t.Run(tt.field+" "+tt.text, func(t *testing.T) {
			h := newHarness(t)
			resp := h.postForm(url.Values{"LocalImageScanType": {"NOT_SCAN"}, "RegistryImageScanType": {"NOT_SCAN"}, tt.field: {tt.text}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			doc := document(t, resp)
			if got := doc.Find("#" + tt.field + "-error").Text(); !strings.Contains(got, "is not a task ID") {
				t.Errorf("%s error %q", tt.field, got)
			}
			if h.creates() != 0 {
				t.Error("a scan was started")
			}
			if recs := h.records(); len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected {
				t.Errorf("records %+v, want one refusal", recs)
			}
		})
	}
}

// Each option that narrows a scope says in its hint the scopes it works with, as validation
// enforces (beside listed images it is refused), and the ID lists do not promise to combine
// with those options.
func TestFormHintsSayWhichScopesAnOptionNarrows(t *testing.T) {
	h := newHarness(t)
	doc := document(t, h.get("/"))
	const local, registry = "For “All local images”, “Not yet scanned” or “Listed clusters”:", "For “All registry images” or “Not yet scanned”:"
	tests := []struct {
		field, value, hint string
		listed             url.Values
	}{
		{"ExcludeLocalImageIDs", localImage('b'), local, url.Values{"LocalImageScanType": {"IMAGEIDS"}, "LocalImageIDs": {localImage('a')}}},
		{"LocalImageContainerRunning", "true", local, url.Values{"LocalImageScanType": {"IMAGEIDS"}, "LocalImageIDs": {localImage('a')}}},
		{"ExcludeRegistryImageIDs", "12", registry, url.Values{"RegistryImageScanType": {"IMAGEIDS"}, "RegistryImageIDs": {"11"}}},
		{"RegistryImageContainerRunning", "true", registry, url.Values{"RegistryImageScanType": {"IMAGEIDS"}, "RegistryImageIDs": {"11"}}},
		{"IsLatest", "true", registry, url.Values{"RegistryImageScanType": {"IMAGEIDS"}, "RegistryImageIDs": {"11"}}},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			if hint := doc.Find("#" + tt.field + "-hint").Text(); !strings.HasPrefix(hint, tt.hint) {
				t.Errorf("hint %q, want it to start %q", hint, tt.hint)
			}
			vals := maps.Clone(tt.listed)
			vals.Set(tt.field, tt.value)
			resp := h.postForm(vals)
			if resp.StatusCode != http.StatusUnprocessableEntity || document(t, resp).Find("#"+tt.field+"-error").Length() != 1 {
				t.Errorf("beside listed images: status %d, want 422 with an error for %s", resp.StatusCode, tt.field)
			}
		})
	}
	for _, field := range []string{"LocalImageIDs", "RegistryImageIDs"} {
		if hint := doc.Find("#" + field + "-hint").Text(); !strings.Contains(hint, "scanned as listed") || strings.Contains(hint, "win over") {
			t.Errorf("%s hint %q, want it to say listed images are scanned as listed", field, hint)
		}
	}
}

// A re-run's hint says to leave the side's scope on "None", as validation enforces: a task ID
// beside a scope is refused.
func TestFormHintsSayARerunTakesNoScope(t *testing.T) {
	h := newHarness(t)
	doc := document(t, h.get("/"))
	for _, tt := range []struct{ field, scope, hint string }{
		{"LocalTaskID", "LocalImageScanType", "leave “Which local images to scan” on “None”"},
		{"RegistryTaskID", "RegistryImageScanType", "leave “Which registry images to scan” on “None”"},
	} {
		if hint := doc.Find("#" + tt.field + "-hint").Text(); !strings.Contains(hint, tt.hint) {
			t.Errorf("%s hint %q, want it to say %q", tt.field, hint, tt.hint)
		}
		resp := h.postForm(url.Values{tt.field: {"36002"}, tt.scope: {"NOT_SCAN"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || document(t, resp).Find("#"+tt.scope+"-error").Length() != 1 {
			t.Errorf("%s beside a scope: status %d, want 422 with an error for %s", tt.field, resp.StatusCode, tt.scope)
		}
	}
}

// A rate-limited attempt's page names the limit TCSS's code names: only the bare code is the
// action's 20 calls a second, which vulscan keeps its own calls within; a sub-code is the
// account's or the address's limit, shared with other callers.
func TestRateLimitedAttemptSaysWhichLimit(t *testing.T) {
	for _, tc := range []struct {
		code, says string
	}{
		{"RequestLimitExceeded", "20 a second"},
		{"RequestLimitExceeded.UinLimitExceeded", "account's limit"},
		{"RequestLimitExceeded.GlobalRegionUinLimitExceeded", "account's limit across all regions"},
		{"RequestLimitExceeded.IPLimitExceeded", "network address"},
		{"RequestLimitExceeded.SomethingNew", "one of Tencent Cloud's call limits"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			h := newHarness(t)
			h.emu.InjectFault("CreateVulScanTask", faultCode(tc.code))
			h.postForm(url.Values{"RegistryImageScanType": {"NOT_SCAN"}})
			r := document(t, h.get("/scans/1")).Find("#reason").Text()
			if !strings.Contains(r, tc.code+":") || !strings.Contains(r, tc.says) {
				t.Errorf("reason %q does not name %s and say %q", r, tc.code, tc.says)
			}
			if tc.code != "RequestLimitExceeded" && strings.Contains(r, "20") {
				t.Errorf("reason %q puts the account's or address's limit at the action's 20 a second", r)
			}
		})
	}
}
