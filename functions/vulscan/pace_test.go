package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
	"github.com/vulscan/vulscan/functions/tcss"
)

var _ tcss.SlotBooker = (*sqlstore.Store)(nil)

// Four `vulscan scan` processes at once, each starting scan after scan on one audit log, share
// one TCSS pace through it: TCSS (the emulator, which allows 20 calls per action per second)
// refuses none of their calls. With checkpoints signed as they go, the log is one valid chain
// that the checkpoints vouch for.
func TestProcessesShareOneTCSSPace(t *testing.T) {
	cases := []struct {
		name string
		dsn  func(t *testing.T, f *cliFixture) string
		each int
	}{
		{"sqlite", func(t *testing.T, f *cliFixture) string { return "sqlite:" + filepath.Join(f.dir, "audit.db") }, 10},
		{"postgres", func(t *testing.T, _ *cliFixture) string { return sqlstoretest.PostgresDSN(t) }, 25},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const processes = 4
			f := newCLIFixture(t)
			keys := strings.Split(strings.TrimSpace(runAuditBinary(t, f.dir, nil, "keygen").stdout), "\n")
			dsn := "VULSCAN_AUDIT_DSN=" + c.dsn(t, f)
			var wg sync.WaitGroup
			for range processes {
				wg.Go(func() {
					for range c.each {
						if r := f.run(t, []string{dsn, keys[0]}, "--LocalImageScanType", "ALL"); r.exit != exitOK {
							t.Errorf("scan: exit %d: %s", r.exit, r.stderr)
							return
						}
					}
				})
			}
			wg.Wait()
			scans := processes * c.each
			if n := f.emu.Calls("CreateVulScanTask"); n != scans {
				t.Errorf("TCSS saw %d CreateVulScanTask calls for %d scans: some were refused with RequestLimitExceeded and retried", n, scans)
			}
			env := append(append([]string{}, f.env...), dsn, keys[0], keys[1])
			if r := runAuditBinary(t, f.dir, env, "checkpoint"); r.exit != 0 {
				t.Fatalf("checkpoint: exit %d, %q", r.exit, r.stderr)
			}
			r := runAuditBinary(t, f.dir, env, "verify")
			if r.exit != 0 || !strings.HasPrefix(r.stdout, "ok: "+strconv.Itoa(2*scans)+" records") || !strings.Contains(r.stdout, "0 records stand after it") {
				t.Errorf("verify --key: exit %d, %q", r.exit, r.stdout)
			}
			store, err := openAuditStore(context.Background(), strings.TrimPrefix(dsn, "VULSCAN_AUDIT_DSN="))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			failed := 0
			if err := store.Each(context.Background(), audit.Filter{Outcome: audit.OutcomeFailed}, func(audit.Record) error {
				failed++
				return nil
			}); err != nil || failed != 0 {
				t.Errorf("%d failed attempts (%v), want none", failed, err)
			}
		})
	}
}
