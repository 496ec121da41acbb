package scan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vulscan/vulscan/functions/audit"
	"io"
	"strings"
)

// MaxJSONBytes bounds a JSON request. The largest valid request (three lists of MaxListLength
// local image IDs and two of registry IDs, pretty-printed) is well under 200 KiB.
const MaxJSONBytes = 512 << 10

// DecodeJSON is the one decoder of a Request from JSON: the JSON API's body, the timer argument
// and `vulscan scan --json` all go through it. It is strict, because a field the API would ignore
// is a request the caller believes says something it does not:
//
//   - the document is one JSON object, with nothing after it (a leading UTF-8 byte-order mark is
//     ignored) (null is not an object: a caller
//     sending it has sent no request, not an empty one);
//   - field names are exact (case-sensitive, unlike encoding/json) and appear once; unknown
//     fields are refused, except the names in extra: string fields the caller accepts beside the
//     API's (such as "Schedule" for timers), stored through extra's pointers when present;
//   - each value has the API's type, and a mismatch is reported with the field's name and the
//     type it needs ("RegistryImageIDs: must be a list of positive whole numbers");
//   - null where a value belongs is treated as absent, in a list as well as for a whole field.
//
// Every problem is reported at once, as an *Error with Code EINVALID, Op "scan.DecodeJSON" and
// one FieldError per problem (Field is "" when the problem is the document as a whole). DecodeJSON
// does not validate: callers pass the result to the Service, which normalizes and validates it.
func DecodeJSON(data []byte, extra map[string]*string) (Request, error) {
	var r Request
	if len(data) > MaxJSONBytes {
		return r, withSubmitted(decodeError(FieldError{Message: fmt.Sprintf("the request is %d bytes; at most %d are accepted", len(data), MaxJSONBytes)}),
			SubmittedText("an oversized body", len(data)))
	}
	members, docErr := splitObject(withoutByteOrderMark(data))
	if docErr != nil {
		return r, withSubmitted(decodeError(*docErr), SubmittedText("a body that is not a JSON object", len(data)))
	}
	var v validation
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		if seen[m.name] {
			v.add(m.name, "appears more than once: give each field once")
			continue
		}
		seen[m.name] = true
		if f, ok := requestFields[m.name]; ok {
			if !isNull(m.value) {
				if err := f.decode(&r, m.value); err != nil {
					msg := f.want
					if errors.Is(err, errZeroTaskID) {
						msg = zeroTaskIDMessage
					}
					v.add(m.name, "%s", msg)
				}
			}
			continue
		}
		if dst, ok := extra[m.name]; ok {
			v.extraString(m.name, m.value, dst)
			continue
		}
		// The name is the caller's: its control characters are escaped, as in its message.
		v.add(audit.EscapeControls(m.name), "%s", unknownField(m.name, extra))
	}
	if err := v.err("scan.DecodeJSON"); err != nil {
		return Request{}, withSubmitted(err, membersSubmitted(members))
	}
	return r, nil
}

// byteOrderMark is UTF-8's byte-order mark, which Windows tools (PowerShell's Out-File, Notepad)
// write at the start of a file that a caller then sends as the body.
var byteOrderMark = []byte("\xef\xbb\xbf")

// withoutByteOrderMark returns data with a leading byte-order mark turned into white space. RFC
// 8259 lets a parser ignore one; refused, it read as "invalid character 'ï'", which names no
// problem a caller can see in the file. Spaces rather than a cut keep the byte offsets of later
// syntax errors those of the body as sent.
func withoutByteOrderMark(data []byte) []byte {
	if !bytes.HasPrefix(data, byteOrderMark) {
		return data
	}
	out := bytes.Clone(data)
	copy(out, "   ")
	return out
}

func decodeError(f FieldError) error {
	return &Error{Code: EINVALID, Op: "scan.DecodeJSON", Message: f.Message, Fields: []FieldError{f}}
}

// member is one name/value pair of the top-level object, in document order.
type member struct {
	name  string
	value json.RawMessage
}

// splitObject reads data as one JSON object and returns its members in order, keeping duplicate
// names (encoding/json would silently keep the last).
func splitObject(data []byte) ([]member, *FieldError) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &FieldError{Message: `the request is empty: send a JSON object such as {"LocalImageScanType":"ALL"}`}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxProblem(err)
	}
	var members []member
	switch tok {
	case json.Delim('{'):
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return nil, syntaxProblem(err)
			}
			var value json.RawMessage
			if err := dec.Decode(&value); err != nil {
				return nil, syntaxProblem(err)
			}
			members = append(members, member{name: key.(string), value: value})
		}
		if _, err := dec.Token(); err != nil { // the closing brace
			return nil, syntaxProblem(err)
		}
	default:
		return nil, &FieldError{Message: `the request must be a JSON object, such as {"LocalImageScanType":"ALL"}`}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &FieldError{Message: fmt.Sprintf("unexpected data after the JSON object (at byte %d): send exactly one object", dec.InputOffset())}
	}
	return members, nil
}

// syntaxProblem turns a JSON syntax error into words with the byte offset.
func syntaxProblem(err error) *FieldError {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &FieldError{Message: fmt.Sprintf("the request is not valid JSON: %s (at byte %d)", se.Error(), se.Offset)}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &FieldError{Message: "the request is not valid JSON: it ends too early"}
	}
	return &FieldError{Message: "the request is not valid JSON: " + err.Error()}
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func (v *validation) extraString(name string, raw json.RawMessage, dst *string) {
	if isNull(raw) {
		return
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		v.add(name, "must be a string")
		return
	}
	if dst != nil {
		*dst = s
	}
}

// unknownField says that name is not a field, with the field it probably meant.
func unknownField(name string, extra map[string]*string) string {
	for known := range requestFields {
		if strings.EqualFold(known, name) {
			return fmt.Sprintf("is not a field of CreateVulScanTask: did you mean %s? Field names are case-sensitive", known)
		}
	}
	for known := range extra {
		if strings.EqualFold(known, name) {
			return fmt.Sprintf("is not a known field: did you mean %s? Field names are case-sensitive", known)
		}
	}
	return "is not a field of CreateVulScanTask: remove it (see the API's list of input parameters)"
}

// requestField decodes one field of a Request; want says what the field needs, for the message
// when decoding fails.
type requestField struct {
	want   string
	decode func(r *Request, raw json.RawMessage) error
}

// requestFields maps each API field name to its decoder.
var requestFields = map[string]requestField{
	"LocalImageScanType": {
		want:   "must be a string: one of " + strings.Join(localScanTypes, ", "),
		decode: func(r *Request, raw json.RawMessage) error { return json.Unmarshal(raw, &r.LocalImageScanType) },
	},
	"RegistryImageScanType": {
		want:   "must be a string: one of " + strings.Join(registryScanTypes, ", "),
		decode: func(r *Request, raw json.RawMessage) error { return json.Unmarshal(raw, &r.RegistryImageScanType) },
	},
	"LocalImageIDs": {
		want:   `must be a list of strings (local image IDs such as "sha256:0837c4ab…")`,
		decode: func(r *Request, raw json.RawMessage) error { return decodeList(raw, &r.LocalImageIDs) },
	},
	"ExcludeLocalImageIDs": {
		want:   `must be a list of strings (local image IDs such as "sha256:0837c4ab…")`,
		decode: func(r *Request, raw json.RawMessage) error { return decodeList(raw, &r.ExcludeLocalImageIDs) },
	},
	"LocalClusterIDs": {
		want:   `must be a list of strings (cluster IDs such as "cls-0zmsjvko")`,
		decode: func(r *Request, raw json.RawMessage) error { return decodeList(raw, &r.LocalClusterIDs) },
	},
	"RegistryImageIDs": {
		want:   "must be a list of positive whole numbers (registry image IDs)",
		decode: func(r *Request, raw json.RawMessage) error { return decodeList(raw, &r.RegistryImageIDs) },
	},
	"ExcludeRegistryImageIDs": {
		want:   "must be a list of positive whole numbers (registry image IDs)",
		decode: func(r *Request, raw json.RawMessage) error { return decodeList(raw, &r.ExcludeRegistryImageIDs) },
	},
	"LocalTaskID": {
		want:   "must be a positive whole number (the ID of an earlier scan task)",
		decode: func(r *Request, raw json.RawMessage) error { return decodeTaskID(raw, &r.LocalTaskID) },
	},
	"RegistryTaskID": {
		want:   "must be a positive whole number (the ID of an earlier scan task)",
		decode: func(r *Request, raw json.RawMessage) error { return decodeTaskID(raw, &r.RegistryTaskID) },
	},
	"LocalImageContainerRunning": {
		want:   "must be true or false",
		decode: func(r *Request, raw json.RawMessage) error { return json.Unmarshal(raw, &r.LocalImageContainerRunning) },
	},
	"RegistryImageContainerRunning": {
		want: "must be true or false",
		decode: func(r *Request, raw json.RawMessage) error {
			return json.Unmarshal(raw, &r.RegistryImageContainerRunning)
		},
	},
	"IsLatest": {
		want:   "must be true or false",
		decode: func(r *Request, raw json.RawMessage) error { return json.Unmarshal(raw, &r.IsLatest) },
	},
}

// errZeroTaskID is a task ID of 0, which a Request reads as no task ID.
var errZeroTaskID = errors.New("task ID 0")

// zeroTaskIDMessage refuses a task ID of 0, as the form and the CLI's flags do.
const zeroTaskIDMessage = "is 0, which is no task: give the ID of the earlier scan task to re-run (a positive whole number), " +
	"or leave the field out (or null) to start a new scan"

// decodeTaskID decodes a task ID into dst and refuses 0: a Request reads 0 as "no task ID", so
// {"LocalTaskID":0,"RegistryImageScanType":"ALL"} started the registry scan alone instead of the
// re-run asked for, without a word. Negative IDs are refused by validation.
func decodeTaskID(raw json.RawMessage, dst *int64) error {
	if err := json.Unmarshal(raw, dst); err != nil {
		return err
	}
	if *dst == 0 {
		return errZeroTaskID
	}
	return nil
}

// decodeList decodes a JSON list into dst, dropping null entries (absent values).
func decodeList[T any](raw json.RawMessage, dst *[]T) error {
	var entries []*T
	if err := json.Unmarshal(raw, &entries); err != nil {
		return err
	}
	list := make([]T, 0, len(entries))
	for _, e := range entries {
		if e != nil {
			list = append(list, *e)
		}
	}
	*dst = list
	return nil
}
