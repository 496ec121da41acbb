package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss"
)

// A CreateVulScanTask answer that names a negative task ID is garbage (a broken proxy or
// endpoint in front of TCSS): `vulscan scan` records it as unknown, naming the answer, instead of
// a succeeded scan of task -5 whose status pages would then ask TCSS about.
func TestScanCommandRecordsANegativeTaskIDAsUnknown(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		outcome      audit.Outcome
	}{
		{"a negative local task", `{"Response":{"LocalTaskID":-5,"RequestId":"r-1"}}`, audit.OutcomeUnknown},
		{"a negative registry task", `{"Response":{"LocalTaskID":36001,"RegistryTaskID":-1,"RequestId":"r-2"}}`, audit.OutcomeUnknown},
		{"a real answer", `{"Response":{"LocalTaskID":36001,"RequestId":"r-3"}}`, audit.OutcomeSucceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, tc.answer)
			}))
			defer srv.Close()
			client, err := tcss.New(tcss.Config{Endpoint: srv.URL, Credential: common.NewCredential("AKIDtest", "key"), MaxRateLimitRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			store, err := openAuditStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "audit.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			open := func(context.Context, env, string) (scanStarter, func() error, error) {
				return scan.NewService(client, store, nil, newLogger(io.Discard)), func() error { return nil }, nil
			}
			e, out, _ := testEnv("", nil)
			runScan(ctx, []string{"--LocalImageScanType", "ALL", "--actor", "alice"}, e, open)
			var got struct {
				Outcome     string `json:"outcome"`
				LocalTaskID int64  `json:"LocalTaskID"`
			}
			if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.Outcome != string(tc.outcome) || got.LocalTaskID < 0 {
				t.Errorf("output %s (%v); want outcome %s and no negative task ID", out, err, tc.outcome)
			}
			rec, err := store.OutcomeOf(ctx, 1)
			if err != nil || rec.Outcome != tc.outcome || rec.LocalTaskID < 0 || rec.RegistryTaskID < 0 {
				t.Errorf("recorded %+v (%v); want %s with no negative task ID", rec, err, tc.outcome)
			}
		})
	}
}
