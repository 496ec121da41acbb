package main

import (
	"strings"
	"testing"
)

// The audit DSN is printed at start and in errors without any password it carries, in the user
// info or as a query parameter (libpq's password, sslpassword).
func TestRedactDSNHidesEveryPassword(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://vulscan:TOPSECRET@db.example:5432/audit?sslmode=verify-full",
			"postgres://vulscan:xxxxx@db.example:5432/audit?sslmode=verify-full"},
		{"postgres://vulscan@db.example/audit?sslmode=disable&password=TOPSECRET",
			"postgres://vulscan@db.example/audit?password=xxxxx&sslmode=disable"},
		{"postgresql://db.example/audit?sslpassword=TOPSECRET&sslkey=/k.pem&PASSWORD=TOPSECRET",
			"postgresql://db.example/audit?PASSWORD=xxxxx&sslkey=%2Fk.pem&sslpassword=xxxxx"},
		{"postgres://db.example/audit", "postgres://db.example/audit"},
	} {
		got := redactDSN(tc.dsn)
		if got != tc.want || strings.Contains(got, "TOPSECRET") {
			t.Errorf("redactDSN(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}

// An entry of VULSCAN_TRUSTED_ORIGINS or VULSCAN_ALLOWED_HOSTS that cannot match anything stops
// the start, naming the setting: ignored, it would leave the operator believing a site trusted
// or a name answered.
func TestMalformedOriginsAndHostsStopTheStart(t *testing.T) {
	for _, tc := range []struct{ name, value, wantErr string }{
		{"VULSCAN_TRUSTED_ORIGINS", "https://ok.example,not a url", `VULSCAN_TRUSTED_ORIGINS: "not a url" is not an origin`},
		{"VULSCAN_TRUSTED_ORIGINS", "https://ok.example/path", `VULSCAN_TRUSTED_ORIGINS: "https://ok.example/path" is not an origin`},
		{"VULSCAN_TRUSTED_ORIGINS", " https://ok.example , http://127.0.0.1:8080", ""},
		{"VULSCAN_ALLOWED_HOSTS", "scan.example.com,bad host!", `VULSCAN_ALLOWED_HOSTS: "bad host!" is neither`},
		{"VULSCAN_ALLOWED_HOSTS", "::::", `VULSCAN_ALLOWED_HOSTS: "::::" is neither`},
		{"VULSCAN_ALLOWED_HOSTS", "scan.example.com:99999", `VULSCAN_ALLOWED_HOSTS: "scan.example.com:99999" is neither`},
		{"VULSCAN_ALLOWED_HOSTS", "scan.example.com, scan.example.com:8443, [::1]:8080, 10.0.0.7, localhost.", ""},
	} {
		_, err := loadSettings(func(k string) string {
			if k == tc.name {
				return tc.value
			}
			return ""
		})
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s=%q: %v", tc.name, tc.value, err)
		case tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr)):
			t.Errorf("%s=%q: error %v, want %q…", tc.name, tc.value, err, tc.wantErr)
		}
	}
}
