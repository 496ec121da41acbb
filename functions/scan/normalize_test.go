package scan

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestNormalizeMakesEqualIntentsEqual(t *testing.T) {
	a, b := img(1), img(2)
	tests := []struct {
		name   string
		a, b   Request
		differ bool // the two are different intents and must stay different
	}{
		{name: "white space around scan types does not matter",
			a: Request{LocalImageScanType: " ALL\t", RegistryImageScanType: "\nNOT_SCAN "},
			b: Request{LocalImageScanType: "ALL", RegistryImageScanType: "NOT_SCAN"}},
		{name: "the order of image IDs does not matter",
			a: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{b, a}},
			b: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{a, b}}},
		{name: "duplicate image IDs do not matter",
			a: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{a, b, a}, RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: []uint64{13, 12, 13}},
			b: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{a, b}, RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: []uint64{12, 13}}},
		{name: "the case of local image IDs does not matter, prefix included",
			a: Request{LocalImageScanType: "ALL", ExcludeLocalImageIDs: []string{" " + strings.ToUpper(a) + " "}},
			b: Request{LocalImageScanType: "ALL", ExcludeLocalImageIDs: []string{a}}},
		{name: "an ID that differs only in case is a duplicate",
			a: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{a, strings.ToUpper(a)}},
			b: Request{LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{a}}},
		{name: "blank list entries are dropped",
			a: Request{LocalImageScanType: "CLUSTER", LocalClusterIDs: []string{"", " cls-abcd ", "  "}},
			b: Request{LocalImageScanType: "CLUSTER", LocalClusterIDs: []string{"cls-abcd"}}},
		{name: "an empty list and an absent one are the same",
			a: Request{LocalImageScanType: "ALL", LocalImageIDs: []string{}, RegistryImageIDs: []uint64{}, ExcludeRegistryImageIDs: []uint64{}, LocalClusterIDs: []string{" "}},
			b: Request{LocalImageScanType: "ALL"}},
		{name: "the case of scan types is kept, so a wrong case stays visible to Validate",
			a: Request{LocalImageScanType: "all"}, b: Request{LocalImageScanType: "ALL"}, differ: true},
		{name: "the case of cluster IDs is kept",
			a: Request{LocalImageScanType: "CLUSTER", LocalClusterIDs: []string{"cls-ABCD"}},
			b: Request{LocalImageScanType: "CLUSTER", LocalClusterIDs: []string{"cls-abcd"}}, differ: true},
		{name: "zero registry IDs are kept for Validate to refuse",
			a: Request{RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: []uint64{0, 1}},
			b: Request{RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: []uint64{1}}, differ: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			na, nb := tt.a.Normalize(), tt.b.Normalize()
			ja, _ := json.Marshal(na)
			jb, _ := json.Marshal(nb)
			if equal := reflect.DeepEqual(na, nb); equal == tt.differ {
				t.Errorf("DeepEqual = %v, want %v:\n %s\n %s", equal, !tt.differ, ja, jb)
			}
			if equal := string(ja) == string(jb); equal == tt.differ {
				t.Errorf("same JSON = %v, want %v:\n %s\n %s", equal, !tt.differ, ja, jb)
			}
		})
	}
}

func TestNormalizeIsIdempotentAndLeavesItsInputAlone(t *testing.T) {
	in := Request{
		LocalImageScanType: " ALL ", ExcludeLocalImageIDs: []string{strings.ToUpper(img(2)), img(1)},
		RegistryImageScanType: "ALL", ExcludeRegistryImageIDs: []uint64{9, 3, 9},
	}
	before, _ := json.Marshal(in)
	once := in.Normalize()
	if after, _ := json.Marshal(in); string(after) != string(before) {
		t.Errorf("Normalize changed its input:\n %s\n %s", before, after)
	}
	if twice := once.Normalize(); !reflect.DeepEqual(once, twice) {
		t.Errorf("Normalize is not idempotent:\n %+v\n %+v", once, twice)
	}
	want := Request{
		LocalImageScanType: "ALL", ExcludeLocalImageIDs: []string{img(1), img(2)},
		RegistryImageScanType: "ALL", ExcludeRegistryImageIDs: []uint64{3, 9},
	}
	if !reflect.DeepEqual(once, want) {
		t.Errorf("Normalize() =\n %+v\nwant\n %+v", once, want)
	}
	if err := once.Validate(); err != nil {
		t.Errorf("normalized request is invalid: %v", err)
	}
}
