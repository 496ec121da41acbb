package web_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
)

// An audit CSV opened by a spreadsheet whose list separator is the semicolon (German, French,
// … locales) is split at semicolons, quoted or not: a caller's text holding one
// ("Mozilla;=cmd|' /C calc'!A0") became a cell starting with "=", a formula. An apostrophe after
// the semicolon neutralizes it as one at the start of a cell does, so that no reading, by comma
// or by semicolon, finds a cell that starts a formula, and a reader still recovers the text.
func TestAuditCSVCellWithASemicolonStartsNoFormula(t *testing.T) {
	tests := []struct{ name, userAgent, key string }{
		{"formula after a semicolon", "Mozilla/5.0;=cmd|' /C calc'!A0", "k;=1+1"},
		{"formula between semicolons", ";@SUM(1);", ";=WEBSERVICE(A1&B1);"},
		{"plus and minus", "a;+1", "b;-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, func(r *http.Request) {
				r.Header.Set("User-Agent", tc.userAgent)
				r.Header.Set("Idempotency-Key", tc.key)
			})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("start = %d: %s", resp.StatusCode, body(t, resp))
			}
			export := h.get("/audit.csv")
			if export.StatusCode != http.StatusOK {
				t.Fatalf("download = %d", export.StatusCode)
			}
			text := body(t, export)
			rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			// A reader removes one apostrophe at the start and one after each semicolon.
			sent := func(cell string) string { return strings.ReplaceAll(strings.TrimPrefix(cell, "'"), ";'", ";") }
			if len(rows) < 2 || sent(rows[1][5]) != tc.userAgent || sent(rows[1][8]) != tc.key {
				t.Fatalf("user agent %q, key %q: want %q and %q as sent", rows[1][5], rows[1][8], tc.userAgent, tc.key)
			}
			bySemicolon := csv.NewReader(strings.NewReader(text))
			bySemicolon.Comma, bySemicolon.LazyQuotes, bySemicolon.FieldsPerRecord = ';', true, -1
			cells, err := bySemicolon.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range cells {
				for _, cell := range row {
					if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
						t.Errorf("read at semicolons, a cell starts a formula: %q", cell)
					}
				}
			}
		})
	}
}
