package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/vulscan/vulscan/functions/audit/sqlstore"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
	"github.com/vulscan/vulscan/web"
)

// auditBenchRecords is the size of the log the audit page benchmark runs against: 1,000,000
// unless VULSCAN_BENCH_RECORDS says otherwise.
func auditBenchRecords(b *testing.B) int {
	if v := os.Getenv("VULSCAN_BENCH_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			b.Fatalf("VULSCAN_BENCH_RECORDS=%q: want a number of records", v)
		}
		return n
	}
	return 1_000_000
}

// BenchmarkAuditFirstView is GET /audit, the newest page with the chain's status, on a log of
// auditBenchRecords records, on both stores: issue 8's target is 100 ms at a million. The chain
// is verified in the background meanwhile, as on a freshly started instance.
func BenchmarkAuditFirstView(b *testing.B) {
	n := auditBenchRecords(b)
	stores := []struct {
		name string
		open func(b *testing.B) (*sqlstore.Store, error)
	}{
		{"sqlite", func(b *testing.B) (*sqlstore.Store, error) {
			return sqlstore.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "audit.db"))
		}},
		{"postgres", func(b *testing.B) (*sqlstore.Store, error) {
			return sqlstore.OpenPostgres(context.Background(), sqlstoretest.PostgresDSN(b))
		}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			store, err := st.open(b)
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			sqlstoretest.Fill(b, store, n)
			h := web.New(web.Config{Scans: instantScans{}, Audit: store, Logger: discard})
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/audit", nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET /audit: %d", rec.Code)
				}
			}
		})
	}
}
