package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// postAnswer is what a POST /api/scans got back.
type postAnswer struct {
	status int
	body   string
	err    error
}

// postScan POSTs a scan request to base in the background and delivers the answer.
func postScan(base string) <-chan postAnswer {
	done := make(chan postAnswer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/scans", strings.NewReader(`{"RegistryImageScanType":"NOT_SCAN"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- postAnswer{err: err}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		done <- postAnswer{status: resp.StatusCode, body: string(body)}
	}()
	return done
}

// gatedTCSS is a TCSS emulator whose CreateVulScanTask calls wait until release is called (or
// their caller goes away): arrived receives each call as it arrives. env and dsn are as
// hangingTCSS's.
func gatedTCSS(t *testing.T) (arrived <-chan struct{}, release func(), env []string, dsn string) {
	t.Helper()
	key := tcsstest.RandomKey()
	emu := tcsstest.New(tcsstest.Options{Keys: []tcsstest.Key{key}})
	calls, gate := make(chan struct{}, 10), make(chan struct{})
	srv := newHTTPTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-TC-Action") == "CreateVulScanTask" {
			calls <- struct{}{}
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		emu.ServeHTTP(w, r)
	}))
	dir := t.TempDir()
	dsn = "sqlite:" + filepath.Join(dir, "audit.db")
	env = []string{"HOME=" + dir, "VULSCAN_TCSS_ENDPOINT=" + srv, "VULSCAN_AUDIT_DSN=" + dsn,
		"TENCENTCLOUD_SECRET_ID=" + key.SecretID, "TENCENTCLOUD_SECRET_KEY=" + key.SecretKey}
	return calls, sync.OnceFunc(func() { close(gate) }), env, dsn
}

// newHTTPTestServer serves h on a loopback port until the test ends and returns its URL.
func newHTTPTestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// awaitRefused waits until nothing accepts connections on base's address any more.
func awaitRefused(t *testing.T, base string) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections 30 s after the signal")
		}
	}
}

// SIGTERM while a scan's TCSS call is in flight: the server stops accepting connections at once,
// but the call finishes within the grace period, its outcome is recorded (succeeded) and the
// caller gets its 201; then the server exits cleanly. (A signal used to cancel every request in
// flight, so the call was cut off, answered 504 and recorded unknown although TCSS had started
// the scan.)
func TestSIGTERMLetsAScanInFlightFinish(t *testing.T) {
	arrived, release, env, dsn := gatedTCSS(t)
	t.Cleanup(release)
	cmd, base := startServer(t, append(env, "VULSCAN_AUDIT_WITNESS=off"))
	answer := postScan(base)
	select {
	case <-arrived:
	case a := <-answer:
		t.Fatalf("the request ended before reaching TCSS: %+v", a)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	awaitRefused(t, base) // the shutdown has begun, with the call still in TCSS
	release()
	a := <-answer
	if a.err != nil || a.status != http.StatusCreated {
		t.Errorf("the scan in flight was answered %d %v: %s; want 201", a.status, a.err, a.body)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("the server did not exit cleanly: %v", err)
	}
	store, err := openAuditStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	out, err := store.OutcomeOf(context.Background(), 1)
	if err != nil || out.Outcome != audit.OutcomeSucceeded || out.RegistryTaskID == 0 {
		t.Errorf("attempt 1's outcome: %+v, %v; want succeeded with its task ID", out, err)
	}
}

// A request still running when the grace period ends is cancelled then, and the server waits for
// it to record how it ended before it closes the store: the TCSS call cut off is recorded unknown
// and answered 504, and the process exits 1, naming the cut.
func TestShutdownCancelsWhatOutlivesTheGrace(t *testing.T) {
	defer func(d time.Duration) { shutdownTimeout = d }(shutdownTimeout)
	shutdownTimeout = 50 * time.Millisecond
	emu, env, dsn := hangingTCSS(t)
	addr, _, stderr, signal := serveInProcess(t, env)
	answer := postScan("http://" + addr)
	for emu.Calls("CreateVulScanTask") == 0 {
		select {
		case a := <-answer:
			t.Fatalf("the request ended before reaching TCSS: %+v", a)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if code := signal(); code != 1 || !strings.Contains(stderr.String(), "were cancelled") {
		t.Errorf("exit %d, want 1 naming the cancelled requests; stderr:\n%s", code, stderr.String())
	}
	a := <-answer
	var e struct{ Code string }
	json.Unmarshal([]byte(a.body), &e)
	if a.err != nil || a.status != http.StatusGatewayTimeout || e.Code != scan.EUNKNOWN {
		t.Errorf("the cancelled request was answered %d %q %v: %s; want 504 unknown", a.status, e.Code, a.err, a.body)
	}
	store, err := openAuditStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if out, err := store.OutcomeOf(context.Background(), 1); err != nil || out.Outcome != audit.OutcomeUnknown {
		t.Errorf("attempt 1's outcome: %+v, %v; want unknown, recorded before the store closed", out, err)
	}
}

// serveInProcess runs HTTP mode in this process (run with no command) on a free loopback port,
// with env and no witness lines, and returns once it says it is serving. stop cancels it as
// SIGTERM does and returns its exit status; the test's end stops it too.
func serveInProcess(t *testing.T, env []string) (addr string, stdout, stderr *lockedBuffer, stop func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	stdout, stderr, stop = serveWith(t, append(slices.Clip(env), "VULSCAN_ADDR="+addr, "VULSCAN_AUDIT_WITNESS=off"))
	return addr, stdout, stderr, stop
}

// serveWith is serveInProcess with exactly the variables vars, the listen address among them.
func serveWith(t *testing.T, vars []string) (stdout, stderr *lockedBuffer, stop func() int) {
	t.Helper()
	stdout, stderr = &lockedBuffer{}, &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, nil, env2(vars, stdout, stderr)) }()
	var once sync.Once
	var code int
	stop = func() int {
		once.Do(func() { cancel(); code = <-exit })
		return code
	}
	t.Cleanup(func() { stop() })
	for !strings.Contains(stdout.String(), "serving on") {
		select {
		case code := <-exit:
			exit <- code // for stop
			t.Fatalf("the server ended (%d) before serving: %s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return stdout, stderr, stop
}
