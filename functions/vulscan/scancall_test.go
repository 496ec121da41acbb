package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/scan/scantest"
)

// waitingForTheLock is an audit log whose pending append waits for another process's write lock
// before it goes through; it notes when the append was asked for.
type waitingForTheLock struct {
	scan.AuditLog
	wait  time.Duration
	mu    sync.Mutex
	asked time.Time
}

func (l *waitingForTheLock) Append(ctx context.Context, rec audit.Record) (audit.Record, error) {
	if rec.Outcome == audit.OutcomePending {
		l.mu.Lock()
		l.asked = time.Now()
		l.mu.Unlock()
		time.Sleep(l.wait)
	}
	return l.AuditLog.Append(ctx, rec)
}

// callDeadline notes the deadline of the TCSS call.
type callDeadline struct {
	scan.Scanner
	mu       sync.Mutex
	deadline time.Time
}

func (c *callDeadline) CreateVulScanTask(ctx context.Context, r scan.Request) (scan.TaskIDs, error) {
	c.mu.Lock()
	c.deadline, _ = ctx.Deadline()
	c.mu.Unlock()
	return c.Scanner.CreateVulScanTask(ctx, r)
}

// The TCSS call of `vulscan scan` is timed from the attempt's record, not from after a pending
// append that waited for the log's lock: an attempt whose call and outcome end later than
// scan.MaxCallDuration after its record's time is closed as unknown by a reconciliation pass (a
// server's on the same log, `vulscan audit reconcile`) while TCSS is still answering it, and
// TCSS's answer is then refused by the log.
func TestScanCommandTimesTheCallFromTheAttemptsRecord(t *testing.T) {
	const callTimeout = 2 * time.Second
	log := &waitingForTheLock{wait: 200 * time.Millisecond}
	tcss := &callDeadline{}
	w := scantest.New(t, scantest.Options{
		AuditLog: func(l scan.AuditLog) scan.AuditLog { log.AuditLog = l; return log },
		Scanner:  func(s scan.Scanner) scan.Scanner { tcss.Scanner = s; return tcss },
		Service:  scan.Options{CallTimeout: callTimeout},
	})
	open := func(context.Context, env, string) (scanStarter, func() error, error) {
		return w.Service, func() error { return nil }, nil
	}
	e, out, _ := testEnv("", nil)
	if code := runScan(context.Background(), []string{"--RegistryImageScanType", "NOT_SCAN", "--actor", "alice"}, e, open); code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	log.mu.Lock()
	asked := log.asked
	log.mu.Unlock()
	tcss.mu.Lock()
	deadline := tcss.deadline
	tcss.mu.Unlock()
	if limit := asked.Add(callTimeout); deadline.IsZero() || deadline.After(limit) {
		t.Errorf("the call's deadline %s is past %s, the call timeout after the pending append was asked for",
			deadline.Format(time.StampMicro), limit.Format(time.StampMicro))
	}
}
