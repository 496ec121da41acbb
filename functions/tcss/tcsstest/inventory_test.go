package tcsstest

import (
	"encoding/json"
	"testing"
)

// listAnswer is the envelope of an asset list: the rows' names and the total.
type listAnswer struct {
	Response struct {
		Error *struct {
			Code, Message string
		}
		RequestId  string
		List       []struct{ ImageName, ClusterName, ClusterType string }
		TotalCount int64
	}
}

func (a listAnswer) requestID() string { return a.Response.RequestId }

// A filter's ExactMatch is read as Tencent's SDKs describe it, "whether to match fuzzily"
// (是否模糊查询): true finds substrings, false only the whole value; left out (as vulscan's client
// sends it) it is fuzzy.
func TestAssetFilterExactMatchIsFuzzy(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, filter string
		want         int64
	}{
		{"true matches a substring", `{"Name":"ImageName","Values":["payments"],"ExactMatch":true}`, 3},
		{"true ignores case", `{"Name":"ImageName","Values":["PAYMENTS"],"ExactMatch":true}`, 3},
		{"false needs the whole value", `{"Name":"ImageName","Values":["payments"],"ExactMatch":false}`, 0},
		{"false matches the whole value", `{"Name":"ImageName","Values":["payments-api:latest"],"ExactMatch":false}`, 1},
		{"absent is fuzzy", `{"Name":"ImageName","Values":["payments"]}`, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"Limit":100,"Filters":[` + tt.filter + `]}`
			a := sendFor[listAnswer](t, f.signed(t, "DescribeAssetImageList", body, permanent, t0, nil))
			if a.Response.Error != nil {
				t.Fatalf("refused: %+v", *a.Response.Error)
			}
			if a.Response.TotalCount != tt.want || int64(len(a.Response.List)) != tt.want {
				rows, _ := json.Marshal(a.Response.List)
				t.Errorf("%s: %d rows (total %d): %s, want %d", body, len(a.Response.List), a.Response.TotalCount, rows, tt.want)
			}
		})
	}
}
