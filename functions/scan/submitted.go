package scan

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/vulscan/vulscan/functions/audit"
)

// Bounds on the submitted input a refusal records: enough to see what was tried, never a copy
// of whatever a caller sent.
const (
	maxSubmittedFields = 20  // fields recorded, in name order
	maxSubmittedValue  = 256 // characters of one field's value
)

// fieldName is what a recorded unknown field name must look like; anything else (which could be
// anything, a pasted secret included) is counted, not recorded.
var fieldName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`) })

// Submitted is the cleaned record of input that never became a Request, for the params of a
// rejected record: the request's own fields with their values (each at most maxSubmittedValue
// characters, control characters removed), the names of unknown fields without their values,
// and nothing else. Unknown fields' values are never kept: a caller may send anything, secrets
// included. The result is canonical JSON.
func Submitted(fields map[string][]string) json.RawMessage {
	out := map[string]any{}
	var unknown []string
	dropped := 0
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		_, known := requestFields[name]
		switch {
		case known && len(out) < maxSubmittedFields:
			out[name] = cleanValue(strings.Join(fields[name], ", "))
		case !known && fieldName().MatchString(name) && len(unknown) < maxSubmittedFields:
			unknown = append(unknown, name)
		default:
			dropped++
		}
	}
	if len(unknown) > 0 {
		out["_unknown_fields"] = unknown
	}
	if dropped > 0 {
		out["_fields_not_recorded"] = dropped
	}
	return canonical(out)
}

// RequestParams is req as a record's params show it (canonical JSON), as it stands: Start
// records req.Normalize()'s. nil when it cannot be encoded.
func RequestParams(req Request) json.RawMessage {
	params, err := paramsOf(req)
	if err != nil {
		return nil
	}
	return params
}

// SubmittedText records input that is not even a set of fields (a body that is not a JSON
// object): only what it was and how long, never its content.
func SubmittedText(what string, size int) json.RawMessage {
	return canonical(map[string]any{"_input": fmt.Sprintf("%s (%d bytes, not recorded)", what, size)})
}

func canonical(v map[string]any) json.RawMessage {
	b, err := json.Marshal(v)
	if err == nil {
		b, err = audit.CanonicalJSON(b)
	}
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

// cleanValue keeps printable text, at most maxSubmittedValue characters.
func cleanValue(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "�")
	}
	s = strings.Map(func(r rune) rune {
		if r != '\n' && audit.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return Shorten(s, maxSubmittedValue)
}

// withSubmitted attaches the cleaned input to a refusal, for the record Reject writes.
func withSubmitted(err error, submitted json.RawMessage) error {
	if e, ok := err.(*Error); ok {
		e.Submitted = submitted
	}
	return err
}

// membersSubmitted records the top-level members of a JSON object as Submitted does: values
// as their JSON text.
func membersSubmitted(members []member) json.RawMessage {
	fields := map[string][]string{}
	for _, m := range members {
		fields[m.name] = append(fields[m.name], string(m.value))
	}
	return Submitted(fields)
}
