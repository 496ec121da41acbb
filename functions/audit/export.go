package audit

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Format is an export format.
type Format string

// The export formats.
const (
	FormatJSONL Format = "jsonl" // one JSON object per line, fields named as Record's JSON tags
	FormatCSV   Format = "csv"   // a header row, then one row per record, same columns
)

// ParseFormat returns the format named s, or an error naming the valid ones.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatJSONL, FormatCSV:
		return f, nil
	}
	return "", fmt.Errorf("unknown export format %q: want jsonl or csv", s)
}

// ContentType is the MIME type of an export in format f.
func (f Format) ContentType() string {
	if f == FormatCSV {
		return "text/csv; charset=utf-8"
	}
	return "application/jsonl; charset=utf-8"
}

// RecordWriter writes records in one export format. Call Flush once at the end.
type RecordWriter interface {
	Write(Record) error
	Flush() error
}

// NewRecordWriter returns the writer of format f on w.
func NewRecordWriter(f Format, w io.Writer) (RecordWriter, error) {
	switch f {
	case FormatJSONL:
		return NewJSONLWriter(w), nil
	case FormatCSV:
		return NewCSVWriter(w), nil
	}
	return nil, fmt.Errorf("unknown export format %q: want jsonl or csv", f)
}

// Export streams the records of s that match f, oldest first, to w in format. The CLI and the web
// page both export through here.
func Export(ctx context.Context, s Store, format Format, f Filter, w io.Writer) error {
	rw, err := NewRecordWriter(format, w)
	if err != nil {
		return err
	}
	if err := s.Each(ctx, f, rw.Write); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	if err := rw.Flush(); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	return nil
}

// JSONLWriter writes one record per line as JSON.
type JSONLWriter struct {
	buf  *bufio.Writer
	line []byte
}

// NewJSONLWriter returns a JSONLWriter on w.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	return &JSONLWriter{buf: bufio.NewWriter(w)}
}

// Write writes r as one line. encoding/json escapes C0 controls but writes DEL, C1 controls and
// the bidirectional controls as they are; they are escaped too (a JSON escape, so the values are
// unchanged), so that a line holds no raw control character (see EscapeControls).
func (j *JSONLWriter) Write(r Record) error {
	if len(r.Params) == 0 {
		r.Params = json.RawMessage("null")
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	// Bytes past ASCII occur only inside JSON strings, where an escape is valid.
	j.line = j.line[:0]
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf && c != 0x7f {
			j.line = append(j.line, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if IsControl(r) {
			j.line = fmt.Appendf(j.line, `\u%04x`, r)
		} else {
			j.line = append(j.line, data[i:i+n]...)
		}
		i += n
	}
	_, err = j.buf.Write(append(j.line, '\n'))
	return err
}

// Flush writes out what is buffered.
func (j *JSONLWriter) Flush() error { return j.buf.Flush() }

// csvHeader names the CSV columns, as Record's JSON tags do.
var csvHeader = []string{"id", "time", "trigger", "actor", "source_ip", "user_agent", "action", "params",
	"idempotency_key", "outcome", "pending_id", "local_task_id", "registry_task_id", "tcss_request_id",
	"error_code", "error_message", "function_request_id", "endpoint", "credential", "access", "related_id",
	"prev_hash", "hash"}

// CSVWriter writes records as CSV rows under a header row. Cells that a spreadsheet would run as
// a formula, and cells that start with an apostrophe, get a leading apostrophe (see
// NeutralizeFormula).
type CSVWriter struct {
	w           *csv.Writer
	wroteHeader bool
}

// NewCSVWriter returns a CSVWriter on w.
func NewCSVWriter(w io.Writer) *CSVWriter { return &CSVWriter{w: csv.NewWriter(w)} }

// Write writes r as one row, after the header row if this is the first.
func (c *CSVWriter) Write(r Record) error {
	if !c.wroteHeader {
		c.wroteHeader = true
		if err := c.w.Write(csvHeader); err != nil {
			return err
		}
	}
	row := []string{
		strconv.FormatInt(r.ID, 10), r.Time.UTC().Format(time.RFC3339Nano), string(r.Trigger), r.Actor,
		r.SourceIP, r.UserAgent, r.Action, string(r.Params), r.IdempotencyKey, string(r.Outcome),
		strconv.FormatInt(r.PendingID, 10), strconv.FormatInt(r.LocalTaskID, 10),
		strconv.FormatInt(r.RegistryTaskID, 10), r.TCSSRequestID, r.ErrorCode, r.ErrorMessage,
		r.FunctionRequestID, r.Endpoint, r.Credential, r.Access, strconv.FormatInt(r.RelatedID, 10),
		r.PrevHash, r.Hash,
	}
	for i := range row {
		row[i] = NeutralizeFormula(EscapeControls(row[i]))
	}
	return c.w.Write(row)
}

// Flush writes the header row if no record came, then writes out what is buffered.
func (c *CSVWriter) Flush() error {
	if !c.wroteHeader {
		c.wroteHeader = true
		if err := c.w.Write(csvHeader); err != nil {
			return err
		}
	}
	c.w.Flush()
	return c.w.Error()
}

// EscapeControls is the one rule for text that must hold no raw control bytes: invalid UTF-8
// becomes U+FFFD, and control characters (C0 with NUL, CR, LF and TAB, DEL, C1) are written as
// escapes (\x00, \u0085), as are the characters that rearrange or break text as it is shown
// (see isDisplayControl). The scan service applies it before storing caller- and TCSS-supplied
// text; exports apply it again, because records written before that rule may hold such bytes.
func EscapeControls(s string) string {
	if !HasControls(s) {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case IsControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// HasControls reports whether s holds invalid UTF-8 or a character EscapeControls escapes.
func HasControls(s string) bool {
	return !utf8.ValidString(s) || strings.IndexFunc(s, IsControl) >= 0
}

// IsControl reports whether r is a control character or one that changes how the text around
// it is shown (isDisplayControl).
func IsControl(r rune) bool {
	return unicode.IsControl(r) || isDisplayControl(r)
}

// isDisplayControl reports the characters that change how the text around them is shown
// without being seen themselves: the bidirectional marks, embeddings, overrides and isolates
// (an actor "admin\u202egnp.exe" reads as another name on the audit page: the "Trojan Source"
// trick, CVE-2021-42574), and the line and paragraph separators, which break a line in a page
// or an editor as a newline does.
func isDisplayControl(r rune) bool {
	return r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r)
}

// NeutralizeFormula prefixes an apostrophe to a cell that starts with a character spreadsheets
// treat as the start of a formula (= + - @ tab CR), so that an attacker-chosen user agent or actor
// cannot run in the spreadsheet of whoever opens the export (OWASP "CSV injection"). A cell that
// starts with an apostrophe gets one too, so that the rule stays reversible (a reader removes one
// leading apostrophe): else the actor "'=1+1" and the actor "=1+1" would export as the same cell.
//
// The same holds after every semicolon in the cell: spreadsheets in locales whose list separator
// is the semicolon (German, French, …) split a .csv they open at semicolons, quoted or not, so
// the text after one starts a cell of its own there (the user agent "Mozilla;=cmd|' /C calc'!A0"
// became the cell "=cmd|' /C calc'!A0"). A reader removes one apostrophe after each semicolon too.
func NeutralizeFormula(cell string) string {
	startsFormula := func(s string) bool { return s != "" && strings.ContainsRune("=+-@\t\r'", rune(s[0])) }
	if !startsFormula(cell) && !strings.Contains(cell, ";") {
		return cell
	}
	var b strings.Builder
	for i, part := range strings.Split(cell, ";") {
		if i > 0 {
			b.WriteByte(';')
		}
		if startsFormula(part) {
			b.WriteByte('\'')
		}
		b.WriteString(part)
	}
	return b.String()
}
