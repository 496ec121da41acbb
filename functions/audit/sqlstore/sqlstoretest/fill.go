package sqlstoretest

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// Importer is the store Fill writes through: sqlstore.Store.Import.
type Importer interface {
	Import(ctx context.Context, recs iter.Seq2[audit.Record, error]) (int64, error)
}

// FillStart is the time of the first generated record; records follow one second apart.
var FillStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Fill writes n valid records into the empty log of s quickly (hashes computed here, rows
// inserted in large transactions), for tests and benchmarks of a log at production size.
func Fill(tb testing.TB, s Importer, n int) {
	tb.Helper()
	got, err := s.Import(context.Background(), Generate(n))
	if err != nil || got != int64(n) {
		tb.Fatalf("sqlstoretest: filling the audit log: stored %d of %d records: %v", got, n, err)
	}
}

// Generate yields n records of a log as months of use make it, chained from ID 1: in every ten,
// four attempts that reached TCSS (succeeded, failed, succeeded, unknown), each a pending record
// and its outcome, and two rejections; five triggers, a hundred actors, keys on API attempts.
func Generate(n int) iter.Seq2[audit.Record, error] {
	params := json.RawMessage(`{"ImageIDs":["sha256:0123456789abcdef"],"LocalImageScanType":"ALL","ScanScope":2}`)
	return func(yield func(audit.Record, error) bool) {
		var prev audit.Record
		for i := int64(1); i <= int64(n); i++ {
			r := audit.Record{
				ID: i, Time: FillStart.Add(time.Duration(i) * time.Second), Action: audit.ActionCreateVulScanTask,
				Params: params, Actor: fmt.Sprintf("user-%02d", i%100), SourceIP: "192.0.2.10",
				UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", Access: "apikey", Endpoint: "tcss.tencentcloudapi.com",
				Credential: "scf-role:AKIDab", FunctionRequestID: fmt.Sprintf("fn-%d", i), PrevHash: prev.Hash,
			}
			shape(&r, prev)
			r.Hash = r.ComputeHash()
			if !yield(r, nil) {
				return
			}
			prev = r
		}
	}
}

// shape sets the trigger, outcome and links of record r from its place in the cycle of ten.
func shape(r *audit.Record, prev audit.Record) {
	closing := func(o audit.Outcome) {
		r.Trigger, r.Actor, r.IdempotencyKey = prev.Trigger, prev.Actor, prev.IdempotencyKey
		r.Outcome, r.PendingID = o, prev.ID
	}
	switch r.ID % 10 {
	case 1:
		r.Trigger, r.Outcome, r.IdempotencyKey = audit.TriggerAPI, audit.OutcomePending, fmt.Sprintf("key-%d", r.ID)
	case 2:
		closing(audit.OutcomeSucceeded)
		r.LocalTaskID, r.RegistryTaskID, r.TCSSRequestID = r.ID, 0, fmt.Sprintf("req-%d", r.ID)
	case 3:
		r.Trigger, r.Outcome = audit.TriggerForm, audit.OutcomeRejected
		r.ErrorCode, r.ErrorMessage = "vulscan.InvalidRequest", "ImageIDs: at least one is required"
	case 4:
		r.Trigger, r.Outcome = audit.TriggerForm, audit.OutcomePending
	case 5:
		closing(audit.OutcomeFailed)
		r.ErrorCode, r.ErrorMessage, r.TCSSRequestID = "RequestLimitExceeded", "too many requests", fmt.Sprintf("req-%d", r.ID)
	case 6:
		r.Trigger, r.Outcome, r.Actor, r.Access = audit.TriggerTimer, audit.OutcomePending, "system:timer/nightly", "timer"
	case 7:
		closing(audit.OutcomeSucceeded)
		r.Access = "timer"
		r.LocalTaskID, r.RegistryTaskID, r.TCSSRequestID = 0, r.ID, fmt.Sprintf("req-%d", r.ID)
	case 8:
		r.Trigger, r.Outcome, r.Access = audit.TriggerCLI, audit.OutcomePending, "cli"
	case 9:
		closing(audit.OutcomeUnknown)
		r.Access = "cli"
		r.ErrorCode, r.ErrorMessage = "vulscan.OutcomeUnknown", "outcome unknown: connection reset"
	default:
		r.Trigger, r.Outcome = audit.TriggerAPI, audit.OutcomeRejected
		r.ErrorCode, r.ErrorMessage = "vulscan.Forbidden", "no valid API key"
	}
}
