// Package audit is vulscan's tamper-evident audit log: the record of every scan attempt, the hash
// chain that links each record to the one before it, and the verification that finds any edit,
// deletion, insertion or reordering. Stores live in sub-packages named after their technology.
package audit

import (
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Trigger says where an attempt came from.
type Trigger string

// The triggers vulscan knows.
const (
	TriggerForm  Trigger = "form"
	TriggerAPI   Trigger = "api"
	TriggerTimer Trigger = "timer"
	TriggerCLI   Trigger = "cli"
	// TriggerInvoke is a direct invocation of the function with a scan request as its payload
	// (no timer or schedule envelope): whoever may invoke the function, not a schedule.
	TriggerInvoke Trigger = "invoke"
	// TriggerEvent is a platform event of no shape vulscan knows, or an HTTP event that cannot
	// be decoded; such events are only ever recorded as rejected.
	TriggerEvent Trigger = "event"
)

// Outcome is the state a record reports.
type Outcome string

// The outcomes. A pending record is written before TCSS is called; succeeded, failed and unknown
// are later records that refer to it; rejected stands alone (the request never reached TCSS).
const (
	OutcomePending   Outcome = "pending"
	OutcomeRejected  Outcome = "rejected"
	OutcomeFailed    Outcome = "failed"
	OutcomeSucceeded Outcome = "succeeded"
	OutcomeUnknown   Outcome = "unknown"
	// OutcomeReplayed is a request answered from an earlier attempt with the same idempotency
	// key and request (RelatedID names it); it started nothing.
	OutcomeReplayed Outcome = "replayed"
)

// ActionCreateVulScanTask is the TCSS action every record so far is about.
const ActionCreateVulScanTask = "CreateVulScanTask"

// Record is one entry of the audit log, modelled on a CloudTrail record. Records are never
// updated or deleted: an outcome is a new record whose PendingID names the pending record.
type Record struct {
	ID                int64           `json:"id"`                  // position in the chain, from 1, assigned by the store
	Time              time.Time       `json:"time"`                // when the service wrote it (UTC)
	Trigger           Trigger         `json:"trigger"`             // form | api | timer | cli
	Actor             string          `json:"actor"`               // user, api key id, system:timer/<name>
	SourceIP          string          `json:"source_ip"`           // caller address, if any
	UserAgent         string          `json:"user_agent"`          // caller user agent, if any
	Action            string          `json:"action"`              // CreateVulScanTask
	Params            json.RawMessage `json:"params"`              // normalized request, secrets redacted
	IdempotencyKey    string          `json:"idempotency_key"`     // caller's key, "" when none
	Outcome           Outcome         `json:"outcome"`             // pending | rejected | failed | succeeded | unknown
	PendingID         int64           `json:"pending_id"`          // for outcome records: the pending record they close
	LocalTaskID       int64           `json:"local_task_id"`       // TCSS LocalTaskID on success
	RegistryTaskID    int64           `json:"registry_task_id"`    // TCSS RegistryTaskID on success
	TCSSRequestID     string          `json:"tcss_request_id"`     // Tencent's RequestId, when TCSS answered
	ErrorCode         string          `json:"error_code"`          // Tencent's code, or vulscan's for rejections
	ErrorMessage      string          `json:"error_message"`       // plain-words reason
	FunctionRequestID string          `json:"function_request_id"` // SCF / Lambda request ID, if any
	Endpoint          string          `json:"endpoint"`            // TCSS endpoint used (host or URL); "emulator:" prefix for an emulator
	Credential        string          `json:"credential"`          // credential source, e.g. scf-role:AKIDab… (never a secret)
	Access            string          `json:"access"`              // how the caller was admitted: loopback, public, apikey, oidc, gateway, proxy, timer, cli
	RelatedID         int64           `json:"related_id"`          // another record this one refers to: the refused attempt a retry follows, the attempt a replay answers
	PrevHash          string          `json:"prev_hash"`           // hash of the previous record, hex ("" for the first)
	Hash              string          `json:"hash"`                // SHA-256 over the canonical encoding and PrevHash, hex
}

// EmulatorPrefix starts the Endpoint of an attempt sent to a TCSS emulator instead of Tencent.
const EmulatorPrefix = "emulator:"

// Emulated reports whether the attempt went to a TCSS emulator, so that no reader mistakes it for
// a real scan.
func (r Record) Emulated() bool { return strings.HasPrefix(r.Endpoint, EmulatorPrefix) }

// Errors every store returns (possibly wrapped), so callers can tell cases apart with errors.Is.
var (
	// ErrDuplicateKey: the idempotency key is bound to an attempt that started, or may have
	// started, a scan (the newest pending record holding it has no outcome yet, or succeeded or
	// unknown).
	ErrDuplicateKey = errors.New("audit: idempotency key already used")
	// ErrNotFound: no record matches.
	ErrNotFound = errors.New("audit: record not found")
	// ErrAlreadyClosed: a reconciliation's closing record (ErrorCode CodeNoOutcomeRecorded) names
	// an attempt that already has an outcome: another process closed it, or its own outcome came,
	// between the reconciliation's look and its append.
	ErrAlreadyClosed = errors.New("audit: the attempt already has an outcome")
	// ErrNotDurable: the record was committed but the sync that makes it durable failed. Append
	// returns the record with it, so that the caller can close the attempt it opened (its call
	// not made) with an outcome, which needs no sync.
	ErrNotDurable = errors.New("audit: the record was committed but could not be made durable")
)

// CodeNoOutcomeRecorded is the error code of the unknown outcome reconciliation gives an attempt
// that stayed pending longer than any call can last. A store appends such a record only while
// the attempt has no outcome (ErrAlreadyClosed), in the same transaction as its check, so that
// two processes reconciling at once close an attempt once.
const CodeNoOutcomeRecorded = "vulscan.NoOutcomeRecorded"
