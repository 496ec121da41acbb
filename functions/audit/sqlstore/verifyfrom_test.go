package sqlstore

import (
	"context"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
)

// VerifyFrom reads only what was appended since the report it continues, and still notices when
// the verified head was cut off or rewritten since.
func TestVerifyFromContinuesAVerification(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, h *harness, head audit.Record)
		want   string // in the problem; "" = the chain is good
	}{
		{"records appended since", func(*testing.T, *harness, audit.Record) {}, ""},
		{"the newest records cut off", func(t *testing.T, h *harness, head audit.Record) {
			h.dropGuards(t)
			h.exec(t, `DELETE FROM audit_log WHERE id >= ?`, head.ID-1)
		}, "record 6 missing: record 6, verified before, is gone"},
		{"the head rewritten with a fresh hash", func(t *testing.T, h *harness, head audit.Record) {
			h.dropGuards(t)
			h.exec(t, `DELETE FROM audit_log WHERE id >= ?`, head.ID)
			forged := head
			forged.Actor = "mallory"
			forged.Hash = forged.ComputeHash()
			h.insertRaw(t, forged)
		}, "record 6 edited: it changed since it was verified"},
		{"a record after the head edited", func(t *testing.T, h *harness, head audit.Record) {
			h.dropGuards(t)
			h.exec(t, `UPDATE audit_log SET actor = 'mallory' WHERE id = ?`, head.ID+2)
		}, "record 8 edited"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, h *harness) {
				ctx := context.Background()
				for i := range 6 {
					r := rec(i)
					if i == 2 {
						r.Endpoint = "emulator:http://127.0.0.1:9100"
					}
					mustAppend(t, h.store, r)
				}
				first, err := h.store.Verify(ctx)
				if err != nil || !first.OK() || first.Records != 6 || first.Emulated != 1 {
					t.Fatalf("Verify = %+v, %v", first, err)
				}
				head, err := h.store.Get(ctx, 6)
				if err != nil {
					t.Fatal(err)
				}
				for i := range 3 {
					mustAppend(t, h.store, rec(10+i))
				}
				c.tamper(t, h, head)
				rep, err := h.store.VerifyFrom(ctx, first)
				if err != nil {
					t.Fatal(err)
				}
				if c.want == "" {
					full, _ := h.store.Verify(ctx)
					if !rep.OK() || rep.Records != 9 || rep.HeadHash != full.HeadHash || rep.Emulated != 1 {
						t.Errorf("VerifyFrom = %+v, want the full walk's %+v", rep, full)
					}
					return
				}
				if rep.OK() || !strings.Contains(rep.Problem.String(), c.want) {
					t.Errorf("VerifyFrom = %v, want a problem saying %q", rep, c.want)
				}
			})
		})
	}
}
