package tcss

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

func TestCreateVulScanTaskSendsTheModel(t *testing.T) {
	tests := []struct {
		name string
		req  scan.Request
		body string // exactly what TCSS receives
	}{
		{
			name: "every field, named as the API names them",
			req: scan.Request{
				LocalImageScanType:            "IMAGEIDS",
				LocalImageIDs:                 []string{"sha256:" + strings.Repeat("a", 64)},
				RegistryImageScanType:         "IMAGEIDS",
				RegistryImageIDs:              []uint64{7, 18446744073709551615},
				LocalTaskID:                   11,
				RegistryTaskID:                12,
				LocalImageContainerRunning:    true,
				RegistryImageContainerRunning: true,
				IsLatest:                      true,
				ExcludeLocalImageIDs:          []string{"sha256:" + strings.Repeat("b", 64)},
				ExcludeRegistryImageIDs:       []uint64{9},
				LocalClusterIDs:               []string{"cls-qwyx"},
			},
			body: `{"LocalImageScanType":"IMAGEIDS","LocalImageIDs":["sha256:` + strings.Repeat("a", 64) + `"],` +
				`"RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[7,18446744073709551615],"LocalTaskID":11,"RegistryTaskID":12,` +
				`"LocalImageContainerRunning":true,"RegistryImageContainerRunning":true,"IsLatest":true,` +
				`"ExcludeLocalImageIDs":["sha256:` + strings.Repeat("b", 64) + `"],"ExcludeRegistryImageIDs":[9],"LocalClusterIDs":["cls-qwyx"]}`,
		},
		{
			name: "zero values are left out",
			req:  scan.Request{RegistryImageScanType: "NOT_SCAN"},
			body: `{"RegistryImageScanType":"NOT_SCAN"}`,
		},
		{
			name: "empty request sends an empty object",
			req:  scan.Request{},
			body: `{}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) { createdTask(w) })
			c := newTestClient(t, testConfig(f.URL))

			ids, err := c.CreateVulScanTask(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("CreateVulScanTask: %v", err)
			}
			if want := (scan.TaskIDs{LocalTaskID: 36002, RequestID: "req-ok"}); ids != want {
				t.Errorf("TaskIDs = %+v, want %+v", ids, want)
			}
			seen := f.requests()
			if len(seen) != 1 {
				t.Fatalf("TCSS saw %d requests, want 1", len(seen))
			}
			if got := string(seen[0].body); got != tt.body {
				t.Errorf("body\n got %s\nwant %s", got, tt.body)
			}
			for header, want := range map[string]string{
				"X-TC-Action":   "CreateVulScanTask",
				"X-TC-Version":  "2020-11-01",
				"X-TC-Language": "en-US",
				"Content-Type":  "application/json",
			} {
				if got := seen[0].header.Get(header); got != want {
					t.Errorf("%s = %q, want %q", header, got, want)
				}
			}
			if auth := seen[0].header.Get("Authorization"); !strings.HasPrefix(auth, "TC3-HMAC-SHA256 Credential=AKIDtestkey/") {
				t.Errorf("Authorization = %q, want TC3 signed with AKIDtestkey", auth)
			}
		})
	}
}

func TestDescribeVulScanInfoMapsTheAnswer(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeResponse(w, map[string]any{
			"LocalImageScanCount": 3, "IgnoreVulCount": 4, "ScanStartTime": "2020-11-21 15:16:00",
			"ScanEndTime": "2020-11-21 15:20:00", "FoundRiskImageCount": 5, "FoundVulCount": 6,
			"ScanProgress": 42.5, "RegistryImageScanCount": 7, "LocalTaskID": 36002, "Status": "SCANNING",
			"RemainingTime": 90.5, "RegistryTaskID": 8, "RegistryFoundVulCount": 9,
		})
	})
	c := newTestClient(t, testConfig(f.URL))

	info, err := c.DescribeVulScanInfo(context.Background(), 36002, 0)
	if err != nil {
		t.Fatalf("DescribeVulScanInfo: %v", err)
	}
	want := scan.ScanInfo{
		Status: "SCANNING", ScanProgress: 42.5, RemainingTime: 90.5,
		ScanStartTime: "2020-11-21 15:16:00", ScanEndTime: "2020-11-21 15:20:00",
		LocalImageScanCount: 3, RegistryImageScanCount: 7, FoundRiskImageCount: 5, FoundVulCount: 6,
		RegistryFoundVulCount: 9, IgnoreVulCount: 4, LocalTaskID: 36002, RegistryTaskID: 8, RequestID: "req-ok",
	}
	if info != want {
		t.Errorf("ScanInfo\n got %+v\nwant %+v", info, want)
	}
	seen := f.requests()
	if got := string(seen[0].body); got != `{"LocalTaskID":36002}` {
		t.Errorf("body = %s, want only LocalTaskID (zero RegistryTaskID left out)", got)
	}
	if got := seen[0].header.Get("X-TC-Action"); got != "DescribeVulScanInfo" {
		t.Errorf("X-TC-Action = %q", got)
	}
}

func TestTCSSErrorsKeepCodeMessageAndRequestID(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeError(w, "InvalidParameter.InvalidFormat", "LocalImageIDs is malformed", "req-bad")
	})
	c := newTestClient(t, testConfig(f.URL))

	_, err := c.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"})
	var apiErr *scan.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v is not a *scan.APIError", err)
	}
	want := scan.APIError{Code: "InvalidParameter.InvalidFormat", Message: "LocalImageIDs is malformed", RequestID: "req-bad"}
	if *apiErr != want {
		t.Errorf("APIError = %+v, want %+v", *apiErr, want)
	}
	if errors.Is(err, scan.ErrOutcomeUnknown) {
		t.Error("a refusal must not be outcome unknown")
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("TCSS saw %d requests, want 1 (refusals are not retried)", n)
	}
}

func TestRateLimitIsRetriedWithBackoff(t *testing.T) {
	for _, code := range []string{"RequestLimitExceeded", "RequestLimitExceeded.UinLimitExceeded",
		"RequestLimitExceeded.IPLimitExceeded", "RequestLimitExceeded.GlobalRegionUinLimitExceeded"} {
		t.Run(code, func(t *testing.T) { testRateLimitIsRetriedWithBackoff(t, code) })
	}
}

func testRateLimitIsRetriedWithBackoff(t *testing.T, code string) {
	f := newFake(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= 2 {
			writeError(w, code, "too many requests", "req-limited")
			return
		}
		createdTask(w)
	})
	cfg := testConfig(f.URL)
	var attempts []int
	cfg.Backoff = func(attempt int) time.Duration { attempts = append(attempts, attempt); return time.Millisecond }
	c := newTestClient(t, cfg)

	ids, err := c.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"})
	if err != nil {
		t.Fatalf("CreateVulScanTask: %v", err)
	}
	if ids.LocalTaskID != 36002 {
		t.Errorf("LocalTaskID = %d, want 36002", ids.LocalTaskID)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("TCSS saw %d requests, want 3", n)
	}
	if len(attempts) != 2 || attempts[0] != 0 || attempts[1] != 1 {
		t.Errorf("backoff asked for attempts %v, want [0 1]", attempts)
	}
}

func TestRateLimitGivesUpAfterTheBound(t *testing.T) {
	tests := []struct {
		name         string
		maxRetries   int
		wantRequests int
	}{
		{"default bound of 3 retries", 0, 4},
		{"configured bound", 1, 2},
		{"negative means no retry", -1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				writeError(w, "RequestLimitExceeded", "too many requests", "req-limited")
			})
			cfg := testConfig(f.URL)
			cfg.MaxRateLimitRetries = tt.maxRetries
			c := newTestClient(t, cfg)

			_, err := c.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"})
			var apiErr *scan.APIError
			if !errors.As(err, &apiErr) || apiErr.Code != scan.CodeRequestLimitExceeded {
				t.Fatalf("error = %v, want a RequestLimitExceeded *scan.APIError", err)
			}
			if errors.Is(err, scan.ErrOutcomeUnknown) {
				t.Error("a rate-limited call started nothing: it must not be outcome unknown")
			}
			if n := len(f.requests()); n != tt.wantRequests {
				t.Errorf("TCSS saw %d requests, want %d", n, tt.wantRequests)
			}
		})
	}
}

func TestRateLimitBackoffHonoursTheContext(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeError(w, "RequestLimitExceeded", "too many requests", "req-limited")
	})
	// The caller goes away while the client waits to retry (cancelled as the wait is chosen, so
	// no deadline races the first call on a loaded machine).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := testConfig(f.URL)
	cfg.Backoff = func(int) time.Duration { cancel(); return time.Hour }
	c := newTestClient(t, cfg)

	_, err := c.CreateVulScanTask(ctx, scan.Request{LocalImageScanType: "ALL"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want it to wrap context.Canceled", err)
	}
	var apiErr *scan.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != scan.CodeRequestLimitExceeded {
		t.Errorf("error = %v, want it to keep the RequestLimitExceeded answer", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("TCSS saw %d requests, want 1", n)
	}
}

func TestCreateIsNotRetriedWhenTheAnswerIsLost(t *testing.T) {
	tests := []struct {
		name   string
		answer func(t testing.TB) func(int, http.ResponseWriter, *http.Request)
	}{
		{"dropped connection", dropConnection},
		{"gateway error page", func(testing.TB) func(int, http.ResponseWriter, *http.Request) {
			return func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
			}
		}},
		{"answer that is not JSON", func(testing.TB) func(int, http.ResponseWriter, *http.Request) {
			return func(_ int, w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }
		}},
		{"answer without Response", func(testing.TB) func(int, http.ResponseWriter, *http.Request) {
			return func(_ int, w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{}")) }
		}},
		{"answer larger than the bound", func(testing.TB) func(int, http.ResponseWriter, *http.Request) {
			return func(_ int, w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(`{"Response":{"RequestId":"` + strings.Repeat("x", maxResponseBytes) + `"}}`))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.answer(t))
			c := newTestClient(t, testConfig(f.URL))

			_, err := c.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"})
			if !errors.Is(err, scan.ErrOutcomeUnknown) {
				t.Fatalf("error = %v, want it to wrap scan.ErrOutcomeUnknown", err)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("TCSS saw %d requests, want exactly 1 (no retry without a ClientToken)", n)
			}
			if len(err.Error()) > 2*maxErrorText {
				t.Errorf("error text is %d bytes long; it goes to logs and audit records and must stay short", len(err.Error()))
			}
		})
	}
}

func TestDescribeIsRetriedAfterANetworkFailure(t *testing.T) {
	drop := dropConnection(t)
	f := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= 2 {
			drop(n, w, r)
			return
		}
		writeResponse(w, map[string]any{"Status": "SCANNED", "LocalTaskID": 1})
	})
	c := newTestClient(t, testConfig(f.URL))

	info, err := c.DescribeVulScanInfo(context.Background(), 1, 0)
	if err != nil {
		t.Fatalf("DescribeVulScanInfo: %v", err)
	}
	if info.Status != "SCANNED" {
		t.Errorf("Status = %q, want SCANNED", info.Status)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("TCSS saw %d requests, want 3", n)
	}
}

func TestDescribeNetworkRetriesAreBounded(t *testing.T) {
	f := newFake(t, dropConnection(t))
	c := newTestClient(t, testConfig(f.URL))

	_, err := c.DescribeVulScanInfo(context.Background(), 1, 0)
	if err == nil {
		t.Fatal("DescribeVulScanInfo succeeded against a server that never answers")
	}
	if errors.Is(err, scan.ErrOutcomeUnknown) {
		t.Error("a read-only call has no unknown outcome")
	}
	if n := len(f.requests()); n != 1+maxReadRetries {
		t.Errorf("TCSS saw %d requests, want %d", n, 1+maxReadRetries)
	}
}

func TestDeadlineWhileWaitingForTheAnswer(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // an answer that never comes while the client waits
	})
	c := newTestClient(t, testConfig(f.URL))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	_, err := c.CreateVulScanTask(ctx, scan.Request{LocalImageScanType: "ALL"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if !errors.Is(err, scan.ErrOutcomeUnknown) {
		t.Errorf("error = %v, want outcome unknown: TCSS may have acted on the request", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("TCSS saw %d requests, want 1", n)
	}
}

func TestDeadlineWhilePacingSendsNothing(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) { createdTask(w) })
	cfg := testConfig(f.URL)
	cfg.Limiter = NewPacer(1.0 / 3600) // one call an hour
	c := newTestClient(t, cfg)
	if _, err := c.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"}); err != nil {
		t.Fatalf("first call: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	_, err := c.CreateVulScanTask(ctx, scan.Request{LocalImageScanType: "ALL"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if errors.Is(err, scan.ErrOutcomeUnknown) {
		t.Errorf("error = %v: nothing was sent, so the outcome is known", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("TCSS saw %d requests, want 1", n)
	}
}

func TestUnreachableTCSSIsNotOutcomeUnknown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more: the dial is refused

	c := newTestClient(t, testConfig("http://"+addr))
	_, err = c.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"})
	if err == nil {
		t.Fatal("CreateVulScanTask succeeded against a closed port")
	}
	if errors.Is(err, scan.ErrOutcomeUnknown) {
		t.Errorf("error = %v: a refused connection sent nothing", err)
	}
}

func TestClientsUseTheirOwnTransport(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) { createdTask(w) })
	a, b := &countingTransport{}, &countingTransport{}
	cfgA, cfgB := testConfig(f.URL), testConfig(f.URL)
	cfgA.Transport, cfgB.Transport = a, b
	clientA, clientB := newTestClient(t, cfgA), newTestClient(t, cfgB)

	for _, c := range []*Client{clientA, clientB, clientA} {
		if _, err := c.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"}); err != nil {
			t.Fatal(err)
		}
	}
	if a.n != 2 || b.n != 1 {
		t.Errorf("transport A carried %d requests and B %d, want 2 and 1", a.n, b.n)
	}
}

type countingTransport struct{ n int }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n++
	return http.DefaultTransport.RoundTrip(r)
}

func TestNewEndpoints(t *testing.T) {
	tests := []struct {
		endpoint   string
		wantScheme string
		wantHost   string
		wantErr    string
	}{
		{"", "HTTPS", DefaultEndpoint, ""},
		{"tcss.intl.tencentcloudapi.com", "HTTPS", "tcss.intl.tencentcloudapi.com", ""},
		{"tcss.ap-guangzhou.tencentcloudapi.com:443", "HTTPS", "tcss.ap-guangzhou.tencentcloudapi.com:443", ""},
		{"http://127.0.0.1:9000", "HTTP", "127.0.0.1:9000", ""},
		{"https://proxy.example.com/", "HTTPS", "proxy.example.com", ""},
		{"emulator", "", "", "resolved by the caller"},
		{"localhost", "", "", "neither a host name"},
		{"ftp://tcss.tencentcloudapi.com", "", "", "scheme must be http or https"},
		{"http://127.0.0.1:9000/tcss", "", "", "nothing more"},
		{"http://user:pw@127.0.0.1:9000", "", "", "nothing more"},
		{"tcss.tencentcloudapi.com/path", "", "", "neither a host name"},
		{"tcss.tencentcloudapi.com:99999", "", "", "neither a host name"},
		{"https://[::1]:8443", "HTTPS", "[::1]:8443", ""},
		{"http://localhost:9000", "HTTP", "localhost:9000", ""},
		{"https://tcss.tencentcloudapi.com:99999", "", "", "the port is not a number from 1 to 65535"},
		{"https://tcss.tencentcloudapi.com:0", "", "", "the port is not a number from 1 to 65535"},
		{"https://tcss.tencentcloudapi.com:", "", "", "the port is not a number from 1 to 65535"},
		{"https://tcss_1.example.com", "", "", `"tcss_1.example.com" is not a host name`},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			scheme, host, err := parseEndpoint(tt.endpoint, DefaultEndpoint)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseEndpoint error = %v, want one saying %q", err, tt.wantErr)
				}
				if _, err := New(Config{Endpoint: tt.endpoint}); err == nil {
					t.Error("New accepted the endpoint")
				}
				return
			}
			if err != nil || scheme != tt.wantScheme || host != tt.wantHost {
				t.Errorf("parseEndpoint = %q, %q, %v; want %q, %q", scheme, host, err, tt.wantScheme, tt.wantHost)
			}
		})
	}
}

func TestNewRejectsABadRegion(t *testing.T) {
	if _, err := New(Config{Region: "ap guangzhou\r\n"}); err == nil {
		t.Error("New accepted a region with spaces and a line break")
	}
	if _, err := New(Config{Region: "ap-guangzhou"}); err != nil {
		t.Errorf("New refused ap-guangzhou: %v", err)
	}
}

func TestRegionHeader(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) { createdTask(w) })
	cfg := testConfig(f.URL)
	cfg.Region = "ap-guangzhou"
	c := newTestClient(t, cfg)
	if _, err := c.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"}); err != nil {
		t.Fatal(err)
	}
	if got := f.requests()[0].header.Get("X-TC-Region"); got != "ap-guangzhou" {
		t.Errorf("X-TC-Region = %q, want ap-guangzhou", got)
	}
}

// benchClient is a client of the TCSS emulator, which checks each call's TC3 signature and keeps
// its tasks as TCSS does: the upstream scan's BenchmarkStart* call too, so that the audited path
// and the signed call alone are measured against the same server (its CPU shares the machine
// with the client's). The emulator's rate limit is off: the benchmarks measure the call.
func benchClient(b *testing.B) *Client {
	key := tcsstest.RandomKey()
	_, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}, RatePerSecond: 1 << 30})
	b.Cleanup(srv.Close)
	cfg := testConfig(srv.URL)
	cfg.Credential = common.NewCredential(key.SecretID, key.SecretKey)
	return newTestClient(b, cfg)
}

func BenchmarkCreateVulScanTask(b *testing.B) {
	c := benchClient(b)
	req := scan.Request{
		LocalImageScanType: "IMAGEIDS", LocalImageIDs: []string{"sha256:" + strings.Repeat("a", 64)},
		RegistryImageScanType: "ALL", IsLatest: true,
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.CreateVulScanTask(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateVulScanTaskParallel is the signed call's throughput with 8 callers per CPU at
// once: the anchor of scan's BenchmarkStartParallel.
func BenchmarkCreateVulScanTaskParallel(b *testing.B) {
	c := benchClient(b)
	req := scan.Request{LocalImageScanType: "ALL"}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.CreateVulScanTask(context.Background(), req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func TestConcurrentCalls(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) { createdTask(w) })
	c := newTestClient(t, testConfig(f.URL))
	const callers = 8
	errs := make(chan error, callers)
	for range callers {
		go func() {
			_, err := c.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"})
			errs <- err
		}()
	}
	for range callers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(f.requests()); n != callers {
		t.Errorf("TCSS saw %d requests, want %d", n, callers)
	}
}

// Calls made at once keep their connections for the next calls made at once: a server's queue
// workers call TCSS together, and with Go's default of two idle connections per host every
// call beyond the second dialled (and against TCSS shook hands for TLS) again.
func TestConcurrentCallsReuseTheirConnections(t *testing.T) {
	const callers, rounds = 8, 3
	var dials atomic.Int64
	arrived := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		<-release // hold every call of the round open at once, so each needs its own connection
		createdTask(w)
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			dials.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := newTestClient(t, testConfig(srv.URL))
	for round := range rounds {
		errs := make(chan error, callers)
		for range callers {
			go func() {
				_, err := c.CreateVulScanTask(context.Background(), scan.Request{LocalImageScanType: "ALL"})
				errs <- err
			}()
		}
		for range callers {
			<-arrived
		}
		for range callers {
			release <- struct{}{}
		}
		for range callers {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
	if n := dials.Load(); n != callers {
		t.Errorf("%d rounds of %d calls at once opened %d connections, want %d (one per caller, kept)", rounds, callers, n, callers)
	}
}

func TestNewRefusesASharedSDKHTTPClient(t *testing.T) {
	common.DefaultHttpClient = &http.Client{}
	defer func() { common.DefaultHttpClient = nil }()
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "DefaultHttpClient") {
		t.Errorf("New = %v, want a refusal naming common.DefaultHttpClient", err)
	}
}
