package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/web"
)

// slowAudit serves n large records, each after a pause, as a big log on a slow link does.
type slowAudit struct {
	web.AuditLog
	n     int
	pause time.Duration
}

func (s slowAudit) Each(ctx context.Context, _ audit.Filter, fn func(audit.Record) error) error {
	for i := 1; i <= s.n; i++ {
		time.Sleep(s.pause)
		if err := fn(audit.Record{ID: int64(i), Trigger: audit.TriggerAPI, Outcome: audit.OutcomeRejected,
			UserAgent: strings.Repeat("u", 8000)}); err != nil {
			return err
		}
	}
	return nil
}

// A download of the audit log that takes longer than the server's WriteTimeout, because the
// log is large or the link slow, is delivered whole while it keeps moving: the timeout bounds a
// stalled download, not a long one.
func TestAnAuditDownloadOutlastsTheWriteTimeout(t *testing.T) {
	for _, path := range []string{"/audit.csv", "/audit.jsonl"} {
		t.Run(path, func(t *testing.T) {
			const records = 4
			h := newHarness(t, withAuditLog(func(l web.AuditLog) web.AuditLog {
				return slowAudit{AuditLog: l, n: records, pause: 300 * time.Millisecond}
			}))
			srv := httptest.NewUnstartedServer(h.handler)
			srv.Config.WriteTimeout = 500 * time.Millisecond // the download takes 1.2 s
			srv.Start()
			defer srv.Close()
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("the download broke off after %d bytes: %v", len(b), err)
			}
			if got := strings.Count(string(b), strings.Repeat("u", 8000)); resp.StatusCode != http.StatusOK || got != records {
				t.Errorf("status %d with %d records, want 200 with %d", resp.StatusCode, got, records)
			}
		})
	}
}
