package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
	"github.com/vulscan/vulscan/web"
)

// recordsRead is an audit log that counts the records its reads hand over.
type recordsRead struct {
	web.AuditLog
	n    atomic.Int64
	fail bool // every read fails, as a database that went away
}

func (c *recordsRead) List(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	if c.fail {
		return nil, errors.New("database is locked")
	}
	recs, err := c.AuditLog.List(ctx, f)
	c.n.Add(int64(len(recs)))
	return recs, err
}

func (c *recordsRead) Each(ctx context.Context, f audit.Filter, fn func(audit.Record) error) error {
	if c.fail {
		return errors.New("database is locked")
	}
	return c.AuditLog.Each(ctx, f, func(r audit.Record) error {
		c.n.Add(1)
		return fn(r)
	})
}

// HEAD of an audit download answers what GET would (status and headers) without reading the
// records it would hold: it read them all only to drop them, a whole download's read on a large
// log, and through a function a log over its 4 MiB answer made the HEAD fail.
func TestAuditDownloadHeadReadsNoRecords(t *testing.T) {
	tests := []struct {
		name, path string
		fail       bool
		status     int
	}{
		{"CSV", "/audit.csv", false, http.StatusOK},
		{"JSON Lines", "/audit.jsonl", false, http.StatusOK},
		{"filtered", "/audit.csv?outcome=succeeded&from=2025-01-01", false, http.StatusOK},
		{"the log cannot be read", "/audit.jsonl", true, http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := &recordsRead{fail: tc.fail}
			h := newHarness(t, withAuditLog(func(l web.AuditLog) web.AuditLog { log.AuditLog = l; return log }))
			sqlstoretest.Fill(t, h.store, 500)
			get := h.do(httptest.NewRequest(http.MethodGet, tc.path, nil))
			log.n.Store(0)
			head := h.do(httptest.NewRequest(http.MethodHead, tc.path, nil))
			if get.StatusCode != tc.status || head.StatusCode != tc.status {
				t.Fatalf("GET %d, HEAD %d; want %d", get.StatusCode, head.StatusCode, tc.status)
			}
			for _, name := range []string{"Content-Type", "Content-Disposition", "Cache-Control"} {
				if g, h := get.Header.Get(name), head.Header.Get(name); g != h {
					t.Errorf("%s: GET %q, HEAD %q", name, g, h)
				}
			}
			if n := log.n.Load(); n > 1 {
				t.Errorf("HEAD read %d records", n)
			}
			if b := body(t, head); b != "" && tc.status == http.StatusOK {
				t.Errorf("HEAD wrote a body of %d bytes", len(b))
			}
		})
	}
}
