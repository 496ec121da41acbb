package scan_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

// severityScanner reports a finished local task and counts the severity breakdowns asked for.
type severityScanner struct {
	scan.Scanner
	calls int
	fail  bool
}

func (s *severityScanner) DescribeVulScanInfo(_ context.Context, local, _ int64) (scan.ScanInfo, error) {
	return scan.ScanInfo{Status: "SCANNED", LocalTaskID: local}, nil
}

func (s *severityScanner) LocalVulSeverities(context.Context, int64) (scan.Severities, error) {
	s.calls++
	if s.fail {
		return scan.Severities{}, errors.New("TCSS refused")
	}
	return scan.Severities{High: int64(s.calls), Images: 1}, nil
}

// TestStatusKeepsAFinishedTasksSeverities: viewing a finished scan again within severity TTL asks
// TCSS for its breakdown once, not once per view; a failed breakdown is not kept.
func TestStatusKeepsAFinishedTasksSeverities(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	scanner := &severityScanner{}
	svc := scan.NewService(scanner, nil, func() time.Time { return now }, slog.New(slog.DiscardHandler))
	attempt := func(task int64) scan.Attempt {
		return scan.Attempt{Record: audit.Record{ID: 1, Outcome: audit.OutcomePending},
			Outcome: &audit.Record{ID: 2, Outcome: audit.OutcomeSucceeded, LocalTaskID: task}}
	}
	status := func(task int64) int64 {
		t.Helper()
		info, err := svc.Status(context.Background(), attempt(task))
		if err != nil {
			t.Fatal(err)
		}
		if info.LocalSeverities == nil {
			return -1
		}
		return info.LocalSeverities.High
	}
	steps := []struct {
		name      string
		advance   time.Duration
		task      int64
		fail      bool
		wantHigh  int64
		wantCalls int
	}{
		{"first view asks TCSS", 0, 36001, false, 1, 1},
		{"a second view is answered from memory", time.Minute, 36001, false, 1, 1},
		{"another task asks TCSS", 0, 36002, false, 2, 2},
		{"after ten minutes TCSS is asked again", 10 * time.Minute, 36001, false, 3, 3},
		{"a failure shows no breakdown", 10 * time.Minute, 36002, true, -1, 4},
		{"and is not kept", 0, 36002, false, 5, 5},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		scanner.fail = st.fail
		if got := status(st.task); got != st.wantHigh || scanner.calls != st.wantCalls {
			t.Errorf("%s: High %d after %d calls, want %d after %d", st.name, got, scanner.calls, st.wantHigh, st.wantCalls)
		}
	}
}
