package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// A function instance serves what needs no audit log while its store opens, and everything that
// needs the log waits for the open: GET / answers at once; POST /api/scans answers only once the
// store is open, and its records are in it, the pending record before the call to TCSS.
func TestFunctionServesTheFormWhileTheStoreOpens(t *testing.T) {
	key := tcsstest.RandomKey()
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}})
	defer srv.Close()
	env := map[string]string{
		"SCF_RUNTIME_API": "127.0.0.1", "VULSCAN_PUBLIC": "I-understand",
		"VULSCAN_AUDIT_DSN":      "sqlite:" + filepath.Join(t.TempDir(), "audit.db"),
		"VULSCAN_TCSS_ENDPOINT":  srv.URL,
		"TENCENTCLOUD_SECRET_ID": key.SecretID, "TENCENTCLOUD_SECRET_KEY": key.SecretKey,
		"VULSCAN_AUDIT_WITNESS": "off",
	}
	e := mapEnv(env)
	a, err := newFunctionApp(e)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	release := make(chan struct{})
	opened := make(chan struct{})
	go func() {
		a.opening.run(t.Context(), func(ctx context.Context) (audit.Store, audit.Store, error) {
			<-release // the store is still connecting
			w, r, err := a.openWritable(e)(ctx)
			close(opened)
			return w, r, err
		})
	}()

	form := httptest.NewRecorder()
	a.handler.ServeHTTP(form, httptest.NewRequest(http.MethodGet, "/", nil))
	if form.Code != http.StatusOK || !strings.Contains(form.Body.String(), "<form") {
		t.Fatalf("GET / while the store opens: %d\n%s", form.Code, form.Body.String())
	}

	answered := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		req := httptest.NewRequest(http.MethodPost, "/api/scans", strings.NewReader(`{"LocalImageScanType":"ALL"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "while-opening-1")
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		answered <- rec
	}()
	select {
	case rec := <-answered:
		t.Fatalf("POST /api/scans answered %d before the store was open:\n%s", rec.Code, rec.Body.String())
	case <-time.After(200 * time.Millisecond):
	}
	if n := emu.Calls("CreateVulScanTask"); n != 0 {
		t.Fatalf("TCSS was called %d times before the store was open", n)
	}
	close(release)
	<-opened
	rec := <-answered
	if rec.Code/100 != 2 {
		t.Fatalf("POST /api/scans once the store opened: %d\n%s", rec.Code, rec.Body.String())
	}
	recs, err := a.store.List(t.Context(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1].Outcome != audit.OutcomePending || recs[0].Outcome != audit.OutcomeSucceeded {
		t.Fatalf("the log holds %+v; want the pending record, then the outcome", recs)
	}
}

// mapEnv is an env reading from m, with output discarded.
func mapEnv(m map[string]string) env {
	return env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string { return m[k] }}
}

// openingStore passes every call to the store once it is open, or the open's error; a Close
// before any open started returns at once, and one during an open waits for it.
func TestOpeningStore(t *testing.T) {
	openErr := errors.New("connection refused")
	cases := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"opened", nil, false},
		{"failed", openErr, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := newOpeningStore()
			raw := &closeCounter{}
			go o.run(t.Context(), func(context.Context) (audit.Store, audit.Store, error) {
				time.Sleep(20 * time.Millisecond)
				if c.err != nil {
					return nil, nil, c.err
				}
				return raw, raw, nil
			})
			_, err := o.Get(t.Context(), 1)
			if c.wantErr != (err != nil) || c.wantErr && !errors.Is(err, openErr) {
				t.Fatalf("Get: %v; want the open's error: %v", err, c.wantErr)
			}
			if err := o.Close(); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{false: 1, true: 0}[c.wantErr]; raw.closed != want {
				t.Errorf("the store was closed %d times, want %d", raw.closed, want)
			}
		})
	}
	t.Run("waiting ends with the caller's context", func(t *testing.T) {
		o := newOpeningStore()
		o.started.Store(true) // an open that never ends
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		if _, err := o.Append(ctx, audit.Record{}); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Append: %v; want the deadline", err)
		}
	})
	t.Run("close before any open", func(t *testing.T) {
		if err := newOpeningStore().Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// closeCounter is an audit.Store that only counts its closes.
type closeCounter struct {
	audit.Store
	closed int
}

func (c *closeCounter) Get(context.Context, int64) (audit.Record, error) { return audit.Record{}, nil }
func (c *closeCounter) Close() error                                     { c.closed++; return nil }

// A function instance does not look the operating-system user up at start: only mode none, on a
// loopback server, names its actor after it.
func TestFunctionStartReadsNoUserDatabase(t *testing.T) {
	defer func(f func() (*user.User, error)) { currentUser = f }(currentUser)
	currentUser = func() (*user.User, error) {
		t.Error("a function's start looked the user up")
		return nil, errors.New("no passwd entry")
	}
	a, err := newFunctionApp(mapEnv(map[string]string{
		"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "VULSCAN_PUBLIC": "I-understand",
		"VULSCAN_AUDIT_DSN": "postgres://vulscan@127.0.0.1:1/audit", "VULSCAN_TCSS_ENDPOINT": "http://127.0.0.1:1",
		"TENCENTCLOUD_SECRET_ID": "id", "TENCENTCLOUD_SECRET_KEY": "key",
	}))
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
}

// A Lambda instance answers an event that needs no audit log without starting the store's open:
// aws-lambda-go posts the reply after the handler returns, and the open would compete with the
// posting. The first event that needs the log starts it and waits for it (storeOpenDelay, the
// fallback, is an hour here, so only the events decide).
func TestLambdaInstanceOpensItsStoreWhenAnEventNeedsIt(t *testing.T) {
	defer func(d time.Duration) { storeOpenDelay = d }(storeOpenDelay)
	storeOpenDelay = time.Hour
	path := filepath.Join(t.TempDir(), "audit.db")
	e, _, stderr := testEnv("", map[string]string{
		"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "VULSCAN_TCSS_ENDPOINT": "emulator",
		"VULSCAN_AUDIT_DSN": "sqlite:" + path, "VULSCAN_PUBLIC": "I-understand", "VULSCAN_AUDIT_WITNESS": "off",
	})
	a, err := startApp(t.Context(), e)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	defer a.Close()
	invoke := a.dispatcher().Lambda().Invoke

	if status := lambdaStatus(t, invoke, lambdaURLEvent("GET", "/", "", "")); status != http.StatusOK {
		t.Fatalf("GET / answered %d", status)
	}
	time.Sleep(100 * time.Millisecond) // room for an open wrongly begun after the answer (a few ms)
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the store was opened after an event that did not need it (stat: %v)", err)
	}

	if status := lambdaStatus(t, invoke, lambdaURLEvent("POST", "/api/scans", "application/json", `{"LocalImageScanType":"ALL"}`)); status != http.StatusCreated {
		t.Fatalf("POST /api/scans answered %d", status)
	}
	recs, err := a.store.List(t.Context(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Outcome != audit.OutcomeSucceeded {
		t.Fatalf("the log holds %+v; want the scan's pending record and its outcome", recs)
	}
}

// lambdaURLEvent is a Lambda function URL event (payload format 2.0).
func lambdaURLEvent(method, path, contentType, body string) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "", "body": body, "isBase64Encoded": false,
		"headers": map[string]string{"content-type": contentType, "host": "abc.lambda-url.ap-southeast-1.on.aws", "user-agent": "curl/8.5.0"},
		"requestContext": map[string]any{"domainName": "abc.lambda-url.ap-southeast-1.on.aws", "requestId": "lambda-1",
			"http": map[string]string{"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "curl/8.5.0"}},
	})
	return b
}

// lambdaStatus invokes the Lambda handler with event and returns the HTTP status it answered.
func lambdaStatus(t *testing.T, invoke func(context.Context, []byte) ([]byte, error), event []byte) int {
	t.Helper()
	reply, err := invoke(t.Context(), event)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		StatusCode int `json:"statusCode"`
	}
	if err := json.Unmarshal(reply, &resp); err != nil {
		t.Fatalf("reply %.300s: %v", reply, err)
	}
	return resp.StatusCode
}

// A function instance against an emulator says so in its log at start, as the server's first
// lines do; one against any other endpoint does not.
func TestFunctionLogsAnEmulatorAtStart(t *testing.T) {
	key := tcsstest.RandomKey()
	_, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}})
	defer srv.Close()
	for _, tc := range []struct {
		endpoint string
		warns    bool
	}{
		{"emulator:" + srv.URL, true},
		{srv.URL, false},
	} {
		t.Run(tc.endpoint, func(t *testing.T) {
			e, _, stderr := testEnv("", map[string]string{
				"SCF_RUNTIME_API": "127.0.0.1", "VULSCAN_PUBLIC": "I-understand",
				"VULSCAN_AUDIT_DSN":      "sqlite:" + filepath.Join(t.TempDir(), "audit.db"),
				"VULSCAN_TCSS_ENDPOINT":  tc.endpoint,
				"TENCENTCLOUD_SECRET_ID": key.SecretID, "TENCENTCLOUD_SECRET_KEY": key.SecretKey,
				"VULSCAN_AUDIT_WITNESS": "off",
			})
			a, err := newFunctionApp(e)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if got := strings.Contains(stderr.String(), "TCSS emulator in use"); got != tc.warns {
				t.Errorf("warned %v, want %v; log:\n%s", got, tc.warns, stderr)
			}
		})
	}
}
