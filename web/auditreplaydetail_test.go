package web_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// A replayed record's row on the audit page says which attempt answered it, as its own page, the
// CSV and the JSON do: the Detail column showed only a record's error code or TCSS RequestId,
// and a replay has neither, so its row was blank past the outcome, and the log's list of who
// reused a key did not say whose scan they were given.
func TestAuditPageRowOfAReplaySaysWhichAttemptAnsweredIt(t *testing.T) {
	h := newHarness(t)
	withKey := func(r *http.Request) { r.Header.Set("Idempotency-Key", "replayed-row") }
	first := h.postJSON(`{"LocalImageScanType":"ALL"}`, withKey)
	if first.StatusCode != http.StatusCreated {
		t.Fatalf("first start: status %d: %s", first.StatusCode, body(t, first))
	}
	first.Body.Close()
	again := h.postJSON(`{"LocalImageScanType":"ALL"}`, withKey)
	if again.StatusCode != http.StatusOK {
		t.Fatalf("the retry: status %d, want 200 (replayed): %s", again.StatusCode, body(t, again))
	}
	again.Body.Close()
	recs := h.records()
	last := recs[len(recs)-1]
	if last.Outcome != "replayed" {
		t.Fatalf("the last record is %s, want replayed", last.Outcome)
	}
	for _, query := range []string{"", "?outcome=replayed"} {
		doc := document(t, h.get("/audit"+query))
		var detail string
		doc.Find("#records tbody tr").Each(func(_ int, tr *goquery.Selection) {
			if strings.TrimSpace(tr.Find(`td[data-label="ID"]`).Text()) == strconv.FormatInt(last.ID, 10) {
				detail = strings.TrimSpace(tr.Find("td.detail").Text())
			}
		})
		if want := "Answered from attempt " + strconv.FormatInt(last.RelatedID, 10); !strings.Contains(detail, want) {
			t.Errorf("GET /audit%s: the replay's Detail is %q, want it to say %q", query, detail, want)
		}
	}
}
