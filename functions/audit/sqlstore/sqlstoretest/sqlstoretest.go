// Package sqlstoretest gives tests a PostgreSQL database of their own for the audit store: a
// fresh schema on the server named by VULSCAN_TEST_POSTGRES_DSN, dropped when the test ends.
package sqlstoretest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/lib/pq" // registers the "postgres" driver

	"github.com/vulscan/vulscan/internal/citest"
)

// EnvDSN names the variable that holds the test server's URL (postgres://…).
const EnvDSN = "VULSCAN_TEST_POSTGRES_DSN"

// PostgresDSN returns a DSN whose search_path is a new, empty schema, so that tests run in
// parallel without seeing each other's rows. Without EnvDSN it skips the test, or fails it when
// CI is set: CI must run the PostgreSQL tests.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		citest.Missing(t, "%s is not set; CI must run the PostgreSQL tests", EnvDSN)
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", EnvDSN)
	}
	admin, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := "audit_test_" + randomHex(t)
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
