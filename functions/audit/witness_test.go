package audit

import (
	"slices"
	"testing"
)

func TestWitnessFindingsNameRanges(t *testing.T) {
	r := WitnessReport{MissingFromLog: []int64{9, 1, 2, 3, 7}, Differing: []int64{5}}
	want := []string{
		"record 5 differs between the store and the witness: rewritten in the store",
		"records 1-3, 7, 9 are in the store but missing from the witness: inserted, or written while no witness was kept",
	}
	if got := r.Findings(); !slices.Equal(got, want) || r.OK() {
		t.Errorf("Findings() = %q, want %q", got, want)
	}
}
