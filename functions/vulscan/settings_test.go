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
