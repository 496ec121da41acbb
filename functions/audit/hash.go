package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// The canonical encodings. Each has its own name, written first, so that a verifier can never
// mistake one encoding's bytes for another's. Records are written in the newest encoding; older
// records keep verifying in the encoding they were written with.
const (
	// hashV1 is the encoding of records written before Endpoint, Credential, Access and RelatedID
	// existed: Time as RFC 3339 text, Params re-canonicalised when hashed.
	hashV1 = "vulscan-audit-record/v1"
	// hashV2 covers every field: Time as Unix nanoseconds, Params byte for byte as stored (stores
	// keep them canonical, see CanonicalJSON), so that hashing needs neither fmt nor a JSON parse.
	hashV2 = "vulscan-audit-record/v2"
)

// ComputeHash returns the hex SHA-256 of r's canonical encoding (version 2): every field except
// Hash, in a fixed order, each as "name:byte length:value\n", so that no two different records
// encode to the same bytes. Time is its Unix nanoseconds; Params are hashed exactly as given,
// which is why stores put them in CanonicalJSON form first. PrevHash is part of the encoding,
// which is what chains each record to the one before it. Stores use this to fill Hash.
func (r Record) ComputeHash() string {
	var buf [1024]byte
	return hashHex(r.encodeV2(buf[:0]))
}

// HashValid reports whether r.Hash is the hash of r's content: in encoding version 2, or, for a
// record that holds none of the fields version 1 did not know, version 1. Verify uses it.
func (r Record) HashValid() bool {
	var buf [1024]byte
	if hashIs(r.encodeV2(buf[:0]), r.Hash) {
		return true
	}
	return r.legacy() && hashIs(r.encodeV1(buf[:0]), r.Hash)
}

// hashIs reports whether the hex SHA-256 of encoding is want, without allocating: verification
// runs this for every record of the chain.
func hashIs(encoding []byte, want string) bool {
	if len(want) != 2*sha256.Size {
		return false
	}
	sum := sha256.Sum256(encoding)
	var text [2 * sha256.Size]byte
	hex.Encode(text[:], sum[:])
	return string(text[:]) == want
}

// legacy reports whether r could have been written in encoding version 1: none of the fields
// added with version 2 are set. A version 2 record can therefore never be read as a version 1
// one with those fields stripped.
func (r Record) legacy() bool {
	return r.Endpoint == "" && r.Credential == "" && r.Access == "" && r.RelatedID == 0
}

func hashHex(encoding []byte) string {
	sum := sha256.Sum256(encoding)
	return hex.EncodeToString(sum[:])
}

func (r Record) encodeV2(b []byte) []byte {
	b = field(b, "version", hashV2)
	b = intField(b, "id", r.ID)
	b = intField(b, "time_ns", r.Time.UnixNano())
	b = field(b, "trigger", string(r.Trigger))
	b = field(b, "actor", r.Actor)
	b = field(b, "source_ip", r.SourceIP)
	b = field(b, "user_agent", r.UserAgent)
	b = field(b, "action", r.Action)
	b = bytesField(b, "params", r.Params)
	b = field(b, "idempotency_key", r.IdempotencyKey)
	b = field(b, "outcome", string(r.Outcome))
	b = intField(b, "pending_id", r.PendingID)
	b = intField(b, "local_task_id", r.LocalTaskID)
	b = intField(b, "registry_task_id", r.RegistryTaskID)
	b = field(b, "tcss_request_id", r.TCSSRequestID)
	b = field(b, "error_code", r.ErrorCode)
	b = field(b, "error_message", r.ErrorMessage)
	b = field(b, "function_request_id", r.FunctionRequestID)
	b = field(b, "endpoint", r.Endpoint)
	b = field(b, "credential", r.Credential)
	b = field(b, "access", r.Access)
	b = intField(b, "related_id", r.RelatedID)
	return field(b, "prev_hash", r.PrevHash)
}

// encodeV1 is the version 1 encoding, byte for byte as records written before version 2 were
// hashed.
func (r Record) encodeV1(b []byte) []byte {
	b = field(b, "version", hashV1)
	b = intField(b, "id", r.ID)
	b = field(b, "time", r.Time.UTC().Format(time.RFC3339Nano))
	b = field(b, "trigger", string(r.Trigger))
	b = field(b, "actor", r.Actor)
	b = field(b, "source_ip", r.SourceIP)
	b = field(b, "user_agent", r.UserAgent)
	b = field(b, "action", r.Action)
	params, err := CanonicalJSON(r.Params)
	if err != nil {
		params = r.Params
	}
	b = bytesField(b, "params", params)
	b = field(b, "idempotency_key", r.IdempotencyKey)
	b = field(b, "outcome", string(r.Outcome))
	b = intField(b, "pending_id", r.PendingID)
	b = intField(b, "local_task_id", r.LocalTaskID)
	b = intField(b, "registry_task_id", r.RegistryTaskID)
	b = field(b, "tcss_request_id", r.TCSSRequestID)
	b = field(b, "error_code", r.ErrorCode)
	b = field(b, "error_message", r.ErrorMessage)
	b = field(b, "function_request_id", r.FunctionRequestID)
	return field(b, "prev_hash", r.PrevHash)
}

// AppendField appends one field of the canonical encodings, "name:byte length:value\n". Stores
// that build a record's encoding themselves (the SQLite page walk) use it, so that theirs is
// the same by construction.
func AppendField[V string | []byte](b []byte, name string, value V) []byte {
	b = append(b, name...)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(len(value)), 10)
	b = append(b, ':')
	b = append(b, value...)
	return append(b, '\n')
}

func field(b []byte, name, value string) []byte { return AppendField(b, name, value) }

func bytesField(b []byte, name string, value []byte) []byte { return AppendField(b, name, value) }

// intField appends a decimal integer field; its length is that of the decimal text.
func intField(b []byte, name string, v int64) []byte {
	var num [20]byte
	digits := strconv.AppendInt(num[:0], v, 10)
	return bytesField(b, name, digits)
}

// CanonicalJSON re-encodes a JSON value in one canonical form: object keys sorted, no
// insignificant space, numbers kept exactly as written. Empty input is JSON null. Stores keep
// Params in this form, so the bytes a reader sees are the bytes that were hashed.
func CanonicalJSON(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("null"), nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("audit: params are not JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("audit: params hold more than one JSON value")
	}
	// encoding/json sorts map keys and writes json.Number verbatim.
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: re-encoding params: %w", err)
	}
	return out, nil
}
