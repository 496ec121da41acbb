package scan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Scan types, exactly as TCSS spells them.
const (
	ScanTypeAll      = "ALL"      // every authorized image on that side
	ScanTypeNotScan  = "NOT_SCAN" // authorized images never scanned before
	ScanTypeImageIDs = "IMAGEIDS" // only the images listed in that side's ID list
	ScanTypeCluster  = "CLUSTER"  // local images of the clusters in LocalClusterIDs (local side only)
)

// localScanTypes and registryScanTypes are the values TCSS accepts for LocalImageScanType and
// RegistryImageScanType ("" means the side is not scanned).
var (
	localScanTypes    = []string{ScanTypeAll, ScanTypeNotScan, ScanTypeImageIDs, ScanTypeCluster}
	registryScanTypes = []string{ScanTypeAll, ScanTypeNotScan, ScanTypeImageIDs}
)

// MaxListLength bounds every list of a Request. TCSS publishes no limit; 500 is far more than a
// person selects by hand, and keeps a request, its audit record and the TCSS call small. A larger
// selection is a broad scan (ALL, NOT_SCAN, CLUSTER) or several requests.
const MaxListLength = 500

// IsLocalImageID reports whether s is a local image ID as TCSS lists it: a Docker image ID,
// "sha256:" followed by the 64 lower-case hex digits of the digest. The ID checks are written out
// rather than regular expressions: compiling one (at package initialisation, or on first use) cost
// every scan about 1% of a one-shot CLI run's CPU, more than the checks themselves.
func IsLocalImageID(s string) bool {
	hex, ok := strings.CutPrefix(s, "sha256:")
	return ok && len(hex) == 64 && allBytes(hex, func(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' })
}

// IsClusterID reports whether s is a TKE cluster ID: "cls-" and lower-case letters and digits.
// TKE issues 8 of them (cls-0zmsjvko); TCSS's own example is shorter (cls-qwyx), so 4 to 32 are
// accepted, which still refuses anything that cannot be an ID (spaces, upper case, another
// prefix, a name).
func IsClusterID(s string) bool {
	id, ok := strings.CutPrefix(s, "cls-")
	return ok && len(id) >= 4 && len(id) <= 32 && allBytes(id, func(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' })
}

// allBytes reports whether every byte of s satisfies ok.
func allBytes(s string, ok func(byte) bool) bool {
	for i := range len(s) {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// Validate reports every problem of r at once: nil, or an *Error with Code EINVALID, Op
// "scan.Validate" and one FieldError per problem, each naming the API field and saying what is
// wrong and what would be right. It assumes nothing about whether Normalize ran (duplicates are
// not problems; Normalize drops them), but the service validates the normalized request.
//
// The rules (each has a row in TestValidate):
//
//	enumerations   LocalImageScanType is "", ALL, NOT_SCAN, IMAGEIDS or CLUSTER;
//	               RegistryImageScanType is "", ALL, NOT_SCAN or IMAGEIDS; exact case, and a
//	               near miss ("all", "not-scan") is answered with "did you mean …?".
//	ID formats     LocalImageIDs and ExcludeLocalImageIDs entries are sha256:<64 lower-case hex>;
//	               LocalClusterIDs entries are cls-<4 to 32 lower-case letters or digits>;
//	               RegistryImageIDs and ExcludeRegistryImageIDs entries are positive;
//	               LocalTaskID and RegistryTaskID are positive when given.
//	bounds         no list has more than MaxListLength entries.
//	IMAGEIDS       a side's ID list is non-empty if and only if its scan type is IMAGEIDS.
//	CLUSTER        LocalClusterIDs is non-empty if and only if LocalImageScanType is CLUSTER.
//	narrowing      exclusions and filters narrow a broad scope, so they are accepted only where
//	               there is one: ExcludeLocalImageIDs and LocalImageContainerRunning with ALL,
//	               NOT_SCAN or CLUSTER; ExcludeRegistryImageIDs, RegistryImageContainerRunning
//	               and IsLatest with ALL or NOT_SCAN. Not with IMAGEIDS (the listed images are
//	               scanned as listed; TCSS gives the IDs precedence and would ignore the filter),
//	               not without a scan type (there is nothing to narrow).
//	re-scans       LocalTaskID re-runs an earlier local scan task with that task's own scope, so
//	               it stands alone on its side: no LocalImageScanType, LocalImageIDs,
//	               LocalClusterIDs, ExcludeLocalImageIDs or LocalImageContainerRunning beside it
//	               (TCSS does not say which scope would win; we refuse rather than guess). The same
//	               holds for RegistryTaskID and the registry fields. A re-scan on one side may be
//	               combined with a new scan on the other.
//	overlap        an image in a side's ID list may not also be in its exclusion list.
//	something      a request selects something: a scan type or a task ID on at least one side.
//	               (TCSS does not document what an empty request does.)
//
// Rules that relate fields are skipped for a side whose scan type is not a valid value, so that
// one typo yields one message.
func (r Request) Validate() error {
	var v validation
	v.sides(r)
	v.formats(r)
	reportOverlap(&v, "LocalImageIDs", "ExcludeLocalImageIDs", r.LocalImageIDs, r.ExcludeLocalImageIDs, localKey)
	reportOverlap(&v, "RegistryImageIDs", "ExcludeRegistryImageIDs", r.RegistryImageIDs, r.ExcludeRegistryImageIDs, func(n uint64) uint64 { return n })
	v.selectsSomething(r)
	return v.err("scan.Validate")
}

// Broad reports whether r scans every image of a side (a scan type of ALL). The form asks for an
// explicit confirmation before starting such a scan.
func (r Request) Broad() bool {
	return strings.TrimSpace(r.LocalImageScanType) == ScanTypeAll ||
		strings.TrimSpace(r.RegistryImageScanType) == ScanTypeAll
}

// validation collects field errors in the order the rules find them.
type validation struct{ fields []FieldError }

func (v *validation) add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns nil when nothing was found, else the *Error carrying every field error.
func (v *validation) err(op string) error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Op: op, Message: problems(len(v.fields)), Fields: v.fields}
}

// problems says how many problems a request has, in words.
func problems(n int) string {
	if n == 1 {
		return "The request has 1 problem."
	}
	return fmt.Sprintf("The request has %d problems.", n)
}

// narrowing is an exclusion list or a filter: a field that narrows a broad scope.
type narrowing struct {
	field string
	given bool
	what  string // what it does, for messages
}

// side is one half of a request (local or registry images), described so that the relational
// rules are written once for both halves.
type side struct {
	typeField string
	scanType  string
	types     []string
	idsField  string
	idCount   int
	// clusters is LocalClusterIDs on the local side; clusterField is "" on the registry side.
	clusterField string
	clusterCount int
	taskField    string
	taskID       int64
	narrowings   []narrowing
	// broadTypes are the scan types a narrowing may narrow.
	broadTypes []string
}

func localSide(r Request) side {
	return side{
		typeField: "LocalImageScanType", scanType: r.LocalImageScanType, types: localScanTypes,
		idsField: "LocalImageIDs", idCount: len(r.LocalImageIDs),
		clusterField: "LocalClusterIDs", clusterCount: len(r.LocalClusterIDs),
		taskField: "LocalTaskID", taskID: r.LocalTaskID,
		narrowings: []narrowing{
			{"ExcludeLocalImageIDs", len(r.ExcludeLocalImageIDs) > 0, "leaves images out of"},
			{"LocalImageContainerRunning", r.LocalImageContainerRunning, "keeps only images with a running container in"},
		},
		broadTypes: []string{ScanTypeAll, ScanTypeNotScan, ScanTypeCluster},
	}
}

func registrySide(r Request) side {
	return side{
		typeField: "RegistryImageScanType", scanType: r.RegistryImageScanType, types: registryScanTypes,
		idsField: "RegistryImageIDs", idCount: len(r.RegistryImageIDs),
		taskField: "RegistryTaskID", taskID: r.RegistryTaskID,
		narrowings: []narrowing{
			{"ExcludeRegistryImageIDs", len(r.ExcludeRegistryImageIDs) > 0, "leaves images out of"},
			{"RegistryImageContainerRunning", r.RegistryImageContainerRunning, "keeps only images with a running container in"},
			{"IsLatest", r.IsLatest, "keeps only the latest version of each image in"},
		},
		broadTypes: []string{ScanTypeAll, ScanTypeNotScan},
	}
}

func (v *validation) sides(r Request) {
	for _, s := range []side{localSide(r), registrySide(r)} {
		if v.enumeration(s.typeField, s.scanType, s.types) {
			v.relations(s)
		}
	}
}

// enumeration checks an exact enumeration and reports whether value is usable ("" or valid).
func (v *validation) enumeration(field, value string, allowed []string) bool {
	if value == "" || slices.Contains(allowed, value) {
		return true
	}
	list := strings.Join(allowed, ", ")
	if guess := nearestValue(value, allowed); guess != "" {
		v.add(field, "%q is not a scan type: did you mean %s? Scan types are exact and upper case: %s", Shorten(value, 80), guess, list)
	} else {
		v.add(field, "%q is not a scan type: choose one of %s, or leave it empty to skip these images", Shorten(value, 80), list)
	}
	return false
}

// nearestValue returns the allowed value that value spells with another case, spacing or
// separator ("all", " Not-Scan "), or "".
func nearestValue(value string, allowed []string) string {
	folded := strings.ToUpper(strings.TrimSpace(value))
	folded = strings.NewReplacer("-", "_", " ", "_").Replace(folded)
	for _, a := range allowed {
		if folded == a || strings.ReplaceAll(folded, "_", "") == strings.ReplaceAll(a, "_", "") {
			return a
		}
	}
	return ""
}

// relations applies the rules that relate a side's fields to its (valid) scan type.
func (v *validation) relations(s side) {
	if s.taskID != 0 {
		v.rescanStandsAlone(s)
		return
	}
	switch {
	case s.scanType == ScanTypeImageIDs && s.idCount == 0:
		v.add(s.idsField, "is required when %s is IMAGEIDS: list the images to scan, or choose another scan type", s.typeField)
	case s.scanType != ScanTypeImageIDs && s.idCount > 0:
		v.add(s.idsField, "is only used when %s is IMAGEIDS (it is %s): set %s to IMAGEIDS to scan just these images, or remove them", s.typeField, shown(s.scanType), s.typeField)
	}
	if s.clusterField != "" {
		switch {
		case s.scanType == ScanTypeCluster && s.clusterCount == 0:
			v.add(s.clusterField, "is required when %s is CLUSTER: list the clusters to scan (cls-…), or choose another scan type", s.typeField)
		case s.scanType != ScanTypeCluster && s.clusterCount > 0:
			v.add(s.clusterField, "is only used when %s is CLUSTER (it is %s): set %s to CLUSTER to scan these clusters' images, or remove them", s.typeField, shown(s.scanType), s.typeField)
		}
	}
	if slices.Contains(s.broadTypes, s.scanType) {
		return
	}
	for _, n := range s.narrowings {
		if !n.given {
			continue
		}
		if s.scanType == ScanTypeImageIDs {
			v.add(n.field, "%s a broad scan, but %s is IMAGEIDS: the listed images are scanned as listed; remove %s (or edit %s), or choose %s", n.what, s.typeField, n.field, s.idsField, orList(s.broadTypes))
			continue
		}
		v.add(n.field, "%s a scan, but %s is not set, so there is nothing to narrow: choose %s for %s, or remove %s", n.what, s.typeField, orList(s.broadTypes), s.typeField, n.field)
	}
}

// rescanStandsAlone refuses a side's scope fields beside its task ID: a re-scan repeats the
// earlier task's own scope.
func (v *validation) rescanStandsAlone(s side) {
	given := []struct {
		field string
		ok    bool
	}{{s.typeField, s.scanType != ""}, {s.idsField, s.idCount > 0}, {s.clusterField, s.clusterCount > 0}}
	for _, n := range s.narrowings {
		given = append(given, struct {
			field string
			ok    bool
		}{n.field, n.given})
	}
	for _, g := range given {
		if g.ok && g.field != "" {
			v.add(g.field, "cannot be combined with %s: a re-scan repeats task %d with that task's own scope; remove %s, or remove %s to start a new scan", s.taskField, s.taskID, g.field, s.taskField)
		}
	}
}

// formats checks every value on its own: ID patterns, positive numbers, list bounds.
func (v *validation) formats(r Request) {
	v.localImageIDs("LocalImageIDs", r.LocalImageIDs)
	v.localImageIDs("ExcludeLocalImageIDs", r.ExcludeLocalImageIDs)
	v.clusterIDs(r.LocalClusterIDs)
	v.registryImageIDs("RegistryImageIDs", r.RegistryImageIDs)
	v.registryImageIDs("ExcludeRegistryImageIDs", r.ExcludeRegistryImageIDs)
	v.taskID("LocalTaskID", r.LocalTaskID)
	v.taskID("RegistryTaskID", r.RegistryTaskID)
}

func (v *validation) bound(field string, n int) {
	if n > MaxListLength {
		v.add(field, "has %d entries, but at most %d are allowed per list: split the selection into several requests, or use a broader scan type", n, MaxListLength)
	}
}

func (v *validation) localImageIDs(field string, ids []string) {
	v.bound(field, len(ids))
	bad := badEntries(ids, IsLocalImageID)
	if bad != "" {
		v.add(field, "%s: a local image ID is \"sha256:\" followed by 64 lower-case hex digits, e.g. sha256:0837c4abfc8a3c0cda6a87c2d882e6530abd0caf180eeb3b4dc1534f3d47c3a1", bad)
	}
}

func (v *validation) clusterIDs(ids []string) {
	const field = "LocalClusterIDs"
	v.bound(field, len(ids))
	bad := badEntries(ids, IsClusterID)
	if bad != "" {
		v.add(field, "%s: a cluster ID is \"cls-\" followed by 4 to 32 lower-case letters or digits, e.g. cls-0zmsjvko", bad)
	}
}

func (v *validation) registryImageIDs(field string, ids []uint64) {
	v.bound(field, len(ids))
	// No position is given: the service validates the normalized request, whose lists are
	// sorted and without repeats, so a position there is not the one the caller sent.
	if slices.Contains(ids, 0) {
		v.add(field, "holds 0: registry image IDs are positive whole numbers (the Id of a row of DescribeAssetImageRegistryList)")
	}
}

func (v *validation) taskID(field string, id int64) {
	if id < 0 {
		v.add(field, "is %d: a task ID is a positive whole number, the ID an earlier CreateVulScanTask returned (leave it empty to start a new scan)", id)
	}
}

// reportOverlap refuses an ID that a side both includes and excludes; key says how two IDs
// compare.
func reportOverlap[T comparable](v *validation, inField, exField string, in, ex []T, key func(T) T) {
	if len(in) == 0 || len(ex) == 0 {
		return
	}
	included := make(map[T]bool, len(in))
	for _, x := range in {
		included[key(x)] = true
	}
	var both []string
	seen := map[T]bool{}
	for _, x := range ex {
		k := key(x)
		if included[k] && !seen[k] {
			seen[k] = true
			if str, ok := any(k).(string); ok {
				both = append(both, strconv.Quote(Shorten(str, 80)))
			} else {
				both = append(both, fmt.Sprint(k))
			}
		}
	}
	if len(both) > 0 {
		v.add(exField, "%s also in %s: an image cannot be both scanned and left out; remove it from one of the lists", quoteSome(both), inField)
	}
}

// localKey is how two local image IDs are compared: as Normalize would write them.
func localKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// selectsSomething refuses a request that names no images at all on either side.
func (v *validation) selectsSomething(r Request) {
	if r.LocalImageScanType != "" || r.RegistryImageScanType != "" || r.LocalTaskID != 0 || r.RegistryTaskID != 0 {
		return
	}
	// An ID list without its scan type already has a message that says which type to set.
	if len(r.LocalImageIDs) > 0 || len(r.RegistryImageIDs) > 0 || len(r.LocalClusterIDs) > 0 {
		return
	}
	v.add("LocalImageScanType", "the request selects no images: choose LocalImageScanType (%s) and/or RegistryImageScanType (%s), or give LocalTaskID or RegistryTaskID to re-run an earlier scan",
		orList(localScanTypes), orList(registryScanTypes))
}

// maxShown is how many bad entries a message quotes before saying "and N more".
const maxShown = 3

// badEntries describes the entries of list that ok refuses (""x" is not valid"), or "". Each is
// quoted, not numbered: the service validates the normalized request, whose lists are sorted and
// without repeats, so a position there is not the one the caller sent.
func badEntries(list []string, ok func(string) bool) string {
	var shown []string
	n := 0
	for _, s := range list {
		if ok(s) {
			continue
		}
		n++
		if len(shown) == maxShown {
			continue
		}
		switch {
		case strings.TrimSpace(s) == "":
			shown = append(shown, "an entry is empty")
		case strings.TrimSpace(s) != s:
			shown = append(shown, fmt.Sprintf("%q has white space around it", Shorten(s, 80)))
		case strings.ToLower(s) != s:
			shown = append(shown, fmt.Sprintf("%q is not lower case", Shorten(s, 80)))
		default:
			shown = append(shown, fmt.Sprintf("%q is not valid", Shorten(s, 80)))
		}
	}
	if n == 0 {
		return ""
	}
	msg := strings.Join(shown, "; ")
	if n > len(shown) {
		msg += fmt.Sprintf("; and %d more", n-len(shown))
	}
	return msg
}

// quoteSome lists up to maxShown values and says how many more there are, with a verb that
// agrees ("x is", "x, y are").
func quoteSome(values []string) string {
	msg := strings.Join(values[:min(len(values), maxShown)], ", ")
	if len(values) > maxShown {
		msg += fmt.Sprintf(" and %d more", len(values)-maxShown)
	}
	if len(values) == 1 {
		return msg + " is"
	}
	return msg + " are"
}

// shown names a scan type in a message, "not set" for "".
func shown(scanType string) string {
	if scanType == "" {
		return "not set"
	}
	return scanType
}

// orList writes "A, B or C".
func orList(values []string) string {
	if len(values) == 1 {
		return values[0]
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}
