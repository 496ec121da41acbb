package tcsstest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	vulscanRole = "qcs::cam::uin/100000000001:roleName/VulScanRole"
	assumeBody  = `{"RoleArn":"` + vulscanRole + `","RoleSessionName":"vulscan","DurationSeconds":3600}`
)

// stsAnswer is STS's AssumeRole response envelope.
type stsAnswer struct {
	Response struct {
		Error *struct {
			Code, Message string
		}
		Credentials struct {
			Token, TmpSecretId, TmpSecretKey string
		}
		ExpiredTime int64
		Expiration  string
		RequestId   string
	}
}

func (a stsAnswer) code() string {
	if a.Response.Error == nil {
		return ""
	}
	return a.Response.Error.Code
}

func newSTSFixture(t *testing.T) *fixture {
	t.Helper()
	clk := &clock{t: t0}
	emu, srv := NewServer(Options{Keys: []Key{permanent, temporary}, Roles: []string{vulscanRole}, Now: clk.Now})
	t.Cleanup(srv.Close)
	return &fixture{emu: emu, srv: srv, clk: clk}
}

// stsRequest builds an AssumeRole request as the Go SDK sends it, signed for service (STS's
// "sts" unless a test says otherwise) with k at time at.
func stsRequest(t *testing.T, url, body string, k Key, at time.Time, service string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", "AssumeRole")
	r.Header.Set("X-TC-Version", STSVersion)
	r.Header.Set("X-TC-Region", "ap-guangzhou")
	Sign(r, []byte(body), k, SignOptions{Service: service, Time: at})
	return r
}

func (a stsAnswer) requestID() string { return a.Response.RequestId }

func sendSTS(t *testing.T, r *http.Request) stsAnswer { return sendFor[stsAnswer](t, r) }

// assume assumes vulscanRole with the permanent key and returns the issued key.
func (f *fixture) assume(t *testing.T, body string) (Key, stsAnswer) {
	t.Helper()
	a := sendSTS(t, stsRequest(t, f.srv.URL, body, permanent, f.clk.Now(), STSService))
	if a.code() != "" {
		t.Fatalf("AssumeRole answered %s: %s", a.code(), a.Response.Error.Message)
	}
	c := a.Response.Credentials
	return Key{SecretID: c.TmpSecretId, SecretKey: c.TmpSecretKey, Token: c.Token}, a
}

func TestAssumeRoleIssuesAKeyTCSSAccepts(t *testing.T) {
	f := newSTSFixture(t)
	issued, a := f.assume(t, assumeBody)

	if issued.SecretID == "" || issued.SecretKey == "" || issued.Token == "" {
		t.Fatalf("Credentials = %+v, want TmpSecretId, TmpSecretKey and Token", a.Response.Credentials)
	}
	wantExpiry := t0.Add(time.Hour)
	if a.Response.ExpiredTime != wantExpiry.Unix() || a.Response.Expiration != wantExpiry.Format(time.RFC3339) {
		t.Errorf("ExpiredTime %d, Expiration %q; want %d, %q", a.Response.ExpiredTime, a.Response.Expiration,
			wantExpiry.Unix(), wantExpiry.Format(time.RFC3339))
	}
	if got := f.emu.Issued(); len(got) != 1 || got[0] != issued {
		t.Errorf("Issued() = %d keys, want the one AssumeRole answered", len(got))
	}

	tc := send(t, f.signed(t, "CreateVulScanTask", allAll, issued, f.clk.Now(), nil))
	if tc.code() != "" || tc.Response.LocalTaskID <= 0 {
		t.Fatalf("CreateVulScanTask with the issued key: %s, LocalTaskID %d", tc.code(), tc.Response.LocalTaskID)
	}
	if n := f.emu.Calls("AssumeRole"); n != 1 {
		t.Errorf("Calls(AssumeRole) = %d, want 1", n)
	}
	if n := f.emu.CallsBy("AssumeRole", permanent.SecretID); n != 1 {
		t.Errorf("CallsBy(AssumeRole, base key) = %d, want 1", n)
	}
	if n, base := f.emu.CallsBy("CreateVulScanTask", issued.SecretID), f.emu.CallsBy("CreateVulScanTask", permanent.SecretID); n != 1 || base != 0 {
		t.Errorf("CreateVulScanTask signed by the issued key %d times and by the base key %d times, want 1 and 0", n, base)
	}
}

func TestIssuedKeysExpireOnTheEmulatorsClock(t *testing.T) {
	f := newSTSFixture(t)
	issued, _ := f.assume(t, assumeBody)
	withoutToken := issued
	withoutToken.Token = ""
	wrongToken := issued
	wrongToken.Token = "not-the-token"

	tests := []struct {
		name    string
		key     Key
		advance time.Duration // from t0
		want    string
	}{
		{name: "accepted right after issue", key: issued, want: ""},
		{name: "accepted a second before expiry", key: issued, advance: time.Hour - time.Second, want: ""},
		{name: "refused at expiry", key: issued, advance: time.Hour, want: "AuthFailure.TokenFailure"},
		{name: "refused without its token", key: withoutToken, want: "AuthFailure.TokenFailure"},
		{name: "refused with another token", key: wrongToken, want: "AuthFailure.TokenFailure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.clk.Add(tt.advance)
			defer f.clk.Add(-tt.advance)
			a := send(t, f.signed(t, "DescribeVulScanInfo", "{}", tt.key, f.clk.Now(), nil))
			if a.code() != tt.want {
				t.Errorf("answer %q, want %q", a.code(), tt.want)
			}
		})
	}
}

func TestAssumeRoleAuthentication(t *testing.T) {
	f := newSTSFixture(t)
	wrongKey := permanent
	wrongKey.SecretKey = "not-the-secret-key"
	tests := []struct {
		name string
		req  func(t *testing.T) *http.Request
		want string
	}{
		{name: "signed for tcss instead of sts", want: "AuthFailure.SignatureFailure",
			req: func(t *testing.T) *http.Request { return stsRequest(t, f.srv.URL, assumeBody, permanent, t0, Service) }},
		{name: "wrong secret key", want: "AuthFailure.SignatureFailure",
			req: func(t *testing.T) *http.Request {
				return stsRequest(t, f.srv.URL, assumeBody, wrongKey, t0, STSService)
			}},
		{name: "unknown SecretId", want: "AuthFailure.SecretIdNotFound",
			req: func(t *testing.T) *http.Request {
				return stsRequest(t, f.srv.URL, assumeBody, RandomKey(), t0, STSService)
			}},
		{name: "timestamp ten minutes old", want: "AuthFailure.SignatureExpire",
			req: func(t *testing.T) *http.Request {
				return stsRequest(t, f.srv.URL, assumeBody, permanent, t0.Add(-10*time.Minute), STSService)
			}},
		{name: "body changed after signing", want: "AuthFailure.SignatureFailure",
			req: func(t *testing.T) *http.Request {
				r := stsRequest(t, f.srv.URL, assumeBody, permanent, t0, STSService)
				setBody(r, strings.Replace(assumeBody, "3600", "43200", 1))
				return r
			}},
		{name: "a TCSS action signed for sts", want: "AuthFailure.SignatureFailure",
			req: func(t *testing.T) *http.Request {
				r, err := http.NewRequest(http.MethodPost, f.srv.URL, strings.NewReader(allAll))
				if err != nil {
					t.Fatal(err)
				}
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("X-TC-Action", "CreateVulScanTask")
				r.Header.Set("X-TC-Version", Version)
				Sign(r, []byte(allAll), permanent, SignOptions{Service: STSService, Time: t0})
				return r
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a := sendSTS(t, tt.req(t)); a.code() != tt.want {
				t.Errorf("answer %q, want %q", a.code(), tt.want)
			}
		})
	}
	if n := f.emu.Calls("AssumeRole") + f.emu.Calls("CreateVulScanTask"); n != 0 {
		t.Errorf("%d unauthenticated calls reached an action, want 0", n)
	}
	if len(f.emu.Issued()) != 0 {
		t.Error("a key was issued to an unauthenticated call")
	}
}

func TestAssumeRoleParameters(t *testing.T) {
	f := newSTSFixture(t)
	tests := []struct {
		name     string
		body     string
		want     string
		lifetime time.Duration // when want is ""
	}{
		{name: "DurationSeconds defaults to 7200", body: `{"RoleArn":"` + vulscanRole + `","RoleSessionName":"vulscan"}`, lifetime: 7200 * time.Second},
		{name: "the longest duration, 43200", body: `{"RoleArn":"` + vulscanRole + `","RoleSessionName":"a=b,c.d@e-f_g","DurationSeconds":43200}`, lifetime: 12 * time.Hour},
		{name: "a role of another account", body: `{"RoleArn":"qcs::cam::uin/200000000002:roleName/VulScanRole","RoleSessionName":"vulscan"}`,
			want: "InvalidParameter.AccountNotAvaliable"},
		{name: "an unknown role of the account", body: `{"RoleArn":"qcs::cam::uin/100000000001:roleName/Other","RoleSessionName":"vulscan"}`,
			want: "ResourceNotFound.RoleNotFound"},
		{name: "a RoleArn that is no ARN", body: `{"RoleArn":"VulScanRole","RoleSessionName":"vulscan"}`, want: "InvalidParameter.ParamError"},
		{name: "RoleArn missing", body: `{"RoleSessionName":"vulscan"}`, want: "MissingParameter"},
		{name: "RoleSessionName missing", body: `{"RoleArn":"` + vulscanRole + `"}`, want: "MissingParameter"},
		{name: "RoleSessionName of one character", body: `{"RoleArn":"` + vulscanRole + `","RoleSessionName":"v"}`, want: "InvalidParameter.ParamError"},
		{name: "RoleSessionName with a space", body: `{"RoleArn":"` + vulscanRole + `","RoleSessionName":"vul scan"}`, want: "InvalidParameter.ParamError"},
		{name: "RoleSessionName of 129 characters", body: `{"RoleArn":"` + vulscanRole + `","RoleSessionName":"` + strings.Repeat("v", 129) + `"}`,
			want: "InvalidParameter.ParamError"},
		{name: "DurationSeconds over 43200", body: `{"RoleArn":"` + vulscanRole + `","RoleSessionName":"vulscan","DurationSeconds":43201}`,
			want: "InvalidParameter.OverTimeError"},
		{name: "DurationSeconds as a string", body: `{"RoleArn":"` + vulscanRole + `","RoleSessionName":"vulscan","DurationSeconds":"3600"}`,
			want: "InvalidParameter"},
		{name: "an unknown parameter", body: `{"RoleArn":"` + vulscanRole + `","RoleSessionName":"vulscan","Role":"x"}`, want: "UnknownParameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := sendSTS(t, stsRequest(t, f.srv.URL, tt.body, permanent, t0, STSService))
			if a.code() != tt.want {
				t.Fatalf("answer %q, want %q", a.code(), tt.want)
			}
			if tt.want == "" && a.Response.ExpiredTime != t0.Add(tt.lifetime).Unix() {
				t.Errorf("ExpiredTime %d, want %d", a.Response.ExpiredTime, t0.Add(tt.lifetime).Unix())
			}
			if tt.want != "" && a.Response.Credentials.TmpSecretId != "" {
				t.Error("a refused call carries credentials")
			}
		})
	}
}

func TestAssumeRoleVersion(t *testing.T) {
	f := newSTSFixture(t)
	r := stsRequest(t, f.srv.URL, assumeBody, permanent, t0, STSService)
	r.Header.Set("X-TC-Version", Version) // TCSS's version is not STS's; the header is not signed
	if a := sendSTS(t, r); a.code() != "NoSuchVersion" {
		t.Errorf("answer %q, want NoSuchVersion", a.code())
	}
}

// TestNoRolesNoAccount pins that an emulator configured without roles refuses every role.
func TestNoRolesNoAccount(t *testing.T) {
	emu := New(Options{Keys: []Key{permanent}, Now: func() time.Time { return t0 }})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	if a := sendSTS(t, stsRequest(t, srv.URL, assumeBody, permanent, t0, STSService)); a.code() != "InvalidParameter.AccountNotAvaliable" {
		t.Errorf("answer %q, want InvalidParameter.AccountNotAvaliable", a.code())
	}
}
