package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// A burst the start queue (VULSCAN_START_QUEUE) cannot hold is refused at once with 503 and
// Retry-After, each refusal recorded; the requests that wait in the queue have written nothing
// yet, and only the workers' attempts are open.
func TestTheServerRefusesWhatTheStartQueueCannotHold(t *testing.T) {
	key := tcsstest.RandomKey()
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}})
	t.Cleanup(srv.Close)
	emu.InjectFault("CreateVulScanTask", tcsstest.Fault{Latency: time.Hour, Times: 100})
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "audit.db")
	cmd, base := startServer(t, []string{"HOME=" + dir, "VULSCAN_TCSS_ENDPOINT=" + srv.URL, "VULSCAN_AUDIT_DSN=" + dsn,
		"TENCENTCLOUD_SECRET_ID=" + key.SecretID, "TENCENTCLOUD_SECRET_KEY=" + key.SecretKey,
		"VULSCAN_START_QUEUE=2", "VULSCAN_START_LIMIT=off", "VULSCAN_AUDIT_WITNESS=off"})

	type answer struct {
		status     int
		retryAfter string
		code       string
		err        error
	}
	answers := make(chan answer, 20)
	post := func() {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/scans", strings.NewReader(`{"RegistryImageScanType":"NOT_SCAN"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var e struct{ Code string }
		json.Unmarshal(body, &e)
		answers <- answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), code: e.Code}
	}
	// Every worker takes a request, one at a time, each once the one before has been taken: the
	// queue is empty whenever one arrives, however late a worker starts. The first 20 calls hang
	// in TCSS; the pacer holds the rest until one of them is answered (no second may see more
	// than 20), so those workers wait in the pacer with their pending records written.
	store, err := openAuditStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	pending := func() int {
		recs, err := store.List(context.Background(), audit.Filter{Outcome: audit.OutcomePending, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(recs)
	}
	for i := range scan.DefaultQueueWorkers {
		go post()
		for deadline := time.Now().Add(time.Minute); emu.Calls("CreateVulScanTask") < min(i+1, tcss.RequestsPerSecond) || pending() < i+1; {
			select {
			case a := <-answers:
				t.Fatalf("request %d was answered %+v instead of reaching a worker", i+1, a)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("request %d: TCSS saw %d calls, the log holds %d pending records", i+1, emu.Calls("CreateVulScanTask"), pending())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Five more: two wait in the queue, three are refused at once.
	for range 5 {
		go post()
	}
	for range 3 {
		select {
		case a := <-answers:
			if a.err != nil || a.status != http.StatusServiceUnavailable || a.retryAfter == "" || a.code != scan.EBUSY {
				t.Errorf("answer %+v, want 503 busy with Retry-After", a)
			}
		case <-time.After(time.Minute):
			t.Fatal("no refusal from a full queue")
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	count := func(outcome audit.Outcome) (n int, codes []string) {
		recs, err := store.List(context.Background(), audit.Filter{Outcome: outcome, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			codes = append(codes, r.ErrorCode)
		}
		return len(recs), codes
	}
	if n, codes := count(audit.OutcomeRejected); n != 3 || strings.Count(strings.Join(codes, " "), scan.CodeBusy) != 3 {
		t.Errorf("rejected records %v, want three %s", codes, scan.CodeBusy)
	}
	if n, _ := count(audit.OutcomePending); n != scan.DefaultQueueWorkers {
		t.Errorf("%d pending records, want %d: one per worker, none for the requests still queued", n, scan.DefaultQueueWorkers)
	}
}
