package main

import (
	"context"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// Someone with the database adds a trigger or rule that silently skips the records of one actor.
// The store must notice that its insert stored nothing: else the scan goes to TCSS with no
// pending record, and the next record takes the skipped one's ID, so the chain shows no gap.
// verify names the trigger or rule, which no guard check would.
func TestAScanWhosePendingRecordTheDatabaseSkipsIsNotStarted(t *testing.T) {
	cases := []struct {
		name, backend string
		hide          []string
		named         string // as verify names what hides the records
	}{
		{"sqlite, a trigger that raises IGNORE", "sqlite", []string{`CREATE TRIGGER audit_log_hint BEFORE INSERT ON audit_log
			WHEN NEW.actor = 'mallory' BEGIN SELECT RAISE(IGNORE); END`}, "audit_log_hint"},
		{"postgres, a trigger that returns NULL", "postgres", []string{
			`CREATE FUNCTION audit_log_hint() RETURNS trigger LANGUAGE plpgsql AS $$
			 BEGIN IF NEW.actor = 'mallory' THEN RETURN NULL; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER audit_log_hint BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_hint()`}, "audit_log_hint"},
		{"postgres, a rule that does nothing instead", "postgres", []string{
			`CREATE RULE audit_log_hint AS ON INSERT TO audit_log WHERE NEW.actor = 'mallory' DO INSTEAD NOTHING`}, "rule audit_log_hint"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, dsn := seededLogOn(t, c.backend)
			execOn(t, c.backend, dsn, c.hide)
			key := tcsstest.RandomKey()
			emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}})
			t.Cleanup(srv.Close)
			e, out, errOut := testEnv("", map[string]string{
				"TENCENTCLOUD_SECRET_ID":  key.SecretID,
				"TENCENTCLOUD_SECRET_KEY": key.SecretKey,
				"VULSCAN_TCSS_ENDPOINT":   srv.URL,
				"VULSCAN_AUDIT_DSN":       dsn,
			})
			code := run(context.Background(), []string{"scan", "--LocalImageScanType", "ALL", "--actor", "mallory"}, e)
			if n := emu.Calls("CreateVulScanTask"); code != exitFailed || n != 0 {
				t.Fatalf("exit %d, %d CreateVulScanTask calls; want %d and none\n%s\n%s", code, n, exitFailed, out, errOut)
			}
			// The auditor's verify names what was added, and fails.
			e, out, errOut = testEnv("", nil)
			code = run(context.Background(), []string{"audit", "verify", "--dsn", dsn}, e)
			want := "triggers vulscan did not write on the log's tables: " + c.named + "."
			if code != exitFailed || !strings.Contains(out.String(), want) {
				t.Errorf("verify: exit %d, %q %q; want %d and %q", code, out, errOut, exitFailed, want)
			}
		})
	}
}
