package audit

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestParseAnchor(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	good, err := ParseAnchor("12:" + hash)
	if err != nil || good != (Anchor{ID: 12, Hash: hash}) || good.String() != "12:"+hash {
		t.Fatalf("ParseAnchor = %+v, %v", good, err)
	}
	for _, bad := range []string{"", "12", "0:" + hash, "-1:" + hash, "12:" + hash[:63], "12:" + strings.ToUpper(hash), " 12:" + hash} {
		if _, err := ParseAnchor(bad); err == nil {
			t.Errorf("ParseAnchor(%q) accepted", bad)
		}
	}
}

func TestCheckAnchor(t *testing.T) {
	hashes := map[int64]string{1: strings.Repeat("1", 64), 2: strings.Repeat("2", 64)}
	get := func(_ context.Context, id int64) (Record, error) {
		if h, ok := hashes[id]; ok {
			return Record{ID: id, Hash: h}, nil
		}
		return Record{}, fmt.Errorf("record %d: %w", id, ErrNotFound)
	}
	good := Report{Records: 2, HeadHash: hashes[2]}
	tests := []struct {
		name   string
		rep    Report
		anchor Anchor
		want   string // problem kind, "" for none
	}{
		{"the head itself", good, good.Anchor(), ""},
		{"an older record", good, Anchor{ID: 1, Hash: hashes[1]}, ""},
		{"records cut off after the anchor", good, Anchor{ID: 3, Hash: hashes[2]}, KindMissing},
		{"a rebuilt chain", good, Anchor{ID: 2, Hash: strings.Repeat("f", 64)}, KindRewritten},
		{"a chain already bad", Report{Records: 1, Problem: &Problem{RecordID: 2, Kind: KindEdited}}, good.Anchor(), KindEdited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := CheckAnchor(context.Background(), get, tt.rep, tt.anchor)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if p != nil {
				got = p.Kind
			}
			if got != tt.want {
				t.Errorf("problem %+v, want kind %q", p, tt.want)
			}
		})
	}
	if (Report{}).Anchor() != (Anchor{}) {
		t.Error("an empty chain has an anchor")
	}
}
