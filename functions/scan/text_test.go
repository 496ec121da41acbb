package scan

import (
	"testing"
	"unicode/utf8"
)

func TestShorten(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"short text is kept", "ALL", 10, "ALL"},
		{"text at the bound is kept", "abcde", 5, "abcde"},
		{"long text is cut and marked", "abcdef", 5, "abcde…"},
		{"a rune split by the cut is dropped", "ab漢字", 4, "ab…"},
		{"invalid bytes in a cut are dropped", "a\xffbcdef", 4, "abc…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Shorten(tt.in, tt.max); got != tt.want {
				t.Errorf("Shorten(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

func TestClipKeepsStoredFieldsBoundedAndValid(t *testing.T) {
	for _, in := range []string{"anonymous", "漢字漢字漢字", "a\xff\xfe", string(make([]byte, 600))} {
		got := clip(in, 7)
		if len(got) > 7 || !utf8.ValidString(got) {
			t.Errorf("clip(%q, 7) = %q", in, got)
		}
	}
}
