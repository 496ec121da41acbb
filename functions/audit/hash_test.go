package audit

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func sample() Record {
	return Record{
		ID: 7, Time: time.Date(2026, 3, 1, 10, 0, 0, 5, time.UTC), Trigger: TriggerAPI, Actor: "key-1",
		SourceIP: "203.0.113.7", UserAgent: "curl/8", Action: ActionCreateVulScanTask,
		Params: json.RawMessage(`{"LocalImageScanType":"ALL"}`), IdempotencyKey: "k", Outcome: OutcomeSucceeded,
		PendingID: 6, LocalTaskID: 36002, RegistryTaskID: 1, TCSSRequestID: "req", ErrorCode: "c",
		ErrorMessage: "m", FunctionRequestID: "fn", Endpoint: "emulator:http://127.0.0.1:9100",
		Credential: "static-key:AKIDab", Access: "apikey", RelatedID: 3, PrevHash: "ab",
	}
}

// legacySample is sample as a record written before encoding version 2: without the fields it
// added, and hashed in version 1.
func legacySample() Record {
	r := sample()
	r.Endpoint, r.Credential, r.Access, r.RelatedID = "", "", "", 0
	r.Hash = hashHex(r.encodeV1(nil))
	return r
}

// The encodings are versioned: a change to one must be deliberate, with a new version name, or
// every stored chain stops verifying. This pins both (the values were computed separately from the
// documented encodings: "name:len:value\n" per field, in order).
func TestComputeHashIsStable(t *testing.T) {
	const wantV2 = "b582ec8e34b4d9bbe45d36585585f329a62d7f07d3e259e97b9f215127b89d84"
	if got := sample().ComputeHash(); got != wantV2 {
		t.Errorf("ComputeHash() = %s, want %s (did the canonical encoding change?)", got, wantV2)
	}
	// Version 1, as main wrote it before version 2 (commit 22761e8).
	const wantV1 = "e873407824dae5013cf078f4381ff4a032151507f1f2b72823f8ade6d561082e"
	if got := legacySample().Hash; got != wantV1 {
		t.Errorf("version 1 hash = %s, want %s (did the version 1 encoding change?)", got, wantV1)
	}
}

func TestComputeHashCoversEveryFieldButHash(t *testing.T) {
	base := sample()
	v := reflect.ValueOf(&base).Elem()
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		changed := sample()
		f := reflect.ValueOf(&changed).Elem().Field(i)
		switch name {
		case "Hash":
			f.SetString("anything")
			if changed.ComputeHash() != base.ComputeHash() {
				t.Errorf("Hash is part of its own hash")
			}
			continue
		case "Time":
			changed.Time = changed.Time.Add(time.Nanosecond)
		case "Params":
			changed.Params = json.RawMessage(`{"LocalImageScanType":"NOT_SCAN"}`)
		default:
			switch f.Kind() {
			case reflect.String:
				f.SetString(f.String() + "x")
			case reflect.Int64:
				f.SetInt(f.Int() + 1)
			default:
				t.Fatalf("field %s of kind %s: extend this test and the hash", name, f.Kind())
			}
		}
		if changed.ComputeHash() == base.ComputeHash() {
			t.Errorf("changing %s leaves the hash unchanged", name)
		}
	}
}

func TestComputeHashIsUnambiguous(t *testing.T) {
	a, b := sample(), sample()
	a.Actor, a.SourceIP = "ab", "c"
	b.Actor, b.SourceIP = "a", "bc"
	if a.ComputeHash() == b.ComputeHash() {
		t.Error("moving bytes between neighbouring fields leaves the hash unchanged")
	}
}

func TestComputeHashIgnoresTimeZone(t *testing.T) {
	c := sample()
	c.Time = c.Time.In(time.FixedZone("CST", 8*3600))
	if c.ComputeHash() != sample().ComputeHash() {
		t.Error("the time zone of the same instant changes the hash")
	}
}

func TestHashValid(t *testing.T) {
	hashed := func(r Record) Record { r.Hash = r.ComputeHash(); return r }
	edited := hashed(sample())
	edited.Actor = "someone-else"
	downgraded := sample()
	downgraded.Hash = hashHex(downgraded.encodeV1(nil)) // v2 fields would be outside the hash
	respaced := legacySample()
	respaced.Params = json.RawMessage(` { "LocalImageScanType" : "ALL" } `)
	cases := []struct {
		name string
		r    Record
		want bool
	}{
		{"a version 2 record", hashed(sample()), true},
		{"a version 1 record", legacySample(), true},
		{"a version 1 record reads its params canonically, as version 1 did", respaced, true},
		{"an edited version 2 record", edited, false},
		{"a record with version 2 fields hashed in version 1", downgraded, false},
		{"a version 1 record that gained an access field", func() Record { r := legacySample(); r.Access = "public"; return r }(), false},
		{"a version 2 record whose params were respaced", func() Record {
			r := hashed(sample())
			r.Params = json.RawMessage(`{"LocalImageScanType": "ALL"}`)
			return r
		}(), false},
	}
	for _, c := range cases {
		if got := c.r.HashValid(); got != c.want {
			t.Errorf("%s: HashValid() = %v, want %v", c.name, got, c.want)
		}
	}
}

func BenchmarkAuditComputeHash(b *testing.B) {
	r := sample()
	b.ReportAllocs()
	for b.Loop() {
		r.ComputeHash()
	}
}

func TestCanonicalJSON(t *testing.T) {
	cases := []struct{ in, want string }{
		{``, `null`},
		{`{"b":1,"a":{"d":[3,2],"c":null}}`, `{"a":{"c":null,"d":[3,2]},"b":1}`},
		{`{"id":18446744073709551615}`, `{"id":18446744073709551615}`}, // uint64 stays exact
		{`"<&>"`, `"\u003c\u0026\u003e"`},
	}
	for _, c := range cases {
		got, err := CanonicalJSON(json.RawMessage(c.in))
		if err != nil || string(got) != c.want {
			t.Errorf("CanonicalJSON(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`{`, `{} {}`, `nope`} {
		if got, err := CanonicalJSON(json.RawMessage(bad)); err == nil {
			t.Errorf("CanonicalJSON(%s) = %s, want an error", bad, got)
		}
	}
}
