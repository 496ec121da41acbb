package sqlstore

import (
	"context"
	"strings"
	"testing"
)

// A PostgreSQL DSN the driver refuses is reported without the DSN, which may hold a password
// (url.Error quotes its whole input).
func TestOpenPostgresBadDSNKeepsThePasswordOut(t *testing.T) {
	for _, c := range []struct{ name, dsn, cause string }{
		{"bad port", "postgres://vulscan:hunter2@db.internal:notaport/audit", "invalid port"},
		{"bad escape", "postgres://vulscan:hunter2%zz@db.internal/audit", "invalid URL escape"},
		{"bad sslmode", "postgres://vulscan:hunter2@db.internal/audit?sslmode=sometimes", "sslmode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := OpenPostgres(context.Background(), c.dsn)
			if err == nil {
				s.Close()
				t.Fatalf("OpenPostgres(%q) opened", c.dsn)
			}
			if !strings.Contains(err.Error(), c.cause) {
				t.Errorf("error %q does not name the cause %q", err, c.cause)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error repeats the password: %v", err)
			}
		})
	}
}
