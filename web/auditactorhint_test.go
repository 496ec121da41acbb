package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The actor filter matches whole actors only (actor = ?), and the page says so at the input: a
// security engineer filtering on "alice" for oidc:alice@example.com's records was told "No
// records match." with nothing to say that the filter was not a search.
func TestAuditPageSaysTheActorFilterTakesWholeActors(t *testing.T) {
	h := newHarness(t, withProxyAuth(t, "X-Forwarded-User"))
	if resp := h.postJSON(`{"LocalImageScanType":"NOT_SCAN"}`, viaProxy("X-Forwarded-User", "alice")); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/scans: status %d: %s", resp.StatusCode, body(t, resp))
	}
	actor := h.records()[0].Actor
	for _, tc := range []struct {
		query   string
		records int
	}{
		{"actor=alice", 0},
		{"actor=" + actor, 2},
	} {
		r := httptest.NewRequest(http.MethodGet, "/audit?"+tc.query, nil)
		viaProxy("X-Forwarded-User", "alice")(r)
		resp := h.do(r)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /audit?%s: status %d", tc.query, resp.StatusCode)
		}
		doc := document(t, resp)
		if got := doc.Find("#records tbody tr").Length(); got != tc.records {
			t.Errorf("GET /audit?%s: %d records, want %d", tc.query, got, tc.records)
		}
		input := doc.Find("#filter-actor")
		ids, _ := input.Attr("aria-describedby")
		var hint string
		for _, id := range strings.Fields(ids) {
			hint += doc.Find("#" + id).Text()
		}
		for _, want := range []string{"whole", "oidc:alice@example.com"} {
			if !strings.Contains(hint, want) {
				t.Errorf("GET /audit?%s: the actor input's description %q does not say %q", tc.query, hint, want)
			}
		}
	}
}
