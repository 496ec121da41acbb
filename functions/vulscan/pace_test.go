package main

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore"
	"github.com/vulscan/vulscan/functions/tcss"
)

var _ tcss.SlotBooker = (*sqlstore.Store)(nil)

// Four `vulscan scan` processes at once, each starting scan after scan on one audit log, share
// one TCSS pace through it: TCSS (the emulator, which allows 20 calls per action per second)
// refuses none of their calls, and the log is one valid chain.
func TestProcessesShareOneTCSSPace(t *testing.T) {
	f := newCLIFixture(t)
	const processes, each = 4, 10
	var wg sync.WaitGroup
	for range processes {
		wg.Go(func() {
			for range each {
				if r := f.run(t, nil, "--LocalImageScanType", "ALL"); r.exit != exitOK {
					t.Errorf("scan: exit %d: %s", r.exit, r.stderr)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := f.emu.Calls("CreateVulScanTask"); n != processes*each {
		t.Errorf("TCSS saw %d CreateVulScanTask calls for %d scans: some were refused with RequestLimitExceeded and retried", n, processes*each)
	}
	store, err := openAuditStore(context.Background(), "sqlite:"+filepath.Join(f.dir, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rep, err := store.Verify(context.Background())
	if err != nil || !rep.OK() || rep.Records != 2*processes*each {
		t.Errorf("Verify = %v, %v; want ok: %d records", rep, err, 2*processes*each)
	}
	refused := 0
	if err := store.Each(context.Background(), audit.Filter{Outcome: audit.OutcomeFailed}, func(audit.Record) error {
		refused++
		return nil
	}); err != nil || refused != 0 {
		t.Errorf("%d failed attempts (%v), want none", refused, err)
	}
}
