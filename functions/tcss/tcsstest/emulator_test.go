package tcsstest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	permanent = Key{SecretID: "AKIDpermanent0000000000000000000000", SecretKey: "permanent-secret-key-0000000000"}
	temporary = Key{SecretID: "AKIDtemporary0000000000000000000000", SecretKey: "temporary-secret-key-0000000000", Token: "session-token-abc"}
)

type fixture struct {
	emu *Emulator
	srv *httptest.Server
	clk *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := &clock{t: t0}
	emu, srv := NewServer(Options{Keys: []Key{permanent, temporary}, Now: clk.Now, ScanDuration: 100 * time.Second})
	t.Cleanup(srv.Close)
	return &fixture{emu: emu, srv: srv, clk: clk}
}

// answer is TCSS's response envelope with the fields of both actions.
type answer struct {
	Response struct {
		Error *struct {
			Code, Message string
		}
		RequestId                                                                       string
		LocalTaskID, RegistryTaskID                                                     int64
		Status, ScanStartTime, ScanEndTime                                              string
		ScanProgress, RemainingTime                                                     float64
		LocalImageScanCount, FoundVulCount, RegistryImageScanCount, FoundRiskImageCount int64
	}
}

func (a answer) code() string {
	if a.Response.Error == nil {
		return ""
	}
	return a.Response.Error.Code
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func (a answer) requestID() string { return a.Response.RequestId }

// send posts r and checks the envelope every TCSS answer has: HTTP 200, JSON, a UUID RequestId.
func send(t *testing.T, r *http.Request) answer { return sendFor[answer](t, r) }

// sendFor posts r and decodes the answer into an A (TCSS's or STS's envelope), checking what
// every Tencent answer has: HTTP 200, JSON, a UUID RequestId.
func sendFor[A interface{ requestID() string }](t *testing.T, r *http.Request) A {
	t.Helper()
	var a A
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP status %d, want 200 (Tencent answers errors with 200)", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !uuidRE.MatchString(a.requestID()) {
		t.Fatalf("RequestId %q is not a UUID", a.requestID())
	}
	return a
}

// signed builds a Go-SDK-style signed request; edit runs after signing (to tamper).
func (f *fixture) signed(t *testing.T, action, body string, k Key, at time.Time, edit func(*http.Request)) *http.Request {
	t.Helper()
	r, err := NewRequest(f.srv.URL, action, []byte(body), k, at)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(r)
	}
	return r
}

const allAll = `{"LocalImageScanType":"ALL","RegistryImageScanType":"ALL"}`

func TestAuthentication(t *testing.T) {
	wrongKey := permanent
	wrongKey.SecretKey = "not-the-secret-key"
	unknown := RandomKey()
	noToken := temporary
	noToken.Token = ""
	badToken := temporary
	badToken.Token = "stolen-or-stale"
	tests := []struct {
		name string
		key  Key
		at   time.Duration // signing time relative to the emulator's clock
		edit func(*http.Request)
		want string
	}{
		{name: "permanent key accepted", key: permanent},
		{name: "temporary key with its token accepted", key: temporary},
		{name: "4m59s behind accepted", key: permanent, at: -299 * time.Second},
		{name: "4m59s ahead accepted", key: permanent, at: 299 * time.Second},
		{name: "wrong secret key", key: wrongKey, want: "AuthFailure.SignatureFailure"},
		{name: "body changed after signing", key: permanent, edit: func(r *http.Request) {
			setBody(r, `{"LocalImageScanType":"ALL","RegistryImageScanType":"NOT_SCAN"}`)
		}, want: "AuthFailure.SignatureFailure"},
		{name: "signed header changed after signing", key: permanent, edit: func(r *http.Request) {
			r.Header.Set("Content-Type", "application/json; charset=utf-8")
		}, want: "AuthFailure.SignatureFailure"},
		{name: "unknown SecretId", key: unknown, want: "AuthFailure.SecretIdNotFound"},
		{name: "six minutes behind", key: permanent, at: -6 * time.Minute, want: "AuthFailure.SignatureExpire"},
		{name: "six minutes ahead", key: permanent, at: 6 * time.Minute, want: "AuthFailure.SignatureExpire"},
		{name: "temporary key without token", key: noToken, want: "AuthFailure.TokenFailure"},
		{name: "temporary key with wrong token", key: badToken, want: "AuthFailure.TokenFailure"},
		{name: "no Authorization", key: permanent, edit: func(r *http.Request) { r.Header.Del("Authorization") },
			want: "AuthFailure.InvalidAuthorization"},
		{name: "malformed Authorization", key: permanent, edit: func(r *http.Request) { r.Header.Set("Authorization", "Basic dXNlcjpwYXNz") },
			want: "AuthFailure.InvalidAuthorization"},
		{name: "SignedHeaders without host", key: permanent, edit: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=content-type;host", "SignedHeaders=content-type", 1))
		}, want: "AuthFailure.InvalidAuthorization"},
		{name: "credential scope of another service", key: permanent, edit: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/tcss/", "/cvm/", 1))
		}, want: "AuthFailure.SignatureFailure"},
		{name: "no timestamp", key: permanent, edit: func(r *http.Request) { r.Header.Del("X-TC-Timestamp") }, want: "MissingParameter"},
		{name: "unknown action", key: permanent, edit: func(r *http.Request) { r.Header.Set("X-TC-Action", "DescribeEverything") },
			want: "InvalidAction"},
		{name: "no action", key: permanent, edit: func(r *http.Request) { r.Header.Del("X-TC-Action") }, want: "MissingParameter"},
		{name: "wrong version", key: permanent, edit: func(r *http.Request) { r.Header.Set("X-TC-Version", "2018-03-17") }, want: "NoSuchVersion"},
		{name: "GET", key: permanent, edit: func(r *http.Request) { r.Method = http.MethodGet }, want: "UnsupportedProtocol"},
		{name: "body over 1 MiB", key: permanent, edit: func(r *http.Request) {
			setBody(r, `{"LocalImageIDs":["`+strings.Repeat("a", MaxBodyBytes)+`"]}`)
		}, want: "RequestSizeLimitExceeded"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			a := send(t, f.signed(t, "CreateVulScanTask", allAll, tt.key, t0.Add(tt.at), tt.edit))
			if a.code() != tt.want {
				t.Fatalf("code = %q (%+v), want %q", a.code(), a.Response.Error, tt.want)
			}
			if seen[a.Response.RequestId] {
				t.Fatalf("RequestId %s repeated", a.Response.RequestId)
			}
			seen[a.Response.RequestId] = true
			wantCalls := 0
			if tt.want == "" {
				wantCalls = 1
			}
			if got := f.emu.Calls("CreateVulScanTask"); got != wantCalls {
				t.Errorf("Calls = %d, want %d (only authenticated requests reach the action)", got, wantCalls)
			}
		})
	}
}

func setBody(r *http.Request, body string) {
	r.Body = http.NoBody
	if body != "" {
		r.Body = io.NopCloser(strings.NewReader(body))
	}
	r.ContentLength = int64(len(body))
}

// TestSigningVariants: each official client composes the canonical request a little differently;
// TCSS accepts them all, and so must the emulator.
func TestSigningVariants(t *testing.T) {
	f := newFixture(t)
	host := strings.TrimPrefix(f.srv.URL, "http://")
	hostname := host[:strings.LastIndex(host, ":")]
	tests := []struct {
		name        string
		contentType string
		body        string
		opts        SignOptions
	}{
		// Go SDK (tencentcloud/common/client.go sendWithSignatureV3): compact JSON.
		{name: "Go SDK", contentType: "application/json", body: allAll},
		// Tencent's documentation and samples: charset and x-tc-action (value lower-cased).
		{name: "documented charset and x-tc-action", contentType: "application/json; charset=utf-8", body: allAll,
			opts: SignOptions{SignedHeaders: []string{"content-type", "host", "x-tc-action"}}},
		// Python SDK (abstract_client.py _build_req_with_tc3_signature): json.dumps spacing.
		{name: "Python SDK spacing", contentType: "application/json", body: `{"LocalImageScanType": "ALL", "RegistryImageScanType": "ALL"}`},
		// Node.js SDK (common/sign.js sign3): the host signed without its port.
		{name: "Node.js SDK hostname", contentType: "application/json", body: allAll, opts: SignOptions{SignedHost: hostname}},
		// Any extra signed headers, named in any case.
		{name: "more signed headers", contentType: "application/json", body: allAll,
			opts: SignOptions{SignedHeaders: []string{"Content-Type", "Host", "X-TC-Action", "X-TC-Timestamp", "X-TC-Version"}}},
		// X-TC-Content-SHA256: UNSIGNED-PAYLOAD (SDK profile option unsignedPayload).
		{name: "unsigned payload", contentType: "application/json", body: allAll, opts: SignOptions{UnsignedPayload: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodPost, f.srv.URL, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Content-Type", tt.contentType)
			r.Header.Set("X-TC-Action", "CreateVulScanTask")
			r.Header.Set("X-TC-Version", Version)
			tt.opts.Time = t0
			Sign(r, []byte(tt.body), permanent, tt.opts)
			if a := send(t, r); a.code() != "" {
				t.Fatalf("refused: %+v", a.Response.Error)
			}
		})
	}
}

func TestParameterValidation(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"all local and registry images", allAll, ""},
		{"empty object selects nothing", `{}`, "MissingParameter"},
		{"empty body selects nothing", ``, "MissingParameter"},
		{"local image IDs", `{"LocalImageScanType":"IMAGEIDS","LocalImageIDs":["sha256:0837c4ab"]}`, ""},
		{"cluster scope", `{"LocalImageScanType":"CLUSTER","LocalClusterIDs":["cls-qwyx"]}`, ""},
		{"registry IDs", `{"RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[7,9]}`, ""},
		{"null fields are absent", `{"LocalImageScanType":"ALL","IsLatest":null}`, ""},
		{"unknown local scan type", `{"LocalImageScanType":"SOME"}`, "InvalidParameterValue"},
		{"registry has no CLUSTER", `{"RegistryImageScanType":"CLUSTER"}`, "InvalidParameterValue"},
		{"IMAGEIDS without IDs", `{"LocalImageScanType":"IMAGEIDS"}`, "InvalidParameter.MissingParameter"},
		{"registry IMAGEIDS without IDs", `{"RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[]}`, "InvalidParameter.MissingParameter"},
		{"CLUSTER without clusters", `{"LocalImageScanType":"CLUSTER"}`, "InvalidParameter.MissingParameter"},
		{"string where a list belongs", `{"LocalImageScanType":"IMAGEIDS","LocalImageIDs":"sha256:0837"}`, "InvalidParameter"},
		{"negative registry image ID", `{"RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[-1]}`, "InvalidParameter"},
		{"boolean as string", `{"LocalImageScanType":"ALL","LocalImageContainerRunning":"yes"}`, "InvalidParameter"},
		{"fractional task ID", `{"LocalTaskID":1.5}`, "InvalidParameter"},
		{"negative task ID", `{"LocalTaskID":-4}`, "InvalidParameterValue"},
		{"unknown parameter", `{"LocalImageScanType":"ALL","Region":"ap-guangzhou"}`, "UnknownParameter"},
		{"not JSON", `{"LocalImageScanType":`, "InvalidParameter.ParsingError"},
		{"JSON array", `["ALL"]`, "InvalidParameter"},
		{"empty image ID", `{"LocalImageScanType":"IMAGEIDS","LocalImageIDs":[""]}`, "InvalidParameterValue"},
		{"too many image IDs", `{"RegistryImageScanType":"IMAGEIDS","RegistryImageIDs":[` + strings.Repeat("1,", maxListLen) + `1]}`, "InvalidParameterValue"},
		{"re-scan of an unknown task", `{"LocalTaskID":99}`, "ResourceNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			a := send(t, f.signed(t, "CreateVulScanTask", tt.body, permanent, t0, nil))
			if a.code() != tt.want {
				t.Fatalf("code = %q (%+v), want %q", a.code(), a.Response.Error, tt.want)
			}
		})
	}
}

func TestRateLimitPerActionPerSecond(t *testing.T) {
	f := newFixture(t)
	for i := range 20 {
		if a := send(t, f.signed(t, "DescribeVulScanInfo", `{}`, permanent, t0, nil)); a.code() != "" {
			t.Fatalf("call %d refused: %+v", i+1, a.Response.Error)
		}
	}
	if a := send(t, f.signed(t, "DescribeVulScanInfo", `{}`, permanent, t0, nil)); a.code() != "RequestLimitExceeded" {
		t.Fatalf("21st call in one second: code %q, want RequestLimitExceeded", a.code())
	}
	if a := send(t, f.signed(t, "CreateVulScanTask", allAll, permanent, t0, nil)); a.code() != "" {
		t.Fatalf("another action has its own budget: %+v", a.Response.Error)
	}
	f.clk.Add(time.Second)
	if a := send(t, f.signed(t, "DescribeVulScanInfo", `{}`, permanent, t0, nil)); a.code() != "" {
		t.Fatalf("next second refused: %+v", a.Response.Error)
	}
	if got := f.emu.Calls("DescribeVulScanInfo"); got != 22 {
		t.Errorf("Calls = %d, want 22 (rate-limited calls reached TCSS too)", got)
	}
}

func TestTasksAndProgress(t *testing.T) {
	f := newFixture(t)
	describe := func(body string) answer {
		t.Helper()
		return send(t, f.signed(t, "DescribeVulScanInfo", body, permanent, f.clk.Now(), nil))
	}
	if a := describe(`{}`); a.Response.Status != "NOT_SCAN" || a.Response.LocalTaskID != 0 {
		t.Fatalf("before any scan: %+v", a.Response)
	}

	first := send(t, f.signed(t, "CreateVulScanTask", allAll, permanent, t0, nil))
	if first.Response.LocalTaskID == 0 || first.Response.RegistryTaskID <= first.Response.LocalTaskID {
		t.Fatalf("task IDs: %+v", first.Response)
	}
	localOnly := send(t, f.signed(t, "CreateVulScanTask", `{"LocalImageScanType":"IMAGEIDS","LocalImageIDs":["sha256:a","sha256:b","sha256:a"]}`, permanent, t0, nil))
	if localOnly.Response.LocalTaskID <= first.Response.RegistryTaskID || localOnly.Response.RegistryTaskID != 0 {
		t.Fatalf("local-only scan: %+v (IDs increase; no registry task)", localOnly.Response)
	}

	steps := []struct {
		after    time.Duration
		status   string
		progress float64
		left     float64
		images   int64
	}{
		{0, "SCANNING", 0, 100, 0},
		{50 * time.Second, "SCANNING", 50, 50, 1},
		{50 * time.Second, "SCANNED", 100, 0, 2},
	}
	for _, s := range steps {
		f.clk.Add(s.after)
		a := describe(`{}`) // omitted IDs: the latest local task and the latest registry task
		r := a.Response
		if r.Status != s.status || r.ScanProgress != s.progress || r.RemainingTime != s.left || r.LocalImageScanCount != s.images {
			t.Fatalf("at +%v: %+v, want status %s progress %v remaining %v local images %d", f.clk.Now().Sub(t0), r, s.status, s.progress, s.left, s.images)
		}
		if r.LocalTaskID != localOnly.Response.LocalTaskID || r.RegistryTaskID != first.Response.RegistryTaskID {
			t.Fatalf("latest tasks: got %d/%d", r.LocalTaskID, r.RegistryTaskID)
		}
	}
	if a := describe(`{}`); a.Response.ScanStartTime != "2026-03-01 20:00:00" || a.Response.ScanEndTime != "2026-03-01 20:01:40" {
		t.Errorf("times (Beijing): %q .. %q", a.Response.ScanStartTime, a.Response.ScanEndTime)
	}

	// A re-scan restarts the named task under its own ID.
	re := send(t, f.signed(t, "CreateVulScanTask", `{"LocalTaskID":`+itoa64(first.Response.LocalTaskID)+`}`, permanent, f.clk.Now(), nil))
	if re.code() != "" || re.Response.LocalTaskID != first.Response.LocalTaskID {
		t.Fatalf("re-scan: %+v", re.Response)
	}
	if a := describe(`{"LocalTaskID":` + itoa64(first.Response.LocalTaskID) + `}`); a.Response.Status != "SCANNING" || a.Response.LocalImageScanCount != 0 {
		t.Fatalf("re-scanned task: %+v", a.Response)
	}
	if a := describe(`{"RegistryTaskID":` + itoa64(first.Response.LocalTaskID) + `}`); a.code() != "ResourceNotFound" {
		t.Fatalf("a local task ID as RegistryTaskID: %q, want ResourceNotFound", a.code())
	}
	if a := describe(`{"LocalTaskID":1}`); a.code() != "ResourceNotFound" {
		t.Fatalf("unknown task: %q, want ResourceNotFound", a.code())
	}
}

func TestFaults(t *testing.T) {
	t.Run("error code for a number of calls", func(t *testing.T) {
		f := newFixture(t)
		f.emu.InjectFault("CreateVulScanTask", Fault{Code: "InternalError", Message: "boom", Times: 2})
		for i, want := range []string{"InternalError", "InternalError", ""} {
			a := send(t, f.signed(t, "CreateVulScanTask", allAll, permanent, t0, nil))
			if a.code() != want {
				t.Fatalf("call %d: code %q, want %q", i+1, a.code(), want)
			}
		}
		if a := send(t, f.signed(t, "DescribeVulScanInfo", `{}`, permanent, t0, nil)); a.code() != "" {
			t.Fatalf("other action affected: %+v", a.Response.Error)
		}
	})
	t.Run("every action until cleared", func(t *testing.T) {
		f := newFixture(t)
		f.emu.InjectFault("*", Fault{Code: "ResourceUnavailable"})
		for range 3 {
			if a := send(t, f.signed(t, "DescribeVulScanInfo", `{}`, permanent, t0, nil)); a.code() != "ResourceUnavailable" {
				t.Fatalf("code %q", a.code())
			}
		}
		f.emu.ClearFaults()
		if a := send(t, f.signed(t, "DescribeVulScanInfo", `{}`, permanent, t0, nil)); a.code() != "" {
			t.Fatalf("after ClearFaults: %+v", a.Response.Error)
		}
	})
	t.Run("latency outlasting the client's deadline", func(t *testing.T) {
		f := newFixture(t)
		f.emu.InjectFault("CreateVulScanTask", Fault{Latency: time.Hour, Times: 1})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		r := f.signed(t, "CreateVulScanTask", allAll, permanent, t0, nil).WithContext(ctx)
		if _, err := http.DefaultClient.Do(r); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want deadline exceeded", err)
		}
		if got := f.emu.Calls("CreateVulScanTask"); got != 1 {
			t.Fatalf("Calls = %d, want 1", got)
		}
		if a := send(t, f.signed(t, "CreateVulScanTask", allAll, permanent, t0, nil)); a.code() != "" {
			t.Fatalf("after the fault: %+v", a.Response.Error)
		}
	})
	t.Run("short latency then the normal answer", func(t *testing.T) {
		f := newFixture(t)
		f.emu.InjectFault("CreateVulScanTask", Fault{Latency: 10 * time.Millisecond, Times: 1})
		if a := send(t, f.signed(t, "CreateVulScanTask", allAll, permanent, t0, nil)); a.code() != "" || a.Response.LocalTaskID == 0 {
			t.Fatalf("answer: %+v", a.Response)
		}
	})
	t.Run("dropped connection", func(t *testing.T) {
		f := newFixture(t)
		f.emu.InjectFault("CreateVulScanTask", Fault{Drop: true, Times: 1})
		resp, err := http.DefaultClient.Do(f.signed(t, "CreateVulScanTask", allAll, permanent, t0, nil))
		if err == nil {
			resp.Body.Close()
			t.Fatalf("got HTTP %d, want a transport error", resp.StatusCode)
		}
		if got := f.emu.Calls("CreateVulScanTask"); got != 1 {
			t.Fatalf("Calls = %d, want 1 (the request reached TCSS)", got)
		}
	})
}

// TestSignatureV1 covers tccli, whose generated clients sign with HmacSHA256 form posts.
func TestSignatureV1(t *testing.T) {
	f := newFixture(t)
	host := strings.TrimPrefix(f.srv.URL, "http://")
	post := func(form url.Values) answer {
		t.Helper()
		r, err := http.NewRequest(http.MethodPost, f.srv.URL+"/", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return send(t, r)
	}
	base := func() url.Values {
		return url.Values{"Action": {"CreateVulScanTask"}, "Version": {Version}, "RequestClient": {"SDK_PYTHON_3.1.195_CLI_3.1.189.1"},
			"LocalImageScanType": {"IMAGEIDS"}, "LocalImageIDs.0": {"sha256:a"}, "LocalImageIDs.1": {"sha256:b"},
			"RegistryImageScanType": {"NOT_SCAN"}, "IsLatest": {"True"}}
	}
	form := base()
	SignV1(form, host, permanent, "HmacSHA256", t0)
	if a := post(form); a.code() != "" || a.Response.LocalTaskID == 0 || a.Response.RegistryTaskID == 0 {
		t.Fatalf("tccli-style request: %+v", a.Response)
	}
	sha1Form := base()
	SignV1(sha1Form, host, temporary, "HmacSHA1", t0)
	if a := post(sha1Form); a.code() != "" {
		t.Fatalf("HmacSHA1 with token: %+v", a.Response.Error)
	}
	tampered := base()
	SignV1(tampered, host, permanent, "HmacSHA256", t0)
	tampered.Set("RegistryImageScanType", "ALL")
	if a := post(tampered); a.code() != "AuthFailure.SignatureFailure" {
		t.Fatalf("tampered: %q", a.code())
	}
	wrong := base()
	SignV1(wrong, host, Key{SecretID: permanent.SecretID, SecretKey: "wrong"}, "HmacSHA256", t0)
	if a := post(wrong); a.code() != "AuthFailure.SignatureFailure" {
		t.Fatalf("wrong key: %q", a.code())
	}
	badType := base()
	badType.Set("IsLatest", "maybe")
	SignV1(badType, host, permanent, "HmacSHA256", t0)
	if a := post(badType); a.code() != "InvalidParameter" {
		t.Fatalf("bad bool: %q", a.code())
	}
}

func TestRandomKeyIsFresh(t *testing.T) {
	a, b := RandomKey(), RandomKey()
	if a == b || !strings.HasPrefix(a.SecretID, "AKID") || len(a.SecretKey) != 32 || a.Token != "" {
		t.Fatalf("RandomKey: %+v %+v", a, b)
	}
}

func itoa64(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
