package schedule

import (
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.DateTime, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCronNext(t *testing.T) {
	tests := []struct {
		name, expr, after, want string
	}{
		{"nightly at 02:00, before it today", "0 0 2 * * * *", "2026-12-03 01:59:59", "2026-12-03 02:00:00"},
		{"nightly at 02:00, exactly at it moves to tomorrow", "0 0 2 * * * *", "2026-12-03 02:00:00", "2026-12-04 02:00:00"},
		{"nightly crosses a month and a year", "0 0 2 * * * *", "2026-12-31 03:00:00", "2027-01-01 02:00:00"},
		{"weekly on Monday (1)", "0 30 3 * * 1 *", "2026-12-03 10:00:00", "2026-12-07 03:30:00"},
		{"weekly on named day", "0 30 3 * * MON *", "2026-12-03 10:00:00", "2026-12-07 03:30:00"},
		{"day 0 is Sunday", "0 0 0 * * 0 *", "2026-12-03 10:00:00", "2026-12-06 00:00:00"},
		{"every 15 minutes", "0 */15 * * * * *", "2026-12-03 10:16:00", "2026-12-03 10:30:00"},
		{"a/n starts at a", "0 5/20 * * * * *", "2026-12-03 10:26:00", "2026-12-03 10:45:00"},
		{"range with step", "0 0 8-18/5 * * * *", "2026-12-03 13:00:01", "2026-12-03 18:00:00"},
		{"list of hours", "0 0 1,13 * * * *", "2026-12-03 02:00:00", "2026-12-03 13:00:00"},
		{"every second", "* * * * * * *", "2026-12-03 10:00:00", "2026-12-03 10:00:01"},
		{"31st skips short months", "0 0 0 31 * * *", "2027-01-31 00:00:00", "2027-03-31 00:00:00"},
		{"29 February in a leap year", "0 0 0 29 2 * *", "2026-03-01 00:00:00", "2028-02-29 00:00:00"},
		{"named month", "0 0 0 1 JUN * *", "2026-12-03 00:00:00", "2027-06-01 00:00:00"},
		{"one year only", "0 0 0 1 1 * 2030", "2026-12-03 00:00:00", "2030-01-01 00:00:00"},
		{"day of month or day of week when both restricted", "0 0 0 15 * 5 *", "2026-12-03 00:00:00", "2026-12-04 00:00:00"},
		{"sub-second start still moves forward", "0 0 2 * * * *", "2026-12-03 02:00:00.5", "2026-12-04 02:00:00"},
		{"no time left before 2100", "0 0 0 1 1 * 2020", "2026-12-03 00:00:00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCron(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			after, err := time.Parse("2006-01-02 15:04:05.999", tt.after)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Next(after)
			if tt.want == "" {
				if !got.IsZero() {
					t.Fatalf("Next(%s) = %s, want none", tt.after, got)
				}
				return
			}
			if !got.Equal(at(tt.want)) {
				t.Fatalf("Next(%s) = %s, want %s", tt.after, got.Format(time.DateTime), tt.want)
			}
		})
	}
}

func TestCronNextInOtherZoneIsUTC(t *testing.T) {
	c, _ := ParseCron("0 0 2 * * * *")
	shanghai := time.FixedZone("UTC+8", 8*3600)
	got := c.Next(time.Date(2026, 12, 3, 9, 0, 0, 0, shanghai)) // 01:00 UTC
	if want := at("2026-12-03 02:00:00"); !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("got %s, want %s in UTC", got, want)
	}
}

func TestCronBetween(t *testing.T) {
	c, _ := ParseCron("0 0 2 * * * *")
	got := c.Between(at("2026-12-01 02:00:00"), at("2026-12-04 02:00:00"), 10)
	want := []string{"2026-12-02 02:00:00", "2026-12-03 02:00:00", "2026-12-04 02:00:00"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Equal(at(want[i])) {
			t.Fatalf("run %d = %s, want %s", i, got[i], want[i])
		}
	}
	if n := len(c.Between(at("2026-01-01 00:00:00"), at("2026-12-31 00:00:00"), 5)); n != 5 {
		t.Fatalf("limit 5 gave %d runs", n)
	}
}

func TestParseCronRejects(t *testing.T) {
	tests := []struct{ name, expr, want string }{
		{"five fields (Unix cron)", "0 2 * * *", "has 5 fields"},
		{"six fields", "0 0 2 * * *", "has 6 fields"},
		{"second out of range", "60 0 2 * * * *", "second"},
		{"hour out of range", "0 0 24 * * * *", "hour"},
		{"day of month zero", "0 0 0 0 * * *", "day of month"},
		{"day of week 7", "0 0 0 * * 7 *", "day of week"},
		{"year before 1970", "0 0 0 * * * 1969", "year"},
		{"backwards range", "0 0 5-2 * * * *", "backwards"},
		{"zero step", "0 */0 * * * * *", "step"},
		{"words", "every day at two", "fields"},
		{"unknown name", "0 0 0 * FOO * *", "month"},
		{"empty list item", "0 0 1,,2 * * * *", "hour"},
		{"too long", strings.Repeat("1,", 200) + "1 * * * * * *", "longer"},
		{"31 February", "0 0 2 31 2 * *", "never due"},
		{"31 February, April or June", "0 0 2 31 2,4,6 * *", "never due"},
		{"29 February of a year that is no leap year", "0 0 0 29 2 * 2027", "never due"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCron(tt.expr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseCron(%q) = %v, want an error mentioning %q", tt.expr, err, tt.want)
			}
		})
	}
}

func TestZeroCronIsNeverDue(t *testing.T) {
	if got := (Cron{}).Next(at("2026-12-03 00:00:00")); !got.IsZero() {
		t.Fatalf("zero Cron due at %s", got)
	}
}

func TestCronPrev(t *testing.T) {
	tests := []struct {
		name, expr, t, want string // want "" for none
	}{
		{"a due time is its own", "0 0 2 * * * *", "2026-12-04 02:00:00", "2026-12-04 02:00:00"},
		{"the same day", "0 0 2 * * * *", "2026-12-04 08:09:37", "2026-12-04 02:00:00"},
		{"the day before", "0 0 2 * * * *", "2026-12-04 01:59:59", "2026-12-03 02:00:00"},
		{"fractions of a second are dropped", "* * * * * * *", "2026-12-04 01:59:59.9", "2026-12-04 01:59:59"},
		{"across a year", "0 0 0 * * * *", "2026-12-31 23:59:59", "2026-12-31 00:00:00"},
		{"a leap day, years back", "0 0 0 29 2 * *", "2027-03-01 00:00:00", "2024-02-29 00:00:00"},
		{"none since the first year", "0 0 0 1 1 * 2030", "2026-12-04 00:00:00", ""},
		{"before the first year", "0 0 2 * * * *", "1960-01-01 00:00:00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCron(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			want := time.Time{}
			if tt.want != "" {
				want = at(tt.want)
			}
			if got := c.Prev(at(tt.t)); !got.Equal(want) {
				t.Errorf("Prev(%s) = %s, want %s", tt.t, got, want)
			}
		})
	}
}
