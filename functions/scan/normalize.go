package scan

import (
	"slices"
	"strings"
)

// Normalize returns the canonical form of r, the form that is validated, sent to TCSS and
// audited, so that two requests with the same intent compare equal (reflect.DeepEqual, and the
// same json.Marshal output):
//
//   - scan types are trimmed of surrounding white space; their case is kept, because TCSS's
//     enumerations are exact and Validate explains a wrong case ("did you mean ALL?") rather than
//     guessing;
//   - local image IDs (LocalImageIDs, ExcludeLocalImageIDs) are trimmed and lower-cased: image
//     digests are hexadecimal, and "SHA256:ABC…" names the same image as "sha256:abc…";
//   - cluster IDs are trimmed (their case is kept: Validate refuses upper case, as TKE never
//     issues it);
//   - every list is sorted and de-duplicated, and entries that are empty after trimming are
//     dropped (a trailing comma or a blank line in a form is not an image);
//   - empty lists become nil, so "absent" and "[]" are the same intent.
//
// Normalize never makes an invalid request valid in any other way: it does not fix scan types,
// drop zero IDs or clip lists. It is idempotent.
func (r Request) Normalize() Request {
	n := r
	n.LocalImageScanType = strings.TrimSpace(r.LocalImageScanType)
	n.RegistryImageScanType = strings.TrimSpace(r.RegistryImageScanType)
	n.LocalImageIDs = normalizeStrings(r.LocalImageIDs, strings.ToLower)
	n.ExcludeLocalImageIDs = normalizeStrings(r.ExcludeLocalImageIDs, strings.ToLower)
	n.LocalClusterIDs = normalizeStrings(r.LocalClusterIDs, nil)
	n.RegistryImageIDs = normalizeNumbers(r.RegistryImageIDs)
	n.ExcludeRegistryImageIDs = normalizeNumbers(r.ExcludeRegistryImageIDs)
	return n
}

// normalizeStrings trims each entry, applies fold when it is not nil, drops empty entries, and
// returns the sorted unique rest, or nil when nothing is left. The input is not modified.
func normalizeStrings(in []string, fold func(string) string) []string {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if fold != nil {
			s = fold(s)
		}
		if s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// normalizeNumbers returns the sorted unique entries of in, or nil when in is empty. Zero is
// kept so that Validate can refuse it. The input is not modified.
func normalizeNumbers(in []uint64) []uint64 {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
