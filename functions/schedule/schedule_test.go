package schedule

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	set, err := Parse(" nightly=0 0 2 * * * * ; weekly=0 30 3 * * 1 *;")
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Names(); !slices.Equal(got, []string{"nightly", "weekly"}) {
		t.Fatalf("names %v", got)
	}
	weekly, ok := set.Lookup("weekly")
	if !ok || weekly.Cron.String() != "0 30 3 * * 1 *" {
		t.Fatalf("weekly = %+v, %v", weekly, ok)
	}
	if got := weekly.Next(at("2026-12-03 10:00:00")); !got.Equal(at("2026-12-07 03:30:00")) {
		t.Fatalf("weekly next %s", got)
	}
	if _, ok := set.Lookup("hourly"); ok {
		t.Fatal("found a schedule that is not configured")
	}
}

func TestParseEmptyIsNoSchedules(t *testing.T) {
	for _, s := range []string{"", " ", ";;"} {
		set, err := Parse(s)
		if err != nil || len(set) != 0 {
			t.Fatalf("Parse(%q) = %v, %v", s, set, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, setting string
		want          []string
	}{
		{"no equals sign", "nightly 0 0 2 * * * *", []string{"not name=CRON"}},
		{"name with a space", "night ly=0 0 2 * * * *", []string{"schedule name"}},
		{"name starting with a digit", "1nightly=0 0 2 * * * *", []string{"starting with a letter"}},
		{"name twice", "a=0 0 2 * * * *;a=0 0 3 * * * *", []string{`"a" is named twice`}},
		{"bad cron", "nightly=0 0 2 * * *", []string{`schedule "nightly"`, "6 fields"}},
		{"every problem at once", "x=bad;1y=0 0 2 * * * *", []string{`schedule "x"`, `"1y"`}},
		{"too many", strings.Repeat("a=0 0 2 * * * *;", 1) + manyNames(51), []string{"at most 50"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.setting)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tt.setting)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) || !strings.HasPrefix(err.Error(), Setting) {
					t.Fatalf("error %q does not mention %q and the setting", err, w)
				}
			}
		})
	}
}

func manyNames(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("s")
		b.WriteString(strings.Repeat("x", i+1))
		b.WriteString("=0 0 2 * * * *;")
	}
	return b.String()
}
