package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// fakeRuntime is SCF's custom-runtime API as Tencent documents it: ready, a long-polled next that
// hands out queued events with their headers, and response/error posts.
type fakeRuntime struct {
	srv     *httptest.Server
	queue   chan fakeEvent
	answers chan answer

	mu       sync.Mutex
	calls    []string        // "ready", "next", "response", "error", in order
	failNext int             // answer this many next calls with 500
	refuse   map[string]int  // answer these posts ("response", "error") with this status
	hangUp   map[string]bool // close the connection of these posts without an answer
}

type fakeEvent struct {
	headers map[string]string // written under exactly these names
	body    string
}

type answer struct {
	path, body, contentType string
}

func newFakeRuntime(t *testing.T) *fakeRuntime {
	f := &fakeRuntime{queue: make(chan fakeEvent, 64), answers: make(chan answer, 64)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /runtime/init/ready", func(w http.ResponseWriter, r *http.Request) {
		f.record("ready")
	})
	mux.HandleFunc("GET /runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		f.record("next")
		f.mu.Lock()
		fail := f.failNext > 0
		if fail {
			f.failNext--
		}
		f.mu.Unlock()
		if fail {
			http.Error(w, "not yet", http.StatusInternalServerError)
			return
		}
		select {
		case ev := <-f.queue:
			for k, v := range ev.headers {
				w.Header()[k] = []string{v} // not canonicalized: as SCF spells them
			}
			io.WriteString(w, ev.body)
		case <-r.Context().Done():
		}
	})
	for _, path := range []string{"response", "error"} {
		mux.HandleFunc("POST /runtime/invocation/"+path, func(w http.ResponseWriter, r *http.Request) {
			f.record(path)
			b, _ := io.ReadAll(r.Body)
			f.answers <- answer{path: path, body: string(b), contentType: r.Header.Get("Content-Type")}
			f.mu.Lock()
			status, hangUp := f.refuse[path], f.hangUp[path]
			f.mu.Unlock()
			if hangUp {
				conn, _, _ := http.NewResponseController(w).Hijack()
				conn.Close()
				return
			}
			if status != 0 {
				http.Error(w, "no thanks", status)
			}
		})
	}
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRuntime) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeRuntime) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeRuntime) push(requestID, body string) {
	f.queue <- fakeEvent{headers: map[string]string{"request_id": requestID, "time_limit_in_ms": "3000", "memory_limit_in_mb": "128"}, body: body}
}

func (f *fakeRuntime) next(t *testing.T) answer {
	t.Helper()
	select {
	case a := <-f.answers:
		return a
	case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("no answer posted")
		return answer{}
	}
}

// start runs rt against the fake until the test ends, and returns Run's result channel.
func (f *fakeRuntime) start(t *testing.T, rt *SCFRuntime, h Handler) <-chan error {
	t.Helper()
	rt.BaseURL = f.srv.URL
	if rt.Logger == nil {
		rt.Logger = quietLogger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run after shutdown = %v, want nil", err)
		}
	})
	return done
}

func TestSCFRuntimeServesManyInvocationsInOrder(t *testing.T) {
	f := newFakeRuntime(t)
	f.start(t, &SCFRuntime{}, func(ctx context.Context, inv Invocation, event []byte) ([]byte, error) {
		return fmt.Appendf(nil, `{"request":%q,"event":%s}`, inv.RequestID, event), nil
	})
	const n = 25
	for i := range n {
		f.push(fmt.Sprintf("req-%d", i), fmt.Sprintf(`{"n":%d}`, i))
		a := f.next(t)
		want := fmt.Sprintf(`{"request":"req-%d","event":{"n":%d}}`, i, i)
		if a.path != "response" || a.body != want {
			t.Fatalf("invocation %d answered %+v, want response %s", i, a, want)
		}
	}
	calls := f.callLog()
	if calls[0] != "ready" || strings.Count(strings.Join(calls, " "), "ready") != 1 {
		t.Errorf("calls %q: want ready exactly once, before the first next", calls)
	}
	if got := strings.Count(strings.Join(calls, " "), "response"); got != n {
		t.Errorf("%d responses posted, want %d", got, n)
	}
}

func TestSCFRuntimeAnswersErrorsAndPanicsAndGoesOn(t *testing.T) {
	f := newFakeRuntime(t)
	f.start(t, &SCFRuntime{}, func(ctx context.Context, inv Invocation, event []byte) ([]byte, error) {
		switch string(event) {
		case "fail":
			return nil, errors.New("the scan was refused")
		case "panic":
			panic("index corrupted")
		}
		return []byte(`"ok"`), nil
	})
	tests := []struct{ event, path, body string }{
		{"first", "response", `"ok"`},
		{"fail", "error", "the scan was refused"},
		{"panic", "error", "internal error: the function panicked: index corrupted"},
		{"after the panic", "response", `"ok"`},
		{"panic", "error", "internal error: the function panicked: index corrupted"},
		{"last", "response", `"ok"`},
	}
	for i, tt := range tests {
		f.push(fmt.Sprint("req-", i), tt.event)
		if a := f.next(t); a.path != tt.path || a.body != tt.body {
			t.Errorf("event %q answered %+v, want %s %q", tt.event, a, tt.path, tt.body)
		}
	}
}

// Replied is called once per invocation, after its answer (a response or an error) has reached
// the runtime API, never while the answer is still being made or posted.
func TestSCFRuntimeCallsRepliedAfterEachAnswerIsPosted(t *testing.T) {
	f := newFakeRuntime(t)
	replied := make(chan []string, 8)
	rt := &SCFRuntime{Replied: func() { replied <- f.callLog() }}
	f.start(t, rt, func(ctx context.Context, inv Invocation, event []byte) ([]byte, error) {
		if string(event) == "fail" {
			return nil, errors.New("refused")
		}
		return []byte(`"ok"`), nil
	})
	for i, tt := range []struct{ event, posted string }{{"first", "response"}, {"fail", "error"}, {"third", "response"}} {
		f.push(fmt.Sprint("req-", i), tt.event)
		f.next(t)
		var calls []string
		select {
		case calls = <-replied:
		case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
			t.Fatalf("event %q: Replied was not called", tt.event)
		}
		if last := calls[len(calls)-1]; last != tt.posted {
			t.Errorf("event %q: Replied called after %q, want after the %s was posted (calls %q)", tt.event, last, tt.posted, calls)
		}
		if got := strings.Count(strings.Join(calls, " "), "response") + strings.Count(strings.Join(calls, " "), "error"); got != i+1 {
			t.Errorf("event %q: Replied called with %d answers posted, want %d", tt.event, got, i+1)
		}
	}
	select {
	case calls := <-replied:
		t.Errorf("Replied called again without an event (calls %q)", calls)
	default:
	}
}

func TestSCFRuntimeReadsInvocationHeadersInAnySpelling(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name         string
		headers      map[string]string
		wantID       string
		wantMB       int
		wantDeadline time.Time // of the handler's context; zero: none
	}{
		{"lower case, as the docs spell them",
			map[string]string{"request_id": "a1", "memory_limit_in_mb": "256", "time_limit_in_ms": "3000"},
			"a1", 256, t0.Add(3*time.Second - answerMargin)},
		{"mixed case",
			map[string]string{"Request_Id": "a2", "Memory_Limit_In_Mb": "128", "Time_Limit_In_Ms": "30000"},
			"a2", 128, t0.Add(30*time.Second - answerMargin)},
		{"upper case",
			map[string]string{"REQUEST_ID": "a3", "TIME_LIMIT_IN_MS": "900000"},
			"a3", 0, t0.Add(900*time.Second - answerMargin)},
		{"hyphens",
			map[string]string{"Request-Id": "a4", "Time-Limit-In-Ms": "1000"},
			"a4", 0, t0.Add(time.Second - answerMargin)},
		{"no time limit: no deadline of our own",
			map[string]string{"request_id": "a5"},
			"a5", 0, time.Time{}},
		{"nonsense time limit is ignored",
			map[string]string{"request_id": "a6", "time_limit_in_ms": "soon"},
			"a6", 0, time.Time{}},
	}
	type got struct {
		inv      Invocation
		deadline time.Time
	}
	seenCh := make(chan got, 1)
	f := newFakeRuntime(t)
	f.start(t, &SCFRuntime{Now: func() time.Time { return t0 }}, func(ctx context.Context, inv Invocation, _ []byte) ([]byte, error) {
		d, _ := ctx.Deadline()
		seenCh <- got{inv, d}
		return []byte("{}"), nil
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.queue <- fakeEvent{headers: tt.headers, body: "{}"}
			g := <-seenCh
			f.next(t)
			if g.inv.RequestID != tt.wantID || g.inv.MemoryLimitMB != tt.wantMB || !g.deadline.Equal(tt.wantDeadline) {
				t.Errorf("handler got %+v with deadline %v; want request %q, %d MB, deadline %v",
					g.inv, g.deadline, tt.wantID, tt.wantMB, tt.wantDeadline)
			}
		})
	}
}

func TestSCFRuntimeRetriesABriefOutage(t *testing.T) {
	f := newFakeRuntime(t)
	f.failNext = 3
	var sleeps []time.Duration
	rt := &SCFRuntime{Sleep: func(_ context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil }}
	f.start(t, rt, func(context.Context, Invocation, []byte) ([]byte, error) { return []byte(`"served"`), nil })
	f.push("r1", "{}")
	if a := f.next(t); a.path != "response" || a.body != `"served"` {
		t.Errorf("answer %+v", a)
	}
	if len(sleeps) != 3 || sleeps[1] != 2*sleeps[0] {
		t.Errorf("waited %v between tries, want 3 growing waits", sleeps)
	}
}

func TestSCFRuntimeGivesUpWhenTheAPIStaysUnreachable(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeRuntime) string // returns the base URL
	}{
		{"nothing listens", func(f *fakeRuntime) string { f.srv.Close(); return f.srv.URL }},
		{"next keeps failing", func(f *fakeRuntime) string { f.failNext = 1000; return f.srv.URL }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRuntime(t)
			sleeps := 0
			rt := &SCFRuntime{
				BaseURL:  tt.setup(f),
				Attempts: 4,
				Logger:   quietLogger(),
				Sleep:    func(context.Context, time.Duration) error { sleeps++; return nil },
			}
			err := rt.Run(context.Background(), func(context.Context, Invocation, []byte) ([]byte, error) {
				t.Error("handler called")
				return nil, nil
			})
			if !errors.Is(err, errRuntimeAPI) || sleeps != 3 {
				t.Errorf("Run = %v after %d waits; want the runtime API error after 3", err, sleeps)
			}
		})
	}
}

func TestSCFRuntimeRefusesOversizedEventsAndGoesOn(t *testing.T) {
	f := newFakeRuntime(t)
	f.start(t, &SCFRuntime{MaxEventBytes: 16}, func(_ context.Context, _ Invocation, ev []byte) ([]byte, error) {
		return ev, nil
	})
	f.push("big", strings.Repeat("x", 17))
	if a := f.next(t); a.path != "error" || !strings.Contains(a.body, "larger than 16 bytes") {
		t.Errorf("oversized event answered %+v", a)
	}
	f.push("small", `"fits"`)
	if a := f.next(t); a.path != "response" || a.body != `"fits"` {
		t.Errorf("next event answered %+v", a)
	}
}

func TestSCFRuntimeStopsWhenItsContextEnds(t *testing.T) {
	f := newFakeRuntime(t)
	rt := &SCFRuntime{BaseURL: f.srv.URL, Logger: quietLogger()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx, nil) }()
	for len(f.callLog()) < 2 { // ready, then waiting in next
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil on shutdown", err)
	}
}

// The SCF bootstrap as vulscan runs it: the runtime loop feeding the dispatcher, the real scan
// service behind it. The invocation's request ID must reach the audit record and the web
// handler's caller information.
func TestSCFRuntimeThroughTheDispatcher(t *testing.T) {
	w := newWorld(t)
	gateways := make(chan Gateway, 1)
	d := New(Options{
		Scans:  w.Service,
		Logger: quietLogger(),
		Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			gateways <- r.Context().Value(gatewayKey{}).(Gateway)
			rw.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(rw, "<h1>vulscan</h1>")
		}),
		RequestContext: func(ctx context.Context, g Gateway) context.Context {
			return context.WithValue(ctx, gatewayKey{}, g)
		},
	})
	f := newFakeRuntime(t)
	f.start(t, &SCFRuntime{}, d.Handle)

	f.push("scf-timer-req", string(fixture(t, "scf-timer.json")))
	a := f.next(t)
	var res TimerResult
	if err := json.Unmarshal([]byte(a.body), &res); a.path != "response" || err != nil || res.Outcome != audit.OutcomeSucceeded {
		t.Fatalf("timer answered %+v", a)
	}
	recs := w.Records(t)
	if len(recs) != 2 || recs[0].FunctionRequestID != "scf-timer-req" || recs[1].FunctionRequestID != "scf-timer-req" {
		t.Errorf("audit records %+v: want the SCF request ID on both", recs)
	}

	f.push("scf-http-req", string(fixture(t, "scf-apigw-request.json")))
	a = f.next(t)
	var r SCFAPIGatewayResponse
	if err := json.Unmarshal([]byte(a.body), &r); a.path != "response" || err != nil || r.StatusCode != 200 || r.Body != "<h1>vulscan</h1>" {
		t.Errorf("HTTP event answered %+v", a)
	}
	if g := <-gateways; g.FunctionRequestID != "scf-http-req" || g.SourceIP != "10.0.2.14" {
		t.Errorf("caller information %+v", g)
	}

	f.push("scf-odd-req", `{"Records":[]}`)
	if a := f.next(t); a.path != "error" || !strings.Contains(a.body, "unknown event shape") {
		t.Errorf("unknown event answered %+v", a)
	}
}

func TestSCFRuntimeFromEnv(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantBase string
		wantErr  string
	}{
		{"documented variables", map[string]string{"SCF_RUNTIME_API": "9.134.12.7", "SCF_RUNTIME_API_PORT": "9001"}, "http://9.134.12.7:9001", ""},
		{"IPv6 host", map[string]string{"SCF_RUNTIME_API": "::1", "SCF_RUNTIME_API_PORT": "9001"}, "http://[::1]:9001", ""},
		{"no host", map[string]string{"SCF_RUNTIME_API_PORT": "9001"}, "", "SCF_RUNTIME_API is not set"},
		{"no port", map[string]string{"SCF_RUNTIME_API": "127.0.0.1"}, "", "SCF_RUNTIME_API_PORT is not set"},
		{"bad port", map[string]string{"SCF_RUNTIME_API": "127.0.0.1", "SCF_RUNTIME_API_PORT": "90x"}, "", "not a port number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, err := SCFRuntimeFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || rt.BaseURL != tt.wantBase {
				t.Errorf("SCFRuntimeFromEnv = %+v, %v; want base %s", rt, err, tt.wantBase)
			}
		})
	}
}

// An answer's body is what its Content-Type says: the handler's JSON result, or an error's
// message as text (Tencent's docs post errors as plain text).
func TestSCFRuntimeLabelsAnswersWithTheirContentType(t *testing.T) {
	f := newFakeRuntime(t)
	f.start(t, &SCFRuntime{MaxEventBytes: 64}, func(_ context.Context, _ Invocation, ev []byte) ([]byte, error) {
		switch string(ev) {
		case "fail":
			return nil, errors.New("the scan was refused")
		case "panic":
			panic("index corrupted")
		}
		return []byte(`{"statusCode":200}`), nil
	})
	tests := []struct{ name, event, path, contentType string }{
		{"result", "ok", "response", "application/json"},
		{"handler error", "fail", "error", "text/plain; charset=utf-8"},
		{"panic", "panic", "error", "text/plain; charset=utf-8"},
		{"oversized event", strings.Repeat("x", 65), "error", "text/plain; charset=utf-8"},
	}
	for i, tt := range tests {
		f.push(fmt.Sprint("req-", i), tt.event)
		if a := f.next(t); a.path != tt.path || a.contentType != tt.contentType {
			t.Errorf("%s: answered %s labelled %q, want %s labelled %q", tt.name, a.path, a.contentType, tt.path, tt.contentType)
		}
	}
}

// A result the runtime API refuses is answered with an error that says so, so that the caller
// does not wait for the time limit; the loop goes on.
func TestSCFRuntimeAnswersARefusedResultWithAnError(t *testing.T) {
	f := newFakeRuntime(t)
	f.refuse = map[string]int{"response": http.StatusRequestEntityTooLarge}
	f.start(t, &SCFRuntime{}, func(context.Context, Invocation, []byte) ([]byte, error) { return []byte(`"big"`), nil })
	f.push("r1", "{}")
	if a := f.next(t); a.path != "response" {
		t.Fatalf("first answer %+v, want the response", a)
	}
	a := f.next(t)
	if a.path != "error" || !strings.Contains(a.body, "refused the function's result") || !strings.Contains(a.body, "413") {
		t.Errorf("refused result followed by %+v, want an error naming the refusal", a)
	}
	f.mu.Lock()
	f.refuse = nil
	f.mu.Unlock()
	f.push("r2", "{}")
	if a := f.next(t); a.path != "response" || a.body != `"big"` {
		t.Errorf("next event answered %+v", a)
	}
}

// An answer that may have reached the runtime API is never posted twice: a post whose
// connection ends without a reply, or that the API refuses, ends the loop with the runtime-API
// error (SCF starts a fresh instance) after one try.
func TestSCFRuntimeNeverPostsAnAnswerTwice(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeRuntime)
	}{
		{"connection closed without a reply", func(f *fakeRuntime) { f.hangUp = map[string]bool{"error": true} }},
		{"error refused", func(f *fakeRuntime) { f.refuse = map[string]int{"error": http.StatusInternalServerError} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRuntime(t)
			tt.setup(f)
			rt := &SCFRuntime{BaseURL: f.srv.URL, Logger: quietLogger(),
				Sleep: func(context.Context, time.Duration) error { return nil }}
			f.push("r1", "{}")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel() // ends a loop that went on, so that the fake can close
			done := make(chan error, 1)
			go func() {
				done <- rt.Run(ctx, func(context.Context, Invocation, []byte) ([]byte, error) {
					return nil, errors.New("the scan was refused")
				})
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
				t.Fatalf("Run goes on after its answer was dropped or refused (calls %q)", f.callLog())
			}
			if !errors.Is(err, errRuntimeAPI) {
				t.Errorf("Run = %v, want the runtime API error", err)
			}
			if got := strings.Count(strings.Join(f.callLog(), " "), "error"); got != 1 {
				t.Errorf("error posted %d times (calls %q), want once", got, f.callLog())
			}
		})
	}
}
