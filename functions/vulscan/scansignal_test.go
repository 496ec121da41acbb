package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/scan/scantest"
)

// signalledMidCall is a TCSS that has the request and no answer yet when the operator presses
// Ctrl-C (stop: the signal ending the command's context). It waits for the call's context and
// says what ended it.
type signalledMidCall struct {
	scan.Scanner
	stop  context.CancelFunc
	mu    sync.Mutex
	ended error // the call context's error when it ended
}

func (s *signalledMidCall) CreateVulScanTask(ctx context.Context, _ scan.Request) (scan.TaskIDs, error) {
	s.stop()
	<-ctx.Done()
	s.mu.Lock()
	s.ended = ctx.Err()
	s.mu.Unlock()
	return scan.TaskIDs{}, fmt.Errorf("tcss: %w: %w", scan.ErrOutcomeUnknown, ctx.Err())
}

// A signal (Ctrl-C, SIGTERM) to `vulscan scan` while TCSS has the request ends the call and
// records it as unknown, as the command's signal handling promises, instead of being ignored
// until the call's own timeout (40 s) runs out.
func TestScanCommandSignalMidCallEndsTheCallAsUnknown(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	tcss := &signalledMidCall{stop: stop}
	w := scantest.New(t, scantest.Options{
		Scanner: func(s scan.Scanner) scan.Scanner { tcss.Scanner = s; return tcss },
		// Long enough that a call the signal did not end can be told from one it did.
		Service: scan.Options{CallTimeout: 5 * time.Second},
	})
	open := func(context.Context, env, string) (scanStarter, func() error, error) {
		return w.Service, func() error { return nil }, nil
	}
	e, out, _ := testEnv("", nil)
	code := runScan(ctx, []string{"--LocalImageScanType", "ALL", "--actor", "alice", "--idempotency-key", "ctrl-c"}, e, open)

	tcss.mu.Lock()
	ended := tcss.ended
	tcss.mu.Unlock()
	if !errors.Is(ended, context.Canceled) {
		t.Errorf("the TCSS call ended with %v, want the signal's cancellation", ended)
	}
	var got struct {
		Outcome string `json:"outcome"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || code != exitFailed || got.Outcome != string(audit.OutcomeUnknown) {
		t.Errorf("exit %d, output %s (%v); want exit %d and outcome unknown", code, out, err, exitFailed)
	}
}
