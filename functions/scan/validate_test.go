package scan

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// img returns a valid local image ID that differs for each n.
func img(n int) string { return fmt.Sprintf("sha256:%064x", n+0xabc0) }

// imgs returns n distinct valid local image IDs.
func imgs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = img(i)
	}
	return out
}

// nums returns the registry IDs 1..n.
func nums(n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

// fieldErrors returns the field errors of a Validate result, failing the test if err is not a
// well-formed EINVALID *Error.
func fieldErrors(t *testing.T, err error, op string) []FieldError {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *scan.Error", err, err)
	}
	if e.Code != EINVALID || e.Op != op {
		t.Fatalf("error code %q op %q, want %q %q", e.Code, e.Op, EINVALID, op)
	}
	if len(e.Fields) == 0 {
		t.Fatalf("EINVALID error without field errors: %v", e)
	}
	// A problem with the document as a whole is the message itself; else the message counts.
	if len(e.Fields) == 1 && e.Fields[0].Field == "" {
		if e.Message != e.Fields[0].Message {
			t.Errorf("message %q is not the document's problem %q", e.Message, e.Fields[0].Message)
		}
	} else if want := fmt.Sprintf("%d problem", len(e.Fields)); !strings.Contains(e.Message, want) {
		t.Errorf("message %q does not count %d problems", e.Message, len(e.Fields))
	}
	for _, f := range e.Fields {
		if f.Message == "" {
			t.Errorf("field %q has an empty message", f.Field)
		}
	}
	return e.Fields
}

func TestValidate(t *testing.T) {
	a, b := img(1), img(2)
	type want struct {
		field string
		says  string // a fragment the message must contain
	}
	tests := []struct {
		name string
		req  Request
		want []want // every expected problem; none means valid
	}{
		// Valid requests.
		{name: "all local images is valid", req: Request{LocalImageScanType: "ALL"}},
		{name: "all registry images is valid", req: Request{RegistryImageScanType: "ALL"}},
		{name: "both sides at once are valid", req: Request{LocalImageScanType: "NOT_SCAN", RegistryImageScanType: "ALL"}},
		{name: "chosen local images are valid", req: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{a, b}}},
		{name: "chosen registry images are valid", req: Request{RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: []uint64{12, 13}}},
		{name: "clusters are valid with CLUSTER", req: Request{LocalImageScanType: "CLUSTER", LocalClusterIDs: []string{"cls-0zmsjvko", "cls-qwyx"}}},
		{name: "local exclusions and running filter narrow ALL", req: Request{LocalImageScanType: "ALL", ExcludeLocalImageIDs: []string{a}, LocalImageContainerRunning: true}},
		{name: "local exclusions narrow NOT_SCAN", req: Request{LocalImageScanType: "NOT_SCAN", ExcludeLocalImageIDs: []string{a}}},
		{name: "local exclusions and running filter narrow CLUSTER", req: Request{LocalImageScanType: "CLUSTER", LocalClusterIDs: []string{"cls-abcd1234"}, ExcludeLocalImageIDs: []string{a}, LocalImageContainerRunning: true}},
		{name: "registry exclusions and filters narrow ALL", req: Request{RegistryImageScanType: "ALL", ExcludeRegistryImageIDs: []uint64{5}, RegistryImageContainerRunning: true, IsLatest: true}},
		{name: "IsLatest narrows NOT_SCAN", req: Request{RegistryImageScanType: "NOT_SCAN", IsLatest: true}},
		{name: "a local re-scan stands alone", req: Request{LocalTaskID: 7}},
		{name: "a registry re-scan stands alone", req: Request{RegistryTaskID: 8}},
		{name: "a re-scan on one side combines with a new scan on the other", req: Request{LocalTaskID: 7, RegistryImageScanType: "ALL", IsLatest: true}},
		{name: "duplicates are not problems (Normalize drops them)", req: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{a, a}}},
		{name: "lists of exactly MaxListLength entries are valid", req: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: imgs(MaxListLength), RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: nums(MaxListLength)}},

		// Exact enumerations.
		{name: "a lower-case local scan type is refused with the right spelling", req: Request{LocalImageScanType: "all"},
			want: []want{{"LocalImageScanType", "did you mean ALL?"}}},
		{name: "a dashed registry scan type is refused with the right spelling", req: Request{RegistryImageScanType: "not-scan"},
			want: []want{{"RegistryImageScanType", "did you mean NOT_SCAN?"}}},
		{name: "a spaced-out scan type is refused with the right spelling", req: Request{LocalImageScanType: " ImageIds "},
			want: []want{{"LocalImageScanType", "did you mean IMAGEIDS?"}}},
		{name: "an unknown local scan type lists the valid ones", req: Request{LocalImageScanType: "EVERYTHING"},
			want: []want{{"LocalImageScanType", "ALL, NOT_SCAN, IMAGEIDS, CLUSTER"}}},
		{name: "CLUSTER is not a registry scan type", req: Request{RegistryImageScanType: "CLUSTER"},
			want: []want{{"RegistryImageScanType", "ALL, NOT_SCAN, IMAGEIDS"}}},
		{name: "an invalid scan type skips that side's relational rules", req: Request{LocalImageScanType: "imageids", LocalImageIDs: []string{a}},
			want: []want{{"LocalImageScanType", "did you mean IMAGEIDS?"}}},

		// IMAGEIDS if and only if the ID list is non-empty.
		{name: "IMAGEIDS without local IDs is refused", req: Request{LocalImageScanType: "IMAGEIDS"},
			want: []want{{"LocalImageIDs", "is required when LocalImageScanType is IMAGEIDS"}}},
		{name: "IMAGEIDS without registry IDs is refused", req: Request{RegistryImageScanType: "IMAGEIDS"},
			want: []want{{"RegistryImageIDs", "is required when RegistryImageScanType is IMAGEIDS"}}},
		{name: "local IDs with ALL are refused", req: Request{LocalImageScanType: "ALL", LocalImageIDs: []string{a}},
			want: []want{{"LocalImageIDs", "only used when LocalImageScanType is IMAGEIDS (it is ALL)"}}},
		{name: "registry IDs without a scan type are refused", req: Request{RegistryImageIDs: []uint64{3}},
			want: []want{{"RegistryImageIDs", "(it is not set): set RegistryImageScanType to IMAGEIDS"}}},
		{name: "local IDs with CLUSTER are refused", req: Request{LocalImageScanType: "CLUSTER", LocalClusterIDs: []string{"cls-abcd"}, LocalImageIDs: []string{a}},
			want: []want{{"LocalImageIDs", "(it is CLUSTER)"}}},

		// CLUSTER if and only if LocalClusterIDs.
		{name: "CLUSTER without cluster IDs is refused", req: Request{LocalImageScanType: "CLUSTER"},
			want: []want{{"LocalClusterIDs", "is required when LocalImageScanType is CLUSTER"}}},
		{name: "cluster IDs with ALL are refused", req: Request{LocalImageScanType: "ALL", LocalClusterIDs: []string{"cls-abcd"}},
			want: []want{{"LocalClusterIDs", "only used when LocalImageScanType is CLUSTER (it is ALL)"}}},
		{name: "cluster IDs without a scan type are refused", req: Request{LocalClusterIDs: []string{"cls-abcd"}},
			want: []want{{"LocalClusterIDs", "set LocalImageScanType to CLUSTER"}}},

		// ID formats.
		{name: "a local image ID without the sha256 prefix is refused", req: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{a, strings.TrimPrefix(b, "sha256:")}},
			want: []want{{"LocalImageIDs", `"000000000000000000000000000000000000000000000000000000000000abc2" is not valid`}}},
		{name: "a short local image ID is refused", req: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{"sha256:0837c4ab"}},
			want: []want{{"LocalImageIDs", `"sha256:" followed by 64 lower-case hex digits`}}},
		{name: "upper-case hex is refused unless normalized", req: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{strings.ToUpper(a)}},
			want: []want{{"LocalImageIDs", "is not lower case"}}},
		{name: "an empty local image ID is refused unless normalized", req: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{a, " "}},
			want: []want{{"LocalImageIDs", "an entry is empty"}}},
		{name: "a padded local image ID is refused unless normalized", req: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{" " + a}},
			want: []want{{"LocalImageIDs", "white space"}}},
		{name: "excluded local image IDs follow the same pattern", req: Request{LocalImageScanType: "ALL", ExcludeLocalImageIDs: []string{"nginx:latest"}},
			want: []want{{"ExcludeLocalImageIDs", `"nginx:latest" is not valid`}}},
		{name: "many bad IDs are summarized, not all quoted", req: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{"x1", "x2", "x3", "x4", "x5"}},
			want: []want{{"LocalImageIDs", "and 2 more"}}},
		{name: "a cluster ID without the cls- prefix is refused", req: Request{LocalImageScanType: "CLUSTER", LocalClusterIDs: []string{"prod-cluster"}},
			want: []want{{"LocalClusterIDs", `"cls-" followed by 4 to 32 lower-case letters or digits`}}},
		{name: "an upper-case cluster ID is refused", req: Request{LocalImageScanType: "CLUSTER", LocalClusterIDs: []string{"cls-ABCD1234"}},
			want: []want{{"LocalClusterIDs", "is not lower case"}}},
		{name: "a too-short cluster ID is refused", req: Request{LocalImageScanType: "CLUSTER", LocalClusterIDs: []string{"cls-a"}},
			want: []want{{"LocalClusterIDs", `"cls-a" is not valid`}}},
		{name: "registry image ID 0 is refused", req: Request{RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: []uint64{0, 4}},
			want: []want{{"RegistryImageIDs", "holds 0: registry image IDs are positive"}}},
		{name: "excluded registry image ID 0 is refused", req: Request{RegistryImageScanType: "ALL", ExcludeRegistryImageIDs: []uint64{3, 0, 0}},
			want: []want{{"ExcludeRegistryImageIDs", "holds 0"}}},
		{name: "a negative local task ID is refused", req: Request{LocalTaskID: -1},
			want: []want{{"LocalTaskID", "positive whole number"}}},
		{name: "a negative registry task ID is refused", req: Request{RegistryTaskID: -9},
			want: []want{{"RegistryTaskID", "is -9"}}},

		// Bounds.
		{name: "more than MaxListLength local IDs are refused", req: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: imgs(MaxListLength + 1)},
			want: []want{{"LocalImageIDs", "at most 500 are allowed per list"}}},
		{name: "more than MaxListLength registry IDs are refused", req: Request{RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: nums(MaxListLength + 1)},
			want: []want{{"RegistryImageIDs", "has 501 entries"}}},
		{name: "more than MaxListLength exclusions are refused", req: Request{LocalImageScanType: "ALL", RegistryImageScanType: "ALL", ExcludeLocalImageIDs: imgs(MaxListLength + 1), ExcludeRegistryImageIDs: nums(MaxListLength + 1)},
			want: []want{{"ExcludeLocalImageIDs", "at most 500"}, {"ExcludeRegistryImageIDs", "at most 500"}}},
		{name: "more than MaxListLength clusters are refused", req: Request{LocalImageScanType: "CLUSTER", LocalClusterIDs: func() []string {
			ids := make([]string, MaxListLength+1)
			for i := range ids {
				ids[i] = fmt.Sprintf("cls-%08d", i)
			}
			return ids
		}()},
			want: []want{{"LocalClusterIDs", "at most 500"}}},

		// Narrowing only where there is a broad scope.
		{name: "local exclusions with IMAGEIDS are refused", req: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{a}, ExcludeLocalImageIDs: []string{b}},
			want: []want{{"ExcludeLocalImageIDs", "LocalImageScanType is IMAGEIDS"}}},
		{name: "the local running filter with IMAGEIDS is refused", req: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{a}, LocalImageContainerRunning: true},
			want: []want{{"LocalImageContainerRunning", "the listed images are scanned as listed"}}},
		{name: "local exclusions without a scan type are refused", req: Request{RegistryImageScanType: "ALL", ExcludeLocalImageIDs: []string{a}},
			want: []want{{"ExcludeLocalImageIDs", "LocalImageScanType is not set, so there is nothing to narrow"}}},
		{name: "the local running filter without a scan type is refused", req: Request{RegistryImageScanType: "ALL", LocalImageContainerRunning: true},
			want: []want{{"LocalImageContainerRunning", "choose ALL, NOT_SCAN or CLUSTER"}}},
		{name: "registry exclusions with IMAGEIDS are refused", req: Request{RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: []uint64{1}, ExcludeRegistryImageIDs: []uint64{2}},
			want: []want{{"ExcludeRegistryImageIDs", "RegistryImageScanType is IMAGEIDS"}}},
		{name: "IsLatest with IMAGEIDS is refused", req: Request{RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: []uint64{1}, IsLatest: true},
			want: []want{{"IsLatest", "latest version"}}},
		{name: "the registry running filter without a scan type is refused", req: Request{LocalImageScanType: "ALL", RegistryImageContainerRunning: true},
			want: []want{{"RegistryImageContainerRunning", "choose ALL or NOT_SCAN"}}},
		{name: "IsLatest without a registry scan type is refused", req: Request{LocalImageScanType: "ALL", IsLatest: true},
			want: []want{{"IsLatest", "RegistryImageScanType is not set"}}},

		// Re-scans stand alone on their side.
		{name: "a local task ID with a local scan type is refused", req: Request{LocalTaskID: 7, LocalImageScanType: "ALL"},
			want: []want{{"LocalImageScanType", "cannot be combined with LocalTaskID"}}},
		{name: "a local task ID with local IDs is refused", req: Request{LocalTaskID: 7, LocalImageIDs: []string{a}},
			want: []want{{"LocalImageIDs", "re-scan repeats task 7"}}},
		{name: "a local task ID with clusters and filters is refused field by field", req: Request{LocalTaskID: 7, LocalClusterIDs: []string{"cls-abcd"}, ExcludeLocalImageIDs: []string{a}, LocalImageContainerRunning: true},
			want: []want{{"LocalClusterIDs", "LocalTaskID"}, {"ExcludeLocalImageIDs", "LocalTaskID"}, {"LocalImageContainerRunning", "LocalTaskID"}}},
		{name: "a registry task ID with registry fields is refused field by field", req: Request{RegistryTaskID: 8, RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: []uint64{1}, IsLatest: true, RegistryImageContainerRunning: true, ExcludeRegistryImageIDs: []uint64{2}},
			want: []want{{"RegistryImageScanType", "RegistryTaskID"}, {"RegistryImageIDs", "RegistryTaskID"}, {"ExcludeRegistryImageIDs", "RegistryTaskID"}, {"RegistryImageContainerRunning", "RegistryTaskID"}, {"IsLatest", "RegistryTaskID"}}},

		// Overlap.
		{name: "a local image both included and excluded is refused", req: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{a, b}, ExcludeLocalImageIDs: []string{strings.ToUpper(b)}},
			want: []want{{"ExcludeLocalImageIDs", "LocalImageScanType is IMAGEIDS"}, {"ExcludeLocalImageIDs", "is not lower case"}, {"ExcludeLocalImageIDs", `"` + b + `" is also in LocalImageIDs`}}},
		{name: "a registry image both included and excluded is refused", req: Request{RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: []uint64{1, 2, 3}, ExcludeRegistryImageIDs: []uint64{2, 3}},
			want: []want{{"ExcludeRegistryImageIDs", "RegistryImageScanType is IMAGEIDS"}, {"ExcludeRegistryImageIDs", `2, 3 are also in RegistryImageIDs`}}},

		// Selecting something.
		{name: "an empty request is refused and says what to choose", req: Request{},
			want: []want{{"LocalImageScanType", "selects no images: choose LocalImageScanType (ALL, NOT_SCAN, IMAGEIDS or CLUSTER)"}}},
		{name: "filters alone select nothing", req: Request{IsLatest: true, LocalImageContainerRunning: true},
			want: []want{{"LocalImageContainerRunning", "nothing to narrow"}, {"IsLatest", "nothing to narrow"}, {"LocalImageScanType", "selects no images"}}},
		{name: "IDs without a scan type are told which type to set, once", req: Request{LocalImageIDs: []string{a}},
			want: []want{{"LocalImageIDs", "set LocalImageScanType to IMAGEIDS"}}},

		// Every problem at once.
		{name: "every problem is reported at once", req: Request{
			LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{"bad"}, LocalImageContainerRunning: true,
			RegistryImageScanType: "Latest", RegistryImageIDs: []uint64{0}, LocalTaskID: -2, RegistryTaskID: -3,
		}, want: []want{
			{"LocalImageScanType", "LocalTaskID"}, {"LocalImageIDs", "LocalTaskID"}, {"LocalImageContainerRunning", "LocalTaskID"},
			{"RegistryImageScanType", `"Latest" is not a scan type`},
			{"LocalImageIDs", `"bad" is not valid`}, {"RegistryImageIDs", "holds 0"},
			{"LocalTaskID", "is -2"}, {"RegistryTaskID", "is -3"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fieldErrors(t, tt.req.Validate(), "scan.Validate")
			unmatched := slices.Clone(got)
			for _, w := range tt.want {
				i := slices.IndexFunc(unmatched, func(f FieldError) bool {
					return f.Field == w.field && strings.Contains(f.Message, w.says)
				})
				if i < 0 {
					t.Errorf("missing problem %s: …%s…", w.field, w.says)
					continue
				}
				unmatched = slices.Delete(unmatched, i, i+1)
			}
			for _, f := range unmatched {
				t.Errorf("unexpected problem %s", f)
			}
		})
	}
}

func TestValidateMessagesStayShortWhateverTheInput(t *testing.T) {
	long := strings.Repeat("x", 10000)
	err := Request{LocalImageScanType: long, LocalImageIDs: []string{long}, ExcludeLocalImageIDs: []string{long}}.Validate()
	for _, f := range fieldErrors(t, err, "scan.Validate") {
		if len(f.Message) > 600 {
			t.Errorf("%s: message of %d bytes quotes the input whole", f.Field, len(f.Message))
		}
	}
}

func TestBroad(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want bool
	}{
		{"all local images is broad", Request{LocalImageScanType: "ALL"}, true},
		{"all registry images is broad", Request{RegistryImageScanType: "ALL"}, true},
		{"all registry images beside chosen local ones is broad", Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{img(1)}, RegistryImageScanType: "ALL"}, true},
		{"never-scanned images are not broad", Request{LocalImageScanType: "NOT_SCAN", RegistryImageScanType: "NOT_SCAN"}, false},
		{"chosen images are not broad", Request{RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: []uint64{1}}, false},
		{"clusters are not broad", Request{LocalImageScanType: "CLUSTER", LocalClusterIDs: []string{"cls-abcd"}}, false},
		{"a re-scan is not broad", Request{LocalTaskID: 3}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.req.Broad(); got != tt.want {
				t.Errorf("Broad() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestIDChecks pins the written-out ID checks to the patterns they replaced,
// ^sha256:[0-9a-f]{64}$ and ^cls-[a-z0-9]{4,32}$, at their edges.
func TestIDChecks(t *testing.T) {
	hex64 := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name  string
		check func(string) bool
		in    string
		want  bool
	}{
		{"image: 64 lower-case hex digits", IsLocalImageID, "sha256:" + hex64, true},
		{"image: 63 digits", IsLocalImageID, "sha256:" + hex64[1:], false},
		{"image: 65 digits", IsLocalImageID, "sha256:" + hex64 + "0", false},
		{"image: upper-case hex", IsLocalImageID, "sha256:" + strings.ToUpper(hex64), false},
		{"image: not hex", IsLocalImageID, "sha256:" + hex64[:63] + "g", false},
		{"image: upper-case prefix", IsLocalImageID, "SHA256:" + hex64, false},
		{"image: no prefix", IsLocalImageID, hex64, false},
		{"image: trailing newline", IsLocalImageID, "sha256:" + hex64 + "\n", false},
		{"image: empty", IsLocalImageID, "", false},
		{"cluster: 4 characters", IsClusterID, "cls-qwyx", true},
		{"cluster: 32 characters", IsClusterID, "cls-" + strings.Repeat("a1", 16), true},
		{"cluster: 3 characters", IsClusterID, "cls-abc", false},
		{"cluster: 33 characters", IsClusterID, "cls-" + strings.Repeat("a", 33), false},
		{"cluster: upper case", IsClusterID, "cls-ABCD", false},
		{"cluster: hyphen inside", IsClusterID, "cls-ab-cd", false},
		{"cluster: other prefix", IsClusterID, "clx-abcd", false},
		{"cluster: leading space", IsClusterID, " cls-abcd", false},
		{"cluster: empty", IsClusterID, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.check(tt.in); got != tt.want {
				t.Errorf("check(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
