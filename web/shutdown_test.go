package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// A request still waiting in the start queue when the server begins to shut down is refused as
// that: "shutting down", 503 with Retry-After, recorded so. It used to wait until the shutdown's
// grace ran out and the server cancelled it, and was then answered and recorded as "the server
// was too busy … until its caller gave up or its time ran out", which sends the operator looking
// for a load problem.
func TestAQueuedRequestAtShutdownIsToldTheServerIsStopping(t *testing.T) {
	h := newHarness(t, withStartQueue(scan.QueueConfig{Capacity: 2, Workers: 1}),
		withService(scan.Options{CallTimeout: 2 * time.Second}))
	h.emu.InjectFault("CreateVulScanTask", tcsstest.Fault{Latency: time.Hour})
	var wg sync.WaitGroup
	wg.Go(func() { // holds the only worker: its TCSS call does not answer
		h.postJSON(`{"RegistryImageScanType":"NOT_SCAN"}`, func(r *http.Request) { r.Header.Set("Idempotency-Key", "held") }).Body.Close()
	})
	for h.emu.Calls("CreateVulScanTask") == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	answer := make(chan *http.Response, 1)
	go func() {
		answer <- h.postJSON(`{"RegistryImageScanType":"NOT_SCAN"}`, func(r *http.Request) {
			r.Header.Set("Idempotency-Key", "waiting")
			*r = *r.WithContext(ctx)
		})
	}()
	for h.queue.Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	h.queue.Stop()
	cancel() // the server cancels the requests still running when its grace runs out
	resp := <-answer
	var e struct {
		Code   string
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || len(e.Errors) != 1 {
		t.Fatalf("answer %+v (%v)", e, err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		e.Code != scan.EBUSY || !strings.Contains(e.Errors[0].Message, "shutting down") {
		t.Errorf("status %d, Retry-After %q, %+v; want 503 busy saying the server is shutting down", resp.StatusCode, resp.Header.Get("Retry-After"), e)
	}
	wg.Wait()
	for _, r := range h.records() {
		if r.IdempotencyKey == "waiting" && (r.Outcome != audit.OutcomeRejected || !strings.Contains(r.ErrorMessage, "shutting down")) {
			t.Errorf("record %d: %s %q; want rejected, saying the server is shutting down", r.ID, r.Outcome, r.ErrorMessage)
		}
	}
}

// A start whose TCSS call the stopping server cut off before it was sent (waiting for its pace
// slot when the shutdown's grace ran out) is answered as the stop it is, 503 busy with
// Retry-After, not 502 "TCSS refused"; the record says the request was not sent, and the key is
// free for the retry.
func TestAStartCutOffBeforeSendingByAStoppingServerSaysSo(t *testing.T) {
	h := newHarness(t)
	life, stop := context.WithCancel(context.Background())
	stop() // the server's grace has run out
	resp := h.postJSON(`{"RegistryImageScanType":"NOT_SCAN"}`, func(r *http.Request) {
		r.Header.Set("Idempotency-Key", "k")
		*r = *r.WithContext(scan.WithCallLifetime(r.Context(), life))
	})
	var e struct {
		Code   string
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || len(e.Errors) != 1 {
		t.Fatalf("answer %+v (%v)", e, err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || e.Code != scan.EBUSY ||
		!strings.Contains(e.Errors[0].Message, "vulscan is stopping") {
		t.Errorf("status %d, Retry-After %q, %+v; want 503 busy saying vulscan is stopping", resp.StatusCode, resp.Header.Get("Retry-After"), e)
	}
	recs := h.records()
	if len(recs) != 2 || recs[1].Outcome != audit.OutcomeFailed || recs[1].ErrorCode != scan.CodeNotSent || h.creates() != 0 {
		t.Errorf("records %+v, %d TCSS calls; want pending then failed, not sent", recs, h.creates())
	}
}
