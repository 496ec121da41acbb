package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
	"github.com/vulscan/vulscan/web"
)

// readTracker is an audit log that knows whether a read of the store is under way.
type readTracker struct {
	web.AuditLog
	reading atomic.Bool
}

func (r *readTracker) Each(ctx context.Context, f audit.Filter, fn func(audit.Record) error) error {
	r.reading.Store(true)
	defer r.reading.Store(false)
	return r.AuditLog.Each(ctx, f, fn)
}

// clientDuringRead is a client that notes each write it receives while the store is being read.
type clientDuringRead struct {
	*httptest.ResponseRecorder
	store        *readTracker
	writesInRead int
}

func (c *clientDuringRead) Write(p []byte) (int, error) {
	if c.store.reading.Load() {
		c.writesInRead++
	}
	return c.ResponseRecorder.Write(p)
}

// A download writes to its client only between reads of the store: a read that waited on the
// client held one of the store's few connections for as long as the client took to receive the
// whole log (minutes, for a large log on a slow link), and a handful of such downloads left none
// for the scans, which failed 503 as if the audit log were down. Read in chunks, it still holds
// every matching record once, oldest first.
func TestAuditDownloadDoesNotHoldTheStoreWhileTheClientReads(t *testing.T) {
	tests := []struct {
		path  string
		match func(audit.Record) bool
		ids   func(t *testing.T, body string) []int64
	}{
		{"/audit.jsonl", func(audit.Record) bool { return true }, jsonlIDs},
		{"/audit.csv?outcome=succeeded", func(r audit.Record) bool { return r.Outcome == audit.OutcomeSucceeded }, csvIDs},
	}
	store := &readTracker{}
	h := newHarness(t, withAuditLog(func(l web.AuditLog) web.AuditLog { store.AuditLog = l; return store }))
	sqlstoretest.Fill(t, h.store, 2000)
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			want := matchingIDs(t, h.store, tc.match)
			client := &clientDuringRead{ResponseRecorder: httptest.NewRecorder(), store: store}
			h.handler.ServeHTTP(client, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if client.Code != http.StatusOK {
				t.Fatalf("status %d", client.Code)
			}
			if client.writesInRead != 0 {
				t.Errorf("%d writes to the client while the store was being read", client.writesInRead)
			}
			if got := tc.ids(t, client.Body.String()); !slices.Equal(got, want) {
				t.Errorf("the download holds %d records, want %d (every match once, oldest first)", len(got), len(want))
			}
		})
	}
}

func jsonlIDs(t *testing.T, body string) []int64 {
	var ids []int64
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

func csvIDs(t *testing.T, body string) []int64 {
	var ids []int64
	for i, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if i == 0 {
			continue // the header
		}
		id, err := strconv.ParseInt(line[:strings.IndexByte(line, ',')], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// matchingIDs lists the IDs of store's records that match, oldest first.
func matchingIDs(t *testing.T, store audit.Store, match func(audit.Record) bool) []int64 {
	t.Helper()
	var ids []int64
	err := store.Each(context.Background(), audit.Filter{}, func(r audit.Record) error {
		if match(r) {
			ids = append(ids, r.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}
