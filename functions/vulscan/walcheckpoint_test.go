package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// A server on a SQLite log checkpoints the WAL in the background: what its appends committed
// reaches the database file with no request waiting for it (a one-shot keeps SQLite's inline
// checkpoints: sqlstore's TestCheckpointsRunInTheBackgroundOfAServer).
func TestAServerCheckpointsTheWALInTheBackground(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.db")
	vars := []string{"VULSCAN_AUDIT_DSN=sqlite:" + path, "HOME=" + dir, "VULSCAN_AUDIT_WITNESS=off"}
	var errOut strings.Builder
	a, err := openApp(ctx, env2(vars, &errOut, &errOut), "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	for range 3 {
		if _, err := a.store.Append(ctx, audit.Record{Trigger: audit.TriggerCLI, Actor: "alice",
			Action: audit.ActionCreateVulScanTask, Params: []byte(`{"LocalImageScanType":"ALL"}`), Outcome: audit.OutcomeRejected}); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); size() == before; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the database file stayed at %d bytes: the server never checkpointed its WAL\n%s", before, errOut.String())
		}
	}
}
