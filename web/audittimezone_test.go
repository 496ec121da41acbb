package web_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
)

// Each time in the audit table carries its moment with the zone (datetime), as the attempt page
// and /schedules do: the table's <time> had only its text, "2026-12-04 19:48:01", which HTML
// reads as a local date and time with no zone, so a browser extension, a screen reader's
// date reading or a script taking the table read UTC times as the reader's own zone.
func TestAuditTableTimesSayTheirZone(t *testing.T) {
	h := newHarness(t)
	sqlstoretest.Fill(t, h.store, 12)
	recs := h.records()
	byID := map[string]time.Time{}
	for _, r := range recs {
		byID[strconv.FormatInt(r.ID, 10)] = r.Time
	}
	for _, query := range []string{"", "?limit=5&before=8", "?outcome=succeeded"} {
		doc := document(t, h.get("/audit"+query))
		rows := doc.Find("#records tbody tr")
		if rows.Length() == 0 {
			t.Fatalf("GET /audit%s: no rows", query)
		}
		rows.Each(func(_ int, tr *goquery.Selection) {
			id := tr.Find(`td[data-label="ID"]`).Text()
			at, err := time.Parse(time.RFC3339, tr.Find("time").AttrOr("datetime", ""))
			if err != nil {
				t.Errorf("GET /audit%s: record %s's time has no datetime with a zone: %v", query, id, err)
				return
			}
			if want := byID[id].Truncate(time.Second); !at.Equal(want) {
				t.Errorf("GET /audit%s: record %s's datetime is %s, want %s", query, id, at, want)
			}
		})
	}
}
