package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/platform"
	"github.com/vulscan/vulscan/functions/schedule"
)

// scfRuntimeAPI is a minimal fake of SCF's custom-runtime API: it hands out queued events and
// collects the answers. (functions/platform tests the protocol in depth.)
type scfRuntimeAPI struct {
	srv     *httptest.Server
	ready   chan struct{}
	events  chan [2]string // request ID, event
	answers chan [2]string // "response" or "error", body
}

func newSCFRuntimeAPI(t *testing.T) *scfRuntimeAPI {
	f := &scfRuntimeAPI{ready: make(chan struct{}, 1), events: make(chan [2]string, 8), answers: make(chan [2]string, 8)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /runtime/init/ready", func(http.ResponseWriter, *http.Request) { f.ready <- struct{}{} })
	mux.HandleFunc("GET /runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case ev := <-f.events:
			w.Header()["request_id"] = []string{ev[0]}
			w.Header()["time_limit_in_ms"] = []string{"30000"}
			io.WriteString(w, ev[1])
		case <-r.Context().Done():
		}
	})
	for _, kind := range []string{"response", "error"} {
		mux.HandleFunc("POST /runtime/invocation/"+kind, func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			f.answers <- [2]string{kind, string(b)}
		})
	}
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *scfRuntimeAPI) invoke(t *testing.T, requestID, event string) (kind, body string) {
	t.Helper()
	f.events <- [2]string{requestID, event}
	select {
	case a := <-f.answers:
		return a[0], a[1]
	case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
		t.Fatalf("no answer to %s", requestID)
		return "", ""
	}
}

func scfAPIGatewayEvent(method, path, contentType, body string) string {
	ev := map[string]any{
		"httpMethod": method, "path": path, "body": body, "isBase64Encoded": false, "queryString": map[string]any{},
		"headers": map[string]string{"content-type": contentType, "host": "service-x.gz.apigw.tencentcs.com", "user-agent": "curl/8.5.0"},
		"requestContext": map[string]any{"serviceId": "service-x", "requestId": "gw-" + path, "sourceIp": "203.0.113.9",
			"stage": "release", "identity": map[string]string{"secretId": "AKIDgatewaykey"}},
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

// The SCF mode end to end in-process: the app built from the environment, the runtime loop, the
// web handler and the scan service, with every attempt in the audit log under its trigger and
// the invocation's request ID.
func TestSCFModeServesTheAppThroughTheRuntimeAPI(t *testing.T) {
	api := newSCFRuntimeAPI(t)
	host, port, _ := net.SplitHostPort(api.srv.Listener.Addr().String())
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "audit.db")
	e, _, stderr := testEnv("", map[string]string{
		"SCF_RUNTIME_API": host, "SCF_RUNTIME_API_PORT": port,
		"VULSCAN_TCSS_ENDPOINT": "emulator", "VULSCAN_AUDIT_DSN": dsn,
		// The legacy API gateway's key authentication names the caller's SecretId.
		"VULSCAN_AUTH": "gateway",
		// The only schedule timers may start.
		"VULSCAN_SCHEDULES": "nightly=0 0 2 * * * *",
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, nil, e) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("SCF mode exited %d: %s", code, stderr)
		}
	}
	t.Cleanup(stop)

	// The latest due time: timers are refused at any other.
	nightly, err := schedule.ParseCron("0 0 2 * * * *")
	if err != nil {
		t.Fatal(err)
	}
	timer := `{"Type":"Timer","TriggerName":"nightly","Time":"` + nightly.Prev(time.Now()).Format(time.RFC3339) +
		`","Message":"{\"RegistryImageScanType\":\"NOT_SCAN\"}"}`
	kind, body := api.invoke(t, "scf-timer-1", timer)
	var res platform.TimerResult
	if err := json.Unmarshal([]byte(body), &res); kind != "response" || err != nil || res.Outcome != audit.OutcomeSucceeded {
		t.Fatalf("timer answered %s %s", kind, body)
	}
	// SCF retries an asynchronous invocation with the same event: no second scan.
	if kind, body = api.invoke(t, "scf-timer-2", timer); !strings.Contains(body, `"replayed":true`) {
		t.Errorf("retried timer answered %s %s", kind, body)
	}

	kind, body = api.invoke(t, "scf-page-1", scfAPIGatewayEvent("GET", "/", "", ""))
	var page platform.SCFAPIGatewayResponse
	if err := json.Unmarshal([]byte(body), &page); kind != "response" || err != nil || page.StatusCode != 200 ||
		!strings.Contains(page.Body, "<form") {
		t.Errorf("form page answered %s %.300s", kind, body)
	}

	kind, body = api.invoke(t, "scf-api-1", scfAPIGatewayEvent("POST", "/api/scans", "application/json", `{"LocalImageScanType":"ALL"}`))
	var created platform.SCFAPIGatewayResponse
	if err := json.Unmarshal([]byte(body), &created); kind != "response" || err != nil || created.StatusCode != http.StatusCreated {
		t.Errorf("API answered %s %.300s", kind, body)
	}

	// A body over the event limit still reaches the app: the caller is authenticated, answered
	// in the API's JSON, and the refusal is recorded.
	big := `{"LocalImageScanType":"ALL","x":"` + strings.Repeat("a", 2<<20) + `"}`
	kind, body = api.invoke(t, "scf-big-1", scfAPIGatewayEvent("POST", "/api/scans", "application/json", big))
	var tooLarge platform.SCFAPIGatewayResponse
	if err := json.Unmarshal([]byte(body), &tooLarge); kind != "response" || err != nil ||
		tooLarge.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(tooLarge.Body, `"code":"too_large"`) {
		t.Errorf("oversized API call answered %s %.300s", kind, body)
	}

	if kind, body = api.invoke(t, "scf-odd-1", `{"Records":[{"cos":{}}]}`); kind != "error" || !strings.Contains(body, "unknown event shape") {
		t.Errorf("unknown event answered %s %s", kind, body)
	}

	stop()
	store, err := openAuditStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var got []string
	store.Each(context.Background(), audit.Filter{}, func(r audit.Record) error {
		got = append(got, fmt.Sprintf("%s %s %s %s %s", r.Outcome, r.Trigger, r.Actor, r.SourceIP, r.FunctionRequestID))
		return nil
	})
	want := []string{
		"pending timer system:timer/nightly  scf-timer-1",
		"succeeded timer system:timer/nightly  scf-timer-1",
		"replayed timer system:timer/nightly  scf-timer-2", // SCF's retry, answered from the first
		"pending api gateway:AKIDgatewaykey 203.0.113.9 scf-api-1",
		"succeeded api gateway:AKIDgatewaykey 203.0.113.9 scf-api-1",
		"rejected api gateway:AKIDgatewaykey 203.0.113.9 scf-big-1",
		"rejected event system:platform  scf-odd-1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSCFModeNeedsTheRuntimeAPIPort(t *testing.T) {
	e, _, stderr := testEnv("", map[string]string{"SCF_RUNTIME_API": "127.0.0.1"})
	if code := run(context.Background(), nil, e); code != 1 || !strings.Contains(stderr.String(), "SCF_RUNTIME_API_PORT") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// A function instance opens its store once its first event is answered, or at once when that
// event needs it (storeOpenDelay, the fallback, is an hour here, so only the events decide).
func TestFunctionOpensItsStoreAfterTheFirstAnswerOrWhenNeeded(t *testing.T) {
	defer func(d time.Duration) { storeOpenDelay = d }(storeOpenDelay)
	storeOpenDelay = time.Hour
	for _, first := range []struct {
		name, event string
		wantStatus  int
	}{
		{"the form", scfFunctionURLEvent("GET", "/", "", ""), http.StatusOK},
		{"a scan", scfFunctionURLEvent("POST", "/api/scans", "application/json", `{"LocalImageScanType":"ALL"}`), http.StatusCreated},
	} {
		t.Run(first.name, func(t *testing.T) {
			api := newSCFRuntimeAPI(t)
			host, port, _ := net.SplitHostPort(api.srv.Listener.Addr().String())
			path := filepath.Join(t.TempDir(), "audit.db")
			e, _, stderr := testEnv("", map[string]string{
				"SCF_RUNTIME_API": host, "SCF_RUNTIME_API_PORT": port,
				"VULSCAN_TCSS_ENDPOINT": "emulator", "VULSCAN_AUDIT_DSN": "sqlite:" + path, "VULSCAN_PUBLIC": "I-understand",
			})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan int, 1)
			go func() { done <- run(ctx, nil, e) }()
			defer func() {
				cancel()
				if code := <-done; code != 0 {
					t.Errorf("SCF mode exited %d: %s", code, stderr)
				}
			}()
			select {
			case <-api.ready:
			case <-time.After(30 * time.Second): // a hang guard
				t.Fatal("no init/ready")
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("the store was opened before any event (stat: %v)", err)
			}
			kind, body := api.invoke(t, "scf-first", first.event)
			var resp platform.SCFAPIGatewayResponse
			if err := json.Unmarshal([]byte(body), &resp); kind != "response" || err != nil || resp.StatusCode != first.wantStatus {
				t.Fatalf("first event answered %s %.300s", kind, body)
			}
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) { // a hang guard
				if _, err := os.Stat(path); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the store was not opened after the first answer")
				}
			}
		})
	}
}

// scfFunctionURLEvent is an event function's function URL event (no requestContext).
func scfFunctionURLEvent(method, path, contentType, body string) string {
	b, _ := json.Marshal(map[string]any{
		"httpMethod": method, "path": path, "body": body, "queryString": map[string]any{},
		"headers": map[string]string{"content-type": contentType, "host": "1250000000-abc.gz.tencentscf.com",
			"user-agent": "curl/8.5.0", "x-scf-remote-addr": "203.0.113.9"},
	})
	return string(b)
}

// TestRefusalsBeforeTheHandlerKeepTheAPIsShape: an HTTP event refused before the web handler can
// serve it (a request line that cannot be read, an event that cannot be decoded) is answered as
// the handler answers: the API's JSON error under /api/, which README documents and clients
// branch on, plain text elsewhere; a malformed event is answered 400 (not failed, which the
// platform would answer 502, the code of TCSS's refusal) and recorded.
func TestRefusalsBeforeTheHandlerKeepTheAPIsShape(t *testing.T) {
	api := startSCFMode(t, map[string]string{"VULSCAN_AUTH": "apikey", "VULSCAN_API_KEYS": "ci:" + strings.Repeat("0", 64)})
	lambdaURL := func(method, path, body string) string {
		b, _ := json.Marshal(map[string]any{
			"version": "2.0", "rawPath": path, "rawQueryString": "", "body": body,
			"headers": map[string]any{"host": "abc.lambda-url.us-east-1.on.aws", "content-type": "application/json"},
			"requestContext": map[string]any{"domainName": "abc.lambda-url.us-east-1.on.aws", "requestId": "r",
				"http": map[string]any{"method": method, "path": path, "sourceIp": "203.0.113.9"}},
		})
		return string(b)
	}
	for i, tc := range []struct {
		name, event, code string // code "" wants plain text
	}{
		{"SCF function URL: a method that is none", scfFunctionURLEvent("PO ST", "/api/scans", "application/json", "{}"), "bad_request"},
		{"SCF function URL: a path that cannot be decoded", scfFunctionURLEvent("GET", "/api/scans/%zz", "", ""), "bad_request"},
		{"SCF function URL: a malformed event", strings.Replace(scfFunctionURLEvent("POST", "/api/scans", "application/json", ""),
			`"body":""`, `"body":5`, 1), "bad_request"},
		{"Lambda function URL: a method that is none", lambdaURL("PO ST", "/api/scans", "{}"), "bad_request"},
		{"Lambda function URL: a malformed event", strings.Replace(lambdaURL("POST", "/api/audit", ""), `"body":""`, `"body":5`, 1), "bad_request"},
		{"a page's refusal stays plain text", scfFunctionURLEvent("GET", "/audit/%zz", "", ""), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, body := api.invoke(t, fmt.Sprintf("refused-%d", i), tc.event)
			var reply struct {
				StatusCode int               `json:"statusCode"`
				Headers    map[string]string `json:"headers"`
				Body       string            `json:"body"`
			}
			if err := json.Unmarshal([]byte(body), &reply); kind != "response" || err != nil || reply.StatusCode != http.StatusBadRequest {
				t.Fatalf("answered %s %.300s, want a 400 reply", kind, body)
			}
			var shape struct {
				Code   string `json:"code"`
				Errors []struct {
					Field, Message string
				} `json:"errors"`
			}
			if tc.code == "" {
				if ct := reply.Headers["Content-Type"]; !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("Content-Type %q, want plain text", ct)
				}
				return
			}
			if ct := reply.Headers["Content-Type"]; ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if err := json.Unmarshal([]byte(reply.Body), &shape); err != nil || shape.Code != tc.code || len(shape.Errors) != 1 || shape.Errors[0].Message == "" {
				t.Errorf("body %q, want the API's error shape with code %s", reply.Body, tc.code)
			}
		})
	}
}

// startSCFMode runs the app in SCF mode (emulated TCSS, a SQLite log) with the settings in env,
// until the test ends, and returns the runtime API that feeds it events.
func startSCFMode(t *testing.T, env map[string]string) *scfRuntimeAPI {
	t.Helper()
	api := newSCFRuntimeAPI(t)
	host, port, _ := net.SplitHostPort(api.srv.Listener.Addr().String())
	settings := map[string]string{
		"SCF_RUNTIME_API": host, "SCF_RUNTIME_API_PORT": port,
		"VULSCAN_TCSS_ENDPOINT": "emulator", "VULSCAN_AUDIT_DSN": "sqlite:" + filepath.Join(t.TempDir(), "audit.db"),
	}
	maps.Copy(settings, env)
	e, _, stderr := testEnv("", settings)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, nil, e) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("SCF mode exited %d: %s", code, stderr)
		}
	})
	return api
}

// TestFunctionURLAnswersKeepBrowsersOnHTTPS: a function URL is an https:// address only, so its
// answers carry Strict-Transport-Security; the legacy API gateway, which plain HTTP may reach,
// carries it only when its X-Forwarded-Proto says the client came over HTTPS.
func TestFunctionURLAnswersKeepBrowsersOnHTTPS(t *testing.T) {
	api := startSCFMode(t, map[string]string{"VULSCAN_PUBLIC": "I-understand"})
	overHTTPS := strings.Replace(scfAPIGatewayEvent("GET", "/", "", ""), `"host":`, `"x-forwarded-proto":"https","host":`, 1)
	for i, tc := range []struct{ name, event, want string }{
		{"SCF function URL", scfFunctionURLEvent("GET", "/", "", ""), "max-age=31536000"},
		{"SCF function URL, an API error", scfFunctionURLEvent("GET", "/api/scans/999", "", ""), "max-age=31536000"},
		{"API gateway over HTTPS", overHTTPS, "max-age=31536000"},
		{"API gateway, protocol unknown", scfAPIGatewayEvent("GET", "/", "", ""), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, body := api.invoke(t, fmt.Sprintf("hsts-%d", i), tc.event)
			var reply struct {
				Headers map[string]string `json:"headers"`
			}
			if err := json.Unmarshal([]byte(body), &reply); kind != "response" || err != nil {
				t.Fatalf("answered %s %.300s", kind, body)
			}
			if got := reply.Headers["Strict-Transport-Security"]; got != tc.want {
				t.Errorf("Strict-Transport-Security = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestGatewayModeRefusalOnAFunctionURLSaysWhy: with VULSCAN_AUTH=gateway, a call through an SCF
// function URL (CAM-signed or not: its event names no caller) is refused, and the refusal says
// that this front end names nobody instead of asking the caller for the gateway it came through.
func TestGatewayModeRefusalOnAFunctionURLSaysWhy(t *testing.T) {
	api := startSCFMode(t, map[string]string{"VULSCAN_AUTH": "gateway"})
	for i, tc := range []struct{ name, event, says string }{
		{"SCF function URL", scfFunctionURLEvent("POST", "/api/scans", "application/json", `{"RegistryImageScanType":"NOT_SCAN"}`),
			"a Tencent SCF function URL names none, whatever its own authentication"},
		{"legacy API gateway without a key", strings.Replace(scfAPIGatewayEvent("POST", "/api/scans", "application/json",
			`{"RegistryImageScanType":"NOT_SCAN"}`), `"secretId":"AKIDgatewaykey"`, `"secretId":""`, 1), "call through the authenticating gateway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, body := api.invoke(t, fmt.Sprintf("gw-%d", i), tc.event)
			var reply struct {
				StatusCode int    `json:"statusCode"`
				Body       string `json:"body"`
			}
			if err := json.Unmarshal([]byte(body), &reply); kind != "response" || err != nil || reply.StatusCode != http.StatusUnauthorized {
				t.Fatalf("answered %s %.300s, want 401", kind, body)
			}
			if !strings.Contains(reply.Body, tc.says) {
				t.Errorf("refusal %s, want it to say %q", reply.Body, tc.says)
			}
		})
	}
}
