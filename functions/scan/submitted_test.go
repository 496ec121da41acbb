package scan_test

import (
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/scan"
)

const secret = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"

func TestSubmittedRecordsWhatWasTriedButNoSecret(t *testing.T) {
	tests := []struct {
		name   string
		fields map[string][]string
		want   string
	}{
		{"request fields, values as typed", map[string][]string{"LocalTaskID": {"seven"}, "LocalImageScanType": {"ALL"}},
			`{"LocalImageScanType":"ALL","LocalTaskID":"seven"}`},
		{"a field sent twice", map[string][]string{"RegistryImageScanType": {"NOT_SCAN", "ALL"}},
			`{"RegistryImageScanType":"NOT_SCAN, ALL"}`},
		{"unknown fields: names only, never values", map[string][]string{"SecretKey": {secret}, "LocalImageScanType": {"ALL"}},
			`{"LocalImageScanType":"ALL","_unknown_fields":["SecretKey"]}`},
		{"a name that is not a name is counted, not recorded", map[string][]string{secret + "=" + secret: {"x"}},
			`{"_fields_not_recorded":1}`},
		{"control characters go", map[string][]string{"LocalImageIDs": {"sha256:ab\x00\x1b[31m"}},
			`{"LocalImageIDs":"sha256:ab[31m"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(scan.Submitted(tt.fields))
			if got != tt.want {
				t.Errorf("Submitted = %s, want %s", got, tt.want)
			}
			if strings.Contains(got, secret) {
				t.Errorf("the secret was recorded: %s", got)
			}
		})
	}
}

func TestSubmittedIsBounded(t *testing.T) {
	fields := map[string][]string{"LocalImageIDs": {strings.Repeat("a", 10000)}}
	for i := range 100 {
		fields["Unknown"+strings.Repeat("x", i%50)+string(rune('A'+i%26))] = []string{"v"}
	}
	got := scan.Submitted(fields)
	if len(got) > 2000 {
		t.Errorf("%d bytes recorded for one request", len(got))
	}
	if !strings.Contains(string(got), `"_fields_not_recorded"`) {
		t.Errorf("dropped fields are not counted: %s", got)
	}
}

func TestDecodeJSONRefusalsCarryTheCleanedInput(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"LocalImageScanType":7,"SecretKey":"` + secret + `"}`, `{"LocalImageScanType":"7","_unknown_fields":["SecretKey"]}`},
		{`{"LocalImageScanType":`, `{"_input":"a body that is not a JSON object (22 bytes, not recorded)"}`},
		{`["` + secret + `"]`, `{"_input":"a body that is not a JSON object (36 bytes, not recorded)"}`},
	}
	for _, tt := range tests {
		_, err := scan.DecodeJSON([]byte(tt.body), nil)
		var e *scan.Error
		if !asError(err, &e) || string(e.Submitted) != tt.want {
			t.Errorf("DecodeJSON(%s): submitted %s, want %s", tt.body, submittedOf(e), tt.want)
		}
	}
}

func asError(err error, target **scan.Error) bool {
	e, ok := err.(*scan.Error)
	*target = e
	return ok
}

func submittedOf(e *scan.Error) string {
	if e == nil {
		return "(no *scan.Error)"
	}
	return string(e.Submitted)
}
