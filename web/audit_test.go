package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/PuerkitoBio/goquery"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/platform"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/web"
)

// seed records three attempts: a success by the form (records 1, 2), a rejection by the API
// (record 3) and a success by the API (records 4, 5).
func seed(t *testing.T, h *harness) {
	t.Helper()
	h.postForm(url.Values{"RegistryImageScanType": {"NOT_SCAN"}})
	h.postJSON(`{"LocalImageScanType":"IMAGEIDS"}`)
	h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`)
	if n := len(h.records()); n != 5 {
		t.Fatalf("seeded %d records, want 5", n)
	}
}

func rowIDs(doc *goquery.Document) []string {
	return doc.Find("#records tbody tr td:first-child").Map(func(_ int, s *goquery.Selection) string {
		return strings.TrimSpace(s.Text())
	})
}

func TestAuditPage(t *testing.T) {
	h := newHarness(t)
	seed(t, h)
	h.chain.Check(context.Background())
	for _, tc := range []struct {
		name  string
		query string
		rows  string // IDs shown, in order
		older string // the "Older records" link, "" when there is none
	}{
		{"newest first", "", "5,4,3,2,1", ""},
		{"outcome", "?outcome=rejected", "3", ""},
		{"trigger", "?trigger=form", "2,1", ""},
		{"actor", "?actor=nobody", "", ""},
		{"task ID", "?task=" + strconv.FormatInt(h.records()[4].LocalTaskID, 10), "5", ""},
		{"task ID nobody started", "?task=999999", "", ""},
		{"date range", "?from=2000-01-01&to=2000-01-02", "", ""},
		{"paging", "?limit=2", "5,4", "audit?before=4&limit=2"},
		{"second page", "?limit=2&before=4", "3,2", "audit?before=2&limit=2"},
		{"last page", "?limit=2&before=2", "1", ""},
		{"paging keeps filters", "?trigger=api&limit=1", "5", "audit?before=5&limit=1&trigger=api"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.get("/audit" + tc.query)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d", resp.StatusCode)
			}
			doc := document(t, resp)
			if got := strings.Join(rowIDs(doc), ","); got != tc.rows {
				t.Errorf("rows = %q, want %q", got, tc.rows)
			}
			want := ""
			if tc.older != "" {
				want = "./" + tc.older
			}
			if got := doc.Find("a#older").AttrOr("href", ""); got != want {
				t.Errorf("older link = %q, want %q", got, want)
			}
			// It says what the check covered, so that nobody takes it for a walk of the whole chain.
			if c := doc.Find("#chain").Text(); !strings.Contains(c, "verified up to record 5 at 2026-05-04 03:02:01 UTC") ||
				!strings.Contains(c, "only the records added since the last check") || !strings.Contains(c, "vulscan audit verify") {
				t.Errorf("chain = %q", doc.Find("#chain").Text())
			}
		})
	}
	t.Run("records link to their attempts", func(t *testing.T) {
		doc := document(t, h.get("/audit"))
		got := doc.Find("#records tbody tr td:first-child a").Map(func(_ int, s *goquery.Selection) string {
			return s.AttrOr("href", "")
		})
		want := "./scans/4,./scans/4,./scans/3,./scans/1,./scans/1"
		if strings.Join(got, ",") != want {
			t.Errorf("links = %q, want %q", got, want)
		}
	})
	t.Run("downloads carry the filters, not the page", func(t *testing.T) {
		doc := document(t, h.get("/audit?outcome=succeeded&limit=1&before=5"))
		if got := doc.Find("#download-csv").AttrOr("href", ""); got != "./audit.csv?outcome=succeeded" {
			t.Errorf("CSV link = %q", got)
		}
		if got := doc.Find("#download-jsonl").AttrOr("href", ""); got != "./audit.jsonl?outcome=succeeded" {
			t.Errorf("JSONL link = %q", got)
		}
		if got := doc.Find(".downloads").Text(); !strings.Contains(got, "all matching records") {
			t.Errorf("downloads say %q; want them to say they hold all matching records", got)
		}
	})
	t.Run("filters offer every trigger and outcome", func(t *testing.T) {
		doc := document(t, h.get("/audit?trigger=event"))
		values := func(sel string) string {
			return strings.Join(doc.Find(sel+" option").Map(func(_ int, s *goquery.Selection) string {
				return s.AttrOr("value", "")
			}), ",")
		}
		if got := values("#filter-trigger"); got != ",form,api,timer,cli,event,invoke" {
			t.Errorf("trigger choices = %q", got)
		}
		if got := values("#filter-outcome"); got != ",pending,rejected,failed,succeeded,unknown,replayed" {
			t.Errorf("outcome choices = %q", got)
		}
		if got := doc.Find("#filter-trigger option[selected]").AttrOr("value", ""); got != "event" {
			t.Errorf("selected trigger = %q", got)
		}
	})
	t.Run("bad filters", func(t *testing.T) {
		resp := h.get("/audit?outcome=great&from=yesterday&task=-3")
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		doc := document(t, resp)
		for _, f := range []string{"outcome", "from", "task"} {
			if doc.Find(`.error-summary a[href="#filter-`+f+`"]`).Length() != 1 {
				t.Errorf("no error for %s", f)
			}
		}
		if got := doc.Find("#filter-from").AttrOr("value", ""); got != "yesterday" {
			t.Errorf("typed filter not kept: %q", got)
		}
	})
	// Control characters typed into a filter are shown again as escapes, never raw in the page.
	t.Run("control characters", func(t *testing.T) {
		page := body(t, h.get("/audit?actor=a%00b%1bc&task=%07&from=%08"))
		if i := strings.IndexFunc(page, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }); i >= 0 {
			t.Errorf("the page holds %q raw, after %q", page[i:i+1], page[max(0, i-40):i])
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
		if err != nil {
			t.Fatal(err)
		}
		for sel, want := range map[string]string{"#filter-actor": `a\x00b\x1bc`, "#filter-task": `\x07`, "#filter-from": `\x08`} {
			if got := doc.Find(sel).AttrOr("value", ""); got != want {
				t.Errorf("%s = %q, want %q", sel, got, want)
			}
		}
	})
	// A filter the page cannot read looks nothing up: it offers no download (which would hold
	// every record, not the ones asked for) and does not say that no records match; an error of
	// a parameter the page has no input for (a hand-edited cursor or page size) is not a link.
	for _, query := range []string{"from=2026-02-30", "outcome=great", "before=abc", "limit=0", "before=abc&to=soon"} {
		t.Run("nothing offered for "+query, func(t *testing.T) {
			resp := h.get("/audit?" + query)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d", resp.StatusCode)
			}
			doc := document(t, resp)
			if n := doc.Find("#download-csv, #download-jsonl, #no-records").Length(); n != 0 {
				t.Errorf("%d downloads or \"No records match\" beside the filter errors", n)
			}
			if doc.Find(".error-summary li").Length() == 0 {
				t.Error("no error listed")
			}
			doc.Find(".error-summary a").Each(func(_ int, a *goquery.Selection) {
				if href := a.AttrOr("href", ""); doc.Find(href).Length() != 1 {
					t.Errorf("error links to %s, which is not on the page", href)
				}
			})
		})
	}
}

func TestAuditPageShowsABrokenChain(t *testing.T) {
	h := newHarness(t, withAuditLog(func(l web.AuditLog) web.AuditLog { return brokenChain{l} }))
	h.chain.Check(context.Background())
	doc := document(t, h.get("/audit"))
	chain := doc.Find("#chain")
	if chain.AttrOr("role", "") != "alert" || !strings.Contains(chain.Text(), "record 7") || !strings.Contains(chain.Text(), "edited") {
		t.Errorf("chain = %q", chain.Text())
	}
}

// The page never waits for the chain to be walked: it shows the last check's result and starts a
// check of the records appended since, at most once per interval.
func TestAuditPageVerifiesInTheBackground(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seed(t, h)
	chain := func() string { return document(t, h.get("/audit")).Find("#chain").Text() }
	if got := chain(); !strings.Contains(got, "not verified yet") {
		t.Errorf("before the first check: %q", got)
	}
	h.chain.Check(ctx) // waits for the check the view started
	first := chain()
	anchor := document(t, h.get("/audit")).Find("#chain-anchor").Text()
	if !strings.Contains(first, "verified up to record 5 at 2026-05-04 03:02:01 UTC") || !strings.HasPrefix(anchor, "5:") || len(anchor) != 2+64 {
		t.Fatalf("chain = %q, anchor %q", first, anchor)
	}
	if _, err := h.store.Append(ctx, audit.Record{Trigger: audit.TriggerCLI, Outcome: audit.OutcomeRejected,
		Action: audit.ActionCreateVulScanTask, Params: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if got := chain(); got != first || h.chain.Status().Checking {
		t.Errorf("within the interval the page started another check: %q", got)
	}
	h.now = h.now.Add(time.Minute)
	if got := chain(); got != first {
		t.Errorf("the page showed %q, not the last check's result", got)
	}
	h.chain.Check(ctx)
	if got := chain(); !strings.Contains(got, "verified up to record 6 at 2026-05-04 03:03:01 UTC") {
		t.Errorf("after the interval: %q", got)
	}
}

// blockedChain is an audit log whose verification waits until release is closed.
type blockedChain struct {
	web.AuditLog
	release chan struct{}
}

func (b blockedChain) VerifyFrom(ctx context.Context, from audit.Report) (audit.Report, error) {
	<-b.release
	return b.AuditLog.VerifyFrom(ctx, from)
}

func TestAuditPageDoesNotWaitForAWalk(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, withAuditLog(func(l web.AuditLog) web.AuditLog { return blockedChain{l, release} }))
	seed(t, h)
	for range 3 { // each view answers while the walk it started is still blocked
		resp := h.get("/audit")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		if doc := document(t, resp); doc.Find("#records tbody tr").Length() != 5 || !strings.Contains(doc.Find("#chain").Text(), "not verified yet") {
			t.Errorf("page = %d rows, chain %q", doc.Find("#records tbody tr").Length(), doc.Find("#chain").Text())
		}
	}
	if !h.chain.Status().Checking {
		t.Error("no check running after the views")
	}
	close(release)
	if st := h.chain.Check(context.Background()); st.Report.Records != 5 || !st.Report.OK() {
		t.Errorf("after release: %+v", st)
	}
}

func TestAuditExports(t *testing.T) {
	h := newHarness(t)
	seed(t, h)
	t.Run("CSV", func(t *testing.T) {
		resp := h.get("/audit.csv?trigger=api")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
			t.Errorf("Content-Disposition = %q", cd)
		}
		rows, err := csv.NewReader(strings.NewReader(body(t, resp))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 || rows[0][0] != "id" {
			t.Fatalf("rows = %q, want a header and records 3, 4, 5", rows)
		}
		for i, id := range []string{"3", "4", "5"} {
			if rows[i+1][0] != id {
				t.Errorf("row %d has id %s, want %s (oldest first)", i+1, rows[i+1][0], id)
			}
		}
	})
	t.Run("JSON Lines", func(t *testing.T) {
		resp := h.get("/audit.jsonl?outcome=succeeded")
		lines := strings.Split(strings.TrimSpace(body(t, resp)), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d lines, want 2", len(lines))
		}
		var rec audit.Record
		if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil || rec.ID != 2 || rec.Outcome != audit.OutcomeSucceeded {
			t.Errorf("first line = %+v (%v)", rec, err)
		}
	})
	// A download holds every matching record: the page's paging (limit, before) means nothing
	// to it, so it neither applies nor checks it.
	t.Run("paging is not the download's", func(t *testing.T) {
		for _, path := range []string{"/audit.jsonl?limit=0", "/audit.jsonl?limit=1&before=3", "/audit.jsonl?limit=x&before=y"} {
			resp := h.get(path)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
				continue
			}
			if n := len(strings.Split(strings.TrimSpace(body(t, resp)), "\n")); n != 5 {
				t.Errorf("GET %s: %d records, want all 5", path, n)
			}
		}
	})
	t.Run("bad filter", func(t *testing.T) {
		if resp := h.get("/audit.csv?to=soon"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status = %d", resp.StatusCode)
		}
		// Each problem ends its sentence once, whether or not its own text ends with a period.
		resp := h.get("/audit.csv?outcome=bogus")
		msg := document(t, resp).Find(".callout-error").Text()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, "replayed.") || strings.Contains(msg, "..") {
			t.Errorf("status %d, message %q", resp.StatusCode, msg)
		}
	})
}

func TestAPIAudit(t *testing.T) {
	h := newHarness(t)
	seed(t, h)
	type page struct {
		Records    []audit.Record `json:"records"`
		NextBefore int64          `json:"next_before"`
		Next       string         `json:"next"`
	}
	p := decodeJSON[page](t, h.get("/api/audit?limit=2&trigger=api"))
	if len(p.Records) != 2 || p.Records[0].ID != 5 || p.Records[1].ID != 4 || p.NextBefore != 4 || p.Next != "audit?before=4&limit=2&trigger=api" {
		t.Errorf("page = %+v", p)
	}
	p = decodeJSON[page](t, h.get("/api/"+p.Next))
	if len(p.Records) != 1 || p.Records[0].ID != 3 || p.NextBefore != 0 || p.Next != "" {
		t.Errorf("last page = %+v", p)
	}
	resp := h.get("/api/audit?before=-1")
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if e := decodeJSON[apiError](t, resp); !hasField(e.Errors, "before") {
		t.Errorf("error = %+v", e)
	}
}

func TestAPIAuditRefusesAnUnknownParameter(t *testing.T) {
	h := newHarness(t)
	seed(t, h)
	for _, tc := range []struct{ query, field string }{
		{"outcomes=failed", "outcomes"},
		{"Outcome=failed", "Outcome"},
		{"trigger=api&page=2", "page"},
		{"limit=1&offset=5", "offset"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			resp := h.get("/api/audit?" + tc.query)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400: %s", resp.StatusCode, body(t, resp))
			}
			e := decodeJSON[apiError](t, resp)
			if !hasField(e.Errors, tc.field) {
				t.Fatalf("error = %+v, want one naming %s", e, tc.field)
			}
			if !strings.Contains(e.Errors[len(e.Errors)-1].Message, "outcome, trigger") {
				t.Errorf("message %q does not list the parameters", e.Errors[len(e.Errors)-1].Message)
			}
		})
	}
}

// largeRecords is an audit log of n records whose params are each a scan of the most local
// images a request may name.
type largeRecords struct {
	web.AuditLog
	n int
}

func (l largeRecords) List(_ context.Context, f audit.Filter) ([]audit.Record, error) {
	ids := make([]string, scan.MaxListLength)
	for i := range ids {
		ids[i] = fmt.Sprintf("sha256:%064x", i)
	}
	params, err := json.Marshal(scan.Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: ids, ExcludeLocalImageIDs: ids})
	if err != nil {
		return nil, err
	}
	var out []audit.Record
	for id := int64(l.n); id >= 1 && len(out) < f.Limit; id-- {
		if f.BeforeID == 0 || id < f.BeforeID {
			out = append(out, audit.Record{ID: id, Trigger: audit.TriggerAPI, Outcome: audit.OutcomeRejected, Params: params})
		}
	}
	return out, nil
}

// TestAPIAuditPageFitsAFunctionsAnswer: a page of the largest records stays within what a Lambda
// or SCF gateway carries, and its cursor leads on to every record, none skipped or repeated.
func TestAPIAuditPageFitsAFunctionsAnswer(t *testing.T) {
	const n = 150
	h := newHarness(t, withAuditLog(func(l web.AuditLog) web.AuditLog { return largeRecords{l, n} }))
	want := int64(n)
	for target, pages := "/api/audit?limit=200", 0; target != ""; pages++ {
		if pages > n {
			t.Fatal("the pages never end")
		}
		resp := h.get(target)
		data := []byte(body(t, resp))
		if resp.StatusCode != http.StatusOK || len(data) > platform.MaxResponseBytes {
			t.Fatalf("%s: status %d, %d bytes; want 200 within %d", target, resp.StatusCode, len(data), platform.MaxResponseBytes)
		}
		var p struct {
			Records []audit.Record `json:"records"`
			Next    string         `json:"next"`
		}
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Records) == 0 {
			t.Fatalf("%s: an empty page", target)
		}
		for _, rec := range p.Records {
			if rec.ID != want {
				t.Fatalf("%s: record %d, want %d", target, rec.ID, want)
			}
			want--
		}
		target = ""
		if p.Next != "" {
			target = "/api/" + p.Next
		}
	}
	if want != 0 {
		t.Errorf("the pages ended before record %d", want)
	}
}

func TestAuditRefusesARepeatedParameter(t *testing.T) {
	h := newHarness(t)
	seed(t, h)
	for _, tc := range []struct{ query, field string }{
		{"limit=2&limit=200", "limit"},
		{"outcome=succeeded&outcome=rejected", "outcome"},
		{"trigger=api&trigger=form", "trigger"},
		{"actor=a&actor=b", "actor"},
		{"task=1&task=2", "task"},
		{"from=2026-01-01&from=2026-02-01", "from"},
		{"to=2026-01-01&to=2026-02-01", "to"},
		{"before=4&before=5", "before"},
	} {
		t.Run(tc.field, func(t *testing.T) {
			resp := h.get("/api/audit?" + tc.query)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400: %s", resp.StatusCode, body(t, resp))
			}
			if e := decodeJSON[apiError](t, resp); !hasField(e.Errors, tc.field) {
				t.Errorf("error = %+v, want one naming %s", e, tc.field)
			}
			for _, path := range []string{"/audit?", "/audit.csv?", "/audit.jsonl?"} {
				if resp := h.get(path + tc.query); resp.StatusCode != http.StatusBadRequest {
					t.Errorf("%s%s: status = %d, want 400", path, tc.query, resp.StatusCode)
				}
			}
		})
	}
}

func TestAuditLogUnavailable(t *testing.T) {
	h := newHarness(t, withAuditLog(func(l web.AuditLog) web.AuditLog { return failingAudit{l} }),
		withSchedules("nightly=0 0 2 * * * *"))
	// Every page that reads the log says it is unavailable and when to try again, the schedules
	// page too: a store that is down is not an internal error.
	for path, want := range map[string]string{"/audit": "text/html", "/api/audit": "application/json", "/schedules": "text/html"} {
		resp := h.get(path)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(resp.Header.Get("Content-Type"), want) {
			t.Errorf("%s: status %d, Content-Type %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", path)
		}
		if b := body(t, resp); strings.Contains(b, "locked") {
			t.Errorf("%s: the cause leaked: %s", path, b)
		}
	}
}
