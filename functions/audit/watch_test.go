package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// Wait holds the closing of a store until the background check a page's Poke started has
// ended, so that no check reads a store that is closing (or a directory being removed).
func TestWatcherWaitOutlastsThePokedCheck(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	verify := func(ctx context.Context, from audit.Report) (audit.Report, error) {
		close(started)
		<-release
		return audit.Report{Records: 3}, nil
	}
	w := audit.NewWatcher(verify, time.Minute, nil)
	w.Poke(context.Background())
	<-started
	waited := make(chan struct{})
	go func() { w.Wait(); close(waited) }()
	select {
	case <-waited:
		t.Fatal("Wait returned while the check was still running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-waited
	if got := w.Status(); got.Checking || got.Report.Records != 3 {
		t.Errorf("after Wait: %+v, want the check ended with 3 records", got)
	}
}
