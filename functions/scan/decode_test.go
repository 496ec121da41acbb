package scan

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeJSONAcceptsTheAPIShape(t *testing.T) {
	a := img(1)
	tests := []struct {
		name string
		json string
		want Request
	}{
		{name: "the official CLI example, ALL and ALL",
			json: `{"LocalImageScanType":"ALL","RegistryImageScanType":"ALL"}`,
			want: Request{LocalImageScanType: "ALL", RegistryImageScanType: "ALL"}},
		{name: "every field with its API type",
			json: `{"LocalImageScanType":"CLUSTER","LocalImageIDs":["` + a + `"],"RegistryImageScanType":"IMAGEIDS",
				"RegistryImageIDs":[12,13],"LocalTaskID":7,"RegistryTaskID":8,"LocalImageContainerRunning":true,
				"RegistryImageContainerRunning":false,"IsLatest":true,"ExcludeLocalImageIDs":["` + a + `"],
				"ExcludeRegistryImageIDs":[18446744073709551615],"LocalClusterIDs":["cls-0zmsjvko"]}`,
			want: Request{LocalImageScanType: "CLUSTER", LocalImageIDs: []string{a}, RegistryImageScanType: "IMAGEIDS",
				RegistryImageIDs: []uint64{12, 13}, LocalTaskID: 7, RegistryTaskID: 8, LocalImageContainerRunning: true,
				IsLatest: true, ExcludeLocalImageIDs: []string{a}, ExcludeRegistryImageIDs: []uint64{18446744073709551615},
				LocalClusterIDs: []string{"cls-0zmsjvko"}}},
		{name: "null fields are absent",
			json: `{"LocalImageScanType":"ALL","LocalImageIDs":null,"LocalTaskID":null,"IsLatest":null,"RegistryImageScanType":null}`,
			want: Request{LocalImageScanType: "ALL"}},
		{name: "null list entries are absent",
			json: `{"RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[null,4,null]}`,
			want: Request{RegistryImageScanType: "IMAGEIDS", RegistryImageIDs: []uint64{4}}},
		{name: "an empty object is an empty request", json: `{}`, want: Request{}},
		{name: "values are not validated or normalized here",
			json: `{"LocalImageScanType":" all ","LocalTaskID":-4,"RegistryImageIDs":[3,3,0]}`,
			want: Request{LocalImageScanType: " all ", LocalTaskID: -4, RegistryImageIDs: []uint64{3, 3, 0}}},
		{name: "surrounding white space is fine", json: "\n\t{\"IsLatest\": true}\n", want: Request{IsLatest: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeJSON([]byte(tt.json), nil)
			if err != nil {
				t.Fatalf("DecodeJSON: %v", err)
			}
			if !reflect.DeepEqual(got.Normalize(), tt.want.Normalize()) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeJSONFillsExtraFields(t *testing.T) {
	var schedule, absent string
	extra := map[string]*string{"Schedule": &schedule, "Name": &absent}
	got, err := DecodeJSON([]byte(`{"Schedule":"nightly","LocalImageScanType":"NOT_SCAN"}`), extra)
	if err != nil {
		t.Fatalf("DecodeJSON: %v", err)
	}
	if schedule != "nightly" || absent != "" || got.LocalImageScanType != "NOT_SCAN" {
		t.Errorf("Schedule %q, Name %q, request %+v", schedule, absent, got)
	}
	if _, err := DecodeJSON([]byte(`{"Schedule":"nightly"}`), nil); err == nil {
		t.Error("an extra field was accepted by a caller that does not accept it")
	}
}

func TestDecodeJSONRefuses(t *testing.T) {
	type want struct{ field, says string }
	tests := []struct {
		name  string
		json  string
		extra []string
		want  []want
	}{
		{name: "an unknown field", json: `{"LocalImageScanType":"ALL","Region":"ap-guangzhou"}`,
			want: []want{{"Region", "is not a field of CreateVulScanTask"}}},
		{name: "a field name in the wrong case, with the right name", json: `{"localImageScanType":"ALL"}`,
			want: []want{{"localImageScanType", "did you mean LocalImageScanType?"}}},
		{name: "an extra field name in the wrong case, with the right name", json: `{"schedule":"x"}`, extra: []string{"Schedule"},
			want: []want{{"schedule", "did you mean Schedule?"}}},
		{name: "a field given twice", json: `{"LocalImageScanType":"ALL","LocalImageScanType":"NOT_SCAN"}`,
			want: []want{{"LocalImageScanType", "appears more than once"}}},
		{name: "a number for a scan type", json: `{"LocalImageScanType":1}`,
			want: []want{{"LocalImageScanType", "must be a string: one of ALL, NOT_SCAN, IMAGEIDS, CLUSTER"}}},
		{name: "a string for registry image IDs", json: `{"RegistryImageIDs":"12,13"}`,
			want: []want{{"RegistryImageIDs", "must be a list of positive whole numbers"}}},
		{name: "a negative registry image ID", json: `{"RegistryImageIDs":[-1]}`,
			want: []want{{"RegistryImageIDs", "must be a list of positive whole numbers"}}},
		{name: "a fractional registry image ID", json: `{"ExcludeRegistryImageIDs":[1.5]}`,
			want: []want{{"ExcludeRegistryImageIDs", "must be a list of positive whole numbers"}}},
		{name: "a registry image ID as a string", json: `{"RegistryImageIDs":["12"]}`,
			want: []want{{"RegistryImageIDs", "must be a list of positive whole numbers"}}},
		{name: "a single string for a list of image IDs", json: `{"LocalImageIDs":"sha256:00"}`,
			want: []want{{"LocalImageIDs", "must be a list of strings"}}},
		{name: "a number in a list of cluster IDs", json: `{"LocalClusterIDs":["cls-abcd",5]}`,
			want: []want{{"LocalClusterIDs", "must be a list of strings"}}},
		{name: "a task ID as a string", json: `{"LocalTaskID":"7"}`,
			want: []want{{"LocalTaskID", "must be a positive whole number"}}},
		{name: "a task ID beyond int64", json: `{"RegistryTaskID":9223372036854775808}`,
			want: []want{{"RegistryTaskID", "must be a positive whole number"}}},
		{name: "a task ID in exponent form", json: `{"LocalTaskID":1e3}`,
			want: []want{{"LocalTaskID", "must be a positive whole number"}}},
		{name: "a boolean as a string", json: `{"IsLatest":"true"}`,
			want: []want{{"IsLatest", "must be true or false"}}},
		{name: "a boolean as a number", json: `{"LocalImageContainerRunning":1}`,
			want: []want{{"LocalImageContainerRunning", "must be true or false"}}},
		{name: "an extra field that is not a string", json: `{"Schedule":5}`, extra: []string{"Schedule"},
			want: []want{{"Schedule", "must be a string"}}},
		{name: "every field problem at once", json: `{"IsLatest":"yes","LocalTaskID":[],"Bogus":1}`,
			want: []want{{"IsLatest", "true or false"}, {"LocalTaskID", "whole number"}, {"Bogus", "not a field"}}},
		{name: "an empty body", json: ``, want: []want{{"", "the request is empty"}}},
		{name: "a list instead of an object", json: `[{"LocalImageScanType":"ALL"}]`, want: []want{{"", "must be a JSON object"}}},
		{name: "a string instead of an object", json: `"ALL"`, want: []want{{"", "must be a JSON object"}}},
		{name: "null instead of an object", json: ` null `, want: []want{{"", "must be a JSON object"}}},
		{name: "broken JSON, with the place", json: `{"LocalImageScanType":"ALL",}`, want: []want{{"", "not valid JSON"}}},
		{name: "a truncated object", json: `{"LocalImageScanType":"ALL"`, want: []want{{"", "ends too early"}}},
		{name: "a second object after the first", json: `{"LocalImageScanType":"ALL"} {"RegistryImageScanType":"ALL"}`,
			want: []want{{"", "unexpected data after the JSON object"}}},
		{name: "garbage after the object", json: `{"LocalImageScanType":"ALL"}x`,
			want: []want{{"", "unexpected data after the JSON object"}}},
		{name: "a body over MaxJSONBytes", json: `{"LocalImageScanType":"ALL"` + strings.Repeat(" ", MaxJSONBytes) + `}`,
			want: []want{{"", "at most 524288 are accepted"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra := map[string]*string{}
			for _, name := range tt.extra {
				extra[name] = new(string)
			}
			got, err := DecodeJSON([]byte(tt.json), extra)
			if err == nil {
				t.Fatalf("DecodeJSON accepted it: %+v", got)
			}
			if !reflect.DeepEqual(got, Request{}) {
				t.Errorf("a refused request came back with content: %+v", got)
			}
			fields := fieldErrors(t, err, "scan.DecodeJSON")
			if len(fields) != len(tt.want) {
				t.Errorf("got %d problems %v, want %d", len(fields), fields, len(tt.want))
			}
			for i, w := range tt.want {
				if i < len(fields) && (fields[i].Field != w.field || !strings.Contains(fields[i].Message, w.says)) {
					t.Errorf("problem %d = %s, want %s: …%s…", i, fields[i], w.field, w.says)
				}
			}
		})
	}
}

// TestDecodeJSONRoundTripsTheNormalizedForm pins that what the audit log stores (the normalized
// request as JSON) decodes back to the same request.
func TestDecodeJSONRoundTripsTheNormalizedForm(t *testing.T) {
	r := Request{
		LocalImageScanType: "CLUSTER", LocalClusterIDs: []string{"cls-b", "cls-a"}, ExcludeLocalImageIDs: []string{img(3)},
		LocalImageContainerRunning: true, RegistryTaskID: 44,
	}.Normalize()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeJSON(data, nil)
	if err != nil {
		t.Fatalf("DecodeJSON(%s): %v", data, err)
	}
	if !reflect.DeepEqual(back.Normalize(), r) {
		t.Errorf("round trip changed the request:\n %+v\n %+v", r, back)
	}
}
