package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
)

// A query url.ParseQuery cannot read whole is refused by the audit page, its downloads and
// GET /api/audit, never answered as if the filters it carries were not there: r.URL.Query()
// silently dropped them, and outcome=failed; gave every record of the log.
func TestAuditQueryThatCannotBeReadIsRefused(t *testing.T) {
	h := newHarness(t)
	sqlstoretest.Fill(t, h.store, 20)
	queries := []struct{ name, query string }{
		{"semicolon separator", "outcome=failed;"},
		{"semicolon between filters", "outcome=failed;trigger=api"},
		{"bad escape in a filter", "outcome=failed&actor=%zz"},
		{"more parameters than the parser reads", "outcome=failed" + strings.Repeat("&", 10_001)},
	}
	for _, route := range []string{"/audit", "/audit.csv", "/audit.jsonl", "/api/audit"} {
		for _, q := range queries {
			t.Run(route+"/"+q.name, func(t *testing.T) {
				text := wantUnreadableQueryRefused(t, h, route+"?"+q.query)
				if strings.Contains(text, "user-0") {
					t.Errorf("the refusal lists records: %.300q", text)
				}
			})
		}
	}
}

// GET /api/audit names the parameters it does not take, the first ten of them, and counts the
// rest in one more line: a query of thousands of made-up names (a 40 KB address) was answered
// with one error each, over 600 KB.
func TestAPIAuditNamesAtMostTenUnknownParameters(t *testing.T) {
	h := newHarness(t)
	names := func(n int) string {
		params := make([]string, n)
		for i := range params {
			params[i] = fmt.Sprintf("x%05d=1", i)
		}
		return strings.Join(params, "&")
	}
	tests := []struct {
		name       string
		query      string
		wantFields []string // the errors' fields, in order
		wantMore   string   // in the last error's message, "" when none counts the rest
	}{
		{"one", "outcomes=failed", []string{"outcomes"}, ""},
		{"ten", names(10), []string{"x00000", "x00001", "x00002", "x00003", "x00004", "x00005", "x00006", "x00007", "x00008", "x00009"}, ""},
		{"eleven", names(11), []string{"x00000", "x00001", "x00002", "x00003", "x00004", "x00005", "x00006", "x00007", "x00008", "x00009", ""}, "1 more parameters"},
		{"five thousand", names(5000), []string{"x00000", "x00001", "x00002", "x00003", "x00004", "x00005", "x00006", "x00007", "x00008", "x00009", ""}, "4990 more parameters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.get("/api/audit?" + tc.query)
			var got struct {
				Code   string `json:"code"`
				Errors []struct{ Field, Message string }
			}
			text := body(t, resp)
			if err := json.Unmarshal([]byte(text), &got); err != nil {
				t.Fatalf("%v: %.200q", err, text)
			}
			if resp.StatusCode != http.StatusBadRequest || got.Code != "bad_request" {
				t.Fatalf("status %d code %q, want 400 bad_request", resp.StatusCode, got.Code)
			}
			var fields []string
			for _, e := range got.Errors {
				fields = append(fields, e.Field)
			}
			if !slices.Equal(fields, tc.wantFields) {
				t.Errorf("%d fields, ending %q; want %q", len(fields), fields[max(0, len(fields)-2):], tc.wantFields)
			}
			if last := got.Errors[len(got.Errors)-1].Message; tc.wantMore != "" && !strings.Contains(last, tc.wantMore) {
				t.Errorf("last message %q does not count the rest (%q)", last, tc.wantMore)
			}
			if len(text) > 4<<10 {
				t.Errorf("the answer is %d bytes", len(text))
			}
		})
	}
}

// A download refuses a parameter it does not take, as GET /api/audit does, instead of ignoring
// it: a script's misspelt filter downloaded the whole log as if it were the filtered part.
// The page's paging (before, limit) is still taken, and still means nothing to a download.
func TestAuditDownloadRefusesUnknownParameters(t *testing.T) {
	h := newHarness(t)
	sqlstoretest.Fill(t, h.store, 20)
	tests := []struct {
		query  string
		status int
		field  string // the parameter the refusal names
	}{
		{"outcomes=failed", http.StatusBadRequest, "outcomes"},
		{"outcome=failed&form=2026-01-01", http.StatusBadRequest, "form"},
		{"actor=user-01&Outcome=failed", http.StatusBadRequest, "Outcome"},
		{"outcome=failed", http.StatusOK, ""},
		{"outcome=failed&limit=1&before=3", http.StatusOK, ""},
	}
	for _, route := range []string{"/audit.csv", "/audit.jsonl"} {
		for _, tc := range tests {
			t.Run(route+"?"+tc.query, func(t *testing.T) {
				resp := h.get(route + "?" + tc.query)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %.300q", resp.StatusCode, tc.status, body(t, resp))
				}
				if tc.status != http.StatusOK {
					if cd := resp.Header.Get("Content-Disposition"); cd != "" {
						t.Errorf("a refusal is offered as a download: %q", cd)
					}
					if msg := document(t, resp).Find(".callout-error").Text(); !strings.Contains(msg, tc.field+": is not a parameter of an audit download") {
						t.Errorf("message %q does not name %s", msg, tc.field)
					}
				}
			})
		}
	}
}

// wantUnreadableQueryRefused gets target, whose query url.ParseQuery cannot read whole, and wants
// it refused with 400 saying so; it returns the answer's body.
func wantUnreadableQueryRefused(t *testing.T, h *harness, target string) string {
	t.Helper()
	resp := h.get(target)
	text := body(t, resp)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400; body starts %.200q", resp.StatusCode, text)
	}
	if !strings.Contains(text, "query could not be read") {
		t.Errorf("the answer does not say the query could not be read: %.300q", text)
	}
	return text
}
