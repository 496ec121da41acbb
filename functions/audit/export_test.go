package audit

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"
)

func TestNeutralizeFormula(t *testing.T) {
	cases := map[string]string{
		"=1+1":         "'=1+1",
		"+1":           "'+1",
		"-1":           "'-1",
		"@SUM(A1)":     "'@SUM(A1)",
		"\tx":          "'\tx",
		"\rx":          "'\rx",
		"alice":        "alice",
		"":             "",
		"a=b":          "a=b",
		"203.0.113.7":  "203.0.113.7",
		"'=quoted":     "''=quoted",
		"'alice":       "''alice",
		"system:timer": "system:timer",
		"a;=1+1":       "a;'=1+1",
		";@SUM(1);":    ";'@SUM(1);",
		"=a;-1;b;'c":   "'=a;'-1;b;''c",
		"a;b; =1":      "a;b; =1",
	}
	for in, want := range cases {
		if got := NeutralizeFormula(in); got != want {
			t.Errorf("NeutralizeFormula(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSVWriterWritesHeaderEvenWithoutRecords(t *testing.T) {
	var b bytes.Buffer
	w := NewCSVWriter(&b)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(rows) != 1 || len(rows[0]) != 23 || rows[0][22] != "hash" {
		t.Errorf("empty export = %q, %v; want just the 23-column header", rows, err)
	}
}

func TestJSONLWriterWritesNullParams(t *testing.T) {
	var b bytes.Buffer
	w := NewJSONLWriter(&b)
	if err := w.Write(Record{ID: 1, Time: time.Unix(0, 0).UTC()}); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if !bytes.Contains(b.Bytes(), []byte(`"params":null`)) || bytes.Count(b.Bytes(), []byte("\n")) != 1 {
		t.Errorf("JSONL = %s, want one line with params null", b.String())
	}
}

func TestParseFilterValues(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if got, err := ParseSince("2026-03-01"); err != nil || !got.Equal(day) {
		t.Errorf("ParseSince(date) = %s, %v", got, err)
	}
	if got, err := ParseUntil("2026-03-01"); err != nil || !got.Equal(day.AddDate(0, 0, 1)) {
		t.Errorf("ParseUntil(date) = %s, %v; want the end of that day", got, err)
	}
	if got, err := ParseUntil("2026-03-01T12:00:00+08:00"); err != nil || !got.Equal(day.Add(4*time.Hour)) {
		t.Errorf("ParseUntil(RFC 3339) = %s, %v", got, err)
	}
	for _, bad := range []string{"yesterday", "2026-13-01", ""} {
		if _, err := ParseSince(bad); err == nil {
			t.Errorf("ParseSince(%q) accepted", bad)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) accepted")
	}
	if _, err := ParseOutcome("done"); err == nil {
		t.Error("ParseOutcome(done) accepted")
	}
	if _, err := ParseTrigger("cron"); err == nil {
		t.Error("ParseTrigger(cron) accepted")
	}
	if o, err := ParseOutcome("unknown"); err != nil || o != OutcomeUnknown {
		t.Errorf("ParseOutcome(unknown) = %q, %v", o, err)
	}
}

// A record written before text was cleaned may hold raw control bytes; neither export format
// passes them on (a NUL or a bare CR in a CSV cell, a forged line in JSON Lines).
func TestExportsNeverEmitRawControlBytes(t *testing.T) {
	rec := Record{ID: 1, Time: time.Unix(0, 0), Trigger: TriggerForm, Outcome: OutcomeRejected,
		Actor: "eve\x00\r\nadmin", UserAgent: "ua\x1b[31m\x7f\xff", IdempotencyKey: "k\tey", ErrorMessage: "a\u0085b\u2028c\u202ed",
		Params: []byte(`{}`)}
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"csv", func(b *bytes.Buffer) error {
			w := NewCSVWriter(b)
			if err := w.Write(rec); err != nil {
				return err
			}
			return w.Flush()
		}},
		{"jsonl", func(b *bytes.Buffer) error {
			w := NewJSONLWriter(b)
			if err := w.Write(rec); err != nil {
				return err
			}
			return w.Flush()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			out := b.Bytes()
			for i, c := range out {
				if (c < 0x20 && c != '\n') || c == 0x7f {
					t.Fatalf("byte %#x at %d in %q", c, i, out)
				}
			}
			if i := bytes.IndexFunc(out, func(r rune) bool { return r == '\u2028' || r == '\u202e' }); i >= 0 {
				t.Errorf("raw line separator or bidi override at %d in %q", i, out)
			}
			if bytes.Count(out, []byte("\n")) != map[string]int{"csv": 2, "jsonl": 1}[tc.name] {
				t.Errorf("export has extra lines: %q", out)
			}
			if !bytes.Contains(out, []byte(`eve\x00\x0d\x0aadmin`)) && !bytes.Contains(out, []byte(`eve\u0000\r\nadmin`)) {
				t.Errorf("the actor is not shown escaped: %q", out)
			}
		})
	}
}

func TestEscapeControls(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text, ünïcode, 漢字", "plain text, ünïcode, 漢字"},
		{"a\x00b\r\nc\td\x7f", `a\x00b\x0d\x0ac\x09d\x7f`},
		{"c1\u0085", `c1\u0085`},
		{"bad \xff byte", "bad \uFFFD byte"},
		// What reorders or breaks the shown text is escaped too.
		{"admin\u202egnp.exe", `admin\u202egnp.exe`},
		{"\u2066iso\u2069 \u200e\u200f\u061c", `\u2066iso\u2069 \u200e\u200f\u061c`},
		{"line\u2028para\u2029", `line\u2028para\u2029`},
		// Format characters that only join or shape stay: a ZWJ emoji, a soft hyphen.
		{"👩\u200d💻 co\u00adop", "👩\u200d💻 co\u00adop"},
	} {
		if got := EscapeControls(tc.in); got != tc.want {
			t.Errorf("EscapeControls(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := HasControls(tc.in); got != (tc.in != tc.want) {
			t.Errorf("HasControls(%q) = %v", tc.in, got)
		}
	}
}
