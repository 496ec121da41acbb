package tcss

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/vulscan/vulscan/functions/scan"
)

// The pickers' searches go out without ExactMatch: the one form that matches fuzzily whichever
// reading of the field TCSS follows (see AssetFilters).
func TestInventorySearchesLeaveExactMatchOut(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeResponse(w, map[string]any{"List": []any{}, "TotalCount": 0})
	})
	c := newTestClient(t, testConfig(f.URL))
	ctx := context.Background()
	q := scan.InventoryQuery{Name: "payments", Tag: "latest", Registry: "tcr", Limit: 10}
	calls := []struct {
		action string
		call   func() error
		want   []string
	}{
		{"DescribeAssetImageList", func() error { _, err := c.LocalImages(ctx, q); return err }, []string{"ImageName"}},
		{"DescribeAssetImageRegistryList", func() error { _, err := c.RegistryImages(ctx, q); return err }, []string{"ImageName", "ImageTag", "ImageRepoAddress"}},
		{"DescribeAssetClusterList", func() error { _, err := c.Clusters(ctx, q); return err }, []string{"ClusterName"}},
	}
	for i, tt := range calls {
		t.Run(tt.action, func(t *testing.T) {
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			seen := f.requests()
			if len(seen) != i+1 {
				t.Fatalf("%d requests, want %d", len(seen), i+1)
			}
			var body struct{ Filters []map[string]json.RawMessage }
			if err := json.Unmarshal(seen[i].body, &body); err != nil {
				t.Fatalf("body %s: %v", seen[i].body, err)
			}
			var names []string
			for _, filter := range body.Filters {
				if _, ok := filter["ExactMatch"]; ok {
					t.Errorf("filter %s sends ExactMatch: %s", filter["Name"], seen[i].body)
				}
				var name string
				_ = json.Unmarshal(filter["Name"], &name)
				names = append(names, name)
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("filters %q, want %q: %s", names, tt.want, seen[i].body)
			}
		})
	}
}
