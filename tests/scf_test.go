package tests

import (
	"bytes"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
	"github.com/vulscan/vulscan/functions/platform"
	"github.com/vulscan/vulscan/functions/schedule"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// TestSCFBootstrapThroughRuntimeAPI runs the deploy binary as SCF runs a custom runtime: the
// bootstrap finds the runtime API in SCF_RUNTIME_API/SCF_RUNTIME_API_PORT (here a fake that
// serves a queue of events), reports ready, then takes events one by one and posts each result.
// It uses the execution role's temporary key the way SCF injects it. API-gateway events (form
// and JSON) and timer events (serverless.yml's argument, a platform retry, a bad argument) must
// be answered and every scan audited with its trigger and the invocation's request ID.
func TestSCFBootstrapThroughRuntimeAPI(t *testing.T) {
	fn := startSCF(t, vulscanBinary(t))

	var formKey string
	t.Run("API-gateway form GET renders the form", func(t *testing.T) {
		event := scfAPIGatewayEvent("GET", "/", nil, nil, false)
		event["requestContext"].(map[string]any)["identity"] = map[string]any{"secretId": scfCallerSecretID}
		resp := fn.http(t, "req-form-get", event)
		resp.wantStatus(t, http.StatusOK)
		resp.wantHeader(t, "Content-Type", "text/html")
		formKey = resp.formKey(t)
	})

	t.Run("API-gateway base64 form POST starts a scan", func(t *testing.T) {
		form := url.Values{
			"LocalImageScanType": {"IMAGEIDS"},
			"LocalImageIDs":      {"sha256:" + strings.Repeat("5e6f7a8b", 8)},
			"IdempotencyKey":     {formKey},
		}
		event := scfAPIGatewayEvent("POST", "/", formHeaders(), []byte(form.Encode()), true)
		event["requestContext"].(map[string]any)["identity"] = map[string]any{"secretId": scfCallerSecretID}
		resp := fn.http(t, "req-form-post", event)
		resp.wantStatus(t, http.StatusSeeOther)
		resp.attemptFromLocation(t)
	})

	t.Run("API-gateway JSON POST starts a scan", func(t *testing.T) {
		headers := map[string]string{"content-type": "application/json", "idempotency-key": "scf-api-1"}
		body := `{"LocalImageScanType":"CLUSTER","LocalClusterIDs":["cls-a1b2c3d4"]}`
		event := scfAPIGatewayEvent("POST", "/api/scans", headers, []byte(body), false)
		// The gateway verified the caller's API key (key auth on the route).
		event["requestContext"].(map[string]any)["identity"] = map[string]any{"secretId": scfCallerSecretID}
		resp := fn.http(t, "req-api", event)
		resp.wantStatus(t, http.StatusCreated)
		var got struct {
			Outcome     string `json:"outcome"`
			LocalTaskID int64  `json:"LocalTaskID"`
		}
		resp.decodeJSON(t, &got)
		if got.Outcome != string(audit.OutcomeSucceeded) || got.LocalTaskID == 0 {
			t.Errorf("API answer %+v; want a succeeded attempt with a local task", got)
		}
	})

	timer := scfTimerEvent(t)
	var first platform.TimerResult
	t.Run("timer with serverless.yml's argument starts a scan", func(t *testing.T) {
		first = fn.timer(t, "req-timer", timer)
		if first.Schedule != "nightly" || first.Outcome != audit.OutcomeSucceeded || first.Replayed {
			t.Errorf("timer result %+v; want a new succeeded scan for nightly", first)
		}
	})

	t.Run("timer delivered twice starts one scan", func(t *testing.T) {
		before := fn.tcss.Calls(createAction)
		// A platform retry keeps the request ID; a duplicate delivery of the same run does not,
		// but keeps the run's scheduled Time, which the idempotency key is made of.
		for _, requestID := range []string{"req-timer", "req-timer-duplicate"} {
			again := fn.timer(t, requestID, timer)
			if !again.Replayed || again.Attempt != first.Attempt {
				t.Errorf("delivery as %s: result %+v; want attempt %d replayed", requestID, again, first.Attempt)
			}
		}
		if after := fn.tcss.Calls(createAction); after != before {
			t.Errorf("TCSS got %d more CreateVulScanTask calls on a retry; want none", after-before)
		}
	})

	t.Run("timer with a bad argument is an invocation error", func(t *testing.T) {
		bad := map[string]any{"Type": "Timer", "TriggerName": "typo", "Time": "2026-11-01T03:00:00Z",
			"Message": `{"LocalImageScanTyp":"ALL"}`}
		res := fn.invoke(t, "req-bad-timer", bad)
		if res.path != "/runtime/invocation/error" || !strings.Contains(string(res.body), "LocalImageScanTyp") {
			t.Errorf("bad timer answered on %s with %q; want an error naming the field", res.path, res.body)
		}
	})

	t.Run("a trigger not in VULSCAN_SCHEDULES with a listed schedule's argument starts nothing", func(t *testing.T) {
		// A trigger added in the console with serverless.yml's argument copied into it.
		adhoc := scfTimerEvent(t)
		adhoc["TriggerName"], adhoc["Time"] = "adhoc", "2026-11-01T04:00:00Z"
		res := fn.invoke(t, "req-adhoc-timer", adhoc)
		if res.path != "/runtime/invocation/error" || !strings.Contains(string(res.body), "adhoc") {
			t.Errorf("adhoc timer answered on %s with %q; want a refusal naming the trigger", res.path, res.body)
		}
	})

	calls := fn.runtime.callLog()
	if len(calls) < 2 || calls[0] != "POST /runtime/init/ready" || calls[1] != "GET /runtime/invocation/next" {
		t.Errorf("runtime API calls began %q; want ready before the first next", calls[:min(len(calls), 3)])
	}
	if got := fn.tcss.Calls(createAction); got != 3 {
		t.Errorf("TCSS got %d CreateVulScanTask calls; want 3 (form, API, timer)", got)
	}
	recs := auditRecords(t, fn.dsn)
	started := startedScans(t, recs)
	wantTriggers(t, started, map[audit.Trigger]int{audit.TriggerForm: 1, audit.TriggerAPI: 1, audit.TriggerTimer: 1})
	wantRequestIDs := map[audit.Trigger]string{audit.TriggerForm: "req-form-post", audit.TriggerAPI: "req-api", audit.TriggerTimer: "req-timer"}
	for _, r := range started {
		if r.FunctionRequestID != wantRequestIDs[r.Trigger] {
			t.Errorf("%s record %d has request ID %q; want %q", r.Trigger, r.ID, r.FunctionRequestID, wantRequestIDs[r.Trigger])
		}
		if r.Trigger == audit.TriggerTimer && r.Actor != "system:timer/nightly" {
			t.Errorf("timer record %d actor %q; want system:timer/nightly", r.ID, r.Actor)
		}
		if r.Trigger != audit.TriggerTimer && r.Actor != "gateway:"+scfCallerSecretID {
			t.Errorf("API record %d actor %q; want the gateway-verified secretId %s", r.ID, r.Actor, scfCallerSecretID)
		}
		if r.Trigger != audit.TriggerTimer && r.SourceIP != scfSourceIP {
			t.Errorf("%s record %d from %q; want the gateway's sourceIp %s", r.Trigger, r.ID, r.SourceIP, scfSourceIP)
		}
	}
	if n := countRecords(recs, audit.TriggerTimer, audit.OutcomeRejected); n != 2 {
		t.Errorf("%d rejected timer records; want 2 (the bad argument, the adhoc trigger)", n)
	}
	adhocRefused := slices.ContainsFunc(recs, func(r audit.Record) bool {
		return r.Actor == "system:timer/adhoc" && r.Outcome == audit.OutcomeRejected
	})
	if !adhocRefused {
		t.Error("no rejected record for system:timer/adhoc; the adhoc trigger ran as another schedule")
	}
	verifyAudit(t, fn.dsn)
}

// scfFunction is the bootstrap serving a fake SCF runtime API.
type scfFunction struct {
	runtime *fakeSCFRuntime
	tcss    *tcsstest.Emulator
	tcssURL string // VULSCAN_TCSS_ENDPOINT
	dsn     string
	proc    *process
}

// output is what the bootstrap has logged so far.
func (f *scfFunction) output() string { return f.proc.Output() }

// startSCF starts the bootstrap with SCF's environment: the runtime API's address, the execution
// role's temporary key, the function's settings as serverless.yml gives them.
// bin is the bootstrap to run; extraEnv adds to or overrides that environment.
func startSCF(t *testing.T, bin string, extraEnv ...string) *scfFunction {
	t.Helper()
	role := tcsstest.Key{SecretID: "AKIDscfrole" + randomID()[:16], SecretKey: randomID(), Token: "token-" + randomID()}
	emu, tcssSrv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{role}})
	t.Cleanup(tcssSrv.Close)

	rt := newFakeSCFRuntime()
	rtSrv := httptest.NewServer(rt)
	// Closed after the bootstrap has stopped (cleanups run last-in first-out), so that its long
	// poll is not cut under it; unblock lets that poll return when the test ends.
	t.Cleanup(rtSrv.Close)
	t.Cleanup(rt.unblock)
	host, port, err := net.SplitHostPort(rtSrv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	dsn := functionAuditDSN(t, bin, dir)
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = functionEnv(
		"SCF_RUNTIME_API="+host, "SCF_RUNTIME_API_PORT="+port,
		"TENCENTCLOUD_RUNENV=SCF", "SCF_FUNCTIONNAME=vulscan-test", "SCF_FUNCTIONVERSION=$LATEST",
		"TENCENTCLOUD_REGION=ap-guangzhou",
		"TENCENTCLOUD_SECRETID="+role.SecretID, "TENCENTCLOUD_SECRETKEY="+role.SecretKey,
		"TENCENTCLOUD_SESSIONTOKEN="+role.Token,
		"VULSCAN_AUDIT_DSN="+dsn, "VULSCAN_TCSS_ENDPOINT="+tcssSrv.URL,
		"VULSCAN_AUTH=gateway", // the legacy API gateway's key authentication names the caller
		"VULSCAN_SCHEDULES=nightly="+nightlyCron,
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	p := startProcess(t, cmd)
	waitUntil(t, "the bootstrap to report ready", func() error {
		select {
		case <-p.exited:
			return fmt.Errorf("bootstrap exited: %v\n%s", p.err, p.Output())
		default:
		}
		if !rt.isReady() {
			return fmt.Errorf("no POST /runtime/init/ready yet")
		}
		return nil
	})
	return &scfFunction{runtime: rt, tcss: emu, tcssURL: tcssSrv.URL, dsn: dsn, proc: p}
}

// invoke queues one event with this request ID and waits for the bootstrap's post about it.
func (f *scfFunction) invoke(t *testing.T, requestID string, event any) scfResult {
	t.Helper()
	data, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	f.runtime.events <- scfInvocation{requestID: requestID, event: data}
	select {
	case res := <-f.runtime.results:
		return res
	case <-time.After(time.Minute):
		t.Fatalf("no result for invocation %s", requestID)
		return scfResult{}
	}
}

// http invokes the function with an HTTP event (API gateway or function URL) and decodes its
// integrated response.
func (f *scfFunction) http(t *testing.T, requestID string, event map[string]any) gatewayReply {
	t.Helper()
	return f.gatewayReply(t, requestID, event, false)
}

// singleStringHTTP is http for a function URL's reply whose every header must be one string.
func (f *scfFunction) singleStringHTTP(t *testing.T, requestID string, event map[string]any) gatewayReply {
	t.Helper()
	return f.gatewayReply(t, requestID, event, true)
}

// gatewayReply invokes the function with an HTTP event and decodes its integrated response. A
// header is a string, or a list of strings when repeated (Set-Cookie); singleStrings refuses the
// lists, the only form Tencent documents being one string.
func (f *scfFunction) gatewayReply(t *testing.T, requestID string, event map[string]any, singleStrings bool) gatewayReply {
	t.Helper()
	res := f.invoke(t, requestID, event)
	var reply struct {
		IsBase64Encoded bool                       `json:"isBase64Encoded"`
		StatusCode      int                        `json:"statusCode"`
		Headers         map[string]json.RawMessage `json:"headers"`
		Body            string                     `json:"body"`
	}
	if res.path != "/runtime/invocation/response" || json.Unmarshal(res.body, &reply) != nil || reply.StatusCode == 0 {
		t.Fatalf("invocation %s answered on %s with %s; want an integrated response", requestID, res.path, res.body)
	}
	headers := http.Header{}
	for name, raw := range reply.Headers {
		var one string
		var many []string
		switch {
		case json.Unmarshal(raw, &one) == nil:
			headers.Add(name, one)
		case singleStrings:
			t.Errorf("%s: reply header %s is %s; want one string, the only form Tencent documents", requestID, name, raw)
		case json.Unmarshal(raw, &many) == nil:
			for _, v := range many {
				headers.Add(name, v)
			}
		default:
			t.Fatalf("reply header %s is %s; want a string or a list of strings", name, raw)
		}
	}
	return newGatewayReply(t, reply.StatusCode, headers, reply.Body, reply.IsBase64Encoded)
}

// timer invokes the function with a timer event and decodes its result.
func (f *scfFunction) timer(t *testing.T, requestID string, event any) platform.TimerResult {
	t.Helper()
	res := f.invoke(t, requestID, event)
	var out platform.TimerResult
	if res.path != "/runtime/invocation/response" || json.Unmarshal(res.body, &out) != nil || out.Attempt == 0 {
		t.Fatalf("invocation %s answered on %s with %s; want a timer result", requestID, res.path, res.body)
	}
	return out
}

// scfSourceIP is the client address of the API-gateway events; scfCallerSecretID is the key
// the gateway verified for the JSON API call.
const (
	scfSourceIP       = "203.0.113.8"
	scfCallerSecretID = "AKIDapicaller0000000000000000000001"
)

// scfAPIGatewayEvent is a Tencent API-gateway trigger event for one request, shaped as Tencent's
// sample (https://cloud.tencent.com/document/product/583/31927): lower-case headers, queryString,
// requestContext with the caller's sourceIp, and a base64 body when the gateway encodes it.
func scfAPIGatewayEvent(method, path string, headers map[string]string, body []byte, base64Body bool) map[string]any {
	const host = "service-3ei3tii4-1250000000.gz.apigw.tencentcs.com"
	hdr := map[string]string{
		"accept":          "text/html,application/xhtml+xml,application/json",
		"accept-language": "en-US,en",
		"host":            host,
		"user-agent":      "Mozilla/5.0 (X11; Linux x86_64)",
		"x-qualifier":     "$DEFAULT",
		"content-length":  fmt.Sprint(len(body)),
	}
	for k, v := range headers {
		hdr[k] = strings.ReplaceAll(v, "{host}", host)
	}
	event := map[string]any{
		"requestContext": map[string]any{
			"serviceId":  "service-3ei3tii4",
			"path":       "/",
			"httpMethod": "ANY",
			"requestId":  randomID(),
			"identity":   map[string]any{},
			"sourceIp":   scfSourceIP,
			"stage":      "release",
		},
		"headers":               hdr,
		"pathParameters":        map[string]any{},
		"queryStringParameters": map[string]any{},
		"headerParameters":      map[string]any{},
		"stageVariables":        map[string]any{},
		"path":                  path,
		"queryString":           map[string]any{},
		"httpMethod":            method,
		"isBase64Encoded":       base64Body,
	}
	if body != nil {
		event["body"] = string(body)
		if base64Body {
			event["body"] = base64.StdEncoding.EncodeToString(body)
		}
	}
	return event
}

// scfTimerEvent is the event serverless.yml's timer trigger sends: Tencent's timer shape with the
// trigger's argument as Message.
func scfTimerEvent(t *testing.T) map[string]any {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "serverless.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg scfConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("serverless.yml: %v", err)
	}
	for _, ev := range cfg.Inputs.Events {
		if ev.Timer != nil {
			p := ev.Timer.Parameters
			return map[string]any{"Type": "Timer", "TriggerName": p.Name, "Time": latestDueTime(t, nightlyCron), "Message": p.Argument}
		}
	}
	t.Fatal("serverless.yml has no timer trigger")
	return nil
}

// nightlyCron is when the test functions' nightly schedules are due (VULSCAN_SCHEDULES).
const nightlyCron = "0 0 2 * * * *"

// latestDueTime is the latest due time of cron, as a timer event gives it: the run a timer
// delivered now (or retried, keeping its time) stands for. Timers are refused at other times.
func latestDueTime(t *testing.T, cron string) string {
	t.Helper()
	c, err := schedule.ParseCron(cron)
	if err != nil {
		t.Fatal(err)
	}
	return c.Prev(time.Now()).Format(time.RFC3339)
}

// fakeSCFRuntime is SCF's custom-runtime API as the bootstrap sees it: it logs every call, hands
// out queued events on GET /runtime/invocation/next (a long poll, as SCF's), and passes the posted
// results on.
type fakeSCFRuntime struct {
	events  chan scfInvocation
	results chan scfResult
	done    chan struct{}
	once    sync.Once

	mu    sync.Mutex
	calls []string
	ready bool
}

type scfInvocation struct {
	requestID string
	event     []byte
}

type scfResult struct {
	path string // /runtime/invocation/response or /runtime/invocation/error
	body []byte
}

func newFakeSCFRuntime() *fakeSCFRuntime {
	return &fakeSCFRuntime{
		events:  make(chan scfInvocation),
		results: make(chan scfResult, 1),
		done:    make(chan struct{}),
	}
}

func (rt *fakeSCFRuntime) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt.mu.Lock()
	rt.calls = append(rt.calls, r.Method+" "+r.URL.Path)
	rt.mu.Unlock()
	switch r.Method + " " + r.URL.Path {
	case "POST /runtime/init/ready":
		rt.mu.Lock()
		rt.ready = true
		rt.mu.Unlock()
	case "GET /runtime/invocation/next":
		select {
		case inv := <-rt.events:
			// Spelled as Tencent's docs spell them; Go would canonicalise names set with Set.
			w.Header()["request_id"] = []string{inv.requestID}
			w.Header()["memory_limit_in_mb"] = []string{"128"}
			w.Header()["time_limit_in_ms"] = []string{"30000"}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(inv.event)
		case <-rt.done:
			http.Error(w, "test over", http.StatusServiceUnavailable)
		case <-r.Context().Done():
		}
	case "POST /runtime/invocation/response", "POST /runtime/invocation/error":
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case rt.results <- scfResult{path: r.URL.Path, body: bytes.Clone(body)}:
		case <-rt.done:
		}
	default:
		http.NotFound(w, r)
	}
}

// unblock ends pending long polls: the test is over.
func (rt *fakeSCFRuntime) unblock() { rt.once.Do(func() { close(rt.done) }) }

func (rt *fakeSCFRuntime) isReady() bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.ready
}

func (rt *fakeSCFRuntime) callLog() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.calls...)
}

// functionAuditDSN is an audit store for a function started from bin: a SQLite file in dir for
// the developer build, a fresh PostgreSQL schema for the release build (the deploy zips' bootstrap
// has no SQLite driver, and a deployed function keeps its log in PostgreSQL).
func functionAuditDSN(t *testing.T, bin, dir string) string {
	t.Helper()
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	for _, s := range info.Settings {
		if s.Key == "-tags" && slices.Contains(strings.Split(s.Value, ","), "release") {
			return sqlstoretest.PostgresDSN(t)
		}
	}
	return "sqlite:" + filepath.Join(dir, "audit.db")
}

// TestSCFStoreFailsMidInvocation: the audit store's open fails while an event waits for it. The
// instance must end, but only after that event is answered (a 503 from vulscan, not an error of
// SCF's for a process gone mid-call), and its log names the cause.
func TestSCFStoreFailsMidInvocation(t *testing.T) {
	// A "database" that takes connections and answers nothing until told to drop them: the open
	// hangs until then, and fails when the test chooses, with an event in flight.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns, drop := make(chan net.Conn, 16), make(chan struct{})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case <-drop: // refused from now on, a retried open too
				c.Close()
			default:
				conns <- c
			}
		}
	}()
	fn := startSCF(t, vulscanBinary(t), "VULSCAN_AUDIT_DSN=postgres://vulscan@"+ln.Addr().String()+"/vulscan?sslmode=disable")
	first := <-conns // the open has begun

	headers := map[string]string{"content-type": "application/json", "idempotency-key": "scf-store-down-1"}
	event := scfAPIGatewayEvent("POST", "/api/scans", headers, []byte(`{"RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[101]}`), false)
	event["requestContext"].(map[string]any)["identity"] = map[string]any{"secretId": scfCallerSecretID}
	data, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	fn.runtime.events <- scfInvocation{requestID: "req-store-down", event: data} // taken by the bootstrap's poll
	time.Sleep(500 * time.Millisecond)                                           // for it to reach the wait for the store
	close(drop)
	first.Close()
	for len(conns) > 0 {
		(<-conns).Close()
	}
	select {
	case res := <-fn.runtime.results:
		if res.path != "/runtime/invocation/response" || !bytes.Contains(res.body, []byte(`"statusCode":503`)) ||
			!bytes.Contains(res.body, []byte(`unavailable`)) {
			t.Errorf("the event was answered on %s with %s; want a 503 unavailable", res.path, res.body)
		}
	case <-fn.proc.exited:
		t.Fatalf("the bootstrap ended without answering the event in flight:\n%s", fn.output())
	}
	select {
	case <-fn.proc.exited:
	case <-time.After(time.Minute):
		t.Fatalf("the bootstrap did not end after its store failed:\n%s", fn.output())
	}
	if out := fn.output(); !strings.Contains(out, "vulscan: audit store: ") {
		t.Errorf("the log does not name the store's failure:\n%s", out)
	}
}
