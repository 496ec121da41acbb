// Package scan is vulscan's domain: the CreateVulScanTask request, its validation, and the one
// Service every trigger (form, API, timer, CLI) goes through to start an audited scan. It knows
// nothing of HTTP, HTML, SCF or Lambda; it defines the interfaces it consumes (Scanner for TCSS,
// AuditLog for the store) and adapters implement them.
package scan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// Error codes. The HTTP layer maps each to one status in one table.
const (
	EINVALID     = "invalid"      // the request is wrong; Fields says where
	ECONFLICT    = "conflict"     // idempotency key reused with other parameters
	EINPROGRESS  = "in_progress"  // idempotency key of an attempt still pending
	EFORBIDDEN   = "forbidden"    // the caller may not ask (e.g. a cross-site form post)
	ENOTFOUND    = "not_found"    // no such record
	EUNAVAILABLE = "unavailable"  // the audit log cannot be written: nothing was started
	EBUSY        = "busy"         // too many requests wait for TCSS's pace: nothing was started
	ERATELIMITED = "rate_limited" // TCSS kept answering RequestLimitExceeded
	EUPSTREAM    = "upstream"     // TCSS answered with an error: nothing was started
	EUNKNOWN     = "unknown"      // TCSS's answer was lost: a task may or may not exist
	EINTERNAL    = "internal"     // a bug or an unexpected failure
	// ESTARTLIMIT: the caller is over its own start limit (VULSCAN_START_LIMIT); nothing was
	// recorded or sent. Not ERATELIMITED, though both are 429: a client slows itself down for
	// this one, and only waits out TCSS's account-wide pacing for that one.
	ESTARTLIMIT = "start_limited"
)

// Error is the error type of the scan domain: a code, the operation, a message for people, the
// field errors of a rejected request, and the wrapped cause.
type Error struct {
	Code    string       // one of the E* codes
	Op      string       // the operation that failed, e.g. "scan.Start"
	Message string       // plain words, safe to show to the caller
	Fields  []FieldError // for EINVALID
	Err     error        // the cause, for logs; may hold details not meant for callers
	// Submitted is what a caller sent that never became a Request, cleaned (see Submitted):
	// Service.Reject records it as the rejected record's params.
	Submitted json.RawMessage
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Op != "" {
		msg = e.Op + ": " + msg
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns the code of err if it is or wraps an *Error, else EINTERNAL.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// FieldError is one problem with one field of a Request, in words a person can act on.
type FieldError struct {
	Field   string `json:"field"`   // the API field name, e.g. "LocalImageIDs"
	Message string `json:"message"` // what is wrong and what would be right
}

func (f FieldError) String() string {
	if f.Field == "" { // a problem with the request as a whole, not one field
		return f.Message
	}
	return fmt.Sprintf("%s: %s", f.Field, f.Message)
}

// TaskIDs is what TCSS answers to a successful CreateVulScanTask.
type TaskIDs struct {
	LocalTaskID    int64
	RegistryTaskID int64
	RequestID      string // Tencent's RequestId
}

// ScanInfo is DescribeVulScanInfo's answer: where a scan task stands.
type ScanInfo struct {
	Status                 string  // NOT_SCAN | SCANNING | SCANNED | CANCELED
	ScanProgress           float64 // percent
	RemainingTime          float64 // seconds
	ScanStartTime          string
	ScanEndTime            string
	LocalImageScanCount    int64
	RegistryImageScanCount int64
	FoundRiskImageCount    int64
	FoundVulCount          int64
	RegistryFoundVulCount  int64
	IgnoreVulCount         int64
	LocalTaskID            int64
	RegistryTaskID         int64
	RequestID              string
	// CombinedWith is a task of the side the attempt did not start that TCSS folded into Status,
	// ScanProgress, RemainingTime and the times (its "latest task" for an omitted ID); 0 when none.
	CombinedWith int64
	// LocalSeverities counts the local task's vulnerabilities by severity once the scan has
	// finished, when the scanner can tell (SeverityReporter); nil otherwise. TCSS gives no such
	// breakdown for registry tasks.
	LocalSeverities *Severities `json:",omitempty"`
}

// Severities are vulnerability counts by severity over the images of one scan task.
type Severities struct {
	Critical, High, Medium, Low int64
	Images                      int64 // the images counted
	Partial                     bool  // the task has more images than were counted
}

// SeverityReporter is optionally implemented by a Scanner that can break a finished local scan
// task down by severity (TCSS's DescribeVulScanLocalImageList). Errors as DescribeVulScanInfo.
type SeverityReporter interface {
	LocalVulSeverities(ctx context.Context, localTaskID int64) (Severities, error)
}

// Only keeps the sides of info that belong to the given tasks: a side whose task ID is 0 was not
// started, so its task ID and counts (which TCSS fills from its latest task of that side) go.
// The local side's counts are LocalImageScanCount, FoundRiskImageCount, FoundVulCount and
// IgnoreVulCount; the registry side's carry "Registry" in their names.
func (info ScanInfo) Only(localTaskID, registryTaskID int64) ScanInfo {
	switch {
	case localTaskID == 0 && info.LocalTaskID != 0:
		info.CombinedWith = info.LocalTaskID
	case registryTaskID == 0 && info.RegistryTaskID != 0:
		info.CombinedWith = info.RegistryTaskID
	}
	info.LocalTaskID, info.RegistryTaskID = localTaskID, registryTaskID
	if localTaskID == 0 {
		info.LocalImageScanCount, info.FoundRiskImageCount, info.FoundVulCount, info.IgnoreVulCount = 0, 0, 0, 0
	}
	if registryTaskID == 0 {
		info.RegistryImageScanCount, info.RegistryFoundVulCount = 0, 0
	}
	return info
}

// APIError is an error TCSS answered with. Scanners return it (possibly wrapped).
type APIError struct {
	Code      string // Tencent's code, e.g. "InvalidParameter" or "RequestLimitExceeded"
	Message   string
	RequestID string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("TCSS error %s: %s (RequestId %s)", e.Code, e.Message, e.RequestID)
}

// CodeRequestLimitExceeded is Tencent's rate-limit error code.
const CodeRequestLimitExceeded = "RequestLimitExceeded"

// IsRateLimited reports whether a Tencent error code says the call was refused for its rate:
// RequestLimitExceeded, or one of its sub-codes (RequestLimitExceeded.UinLimitExceeded for the
// account, .IPLimitExceeded for the caller's address, .GlobalRegionUinLimitExceeded across
// regions), which Tencent's common error codes list and answer in its place.
func IsRateLimited(code string) bool {
	return code == CodeRequestLimitExceeded || strings.HasPrefix(code, CodeRequestLimitExceeded+".")
}

// CodeUnauthorizedOperation is Tencent's error code for a call CAM does not allow the
// credentials to make: they are good, the role lacks the action.
const CodeUnauthorizedOperation = "UnauthorizedOperation"

// IsUnauthorizedOperation reports whether a Tencent error code is UnauthorizedOperation or one
// of its sub-codes, or AuthFailure.UnauthorizedOperation: the one AuthFailure that is no refused
// credential but, as Tencent's SDKs word it, a request CAM did not authorize (请求未CAM授权).
func IsUnauthorizedOperation(code string) bool {
	return code == CodeUnauthorizedOperation || strings.HasPrefix(code, CodeUnauthorizedOperation+".") ||
		code == "AuthFailure."+CodeUnauthorizedOperation
}

// ErrOutcomeUnknown is wrapped by a Scanner when a CreateVulScanTask call's fate cannot be known:
// the request may have reached TCSS and started a task whose answer was lost.
var ErrOutcomeUnknown = errors.New("outcome unknown: the request may or may not have started a scan")

// Scanner is the TCSS API as the service needs it.
type Scanner interface {
	// CreateVulScanTask starts a scan of the normalized, valid request.
	// Returns *APIError (wrapped) when TCSS refused, and an error wrapping ErrOutcomeUnknown when
	// the call failed in a way that may have started a task (network failure, lost answer).
	CreateVulScanTask(ctx context.Context, r Request) (TaskIDs, error)
	// DescribeVulScanInfo reports where a scan task stands. Errors as CreateVulScanTask.
	DescribeVulScanInfo(ctx context.Context, localTaskID, registryTaskID int64) (ScanInfo, error)
}

// AuditLog is the audit store as the service needs it. Stores must keep one valid hash chain even
// with concurrent appends.
type AuditLog interface {
	// Append stores rec at the end of the chain, assigning ID, PrevHash and Hash, and returns the
	// stored record. Returns ErrDuplicateKey when rec is a pending record whose non-empty
	// IdempotencyKey another pending record of the same Actor already holds.
	Append(ctx context.Context, rec audit.Record) (audit.Record, error)
	// Get returns the record with this ID, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id int64) (audit.Record, error)
	// PendingByKey returns actor's newest pending record holding this idempotency key, or
	// ErrNotFound.
	PendingByKey(ctx context.Context, actor, key string) (audit.Record, error)
	// OutcomeOf returns the outcome record that refers to the pending record pendingID, or
	// ErrNotFound while there is none.
	OutcomeOf(ctx context.Context, pendingID int64) (audit.Record, error)
	// KeyBound reports, in one read, whether actor's newest pending record holding key has no
	// outcome yet or one other than failed; false when there is no such record.
	KeyBound(ctx context.Context, actor, key string) (bool, error)
}

// Errors the AuditLog returns (wrapped or not); stores re-use them.
var (
	ErrDuplicateKey = audit.ErrDuplicateKey
	ErrNotFound     = audit.ErrNotFound
)

// Caller says who is asking and through which trigger; the service copies it into the records.
type Caller struct {
	Trigger           audit.Trigger
	Actor             string
	SourceIP          string
	UserAgent         string
	FunctionRequestID string
	// Access is how the caller was admitted: loopback, public, apikey, oidc, gateway, proxy,
	// timer, cli, or "" when not decided.
	Access string
}

// Provenance is what a Scanner may tell about where its calls go, so that every record names the
// TCSS endpoint and the credential source of its attempt. Scanners that do not implement it leave
// those fields empty.
type Provenance interface {
	// TCSSEndpoint is the endpoint calls go to: a host such as tcss.tencentcloudapi.com or a URL,
	// prefixed with audit.EmulatorPrefix for an emulator.
	TCSSEndpoint() string
	// CredentialSource names where the credential comes from, e.g. scf-role:AKIDab… (the
	// SecretId's first characters at most, never a secret).
	CredentialSource() string
}

// Clock gives the service its time, so that tests are exact.
type Clock func() time.Time
