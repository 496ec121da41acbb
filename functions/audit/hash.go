package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"strconv"
	"time"
)

// hashVersion names the canonical encoding below. A new encoding gets a new name, so that a verifier
// can never mistake one encoding's bytes for another's.
const hashVersion = "vulscan-audit-record/v1"

// ComputeHash returns the hex SHA-256 of r's canonical encoding: every field except Hash, in a
// fixed order, each as name, byte length and value, so that no two different records encode to the
// same bytes. Time is encoded in UTC as RFC 3339 with nanoseconds, Params as canonical JSON (see
// CanonicalJSON; bytes that are not JSON are hashed as they are). PrevHash is part of the
// encoding, which is what chains each record to the one before it. Stores use this to fill Hash
// and Verify uses it to check it.
func (r Record) ComputeHash() string {
	h := sha256.New()
	w := canonicalWriter{h: h}
	w.field("version", hashVersion)
	w.field("id", strconv.FormatInt(r.ID, 10))
	w.field("time", r.Time.UTC().Format(time.RFC3339Nano))
	w.field("trigger", string(r.Trigger))
	w.field("actor", r.Actor)
	w.field("source_ip", r.SourceIP)
	w.field("user_agent", r.UserAgent)
	w.field("action", r.Action)
	params, err := CanonicalJSON(r.Params)
	if err != nil {
		params = r.Params
	}
	w.field("params", string(params))
	w.field("idempotency_key", r.IdempotencyKey)
	w.field("outcome", string(r.Outcome))
	w.field("pending_id", strconv.FormatInt(r.PendingID, 10))
	w.field("local_task_id", strconv.FormatInt(r.LocalTaskID, 10))
	w.field("registry_task_id", strconv.FormatInt(r.RegistryTaskID, 10))
	w.field("tcss_request_id", r.TCSSRequestID)
	w.field("error_code", r.ErrorCode)
	w.field("error_message", r.ErrorMessage)
	w.field("function_request_id", r.FunctionRequestID)
	w.field("prev_hash", r.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalWriter writes length-prefixed fields: "name:len:value\n".
type canonicalWriter struct{ h hash.Hash }

func (w canonicalWriter) field(name, value string) {
	fmt.Fprintf(w.h, "%s:%d:%s\n", name, len(value), value)
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
