package scan

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"testing"
)

// The invariants below restate Validate's rules from the API's point of view, independently of
// validate.go, so that the fuzzer checks the rules and not the implementation against itself.
var (
	wantLocalImageID = regexp.MustCompile(`\Asha256:[0-9a-f]{64}\z`)
	wantClusterID    = regexp.MustCompile(`\Acls-[0-9a-z]{4,32}\z`)
)

// fuzzSeeds are realistic requests: what the form, the API and the timers send.
var fuzzSeeds = []string{
	`{"LocalImageScanType":"ALL","RegistryImageScanType":"ALL"}`,
	`{"LocalImageScanType":"NOT_SCAN"}`,
	`{"RegistryImageScanType":"ALL","IsLatest":true,"RegistryImageContainerRunning":true,"ExcludeRegistryImageIDs":[5,6]}`,
	`{"LocalImageScanType":"IMAGEIDS","LocalImageIDs":["sha256:0837c4abfc8a3c0cda6a87c2d882e6530abd0caf180eeb3b4dc1534f3d47c3a1"]}`,
	`{"LocalImageScanType":"IMAGEIDS","LocalImageIDs":[" SHA256:0837C4ABFC8A3C0CDA6A87C2D882E6530ABD0CAF180EEB3B4DC1534F3D47C3A1 ","sha256:0837c4abfc8a3c0cda6a87c2d882e6530abd0caf180eeb3b4dc1534f3d47c3a1"]}`,
	`{"RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[12,13,12]}`,
	`{"LocalImageScanType":"CLUSTER","LocalClusterIDs":["cls-0zmsjvko","cls-qwyx"],"LocalImageContainerRunning":true}`,
	`{"LocalImageScanType":"ALL","ExcludeLocalImageIDs":["sha256:0837c4abfc8a3c0cda6a87c2d882e6530abd0caf180eeb3b4dc1534f3d47c3a1"]}`,
	`{"LocalTaskID":36002}`,
	`{"LocalTaskID":36002,"RegistryImageScanType":"NOT_SCAN"}`,
	`{"RegistryTaskID":3,"RegistryImageScanType":"ALL"}`,
	`{"LocalImageScanType":"all"}`,
	`{"LocalImageScanType":"IMAGEIDS"}`,
	`{"LocalImageScanType":"IMAGEIDS","LocalImageIDs":["sha256:0837"],"ExcludeLocalImageIDs":["sha256:0837"]}`,
	`{"RegistryImageIDs":[0],"LocalTaskID":-1,"IsLatest":true}`,
	`{"LocalImageScanType":null,"LocalImageIDs":[null],"Schedule":"nightly"}`,
	`{}`,
	`null`,
	`[]`,
	`{"LocalImageScanType":"ALL"} {}`,
}

func FuzzDecodeValidate(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var schedule string
		req, err := DecodeJSON(data, map[string]*string{"Schedule": &schedule})
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("DecodeJSON error is not EINVALID: %v", err)
			}
			if !reflect.DeepEqual(req, Request{}) {
				t.Fatalf("DecodeJSON refused but returned %+v", req)
			}
			return
		}
		norm := req.Normalize()
		if again := norm.Normalize(); !reflect.DeepEqual(again, norm) {
			t.Fatalf("Normalize is not idempotent:\n %+v\n %+v", norm, again)
		}
		if err := norm.Validate(); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || len(e.Fields) == 0 {
				t.Fatalf("Validate error without field errors: %v", err)
			}
			return
		}
		if problem := violation(norm); problem != "" {
			t.Fatalf("Validate accepted a request that %s: %+v", problem, norm)
		}
		// What is audited and sent decodes back to the same request.
		out, _ := json.Marshal(norm)
		back, err := DecodeJSON(out, nil)
		if err != nil || !reflect.DeepEqual(back.Normalize(), norm) {
			t.Fatalf("normalized request does not round-trip: %s: %v", out, err)
		}
	})
}

// violation returns the rule an accepted (normalized) request breaks, or "".
func violation(r Request) string {
	local, registry := r.LocalImageScanType, r.RegistryImageScanType
	switch {
	case !slices.Contains([]string{"", "ALL", "NOT_SCAN", "IMAGEIDS", "CLUSTER"}, local):
		return "has an unknown LocalImageScanType"
	case !slices.Contains([]string{"", "ALL", "NOT_SCAN", "IMAGEIDS"}, registry):
		return "has an unknown RegistryImageScanType"
	case (local == "IMAGEIDS") != (len(r.LocalImageIDs) > 0):
		return "breaks IMAGEIDS iff LocalImageIDs"
	case (registry == "IMAGEIDS") != (len(r.RegistryImageIDs) > 0):
		return "breaks IMAGEIDS iff RegistryImageIDs"
	case (local == "CLUSTER") != (len(r.LocalClusterIDs) > 0):
		return "breaks CLUSTER iff LocalClusterIDs"
	case r.LocalTaskID < 0 || r.RegistryTaskID < 0:
		return "has a negative task ID"
	case local == "" && registry == "" && r.LocalTaskID == 0 && r.RegistryTaskID == 0:
		return "selects nothing"
	case r.LocalTaskID > 0 && (local != "" || r.LocalImageContainerRunning || len(r.ExcludeLocalImageIDs) > 0):
		return "combines LocalTaskID with a local scope"
	case r.RegistryTaskID > 0 && (registry != "" || r.IsLatest || r.RegistryImageContainerRunning || len(r.ExcludeRegistryImageIDs) > 0):
		return "combines RegistryTaskID with a registry scope"
	case (len(r.ExcludeLocalImageIDs) > 0 || r.LocalImageContainerRunning) && !slices.Contains([]string{"ALL", "NOT_SCAN", "CLUSTER"}, local):
		return "narrows a local side that has no broad scope"
	case (len(r.ExcludeRegistryImageIDs) > 0 || r.IsLatest || r.RegistryImageContainerRunning) && !slices.Contains([]string{"ALL", "NOT_SCAN"}, registry):
		return "narrows a registry side that has no broad scope"
	}
	for _, list := range [][]string{r.LocalImageIDs, r.ExcludeLocalImageIDs, r.LocalClusterIDs} {
		if len(list) > MaxListLength || !slices.IsSorted(list) || len(slices.Compact(slices.Clone(list))) != len(list) {
			return "has a list too long, unsorted or with duplicates"
		}
	}
	for _, list := range [][]uint64{r.RegistryImageIDs, r.ExcludeRegistryImageIDs} {
		if len(list) > MaxListLength || !slices.IsSorted(list) || len(slices.Compact(slices.Clone(list))) != len(list) || slices.Contains(list, 0) {
			return "has a registry ID list too long, unsorted, with duplicates or with 0"
		}
		if list != nil && len(list) == 0 {
			return "has an empty, non-nil list"
		}
	}
	for _, id := range append(slices.Clone(r.LocalImageIDs), r.ExcludeLocalImageIDs...) {
		if !wantLocalImageID.MatchString(id) {
			return "has a malformed local image ID"
		}
	}
	for _, id := range r.LocalClusterIDs {
		if !wantClusterID.MatchString(id) {
			return "has a malformed cluster ID"
		}
	}
	for _, id := range r.ExcludeLocalImageIDs {
		if slices.Contains(r.LocalImageIDs, id) {
			return "includes and excludes the same local image"
		}
	}
	for _, id := range r.ExcludeRegistryImageIDs {
		if slices.Contains(r.RegistryImageIDs, id) {
			return "includes and excludes the same registry image"
		}
	}
	return ""
}

// TestFuzzSeedsHoldTheInvariants runs the seeds in every `go test`, so the invariants are checked
// even where nobody runs the fuzzer.
func TestFuzzSeedsHoldTheInvariants(t *testing.T) {
	accepted := 0
	for _, s := range fuzzSeeds {
		req, err := DecodeJSON([]byte(s), map[string]*string{"Schedule": new(string)})
		if err != nil {
			continue
		}
		norm := req.Normalize()
		if norm.Validate() != nil {
			continue
		}
		accepted++
		if problem := violation(norm); problem != "" {
			t.Errorf("%s: accepted a request that %s", s, problem)
		}
	}
	if accepted < 8 {
		t.Errorf("only %d seeds are valid requests; the fuzzer needs realistic valid ones", accepted)
	}
}

func BenchmarkDecodeValidate(b *testing.B) {
	req := Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: imgs(50), RegistryImageScanType: "ALL",
		ExcludeRegistryImageIDs: nums(50), IsLatest: true}
	data, err := json.Marshal(req)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := DecodeJSON(data, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Normalize().Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
