package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/templates"
)

// pickerPageSize is how many rows a picker page shows.
const pickerPageSize = 20

// maxPickerPage bounds the page a picker's address may ask for, so that its offset stays a
// small number; it is far past the end of any inventory, and a page past the end shows the last
// page. (A bound of 1000 pages stopped the pager at 20,000 assets: "Next page" led back to page
// 1000 of a larger estate.)
const maxPickerPage = math.MaxInt32 / pickerPageSize

// pickerTimeout bounds TCSS's answers behind one picker page (two calls when the page asked for
// is past the end): a slow TCSS gets the person the page with its error and their selection
// kept, well before the server's WriteTimeout or the function's timeout cuts the connection.
// A variable for the tests.
var pickerTimeout = 10 * time.Second

// maxFilterLen bounds a picker's search texts.
const maxFilterLen = 128

// pickerKind is what one picker lists and which form field its IDs fill.
type pickerKind struct {
	title, noun string
	field       string // the ID list it fills
	scopeField  string // the scope it sets
	scope       string
	hasTag      bool
	columns     []string
	validID     func(string) bool // the scan package's own check, so the picker never carries an ID the form would refuse
	idRule      string            // what validID takes, in words
}

var pickerKinds = map[string]pickerKind{
	"local": {title: "Pick local images", noun: "local images", field: "LocalImageIDs", scopeField: "LocalImageScanType", scope: "IMAGEIDS",
		columns: []string{"Image ID", "Hosts", "Running containers", "Last scan", "Vulnerabilities"},
		validID: scan.IsLocalImageID, idRule: "a local image ID is sha256: and 64 lower-case hex digits"},
	"registry": {title: "Pick registry images", noun: "registry images", field: "RegistryImageIDs", scopeField: "RegistryImageScanType", scope: "IMAGEIDS",
		hasTag:  true,
		columns: []string{"ID", "Repository", "Registry", "Last scan", "Vulnerabilities"},
		validID: func(s string) bool { n, err := strconv.ParseUint(s, 10, 64); return err == nil && n > 0 },
		idRule:  "a registry image ID is a positive whole number"},
	"cluster": {title: "Pick clusters", noun: "clusters", field: "LocalClusterIDs", scopeField: "LocalImageScanType", scope: "CLUSTER",
		columns: []string{"Cluster ID", "Type", "Version", "Status"},
		validID: scan.IsClusterID, idRule: "a cluster ID is cls- and 4 to 32 lower-case letters or digits"},
}

// showPicker is GET /pick/{kind}: one page of TCSS's inventory to tick from; with use=1 it
// returns to the form (303) with the ticked IDs in the kind's field and its scope chosen.
func (s *server) showPicker(w http.ResponseWriter, r *http.Request) error {
	kind, ok := pickerKinds[r.PathValue("kind")]
	if !ok {
		return &httpError{status: http.StatusNotFound, message: "There is no page at this address."}
	}
	// r.URL.Query() dropped what it could not read: ticked IDs after a ";" were lost, and the
	// form's values it carries back with them.
	q, err := queryOf(r, "the picker cannot keep the IDs and form values it carries")
	if err != nil {
		return err
	}
	state := formState(q)
	// The form's entries are carried in the page: one longer than any a scan takes was written
	// back whole (a 300 KB entry, a 300 KB page), to be refused by the form anyway.
	var dropped []string
	for _, name := range formOrder {
		if v := state.Get(name); len(v) > maxPrefillValue {
			dropped = append(dropped, name)
			state.Del(name)
		}
	}
	selected, over, refused := pickerSelection(q, kind, state)
	if q.Get("use") != "" && over == 0 && len(refused) == 0 && len(dropped) == 0 {
		state.Set(kind.field, strings.Join(selected, ", "))
		if len(selected) > 0 {
			state.Set(kind.scopeField, kind.scope)
		}
		w.Header().Set("Location", baseOf(r)+"?"+state.Encode())
		w.WriteHeader(http.StatusSeeOther)
		return nil
	}
	// TCSS is asked for what the person typed; only the page shows it escaped.
	search := scan.InventoryQuery{Name: searchText(q.Get("q_name")), Tag: searchText(q.Get("q_tag")), Registry: searchText(q.Get("q_repo"))}
	view := templates.PickerView{
		Base: baseOf(r), Kind: r.PathValue("kind"), Title: kind.title, Noun: kind.noun, Field: kind.field,
		Name: shownText(search.Name), Tag: shownText(search.Tag), Repo: shownText(search.Registry),
		HasTag: kind.hasTag, Columns: kind.columns, Selected: len(selected), Page: 1,
	}
	status := http.StatusOK
	var notices []string
	if len(dropped) > 0 {
		notices = append(notices, fmt.Sprintf("Left out of the form, as longer than any entry a scan takes (%d bytes): %s.",
			maxPrefillValue, strings.Join(dropped, ", ")))
	}
	if len(refused) > 0 {
		// Dropping them unsaid would fill the form with fewer IDs than the person chose.
		notices = append(notices, fmt.Sprintf("Left out, as a scan does not take them (%s): %s.",
			kind.idRule, strings.Join(refused, ", ")))
	}
	if over > 0 {
		// Dropping the rest unsaid would scan fewer images than the person ticked.
		notices = append(notices, fmt.Sprintf("%d %s are ticked, but a scan takes at most %d listed IDs: only the first %d are kept. "+
			"Untick some and use these, or choose “All” or “Not yet scanned” in the form instead.",
			len(selected)+over, kind.noun, scan.MaxListLength, scan.MaxListLength))
	}
	view.Notice = strings.Join(notices, " ")
	if q.Get("use") != "" && len(notices) > 0 {
		status = http.StatusUnprocessableEntity
	}
	if p, err := strconv.Atoi(q.Get("page")); (err == nil || errors.Is(err, strconv.ErrRange)) && p > 1 {
		view.Page = min(p, maxPickerPage) // a number too large for an int is past every end too
	}
	for _, name := range formOrder {
		for _, v := range state[name] {
			// As the form shows them again: control characters as escapes, never raw.
			view.State = append(view.State, templates.Param{Name: name, Value: shownText(v)})
		}
	}
	if err := s.fillPicker(r, &view, kind, selected, search); err != nil {
		status = http.StatusBadGateway
		view.Error = err.Error()
	}
	return s.render(w, r, status, templates.PickerPage(view))
}

// formState is the scan form's entries carried through the picker (the idempotency key is not:
// the form makes a fresh one).
func formState(q url.Values) url.Values {
	state := url.Values{}
	for _, name := range formOrder {
		if name == keyField {
			continue
		}
		if v := q.Get(name); v != "" {
			state.Set(name, v)
		}
	}
	return state
}

// maxRefusedShown bounds the refused IDs a picker's notice names.
const maxRefusedShown = 5

// pickerSelection is the ticked IDs: those sent back as sel, or, when the picker has just been
// opened, those already in the form's field. Only well-formed IDs, each once, at most
// scan.MaxListLength; over counts the distinct well-formed IDs past that bound, and refused
// names (bounded, as shown) the first few that are not IDs the form takes, which are left out.
func pickerSelection(q url.Values, kind pickerKind, state url.Values) (ids []string, over int, refused []string) {
	sent := q["sel"]
	if !q.Has("page") && !q.Has("use") {
		sent = splitList(state.Get(kind.field))
	}
	seen := map[string]bool{}
	for _, id := range sent {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		if !kind.validID(id) {
			if len(refused) == maxRefusedShown {
				refused = append(refused, "…")
			} else if len(refused) < maxRefusedShown {
				refused = append(refused, "“"+clipText(id)+"”")
			}
			continue
		}
		if len(ids) == scan.MaxListLength {
			over++
			continue
		}
		ids = append(ids, id)
	}
	return ids, over, refused
}

// clipText is a text as the picker shows it: bounded, and with control characters written as
// escapes (shownText), as the form shows them, never raw in the page.
func clipText(s string) string { return shownText(scan.Shorten(strings.TrimSpace(s), maxFilterLen)) }

// searchText is a search text as the picker sends it to TCSS: trimmed, and bounded to
// maxFilterLen bytes of valid UTF-8 (a prefix still finds what the whole would, and more), with
// nothing added: an ellipsis or an escape would be searched for too.
func searchText(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxFilterLen {
		s = s[:maxFilterLen]
	}
	return strings.ToValidUTF8(s, "")
}

// fillPicker asks TCSS for the page and fills the rows; selected IDs not on the page are kept.
// A page past the end (an old link, a hand-edited address) shows the last page instead.
func (s *server) fillPicker(r *http.Request, v *templates.PickerView, kind pickerKind, selected []string, search scan.InventoryQuery) error {
	if s.inventory == nil {
		v.Kept = selected
		return pickerNotice("TCSS's inventory is not available here; type the IDs into the form instead.")
	}
	ctx, cancel := context.WithTimeout(r.Context(), pickerTimeout)
	defer cancel()
	rows, total, err := s.pickerRows(ctx, v, search)
	if last := max(1, int(math.Ceil(float64(total)/pickerPageSize))); err == nil && len(rows) == 0 && v.Page > last && total > 0 {
		v.Page = last
		rows, total, err = s.pickerRows(ctx, v, search)
	}
	v.Rows, v.Total = rows, total
	v.Pages = max(1, int(math.Ceil(float64(v.Total)/pickerPageSize)))
	onPage := map[string]bool{}
	for i := range v.Rows {
		onPage[v.Rows[i].ID] = true
		v.Rows[i].Checked = slices.Contains(selected, v.Rows[i].ID)
		if !kind.validID(v.Rows[i].ID) {
			// Ticked, it would be dropped on "Use selected": a scan does not take it.
			v.Rows[i].Unusable = "vulscan cannot put this ID in a scan: " + kind.idRule + "."
		}
	}
	for _, id := range selected {
		if !onPage[id] {
			v.Kept = append(v.Kept, id)
		}
	}
	if err != nil {
		s.log.Warn("inventory unavailable", "kind", v.Kind, "err", err)
		return inventoryError(err)
	}
	return nil
}

// pickerRows asks TCSS for v's page of its kind of inventory: the rows and the total that match
// search's texts.
func (s *server) pickerRows(ctx context.Context, v *templates.PickerView, search scan.InventoryQuery) ([]templates.PickerRow, int64, error) {
	query := scan.InventoryQuery{Name: search.Name, Tag: search.Tag, Registry: search.Registry, Offset: (v.Page - 1) * pickerPageSize, Limit: pickerPageSize}
	var rows []templates.PickerRow
	switch v.Kind {
	case "local":
		page, err := s.inventory.LocalImages(ctx, query)
		for _, img := range onePage(page.Items) {
			rows = append(rows, templates.PickerRow{ID: img.ID, Label: img.Name, Cells: []string{
				img.ID, itoa(img.Hosts), itoa(img.Containers), img.ScanStatus, itoa(img.Vulns)}})
		}
		return rows, page.Total, err
	case "registry":
		page, err := s.inventory.RegistryImages(ctx, query)
		for _, img := range onePage(page.Items) {
			latest := ""
			if img.Latest {
				latest = " (latest)"
			}
			rows = append(rows, templates.PickerRow{ID: strconv.FormatUint(img.ID, 10), Label: img.Name + ":" + img.Tag + latest, Cells: []string{
				strconv.FormatUint(img.ID, 10), img.Repository, img.Registry, img.ScanStatus, itoa(img.Vulns)}})
		}
		return rows, page.Total, err
	case "cluster":
		page, err := s.inventory.Clusters(ctx, query)
		for _, c := range onePage(page.Items) {
			rows = append(rows, templates.PickerRow{ID: c.ID, Label: c.Name, Cells: []string{c.ID, inWords(clusterTypes, c.Type), c.Version, inWords(clusterStatuses, c.Status)}})
		}
		return rows, page.Total, err
	}
	return nil, 0, nil
}

// clusterTypes are DescribeAssetClusterList's cluster types (AssetClusterListItem.ClusterType in
// Tencent's SDKs) in words, as the TCSS console names them.
var clusterTypes = map[string]string{
	"CT_TKE":            "TKE",
	"CT_USER_CREATE":    "Self-built",
	"CT_TKE_SERVERLESS": "TKE Serverless",
}

// clusterStatuses are DescribeAssetClusterList's cluster states (AssetClusterListItem.Status in
// Tencent's SDKs: CSR_RUNNING 运行中, CSR_EXCEPTION 异常, CSR_DEL 已经删除) in words.
var clusterStatuses = map[string]string{
	"CSR_RUNNING":   "Running",
	"CSR_EXCEPTION": "Exception",
	"CSR_DEL":       "Deleted",
}

// inWords is TCSS's code in words from table; a code TCSS may add later is shown as TCSS
// names it.
func inWords(table map[string]string, code string) string {
	if words, ok := table[code]; ok {
		return words
	}
	return code
}

// onePage is at most a page of items: the page's list is bounded here, not only by TCSS keeping
// to the Limit it was asked for (an answer that does not would make the page as long as the
// whole inventory).
func onePage[T any](items []T) []T { return items[:min(len(items), pickerPageSize)] }

// inventoryError says in words why TCSS could not list, without internals, and what to do about
// it: only a refused permission is the role's to fix.
func inventoryError(err error) error {
	var apiErr *scan.APIError
	if !errors.As(err, &apiErr) {
		return pickerNotice("TCSS could not be reached to list its inventory; try again, or type the IDs into the form.")
	}
	answer := fmt.Sprintf("%s: %s", apiErr.Code, scan.Shorten(apiErr.Message, 200))
	switch code := apiErr.Code; {
	case scan.IsRateLimited(code):
		return pickerNotice("TCSS is rate limiting (" + answer + "). Try again in a moment, or type the IDs into the form.")
	case scan.IsUnauthorizedOperation(code):
		// As the scan page says it (plainReason).
		return pickerNotice("Tencent Cloud did not allow the call (" + answer + "). The function's role needs the read-only TCSS actions in docs/deploy.md.")
	case strings.HasPrefix(code, "AuthFailure"):
		return pickerNotice("Tencent Cloud refused vulscan's credentials (" + answer + "). Check the function's role or keys.")
	}
	return pickerNotice("TCSS refused to list its inventory (" + answer + "). Try again, or type the IDs into the form.")
}

// pickerNotice is a picker's failure in sentences for the page.
type pickerNotice string

func (n pickerNotice) Error() string { return string(n) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
