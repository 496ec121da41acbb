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
		"'=quoted":     "'=quoted",
		"system:timer": "system:timer",
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
