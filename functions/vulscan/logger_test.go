package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The log writes UTC times whatever the local zone, through WithAttrs and WithGroup too, and its
// levels as the JSON handler names them.
func TestLogTimesAreUTC(t *testing.T) {
	local := time.Local
	time.Local = time.FixedZone("UTC+5", 5*3600)
	t.Cleanup(func() { time.Local = local })
	var buf bytes.Buffer
	l := newLogger(&buf)
	l.Warn("plain")
	l.With("k", "v").Info("with attrs")
	l.WithGroup("g").Error("in a group", "k", 1)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %s", len(lines), buf.String())
	}
	for i, want := range []string{"WARN", "INFO", "ERROR"} {
		var rec struct{ Time, Level string }
		if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(rec.Time, "Z") || rec.Level != want {
			t.Errorf("line %d: time %q level %q, want a UTC time and %s", i, rec.Time, rec.Level, want)
		}
	}
}
