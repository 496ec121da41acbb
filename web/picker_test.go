package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"

	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
	"github.com/vulscan/vulscan/web"
)

func TestPickerListsAndFilters(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, query string
		rows        int
		pageOf      string
	}{
		{"registry images by name and tag", "/pick/registry?q_name=payments&q_tag=latest", 2, "Page 1 of 1 (2 registry images)"},
		{"registry images by registry address", "/pick/registry?q_repo=tencentcloudcr.com&q_name=nginx", 3, "Page 1 of 1 (3 registry images)"},
		{"registry images, second page", "/pick/registry?page=2", 20, "Page 2 of 3 (42 registry images)"},
		{"local images by name", "/pick/local?q_name=redis", 3, "Page 1 of 1 (3 local images)"},
		{"clusters", "/pick/cluster", 6, "Page 1 of 1 (6 clusters)"},
		// An old or hand-edited link past the end shows the last page, not "nothing matches".
		{"registry images, past the end", "/pick/registry?page=99", 2, "Page 3 of 3 (42 registry images)"},
		{"registry images, past any int", "/pick/registry?page=999999999999999999999", 2, "Page 3 of 3 (42 registry images)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.get(tt.query)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			doc := document(t, resp)
			if n := doc.Find(`#results tbody input[type=checkbox][name=sel]`).Length(); n != tt.rows {
				t.Errorf("%d rows, want %d", n, tt.rows)
			}
			if got := doc.Find("#page-of").Text(); got != tt.pageOf {
				t.Errorf("pager %q, want %q", got, tt.pageOf)
			}
			if doc.Find(`#results label[for^="pick-"]`).Length() != tt.rows {
				t.Error("a check box has no label")
			}
		})
	}
	if n := h.emu.Calls("DescribeAssetImageRegistryList"); n != 7 {
		t.Errorf("DescribeAssetImageRegistryList calls = %d, want 7 (each page past the end asks twice)", n)
	}
}

func TestPickerKeepsTheSelectionAndTheFormAcrossPages(t *testing.T) {
	h := newHarness(t)
	doc := document(t, h.get("/pick/registry?page=2&sel=1001&sel=1022&sel=abc&sel=0&LocalImageScanType=ALL&IdempotencyKey=k1"))
	kept := doc.Find(`input[type=hidden][name=sel]`)
	if kept.Length() != 1 || kept.AttrOr("value", "") != "1001" {
		t.Errorf("hidden selection %d %q, want only 1001 (1022 is on this page; abc and 0 are not IDs)", kept.Length(), kept.AttrOr("value", ""))
	}
	if !doc.Find(`#pick-1022`).Is("[checked]") {
		t.Error("1022 is on this page and selected, but not ticked")
	}
	if doc.Find(`input[type=hidden][name=LocalImageScanType][value=ALL]`).Length() != 1 {
		t.Error("the form's other entries are not carried")
	}
	if doc.Find(`input[name=IdempotencyKey]`).Length() != 0 {
		t.Error("the picker carries the form's idempotency key")
	}
}

func TestPickerOpensWithTheFieldsIDsTicked(t *testing.T) {
	h := newHarness(t)
	doc := document(t, h.get("/pick/registry?RegistryImageIDs=1003%2C+1004"))
	if !doc.Find(`#pick-1003`).Is("[checked]") || !doc.Find(`#pick-1004`).Is("[checked]") || doc.Find(`#pick-1005`).Is("[checked]") {
		t.Error("the IDs already in the form are not the ticked ones")
	}
}

// TestPickerCarriesOnlyIDsTheFormAccepts: the picker keeps a ticked ID only if the scan's own
// validation would accept it, so "Use" never fills the form with an entry it then refuses.
func TestPickerCarriesOnlyIDsTheFormAccepts(t *testing.T) {
	good := tcsstest.LocalImages()[0].ImageID
	tests := []struct {
		kind, sel, want string
	}{
		{"local", good, good},
		{"local", "sha256:abc", ""},                         // too short
		{"local", strings.ToUpper(good[:7]) + good[7:], ""}, // upper-case prefix
		{"local", "sha256:" + strings.Repeat("G", 64), ""},  // not hex
		{"cluster", "cls-5eed0000", "cls-5eed0000"},
		{"cluster", "cls-AB CD", ""},                      // space, upper case
		{"cluster", "cls-" + strings.Repeat("a", 33), ""}, // too long
		{"registry", "1001", "1001"},
		{"registry", "0", ""},
		{"registry", "-3", ""},
	}
	for _, tt := range tests {
		t.Run(tt.kind+" "+tt.sel, func(t *testing.T) {
			h := newHarness(t)
			doc := document(t, h.get("/pick/"+tt.kind+"?page=1&sel="+url.QueryEscape(tt.sel)))
			var got []string
			doc.Find(`input[type=hidden][name=sel], input[type=checkbox][name=sel][checked]`).Each(func(_ int, s *goquery.Selection) {
				got = append(got, s.AttrOr("value", ""))
			})
			want := []string{}
			if tt.want != "" {
				want = []string{tt.want}
			}
			if len(got) != len(want) || (len(want) == 1 && got[0] != want[0]) {
				t.Errorf("carried %q, want %q", got, want)
			}
		})
	}
}

func TestPickerUseFillsTheForm(t *testing.T) {
	tests := []struct {
		kind, sel string
		field     string
		scopeID   string
		want      string
	}{
		{"registry", "sel=1001&sel=1002", "RegistryImageIDs", "RegistryImageScanType-IMAGEIDS", "1001, 1002"},
		{"cluster", "sel=cls-5eed0000", "LocalClusterIDs", "LocalImageScanType-CLUSTER", "cls-5eed0000"},
		{"local", "sel=" + url.QueryEscape(tcsstest.LocalImages()[0].ImageID), "LocalImageIDs", "LocalImageScanType-IMAGEIDS", tcsstest.LocalImages()[0].ImageID},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			h := newHarness(t)
			resp := h.get("/pick/" + tt.kind + "?use=1&" + tt.sel + "&IsLatest=true")
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "../?") {
				t.Fatalf("status %d, Location %q; want 303 to the form", resp.StatusCode, loc)
			}
			doc := document(t, h.get("/"+strings.TrimPrefix(loc, "../")))
			if got := doc.Find("#" + tt.field).Text(); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.field, got, tt.want)
			}
			if !doc.Find("#" + tt.scopeID).Is("[checked]") {
				t.Errorf("%s is not chosen", tt.scopeID)
			}
			if !doc.Find("#IsLatest").Is("[checked]") {
				t.Error("the form's other entries were lost")
			}
		})
	}
}

func TestPickerErrors(t *testing.T) {
	h := newHarness(t)
	if resp := h.get("/pick/containers"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown kind: %d, want 404", resp.StatusCode)
	}
	h.emu.InjectFault("DescribeAssetImageRegistryList", faultCode("AuthFailure.UnauthorizedOperation"))
	resp := h.get("/pick/registry?page=1&sel=1001")
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("refused: %d, want 502", resp.StatusCode)
	}
	doc := document(t, resp)
	if got := doc.Find("#picker-error").Text(); !strings.Contains(got, "AuthFailure.UnauthorizedOperation") || !strings.Contains(got, "docs/deploy.md") {
		t.Errorf("error %q", got)
	}
	if doc.Find(`input[type=hidden][name=sel][value="1001"]`).Length() != 1 {
		t.Error("the selection is lost when TCSS refuses")
	}
}

// A refusal says what to do about it: only a refused permission sends the person to the role's
// actions in docs/deploy.md; a rate limit or a TCSS failure is no permission to grant.
func TestPickerSaysWhatARefusalMeans(t *testing.T) {
	for _, tc := range []struct {
		code      string
		says      string
		roleHints bool
	}{
		{"RequestLimitExceeded", "rate limiting", false},
		{"RequestLimitExceeded.UinLimitExceeded", "rate limiting", false},
		{"InternalError", "Try again", false},
		{"ResourceUnavailable", "Try again", false},
		{"AuthFailure.SignatureFailure", "credentials", false},
		// Worded as the scan page words the same refusal.
		{"AuthFailure.UnauthorizedOperation", "Tencent Cloud did not allow the call", true},
		{"UnauthorizedOperation", "Tencent Cloud did not allow the call", true},
		{"UnauthorizedOperation.CamNoAuth", "Tencent Cloud did not allow the call", true},
	} {
		t.Run(tc.code, func(t *testing.T) {
			h := newHarness(t)
			h.emu.InjectFault("DescribeAssetImageList", faultCode(tc.code))
			resp := h.get("/pick/local")
			if resp.StatusCode != http.StatusBadGateway {
				t.Errorf("status %d, want 502", resp.StatusCode)
			}
			got := document(t, resp).Find("#picker-error").Text()
			if !strings.Contains(got, tc.code) || !strings.Contains(got, tc.says) {
				t.Errorf("error %q does not name %s and say %q", got, tc.code, tc.says)
			}
			if hints := strings.Contains(got, "docs/deploy.md"); hints != tc.roleHints {
				t.Errorf("error %q: points at the role's actions = %v, want %v", got, hints, tc.roleHints)
			}
		})
	}
}

func TestFormOffersThePickers(t *testing.T) {
	h := newHarness(t)
	doc := document(t, h.get("/"))
	for _, kind := range []string{"local", "cluster", "registry"} {
		b := doc.Find("button#pick-" + kind)
		if b.AttrOr("formaction", "") != "./pick/"+kind || b.AttrOr("formmethod", "") != "get" {
			t.Errorf("pick-%s: formaction %q formmethod %q", kind, b.AttrOr("formaction", ""), b.AttrOr("formmethod", ""))
		}
	}
	if first := doc.Find("form button[type=submit]").First(); first.Text() != "Start scan" {
		t.Errorf("Enter in a field would press %q, not Start scan", first.Text())
	}
}

// inventoryOf is an inventory of n local images, img0 to img<n-1>, served a page at a time, as
// a large estate's would be.
type inventoryOf int64

func (n inventoryOf) LocalImages(_ context.Context, q scan.InventoryQuery) (scan.Page[scan.LocalImage], error) {
	page := scan.Page[scan.LocalImage]{Total: int64(n)}
	for i := int64(q.Offset); i < int64(q.Offset+q.Limit) && i < int64(n); i++ {
		page.Items = append(page.Items, scan.LocalImage{ID: fmt.Sprintf("sha256:%064x", i), Name: fmt.Sprint("img", i)})
	}
	return page, nil
}

func (inventoryOf) RegistryImages(context.Context, scan.InventoryQuery) (scan.Page[scan.RegistryImage], error) {
	return scan.Page[scan.RegistryImage]{}, nil
}

func (inventoryOf) Clusters(context.Context, scan.InventoryQuery) (scan.Page[scan.Cluster], error) {
	return scan.Page[scan.Cluster]{}, nil
}

func withInventory(inv scan.Inventory) harnessOption {
	return func(c *harnessConfig) { c.inventory = inv }
}

// Every page of a large inventory is reachable: "Next page" always leads to the next page, up to
// the last one.
func TestPickerPagesThroughALargeInventory(t *testing.T) {
	h := newHarness(t, withInventory(inventoryOf(100_000)))
	tests := []struct {
		page, pageOf, first, next string
	}{
		{"1000", "Page 1000 of 5000 (100000 local images)", "img19980", "1001"},
		{"1001", "Page 1001 of 5000 (100000 local images)", "img20000", "1002"},
		{"4999", "Page 4999 of 5000 (100000 local images)", "img99960", "5000"},
		{"5000", "Page 5000 of 5000 (100000 local images)", "img99980", ""},
		{"5001", "Page 5000 of 5000 (100000 local images)", "img99980", ""},
	}
	for _, tt := range tests {
		t.Run("page "+tt.page, func(t *testing.T) {
			doc := document(t, h.get("/pick/local?page="+tt.page))
			if got := doc.Find("#page-of").Text(); got != tt.pageOf {
				t.Errorf("pager %q, want %q", got, tt.pageOf)
			}
			if got := doc.Find("#results tbody label").First().Text(); got != tt.first {
				t.Errorf("first row %q, want %q", got, tt.first)
			}
			if got := doc.Find("#next-page").AttrOr("value", ""); got != tt.next {
				t.Errorf("next page %q, want %q", got, tt.next)
			}
		})
	}
}

// stalledInventory answers no list until its caller gives up (or, so that a caller that never
// does fails the test instead of hanging it, until a minute has passed: then it answers a page).
type stalledInventory struct{ inventoryOf }

func (stalledInventory) LocalImages(ctx context.Context, _ scan.InventoryQuery) (scan.Page[scan.LocalImage], error) {
	select {
	case <-ctx.Done():
		return scan.Page[scan.LocalImage]{}, ctx.Err()
	case <-time.After(time.Minute):
		return scan.Page[scan.LocalImage]{Items: []scan.LocalImage{{ID: localImage('a'), Name: "answered late"}}, Total: 1}, nil
	}
}

// A TCSS that does not answer the inventory call: the picker gives up within its own bound and
// says so, keeping the selection and the form's entries, instead of holding the request until
// the server or the function cuts the connection.
func TestPickerGivesUpOnASlowTCSS(t *testing.T) {
	web.SetPickerTimeout(t, 50*time.Millisecond)
	h := newHarness(t, withInventory(stalledInventory{}))
	resp := h.get("/pick/local?page=1&sel=" + url.QueryEscape(localImage('b')) + "&RegistryImageScanType=ALL")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	doc := document(t, resp)
	if got := doc.Find("#picker-error").Text(); !strings.Contains(got, "could not be reached") {
		t.Errorf("error %q, want one saying TCSS could not be reached", got)
	}
	if doc.Find(`input[type=hidden][name=sel][value="`+localImage('b')+`"]`).Length() != 1 ||
		doc.Find(`input[type=hidden][name=RegistryImageScanType][value=ALL]`).Length() != 1 {
		t.Error("the selection or the form's entries are lost")
	}
}

// More IDs ticked than a request takes: the picker says so, and "Use" does not fill the form
// with only some of them unsaid; up to the bound, "Use" fills it.
func TestPickerSaysWhenMoreAreTickedThanAScanTakes(t *testing.T) {
	ticked := func(n int) string {
		var q []string
		for i := range n {
			q = append(q, "sel="+strconv.Itoa(1001+i))
		}
		return strings.Join(q, "&")
	}
	tests := []struct {
		name, query string
		status      int
		notice      string // "" for none
	}{
		{"use 600", "use=1&" + ticked(600), http.StatusUnprocessableEntity, "600 registry images are ticked, but a scan takes at most 500"},
		{"browse with 600", "page=2&" + ticked(600), http.StatusOK, "600 registry images are ticked, but a scan takes at most 500"},
		{"use 500", "use=1&" + ticked(500) + "&" + ticked(500), http.StatusSeeOther, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			resp := h.get("/pick/registry?" + tt.query)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == http.StatusSeeOther {
				loc, _ := url.Parse(resp.Header.Get("Location"))
				if n := len(strings.Split(loc.Query().Get("RegistryImageIDs"), ", ")); n != 500 {
					t.Errorf("the form gets %d IDs, want 500", n)
				}
				return
			}
			doc := document(t, resp)
			if got := doc.Find("#picker-notice").Text(); !strings.Contains(got, tt.notice) {
				t.Errorf("notice %q, want %q", got, tt.notice)
			}
			if n := doc.Find(`input[type=hidden][name=sel], input[type=checkbox][name=sel][checked]`).Length(); n != 500 {
				t.Errorf("%d IDs carried, want the first 500", n)
			}
		})
	}
}

// Control characters and broken UTF-8 in a picker's address (its searches, the form's entries it
// carries) never reach the page raw: they are shown as escapes, as the form shows them.
func TestPickerShowsControlCharactersEscaped(t *testing.T) {
	h := newHarness(t)
	resp := h.get("/pick/registry?page=1&q_name=a%00b&q_tag=%1b%5B31m&q_repo=%ff&LocalImageIDs=x%07y&RegistryTaskID=%08")
	page := body(t, resp)
	if !utf8.ValidString(page) {
		t.Error("the page is not valid UTF-8")
	}
	if i := strings.IndexFunc(page, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	}); i >= 0 {
		t.Errorf("the page holds %q raw, at %q", page[i:i+1], page[max(0, i-40):i])
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string]string{
		"#q-name": `a\x00b`, "#q-tag": `\x1b[31m`,
		`input[type=hidden][name=LocalImageIDs]`: `x\x07y`, `input[type=hidden][name=RegistryTaskID]`: `\x08`,
	} {
		if got := doc.Find(sel).AttrOr("value", ""); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
}

// unpagedInventory ignores the Limit it is asked for and answers every item from the offset on.
type unpagedInventory struct{ inventoryOf }

func (n unpagedInventory) LocalImages(_ context.Context, q scan.InventoryQuery) (scan.Page[scan.LocalImage], error) {
	return n.inventoryOf.LocalImages(context.Background(), scan.InventoryQuery{Offset: q.Offset, Limit: int(n.inventoryOf)})
}

// A TCSS that answers more rows than the page asked for: the picker still shows one page.
func TestPickerShowsOnePageOfAnOverlongAnswer(t *testing.T) {
	h := newHarness(t, withInventory(unpagedInventory{inventoryOf(5000)}))
	doc := document(t, h.get("/pick/local?page=2"))
	if n := doc.Find(`#results tbody input[type=checkbox][name=sel]`).Length(); n != 20 {
		t.Errorf("%d rows, want one page of 20", n)
	}
	if got := doc.Find("#results tbody label").First().Text(); got != "img20" {
		t.Errorf("first row %q, want img20", got)
	}
}

// The cluster picker's Type column says what TCSS's DescribeAssetClusterList answers
// (CT_TKE, CT_USER_CREATE, CT_TKE_SERVERLESS) in words.
func TestPickerNamesClusterTypes(t *testing.T) {
	h := newHarness(t)
	doc := document(t, h.get("/pick/cluster"))
	for id, want := range map[string]string{
		"cls-5eed0000": "TKE",
		"cls-5eed0001": "Self-built",
		"cls-5eed0002": "TKE Serverless",
		"cls-5eed0003": "TKE",
	} {
		row := doc.Find("#pick-" + id).Closest("tr")
		if got := row.Find("td").Eq(2).Text(); got != want {
			t.Errorf("%s: type %q, want %q", id, got, want)
		}
	}
}

// The cluster picker's Status column says TCSS's cluster states in words, and a state it does not
// know as TCSS names it.
func TestPickerNamesClusterStates(t *testing.T) {
	inv := clusterInventory{clusters: []scan.Cluster{
		{ID: "cls-aaaa0001", Status: "CSR_RUNNING"},
		{ID: "cls-aaaa0002", Status: "CSR_EXCEPTION"},
		{ID: "cls-aaaa0003", Status: "CSR_DEL"},
		{ID: "cls-aaaa0004", Status: "CSR_SOMETHING_NEW"},
	}}
	h := newHarness(t, withInventory(inv))
	doc := document(t, h.get("/pick/cluster"))
	for id, want := range map[string]string{
		"cls-aaaa0001": "Running", "cls-aaaa0002": "Exception", "cls-aaaa0003": "Deleted", "cls-aaaa0004": "CSR_SOMETHING_NEW",
	} {
		if got := doc.Find("#pick-" + id).Closest("tr").Find("td").Eq(4).Text(); got != want {
			t.Errorf("%s: status %q, want %q", id, got, want)
		}
	}
}

// clusterInventory lists the given clusters and nothing else.
type clusterInventory struct {
	inventoryOf
	clusters []scan.Cluster
}

func (c clusterInventory) Clusters(context.Context, scan.InventoryQuery) (scan.Page[scan.Cluster], error) {
	return scan.Page[scan.Cluster]{Items: c.clusters, Total: int64(len(c.clusters))}, nil
}

// A row whose ID no scan takes cannot be ticked (ticked, "Use selected" used to drop it unsaid),
// and an ID the form would refuse, sent back ticked or found in the form's field, is named as
// left out instead of vanishing; "Use selected" then stays on the picker.
func TestPickerNeverDropsAnIDUnsaid(t *testing.T) {
	inv := clusterInventory{clusters: []scan.Cluster{
		{ID: "cls-5eed0000", Name: "prod-gz", Type: "CT_TKE"},
		{ID: "cls-UPPER01", Name: "legacy", Type: "CT_USER_CREATE"},
	}}
	t.Run("a row with such an ID has no check box to tick", func(t *testing.T) {
		h := newHarness(t, withInventory(inv))
		doc := document(t, h.get("/pick/cluster"))
		if doc.Find(`input[name=sel][value="cls-5eed0000"]:not([disabled])`).Length() != 1 {
			t.Error("the well-formed cluster cannot be ticked")
		}
		bad := doc.Find(`#pick-cls-UPPER01`)
		if !bad.Is("[disabled]") || bad.AttrOr("name", "") != "" {
			t.Errorf("cls-UPPER01 can be ticked: %v", bad.Nodes)
		}
		if got := doc.Find("#unusable-cls-UPPER01").Text(); !strings.Contains(got, "cls- and 4 to 32 lower-case letters or digits") {
			t.Errorf("reason %q", got)
		}
	})
	tests := []struct {
		name, query string
		status      int
		notice      string
	}{
		{"use with a refused ID", "/pick/cluster?use=1&sel=cls-5eed0000&sel=cls-UPPER01", http.StatusUnprocessableEntity, "“cls-UPPER01”"},
		{"a page with a refused ID", "/pick/cluster?page=1&sel=cls-5eed0000&sel=cls-UPPER01", http.StatusOK, "“cls-UPPER01”"},
		{"opened with a refused ID in the form", "/pick/cluster?LocalClusterIDs=" + url.QueryEscape("cls-5eed0000, cls-UPPER01"), http.StatusOK, "“cls-UPPER01”"},
		{"many refused IDs, a few named", "/pick/local?page=1&sel=x&sel=a&sel=b&sel=c&sel=d&sel=e&sel=f&sel=g", http.StatusOK, "“x”, “a”, “b”, “c”, “d”, …."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withInventory(inv))
			resp := h.get(tt.query)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (Location %q), want %d", resp.StatusCode, resp.Header.Get("Location"), tt.status)
			}
			doc := document(t, resp)
			if got := doc.Find("#picker-notice").Text(); !strings.Contains(got, "Left out") || !strings.Contains(got, tt.notice) {
				t.Errorf("notice %q, want it to name %s", got, tt.notice)
			}
		})
	}
}

// searchRecorder is an inventory that remembers the last query it was asked.
type searchRecorder struct {
	inventoryOf
	mu   *sync.Mutex
	last *scan.InventoryQuery
}

func (s searchRecorder) RegistryImages(_ context.Context, q scan.InventoryQuery) (scan.Page[scan.RegistryImage], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*s.last = q
	return scan.Page[scan.RegistryImage]{}, nil
}

// The picker asks TCSS for what the person typed, not for the text as the page shows it (control
// characters escaped, an ellipsis after a long text).
func TestPickerSearchesForWhatWasTyped(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	tests := []struct {
		name, query string
		want        scan.InventoryQuery
		shownName   string
	}{
		{"plain", "q_name=payments&q_tag=latest&q_repo=ccr", scan.InventoryQuery{Name: "payments", Tag: "latest", Registry: "ccr"}, "payments"},
		{"trimmed", "q_name=%20payments%20", scan.InventoryQuery{Name: "payments"}, "payments"},
		{"a control character", "q_name=a%00b", scan.InventoryQuery{Name: "a\x00b"}, `a\x00b`},
		{"a long text, bounded without an ellipsis", "q_name=" + url.QueryEscape(long), scan.InventoryQuery{Name: long[:128]}, long[:128]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := &scan.InventoryQuery{}
			h := newHarness(t, withInventory(searchRecorder{mu: &sync.Mutex{}, last: got}))
			doc := document(t, h.get("/pick/registry?page=1&"+tt.query))
			tt.want.Limit = 20
			if *got != tt.want {
				t.Errorf("TCSS was asked %#v, want %#v", *got, tt.want)
			}
			if shown := doc.Find("#q-name").AttrOr("value", ""); shown != tt.shownName {
				t.Errorf("the page shows %q, want %q", shown, tt.shownName)
			}
		})
	}
}

// The form's entries the picker carries are bounded as the form's address bounds them: an entry
// longer than any a scan takes is left out, and said to be, not written back whole.
func TestPickerLeavesOutAnOverlongFormEntry(t *testing.T) {
	long := strings.Repeat("x", 300_000)
	for _, tt := range []struct {
		name, query string
		status      int
	}{
		{"a page", "/pick/registry?page=1&ExcludeLocalImageIDs=" + long + "&LocalTaskID=7", http.StatusOK},
		{"use selected", "/pick/registry?use=1&sel=1001&ExcludeLocalImageIDs=" + long + "&LocalTaskID=7", http.StatusUnprocessableEntity},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			resp := h.get(tt.query)
			page := body(t, resp)
			if resp.StatusCode != tt.status || len(page) > 100_000 {
				t.Fatalf("status %d, %d bytes; want %d and a page of normal size", resp.StatusCode, len(page), tt.status)
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
			if err != nil {
				t.Fatal(err)
			}
			if got := doc.Find("#picker-notice").Text(); !strings.Contains(got, "ExcludeLocalImageIDs") {
				t.Errorf("notice %q does not name the entry left out", got)
			}
			if doc.Find(`input[type=hidden][name=LocalTaskID][value="7"]`).Length() != 1 {
				t.Error("the form's other entries are not carried")
			}
		})
	}
}
