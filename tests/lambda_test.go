package tests

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/platform"
	"github.com/vulscan/vulscan/functions/schedule"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// createAction is the TCSS action whose calls the tests count.
const createAction = "CreateVulScanTask"

// TestLambdaUnderRuntimeEmulator runs the deploy binary as AWS runs it: AWS's Lambda Runtime
// Interface Emulator starts it as the function's bootstrap and invokes it with real event shapes
// (API Gateway HTTP API payload 2.0, EventBridge schedules). The function calls a TCSS emulator
// with a static API key, as serverless.aws.yml configures it, and audits to SQLite. Every scan so
// started must be in the audit log with its trigger, and a retried schedule must start no second
// scan.
func TestLambdaUnderRuntimeEmulator(t *testing.T) {
	fn := startLambda(t)

	var formKey string
	t.Run("form GET renders the form", func(t *testing.T) {
		resp := fn.http(t, jwtCaller(httpAPIEvent("GET", "/", nil, nil, false)))
		resp.wantStatus(t, http.StatusOK)
		resp.wantHeader(t, "Content-Type", "text/html")
		formKey = resp.formKey(t)
	})

	var formAttempt string
	t.Run("base64 form POST starts a scan", func(t *testing.T) {
		form := url.Values{
			"LocalImageScanType": {"IMAGEIDS"},
			"LocalImageIDs":      {"sha256:" + strings.Repeat("0837c4ab", 8)},
			"IdempotencyKey":     {formKey},
		}
		resp := fn.http(t, jwtCaller(httpAPIEvent("POST", "/", formHeaders(), []byte(form.Encode()), true)))
		resp.wantStatus(t, http.StatusSeeOther)
		formAttempt = resp.attemptFromLocation(t)

		page := fn.http(t, jwtCaller(httpAPIEvent("GET", "/scans/"+formAttempt, nil, nil, false)))
		page.wantStatus(t, http.StatusOK)
	})

	t.Run("JSON API call starts a scan", func(t *testing.T) {
		headers := map[string]string{"content-type": "application/json", "idempotency-key": "lambda-api-1"}
		body := `{"RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[101,102]}`
		resp := fn.http(t, jwtCaller(httpAPIEvent("POST", "/api/scans", headers, []byte(body), false)))
		resp.wantStatus(t, http.StatusCreated)
		resp.wantHeader(t, "Content-Type", "application/json")
		var got struct {
			ID             int64  `json:"id"`
			Outcome        string `json:"outcome"`
			RegistryTaskID int64  `json:"RegistryTaskID"`
		}
		resp.decodeJSON(t, &got)
		if got.Outcome != string(audit.OutcomeSucceeded) || got.RegistryTaskID == 0 || got.ID == 0 {
			t.Errorf("API answer %+v; want a succeeded attempt with a registry task", got)
		}
	})

	const nightlyScan = `{"LocalImageScanType":"NOT_SCAN","RegistryImageScanType":"NOT_SCAN"}`
	nightly := scheduledEvent("vulscan-prod-nightly", latestDueTime(t, nightlyCron), nightlyScan)
	var first platform.TimerResult
	t.Run("EventBridge scheduled event starts a scan", func(t *testing.T) {
		first = fn.timer(t, nightly)
		if first.Schedule != "vulscan-prod-nightly" || first.Outcome != audit.OutcomeSucceeded || first.Replayed {
			t.Errorf("timer result %+v; want a new succeeded scan for vulscan-prod-nightly", first)
		}
	})

	t.Run("retried scheduled event starts no second scan", func(t *testing.T) {
		before := fn.tcss.Calls(createAction)
		again := fn.timer(t, nightly)
		if !again.Replayed || again.Attempt != first.Attempt {
			t.Errorf("retry result %+v; want attempt %d replayed", again, first.Attempt)
		}
		if after := fn.tcss.Calls(createAction); after != before {
			t.Errorf("TCSS got %d more CreateVulScanTask calls on a retry; want none", after-before)
		}
	})

	t.Run("scheduled events at forged times start nothing", func(t *testing.T) {
		before := fn.tcss.Calls(createAction)
		// QA's events: whoever may invoke the function could send any time, each a new run.
		for _, at := range []string{"2026-12-04T08:09:37Z", "1999-01-01T13:13:13Z", "2031-05-05T05:05:05Z"} {
			status, body := fn.invoke(t, scheduledEvent("vulscan-prod-nightly", at, nightlyScan))
			var fnErr struct {
				ErrorMessage string `json:"errorMessage"`
			}
			if err := json.Unmarshal(body, &fnErr); err != nil || !strings.Contains(fnErr.ErrorMessage, at) ||
				!strings.Contains(fnErr.ErrorMessage, `"vulscan-prod-nightly" was refused`) {
				t.Errorf("event at %s answered %d %s; want a function error refusing the time", at, status, body)
			}
		}
		if after := fn.tcss.Calls(createAction); after != before {
			t.Errorf("TCSS got %d CreateVulScanTask calls for forged times; want none", after-before)
		}
		if n := countRecords(auditRecords(t, fn.dsn), audit.TriggerTimer, audit.OutcomeRejected); n != 3 {
			t.Errorf("%d rejected timer records; want the 3 forged events", n)
		}
	})

	// The rule fired at the latest 02:00 UTC, usually hours before this test: a run delivered or
	// retried late, which the input's time keeps taken for its due time.
	t.Run("serverless.aws.yml's schedule input starts its due time's scan, however late", func(t *testing.T) {
		due := latestDueTime(t, nightlyCron)
		res := fn.timer(t, scheduleInputFromConfig(t, due))
		if res.Schedule != "nightly" || res.Outcome != audit.OutcomeSucceeded || res.Replayed {
			t.Fatalf("timer result %+v; want a succeeded scan for schedule nightly", res)
		}
		again := fn.timer(t, scheduleInputFromConfig(t, due))
		if !again.Replayed || again.Attempt != res.Attempt {
			t.Errorf("retry result %+v; want attempt %d replayed", again, res.Attempt)
		}
		dueTime, err := time.Parse(time.RFC3339, due)
		if err != nil {
			t.Fatal(err)
		}
		want := schedule.RunKey("nightly", dueTime)
		for _, rec := range auditRecords(t, fn.dsn) {
			if rec.ID == res.Attempt && rec.IdempotencyKey != want {
				t.Errorf("run keyed %q, want %q", rec.IdempotencyKey, want)
			}
		}
	})

	t.Run("unknown event is an invocation error", func(t *testing.T) {
		status, body := fn.invoke(t, map[string]any{"Records": []any{map[string]any{"eventSource": "aws:sqs"}}})
		var fnErr struct {
			ErrorMessage string `json:"errorMessage"`
		}
		if err := json.Unmarshal(body, &fnErr); err != nil || !strings.Contains(fnErr.ErrorMessage, "unknown event") {
			t.Errorf("invoke answered %d %s; want a function error about an unknown event", status, body)
		}
	})

	// Four scans started (form, API, EventBridge event, schedule input); the retry added none.
	if got := fn.tcss.Calls(createAction); got != 4 {
		t.Errorf("TCSS got %d CreateVulScanTask calls; want 4", got)
	}
	recs := auditRecords(t, fn.dsn)
	started := startedScans(t, recs)
	wantTriggers(t, started, map[audit.Trigger]int{audit.TriggerForm: 1, audit.TriggerAPI: 1, audit.TriggerTimer: 2})
	for _, r := range started {
		if r.FunctionRequestID == "" {
			t.Errorf("record %d (%s) has no Lambda request ID", r.ID, r.Trigger)
		}
		switch r.Trigger {
		case audit.TriggerForm:
			if fmt.Sprint(r.ID) != formAttempt || r.SourceIP != httpAPISourceIP {
				t.Errorf("form record %d from %q; want attempt %s from %s", r.ID, r.SourceIP, formAttempt, httpAPISourceIP)
			}
		case audit.TriggerAPI:
			if r.Actor != "gateway:"+httpAPICaller {
				t.Errorf("API record %d actor %q; want the JWT's issuer and subject %s", r.ID, r.Actor, httpAPICaller)
			}
		case audit.TriggerTimer:
			if r.Actor != "system:timer/vulscan-prod-nightly" && r.Actor != "system:timer/nightly" {
				t.Errorf("timer record %d actor %q; want system:timer/<schedule>", r.ID, r.Actor)
			}
		}
	}
	if n := countRecords(recs, audit.TriggerEvent, audit.OutcomeRejected); n != 1 {
		t.Errorf("%d rejected records for unknown events; want 1", n)
	}
	verifyAudit(t, fn.dsn)
}

// lambdaFunction is the bootstrap running under the Runtime Interface Emulator.
type lambdaFunction struct {
	invokeURL string
	tcss      *tcsstest.Emulator
	dsn       string
	rie       *process // the runtime emulator, whose output holds the function's log
}

// TestLambdaInitErrorReachesInvoker starts the function with a setting that stops its start-up:
// Lambda must be told why at its runtime API's init/error, so that the invoker (and Lambda's
// report) reads the cause, not only "Runtime exited with error: exit status 1".
func TestLambdaInitErrorReachesInvoker(t *testing.T) {
	key := tcsstest.RandomKey()
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}})
	t.Cleanup(srv.Close)
	fn := startLambdaWith(t, emu, srv.URL, "TENCENTCLOUD_ROLE_ARN=not-a-role")

	status, body := fn.invoke(t, scheduledEvent("nightly", latestDueTime(t, nightlyCron), `{}`))
	var got struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("invoke answered %d %q; want Lambda's init error with its cause", status, body)
	}
	if got.ErrorType != platform.LambdaInitErrorType || !strings.Contains(got.ErrorMessage, "TENCENTCLOUD_ROLE_ARN") {
		t.Errorf("invoke answered %d %+v; want errorType %s naming TENCENTCLOUD_ROLE_ARN", status, got, platform.LambdaInitErrorType)
	}
	if n := emu.Calls(createAction); n != 0 {
		t.Errorf("TCSS got %d %s calls from a function that did not start", n, createAction)
	}
}

// TestLambdaRefusesAMisspeltSetting starts the function under the runtime emulator with a
// VULSCAN_ variable vulscan does not read: the invoker reads Lambda's init error naming it and
// the setting meant, never its value, and nothing reaches TCSS.
func TestLambdaRefusesAMisspeltSetting(t *testing.T) {
	for _, tc := range []struct{ setting, want string }{
		{"VULSCAN_START_LIMTI=3", "VULSCAN_START_LIMTI is not a vulscan setting (did you mean VULSCAN_START_LIMIT?)"},
		{"VULSCAN_AUDIT_DNS=postgres://vulscan:TOPSECRET@db.example/audit", "VULSCAN_AUDIT_DNS is not a vulscan setting (did you mean VULSCAN_AUDIT_DSN?)"},
	} {
		t.Run(tc.setting[:strings.Index(tc.setting, "=")], func(t *testing.T) {
			key := tcsstest.RandomKey()
			emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}})
			t.Cleanup(srv.Close)
			fn := startLambdaWith(t, emu, srv.URL, "TENCENTCLOUD_SECRET_ID="+key.SecretID, "TENCENTCLOUD_SECRET_KEY="+key.SecretKey, tc.setting)
			status, body := fn.invoke(t, scheduledEvent("nightly", latestDueTime(t, nightlyCron), `{}`))
			var got struct {
				ErrorMessage string `json:"errorMessage"`
				ErrorType    string `json:"errorType"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("invoke answered %d %q; want Lambda's init error with its cause", status, body)
			}
			if got.ErrorType != platform.LambdaInitErrorType || !strings.Contains(got.ErrorMessage, tc.want) {
				t.Errorf("invoke answered %d %+v; want errorType %s saying %q", status, got, platform.LambdaInitErrorType, tc.want)
			}
			if strings.Contains(string(body), "TOPSECRET") {
				t.Errorf("the init error echoes the value: %s", body)
			}
			if n := emu.Calls(createAction); n != 0 {
				t.Errorf("TCSS got %d %s calls from a function that did not start", n, createAction)
			}
		})
	}
}

// startLambda starts the runtime emulator on free loopback ports (it binds 0.0.0.0:8080 unless
// told otherwise) with the bootstrap as the function, configured as serverless.aws.yml does:
// TCSS endpoint, static key, audit DSN.
func startLambda(t *testing.T) *lambdaFunction {
	t.Helper()
	key := tcsstest.RandomKey()
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}})
	t.Cleanup(srv.Close)
	return startLambdaWith(t, emu, srv.URL,
		"TENCENTCLOUD_SECRET_ID="+key.SecretID,
		"TENCENTCLOUD_SECRET_KEY="+key.SecretKey,
	)
}

// startLambdaWith starts the bootstrap under the runtime emulator against the TCSS emulator emu
// at tcssURL, with the credential settings in env.
func startLambdaWith(t *testing.T, emu *tcsstest.Emulator, tcssURL string, env ...string) *lambdaFunction {
	t.Helper()
	rie := requireTool(t, "aws-lambda-rie")
	bin := vulscanBinary(t)
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "audit.db")
	addrs := freeAddrs(t, 2)
	invokeAddr, runtimeAddr := addrs[0], addrs[1]
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", runtimeAddr, bin)
	cmd.Dir = dir
	cmd.Env = functionEnv(append([]string{
		"VULSCAN_AUDIT_DSN=" + dsn,
		"VULSCAN_TCSS_ENDPOINT=" + tcssURL,
		"VULSCAN_AUTH=gateway", // the HTTP API's JWT authorizer proves the caller
		// nightly is due every minute here: serverless.aws.yml's constant input carries no time,
		// so its arrival must be a due time (within schedule.Grace of one).
		"VULSCAN_SCHEDULES=nightly=" + nightlyCron + ";vulscan-prod-nightly=" + nightlyCron,
	}, env...)...)
	p := startProcess(t, cmd)
	waitUntil(t, "the runtime emulator to listen on "+invokeAddr, func() error {
		select {
		case <-p.exited:
			return fmt.Errorf("aws-lambda-rie exited: %v\n%s", p.err, p.Output())
		default:
		}
		c, err := net.Dial("tcp", invokeAddr)
		if err == nil {
			c.Close()
		}
		return err
	})
	return &lambdaFunction{
		invokeURL: "http://" + invokeAddr + "/2015-03-31/functions/function/invocations",
		tcss:      emu,
		dsn:       dsn,
		rie:       p,
	}
}

// invoke sends one event and returns the emulator's status and the function's result.
func (f *lambdaFunction) invoke(t *testing.T, event any) (int, []byte) {
	t.Helper()
	data, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: time.Minute}
	resp, err := client.Post(f.invokeURL, "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// http invokes the function with an HTTP API event and decodes its payload 2.0 reply.
func (f *lambdaFunction) http(t *testing.T, event map[string]any) gatewayReply {
	t.Helper()
	status, body := f.invoke(t, event)
	var reply struct {
		StatusCode      int               `json:"statusCode"`
		Headers         map[string]string `json:"headers"`
		Cookies         []string          `json:"cookies"`
		Body            string            `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(body, &reply); err != nil || status != http.StatusOK || reply.StatusCode == 0 {
		t.Fatalf("invoke answered %d %s; want an HTTP API reply", status, body)
	}
	headers := http.Header{}
	for k, v := range reply.Headers {
		headers.Set(k, v)
	}
	return newGatewayReply(t, reply.StatusCode, headers, reply.Body, reply.IsBase64Encoded)
}

// timer invokes the function with a schedule event and decodes its result.
func (f *lambdaFunction) timer(t *testing.T, event any) platform.TimerResult {
	t.Helper()
	status, body := f.invoke(t, event)
	var res platform.TimerResult
	if err := json.Unmarshal(body, &res); err != nil || res.Attempt == 0 {
		t.Fatalf("invoke answered %d %s; want a timer result", status, body)
	}
	return res
}

// httpAPISourceIP is the client address of the HTTP API events; httpAPIIssuer and
// httpAPISubject name the JWT an authorizer verified for the JSON API call, and httpAPICaller is
// the identity vulscan makes of them.
const (
	httpAPISourceIP = "198.51.100.4"
	httpAPIIssuer   = "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_Example"
	httpAPISubject  = "ci-pipeline@example.com"
	httpAPICaller   = "jwt:" + httpAPIIssuer + "#" + httpAPISubject
)

// jwtCaller marks event as verified by a JWT authorizer on the HTTP API (VULSCAN_AUTH=gateway).
func jwtCaller(event map[string]any) map[string]any {
	event["requestContext"].(map[string]any)["authorizer"] = map[string]any{
		"jwt": map[string]any{"claims": map[string]string{"iss": httpAPIIssuer, "sub": httpAPISubject}, "scopes": nil},
	}
	return event
}

// httpAPIEvent is an API Gateway HTTP API (payload 2.0) event for one request, shaped as AWS
// sends it (aws-lambda-go's events/testdata/apigw-v2-request-no-authorizer.json). Form bodies
// arrive base64-encoded, as API Gateway sends them.
func httpAPIEvent(method, path string, headers map[string]string, body []byte, base64Body bool) map[string]any {
	const host = "a1b2c3d4e5.execute-api.ap-southeast-1.amazonaws.com"
	const userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
	hdr := map[string]string{
		"accept":            "text/html,application/xhtml+xml,application/json",
		"content-length":    fmt.Sprint(len(body)),
		"host":              host,
		"user-agent":        userAgent,
		"x-amzn-trace-id":   "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c",
		"x-forwarded-for":   httpAPISourceIP,
		"x-forwarded-port":  "443",
		"x-forwarded-proto": "https",
	}
	for k, v := range headers {
		hdr[k] = strings.ReplaceAll(v, "{host}", host)
	}
	now := time.Now().UTC()
	event := map[string]any{
		"version":        "2.0",
		"routeKey":       "$default",
		"rawPath":        path,
		"rawQueryString": "",
		"headers":        hdr,
		"requestContext": map[string]any{
			"accountId":    "123456789012",
			"apiId":        "a1b2c3d4e5",
			"domainName":   host,
			"domainPrefix": "a1b2c3d4e5",
			"http": map[string]any{
				"method": method, "path": path, "protocol": "HTTP/1.1",
				"sourceIp": httpAPISourceIP, "userAgent": userAgent,
			},
			"requestId": randomID(),
			"routeKey":  "$default",
			"stage":     "$default",
			"time":      now.Format("02/Jan/2006:15:04:05 -0700"),
			"timeEpoch": now.UnixMilli(),
		},
		"isBase64Encoded": base64Body,
	}
	if body != nil {
		if base64Body {
			event["body"] = base64.StdEncoding.EncodeToString(body)
		} else {
			event["body"] = string(body)
		}
	}
	return event
}

// formHeaders are the headers a browser sends with a same-origin form post ({host} is the
// gateway's host).
func formHeaders() map[string]string {
	return map[string]string{
		"content-type":   "application/x-www-form-urlencoded",
		"origin":         "https://{host}",
		"sec-fetch-site": "same-origin",
	}
}

// scheduledEvent is an EventBridge "Scheduled Event" for the rule named rule, with the scan
// request in detail (shaped as AWS's sample in the EventBridge docs).
func scheduledEvent(rule, at, detail string) map[string]any {
	return map[string]any{
		"version":     "0",
		"id":          randomID(),
		"detail-type": "Scheduled Event",
		"source":      "aws.events",
		"account":     "123456789012",
		"time":        at,
		"region":      "ap-southeast-1",
		"resources":   []string{"arn:aws:events:ap-southeast-1:123456789012:rule/" + rule},
		"detail":      json.RawMessage(detail),
	}
}

// scheduleInputFromConfig is what EventBridge will send the function for serverless.aws.yml's
// schedule when its rule fires at at: the schedule's input transformer applied to the rule's own
// Scheduled Event.
func scheduleInputFromConfig(t *testing.T, at string) map[string]any {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "serverless.aws.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Functions map[string]struct {
			Events []struct {
				Schedule *struct {
					Name             string           `yaml:"name"`
					InputTransformer inputTransformer `yaml:"inputTransformer"`
				} `yaml:"schedule"`
			} `yaml:"events"`
		} `yaml:"functions"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("serverless.aws.yml: %v", err)
	}
	for _, fn := range cfg.Functions {
		for _, ev := range fn.Events {
			if ev.Schedule != nil && ev.Schedule.InputTransformer.InputTemplate != "" {
				var input map[string]any
				out := ev.Schedule.InputTransformer.apply(t, scheduledEvent(ev.Schedule.Name, at, "{}"))
				if err := json.Unmarshal(out, &input); err != nil {
					t.Fatalf("serverless.aws.yml's input template gives %s: %v", out, err)
				}
				return input
			}
		}
	}
	t.Fatal("serverless.aws.yml has no schedule with an input transformer")
	return nil
}

// inputTransformer is an EventBridge target's input transformer (serverless.aws.yml's
// inputTransformer, CloudFormation's InputTransformer).
type inputTransformer struct {
	InputPathsMap map[string]string `yaml:"inputPathsMap" json:"InputPathsMap"`
	InputTemplate string            `yaml:"inputTemplate" json:"InputTemplate"`
}

// apply fills the template from event as EventBridge does for a JSON template: each <name>
// becomes the value at its path ($.field only here), written as JSON.
func (tr inputTransformer) apply(t *testing.T, event map[string]any) []byte {
	t.Helper()
	out := tr.InputTemplate
	for name, path := range tr.InputPathsMap {
		field, ok := strings.CutPrefix(path, "$.")
		if !ok || strings.ContainsAny(field, ".[*") {
			t.Fatalf("input path %s=%s: only $.field paths are supported here", name, path)
		}
		value, err := json.Marshal(event[field])
		if err != nil {
			t.Fatal(err)
		}
		out = strings.ReplaceAll(out, "<"+name+">", string(value))
	}
	if strings.Contains(out, "<") {
		t.Fatalf("input template %s left a placeholder unfilled: %s", tr.InputTemplate, out)
	}
	return []byte(out)
}

// gatewayReply is an API gateway's reply (AWS or Tencent), decoded.
type gatewayReply struct {
	status  int
	headers http.Header
	body    []byte
}

func newGatewayReply(t *testing.T, status int, headers http.Header, body string, isBase64 bool) gatewayReply {
	t.Helper()
	data := []byte(body)
	if isBase64 {
		var err error
		if data, err = base64.StdEncoding.DecodeString(body); err != nil {
			t.Fatalf("reply body is not base64: %v", err)
		}
	}
	return gatewayReply{status: status, headers: headers, body: data}
}

func (r gatewayReply) wantStatus(t *testing.T, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d; want %d; body:\n%.2000s", r.status, want, r.body)
	}
}

func (r gatewayReply) wantHeader(t *testing.T, name, prefix string) {
	t.Helper()
	if got := r.headers.Get(name); !strings.HasPrefix(got, prefix) {
		t.Errorf("%s: %q; want %s", name, got, prefix)
	}
}

func (r gatewayReply) decodeJSON(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("reply body %q: %v", r.body, err)
	}
}

var idempotencyKeyInput = regexp.MustCompile(`name="IdempotencyKey"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="IdempotencyKey"`)

// formKey returns the idempotency key the form page carries in its hidden field.
func (r gatewayReply) formKey(t *testing.T) string {
	t.Helper()
	m := idempotencyKeyInput.FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("the form page has no IdempotencyKey field:\n%.2000s", r.body)
	}
	return string(m[1]) + string(m[2])
}

var attemptLocation = regexp.MustCompile(`^(?:\./)?scans/(\d+)$`)

// attemptFromLocation returns the attempt ID of a redirect to its page, which must be relative
// (Tencent's gateway adds a stage prefix the function never sees).
func (r gatewayReply) attemptFromLocation(t *testing.T) string {
	t.Helper()
	loc := r.headers.Get("Location")
	m := attemptLocation.FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("Location %q; want a relative scans/{id}", loc)
	}
	return m[1]
}

// startedScans returns the pending records of the log (one per scan sent to TCSS), each of which
// must be closed by a succeeded outcome record.
func startedScans(t *testing.T, recs []audit.Record) []audit.Record {
	t.Helper()
	closed := map[int64]audit.Outcome{}
	for _, r := range recs {
		if r.PendingID != 0 {
			closed[r.PendingID] = r.Outcome
		}
	}
	var started []audit.Record
	for _, r := range recs {
		if r.Outcome != audit.OutcomePending {
			continue
		}
		started = append(started, r)
		if closed[r.ID] != audit.OutcomeSucceeded {
			t.Errorf("pending record %d (%s) closed as %q; want succeeded", r.ID, r.Trigger, closed[r.ID])
		}
	}
	return started
}

// wantTriggers checks how many started scans each trigger has.
func wantTriggers(t *testing.T, started []audit.Record, want map[audit.Trigger]int) {
	t.Helper()
	got := map[audit.Trigger]int{}
	for _, r := range started {
		got[r.Trigger]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("started scans by trigger %v; want %v", got, want)
	}
}

// countRecords counts the records with this trigger and outcome.
func countRecords(recs []audit.Record, trigger audit.Trigger, outcome audit.Outcome) int {
	n := 0
	for _, r := range recs {
		if r.Trigger == trigger && r.Outcome == outcome {
			n++
		}
	}
	return n
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestLambdaStoreFailsMidInvocation starts the function with a PostgreSQL that refuses
// connections: the store opens when the first event needs it (the instance's start is done by
// then), fails, and the instance must end; the event that was waiting for it still gets its
// answer, a 503, not Lambda's "Runtime exited" for a process gone mid-call, and the log names
// the cause (the answer does not: a caller learns nothing of the database's address).
func TestLambdaStoreFailsMidInvocation(t *testing.T) {
	key := tcsstest.RandomKey()
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}})
	t.Cleanup(srv.Close)
	refused := freeAddrs(t, 1)[0] // nothing listens there
	fn := startLambdaWith(t, emu, srv.URL, "TENCENTCLOUD_SECRET_ID="+key.SecretID, "TENCENTCLOUD_SECRET_KEY="+key.SecretKey,
		"VULSCAN_AUDIT_DSN=postgres://vulscan@"+refused+"/vulscan?sslmode=disable")
	headers := map[string]string{"content-type": "application/json", "idempotency-key": "lambda-store-down-1"}
	body := `{"RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[101]}`
	status, raw := fn.invoke(t, jwtCaller(httpAPIEvent("POST", "/api/scans", headers, []byte(body), false)))
	var reply struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil || status != http.StatusOK || reply.StatusCode != http.StatusServiceUnavailable ||
		!strings.Contains(reply.Body, `"code":"unavailable"`) || !strings.Contains(reply.Body, "audit log") {
		t.Errorf("invoke answered %d %s; want a 503 unavailable that says the audit log is", status, raw)
	}
	if n := emu.Calls(createAction); n != 0 {
		t.Errorf("TCSS got %d %s calls without an audit log", n, createAction)
	}
	waitUntil(t, "the function's log to name the cause", func() error {
		if out := fn.rie.Output(); !strings.Contains(out, "vulscan: audit store: ") || !strings.Contains(out, "connection refused") {
			return errors.New("no line names the store's failure")
		}
		return nil
	})
	// The instance ends after its answer. An event the runtime API hands it first is failed with
	// the reason (retry); a later one starts a new instance, answered the same way.
	status, raw = fn.invoke(t, jwtCaller(httpAPIEvent("POST", "/api/scans", headers, []byte(body), false)))
	ending := bytes.Contains(raw, []byte("the instance is ending; nothing was started; retry"))
	if err := json.Unmarshal(raw, &reply); !ending && (err != nil || status != http.StatusOK || reply.StatusCode != http.StatusServiceUnavailable) {
		t.Errorf("the next invoke answered %d %s; want a 503 from a new instance, or the ending one's refusal", status, raw)
	}
	if out := fn.rie.Output(); strings.Contains(out, "Runtime.ExitError") {
		t.Errorf("Lambda reports the runtime exited mid-invocation:\n%s", out)
	}
}
