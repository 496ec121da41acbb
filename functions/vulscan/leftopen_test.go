package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

// The start's pass lists at most 1000 of the attempts it leaves open (too young to close), oldest
// first, and the pass it sets for them ran when the youngest listed could be closed: younger
// ones beyond the list stayed pending, their pages waiting for TCSS for ever, until someone viewed
// the audit page or ran reconcile. The due pass now sets another for those.
func TestARestartedServerClosesEveryAttemptLeftOpenAtStart(t *testing.T) {
	_, env, dsn := hangingTCSS(t)
	vulscanBinary(t) // built before the clock below starts
	ctx := context.Background()
	store, err := openAuditStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Left by processes killed mid-call: 1000 closable 8 s after now, one more 5 s after them, all
	// too young for the start's pass (the 1001 are written in well under a second).
	now := time.Now()
	pending := func(at time.Time, i int) audit.Record {
		return audit.Record{Time: at, Trigger: audit.TriggerAPI, Actor: "apikey:ci", Action: audit.ActionCreateVulScanTask,
			Params: []byte(`{"LocalImageScanType":"NOT_SCAN"}`), IdempotencyKey: fmt.Sprintf("killed-%d", i), Outcome: audit.OutcomePending}
	}
	oldest := now.Add(-scan.MaxCallDuration + 8*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for i := range 1000 {
		wg.Go(func() {
			if _, err := store.Append(ctx, pending(oldest, i)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	youngest, err := store.Append(ctx, pending(oldest.Add(5*time.Second), 1000))
	if err != nil {
		t.Fatal(err)
	}
	store.Close()

	startServer(t, env)
	store, err = openAuditStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	awaitClosedAsUnknown(t, store, youngest.ID, 40*time.Second)
}

// The server says in its log, at start, which attempts it found pending but too young to close,
// and when it will close them: it said nothing until it closed them, so whoever read the log
// after a crash could not tell whether the attempts whose pages wait for TCSS would ever end.
func TestTheStartSaysWhichAttemptsItLeavesOpenAndUntilWhen(t *testing.T) {
	_, env, dsn := hangingTCSS(t)
	ctx := context.Background()
	store, err := openAuditStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-scan.MaxCallDuration / 2).UTC()
	if _, err := store.Append(ctx, audit.Record{Time: at, Trigger: audit.TriggerAPI, Actor: "apikey:ci",
		Action: audit.ActionCreateVulScanTask, Params: []byte(`{"LocalImageScanType":"NOT_SCAN"}`),
		IdempotencyKey: "killed", Outcome: audit.OutcomePending}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	_, _, stderr, _ := serveInProcess(t, env)
	var line struct {
		Msg      string
		Attempts []int64
		Due      time.Time
	}
	for l := range strings.Lines(stderr.String()) {
		if strings.Contains(l, "still pending") {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
		}
	}
	if !slices.Equal(line.Attempts, []int64{1}) || !line.Due.Equal(at.Add(scan.MaxCallDuration)) {
		t.Errorf("logged %+v; want attempt 1, due at %v; stderr:\n%s", line, at.Add(scan.MaxCallDuration), stderr.String())
	}
}
