package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// startServer runs the binary in HTTP mode on a free loopback port (of the address env's
// VULSCAN_ADDR names, else 127.0.0.1) until the test ends (or the test kills it) and returns its
// base URL.
func startServer(t *testing.T, env []string) (*exec.Cmd, string) {
	t.Helper()
	listen := "127.0.0.1:0"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "VULSCAN_ADDR="); ok {
			listen = v // another loopback address, with a port chosen here
		}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(vulscanBinary(t))
	cmd.Env = append(append([]string{}, env...), "VULSCAN_ADDR="+addr)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if strings.Contains(lines.Text(), "serving on") {
			go io.Copy(io.Discard, stdout)
			return cmd, "http://" + addr
		}
	}
	t.Fatalf("the server never said it was serving")
	return nil, ""
}

// kill -9 in the middle of a TCSS call leaves the attempt pending; after a restart, reconcile
// closes it as unknown, and its page says so and stops polling.
func TestAnAttemptOrphanedByKillIsClosedByReconcile(t *testing.T) {
	emu, env, dsn := hangingTCSS(t)

	cmd, base := startServer(t, env)
	posted := make(chan struct{})
	go func() {
		defer close(posted)
		req, _ := http.NewRequest(http.MethodPost, base+"/api/scans", strings.NewReader(`{"RegistryImageScanType":"NOT_SCAN"}`))
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	// Wait for the call to reach TCSS (it then hangs for an hour), and kill the server.
	for emu.Calls("CreateVulScanTask") == 0 {
		select {
		case <-posted:
			t.Fatal("the request ended before reaching TCSS")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: nothing gets to record an outcome
		t.Fatal(err)
	}
	cmd.Wait()
	<-posted

	// The attempt is seconds old; reconcile takes no less than the longest call, so its clock
	// is moved on past that rather than the test waiting.
	var out, errOut strings.Builder
	e := env
	later := env2(e, &out, &errOut)
	later.now = func() time.Time { return time.Now().Add(scan.MaxCallDuration + time.Second) }
	code := run(context.Background(), []string{"audit", "reconcile", "--dsn", dsn}, later)
	if code != exitOK || !strings.Contains(out.String(), "closed: attempt 1 as unknown") {
		t.Fatalf("reconcile exit %d:\n%s\n%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"audit", "verify", "--dsn", dsn}, env2(e, &out, &errOut)); code != exitOK {
		t.Fatalf("verify exit %d: %s %s", code, out.String(), errOut.String())
	}

	_, base = startServer(t, env)
	resp, err := http.Get(base + "/scans/1")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "No outcome was recorded") || strings.Contains(string(page), "data-poll") {
		t.Errorf("the attempt page does not say the attempt ended, or still polls:\n%s", page)
	}
	store, err := openAuditStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	outcome, err := store.OutcomeOf(context.Background(), 1)
	if err != nil || outcome.Outcome != audit.OutcomeUnknown || outcome.ErrorCode != scan.CodeNoOutcomeRecorded {
		t.Errorf("attempt 1's outcome: %+v %v", outcome, err)
	}
}

// env2 is an env for an in-process command with the given variables.
func env2(vars []string, stdout, stderr io.Writer) env {
	m := map[string]string{}
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return env{stdin: strings.NewReader(""), stdout: stdout, stderr: stderr, getenv: func(k string) string { return m[k] }}
}

// `vulscan audit reconcile --from-log FILE` puts back an outcome the service wrote to its log.
func TestReconcileFromLogCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "audit.db")
	store, err := openAuditStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := store.Append(ctx, audit.Record{Trigger: audit.TriggerCLI, Actor: "ops", Action: audit.ActionCreateVulScanTask,
		Params: []byte(`{"LocalImageScanType":"ALL"}`), IdempotencyKey: "k", Outcome: audit.OutcomePending})
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	outcome := pending
	outcome.ID, outcome.Hash, outcome.PrevHash = 0, "", ""
	outcome.PendingID, outcome.Outcome, outcome.LocalTaskID, outcome.TCSSRequestID = pending.ID, audit.OutcomeSucceeded, 36002, "req-9"
	logFile := filepath.Join(dir, "function.log")
	var logText strings.Builder
	logText.WriteString("2026-12-03 START\n")
	if err := scan.WriteStranded(&logText, outcome); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(logFile, logText.String()); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	for _, want := range []string{"restored: the outcome of attempt 1", "skipped: attempt 1: already recorded as succeeded"} {
		out.Reset()
		code := run(ctx, []string{"audit", "reconcile", "--from-log", logFile, "--dsn", dsn}, env2(nil, &out, &errOut))
		if code != exitOK || !strings.Contains(out.String(), want) {
			t.Fatalf("exit %d, want %q:\n%s\n%s", code, want, out.String(), errOut.String())
		}
	}
	out.Reset()
	if code := run(ctx, []string{"audit", "export", "--dsn", dsn, "--task-id", "36002"}, env2(nil, &out, &errOut)); code != exitOK ||
		!strings.Contains(out.String(), `"req-9"`) {
		t.Errorf("the restored outcome is not in the log: %s %s", out.String(), errOut.String())
	}
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o600) }

// A stranded-outcome line that does not decode (another writer's output landed inside it: writes
// of more than 4 KiB to a pipe interleave) keeps no other outcome of the log from being restored:
// it is reported, and the command fails so that someone restores it by hand.
func TestReconcileFromLogRestoresAroundAnUnreadableLine(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "audit.db")
	store, err := openAuditStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []audit.Record
	for _, key := range []string{"a", "b"} {
		pending, err := store.Append(ctx, audit.Record{Trigger: audit.TriggerCLI, Actor: "ops", Action: audit.ActionCreateVulScanTask,
			Params: []byte(`{"LocalImageScanType":"ALL"}`), IdempotencyKey: key, Outcome: audit.OutcomePending})
		if err != nil {
			t.Fatal(err)
		}
		out := pending
		out.ID, out.Hash, out.PrevHash = 0, "", ""
		out.PendingID, out.Outcome, out.LocalTaskID = pending.ID, audit.OutcomeSucceeded, 36000+pending.ID
		outcomes = append(outcomes, out)
	}
	store.Close()
	var first, second strings.Builder
	if err := scan.WriteStranded(&first, outcomes[0]); err != nil {
		t.Fatal(err)
	}
	if err := scan.WriteStranded(&second, outcomes[1]); err != nil {
		t.Fatal(err)
	}
	cut := first.Len() / 2
	interleaved := first.String()[:cut] + `{"level":"INFO","msg":"request failed"}` + "\n" + first.String()[cut:]
	logFile := filepath.Join(dir, "function.log")
	if err := writeFile(logFile, interleaved+second.String()); err != nil {
		t.Fatal(err)
	}

	var out, errOut strings.Builder
	code := run(ctx, []string{"audit", "reconcile", "--from-log", logFile, "--dsn", dsn}, env2(nil, &out, &errOut))
	if code != exitFailed {
		t.Errorf("exit %d, want %d for a line it could not read", code, exitFailed)
	}
	for _, want := range []string{"restored: the outcome of attempt 2", "unreadable: line 1: a stranded outcome that does not decode"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, out.String(), errOut.String())
		}
	}
	out.Reset()
	if code := run(ctx, []string{"audit", "export", "--dsn", dsn, "--task-id", "36002"}, env2(nil, &out, &errOut)); code != exitOK ||
		!strings.Contains(out.String(), `"succeeded"`) {
		t.Errorf("the readable outcome is not in the log: %s %s", out.String(), errOut.String())
	}
}

// The audit page's background pass closes attempts left pending while the server runs on.
func TestTheAuditPagesBackgroundPassReconciles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "audit.db")
	var out, errOut strings.Builder
	a, err := openApp(ctx, env2([]string{"VULSCAN_AUDIT_DSN=" + dsn, "HOME=" + dir}, &out, &errOut), "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	orphan, err := a.store.Append(ctx, audit.Record{Time: time.Now().Add(-time.Hour), Trigger: audit.TriggerAPI,
		Action: audit.ActionCreateVulScanTask, Params: []byte(`{"LocalImageScanType":"ALL"}`), Outcome: audit.OutcomePending})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:8080/audit", nil)
	req.Host = "127.0.0.1:8080"
	req.RemoteAddr = "127.0.0.1:5000"
	rec := newResponseRecorder()
	a.handler.ServeHTTP(rec, req)
	if rec.code != http.StatusOK {
		t.Fatalf("audit page %d", rec.code)
	}
	// The pass runs in the background; wait for the outcome it writes.
	for deadline := time.Now().Add(30 * time.Second); ; {
		o, err := a.store.OutcomeOf(ctx, orphan.ID)
		if err == nil {
			if o.Outcome != audit.OutcomeUnknown || o.ErrorCode != scan.CodeNoOutcomeRecorded {
				t.Fatalf("orphan closed as %+v", o)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the background pass did not close attempt %d: %v\n%s", orphan.ID, err, errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// responseRecorder is the little of httptest.ResponseRecorder this file needs.
type responseRecorder struct {
	header http.Header
	code   int
}

func newResponseRecorder() *responseRecorder {
	return &responseRecorder{header: http.Header{}, code: http.StatusOK}
}
func (r *responseRecorder) Header() http.Header         { return r.header }
func (r *responseRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *responseRecorder) WriteHeader(code int)        { r.code = code }

// hangingTCSS is a TCSS emulator whose first CreateVulScanTask never answers, and the
// environment of a vulscan process using it with a SQLite log (dsn) in a temporary directory.
func hangingTCSS(t *testing.T) (emu *tcsstest.Emulator, env []string, dsn string) {
	t.Helper()
	key := tcsstest.RandomKey()
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}})
	t.Cleanup(srv.Close)
	emu.InjectFault("CreateVulScanTask", tcsstest.Fault{Latency: time.Hour, Times: 1})
	dir := t.TempDir()
	dsn = "sqlite:" + filepath.Join(dir, "audit.db")
	env = []string{"HOME=" + dir, "VULSCAN_TCSS_ENDPOINT=" + srv.URL, "VULSCAN_AUDIT_DSN=" + dsn,
		"TENCENTCLOUD_SECRET_ID=" + key.SecretID, "TENCENTCLOUD_SECRET_KEY=" + key.SecretKey}
	return emu, env, dsn
}

// A server restarted moments after a kill closes the attempt the killed process left pending
// once it is old enough (scan.MaxCallDuration), without anyone retrying its key, viewing the
// audit page or running reconcile: its start-up pass must leave it, as its call might still be
// live, and the attempt's page and GET /api/scans/{id} used to wait for TCSS for ever.
func TestARestartedServerClosesAnAttemptLeftTooYoungAtStart(t *testing.T) {
	_, env, dsn := hangingTCSS(t)
	vulscanBinary(t) // built before the clock below starts
	ctx := context.Background()
	store, err := openAuditStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Left by a process killed mid-call 45 s before this one starts: too young for the start's pass.
	if _, err := store.Append(ctx, audit.Record{Time: time.Now().Add(-scan.MaxCallDuration + 5*time.Second), Trigger: audit.TriggerAPI,
		Actor: "local:ops", Action: audit.ActionCreateVulScanTask, Params: []byte(`{"LocalImageScanType":"ALL"}`),
		IdempotencyKey: "killed", Outcome: audit.OutcomePending}); err != nil {
		t.Fatal(err)
	}
	store.Close()

	startServer(t, env)
	store, err = openAuditStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	awaitClosedAsUnknown(t, store, 1, 30*time.Second)
}

// awaitClosedAsUnknown waits up to within for attempt id to be closed, as a server's pass closes
// one its process did not start, and wants it closed as unknown, no outcome recorded.
func awaitClosedAsUnknown(t *testing.T, store audit.Store, id int64, within time.Duration) {
	t.Helper()
	giveUp := time.Now().Add(within)
	for {
		out, err := store.OutcomeOf(context.Background(), id)
		if err == nil {
			if out.Outcome != audit.OutcomeUnknown || out.ErrorCode != scan.CodeNoOutcomeRecorded {
				t.Errorf("attempt %d closed as %s (%s), want unknown, no outcome recorded", id, out.Outcome, out.ErrorCode)
			}
			return
		}
		if time.Now().After(giveUp) {
			t.Fatalf("attempt %d is still pending %v after the server started (%v)", id, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
