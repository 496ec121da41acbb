package tcsstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// PyPI is not reachable from these machines, so the Python SDK and tccli cannot run here. These
// tests rebuild, literally and without this package's signer, the requests their published
// source composes, and prove the emulator accepts them and refuses a tampered copy.

func hmacRaw(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// pythonTC3Request mirrors TencentCloud/tencentcloud-sdk-python
// tencentcloud/common/abstract_client.py, _build_req_with_tc3_signature and _get_tc3_signature:
// Content-Type "application/json", Host = the endpoint (host:port when one is configured),
// body json.dumps(params) (", " and ": " separators), canonical headers
// 'content-type:%s\nhost:%s\n', SignedHeaders 'content-type;host', and the Authorization
// "TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, SignedHeaders=content-type;host, Signature=%s".
func pythonTC3Request(t *testing.T, srvURL, endpoint, body string, k Key, ts int64) *http.Request {
	t.Helper()
	date := Date(ts)
	canonical := fmt.Sprintf("%s\n%s\n%s\n%s\n%s\n%s", "POST", "/", "",
		fmt.Sprintf("content-type:%s\nhost:%s\n", "application/json", endpoint), "content-type;host", sha256Hex(body))
	stringToSign := fmt.Sprintf("%s\n%s\n%s\n%s", "TC3-HMAC-SHA256", fmt.Sprint(ts), date+"/tcss/tc3_request", sha256Hex(canonical))
	// tencentcloud/common/sign.py Sign.sign_tc3: kDate, kService, kSigning, hex signature.
	kDate := hmacRaw([]byte("TC3"+k.SecretKey), date)
	kService := hmacRaw(kDate, "tcss")
	kSigning := hmacRaw(kService, "tc3_request")
	signature := hex.EncodeToString(hmacRaw(kSigning, stringToSign))

	r, err := http.NewRequest(http.MethodPost, srvURL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Host = endpoint
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", "CreateVulScanTask")
	r.Header.Set("X-TC-RequestClient", "SDK_PYTHON_3.1.195")
	r.Header.Set("X-TC-Timestamp", fmt.Sprint(ts))
	r.Header.Set("X-TC-Version", "2020-11-01")
	r.Header.Set("X-TC-Region", "ap-guangzhou")
	if k.Token != "" {
		r.Header.Set("X-TC-Token", k.Token)
	}
	r.Header.Set("Authorization", fmt.Sprintf("TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, SignedHeaders=content-type;host, Signature=%s",
		k.SecretID, date, "tcss", signature))
	return r
}

// tccliV1Form mirrors tccli (TencentCloud/tencentcloud-cli tccli/services/tcss/tcss_client.py:
// ClientProfile(signMethod="HmacSHA256"), _sdkVersion += "_CLI_" + version) through the Python
// SDK's _build_req_with_old_signature, _fix_params (lists flattened to Name.N, booleans as
// Python's str(True) = "True"), _format_sign_string ('%s%s%s?%s' % (reqMethod, endpoint, path,
// '&'.join('%s=%s' % (k, v) for k in sorted(params)))) and sign.py Sign.sign (base64 HMAC-SHA256).
func tccliV1Form(endpoint string, k Key, ts int64) url.Values {
	params := map[string]string{
		"LocalImageScanType": "IMAGEIDS", "LocalImageIDs.0": "sha256:0837c4ab", "LocalImageIDs.1": "sha256:ffee",
		"RegistryImageScanType": "ALL", "IsLatest": "True",
		"Action": "CreateVulScanTask", "RequestClient": "SDK_PYTHON_3.1.195_CLI_3.1.189.1", "Nonce": "5577006791947779410",
		"Timestamp": fmt.Sprint(ts), "Version": "2020-11-01", "Region": "ap-guangzhou", "SecretId": k.SecretID,
		"SignatureMethod": "HmacSHA256", "Language": "en-US",
	}
	if k.Token != "" {
		params["Token"] = k.Token
	}
	keys := make([]string, 0, len(params))
	for key := range params {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, key := range keys {
		pairs[i] = key + "=" + params[key]
	}
	signStr := fmt.Sprintf("%s%s%s?%s", "POST", endpoint, "/", strings.Join(pairs, "&"))
	m := hmac.New(sha256.New, []byte(k.SecretKey))
	m.Write([]byte(signStr))
	form := url.Values{}
	for key, v := range params {
		form.Set(key, v)
	}
	form.Set("Signature", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	return form
}

func TestPythonSDKAndTccliVectors(t *testing.T) {
	f := newFixture(t)
	endpoint := strings.TrimPrefix(f.srv.URL, "http://")
	ts := t0.Unix()
	pyBody := `{"LocalImageScanType": "ALL", "RegistryImageScanType": "ALL", "IsLatest": true}`
	tests := []struct {
		name string
		req  func() *http.Request
		want string
	}{
		{"Python SDK TC3", func() *http.Request { return pythonTC3Request(t, f.srv.URL, endpoint, pyBody, permanent, ts) }, ""},
		{"Python SDK TC3 with a temporary key", func() *http.Request { return pythonTC3Request(t, f.srv.URL, endpoint, pyBody, temporary, ts) }, ""},
		{"Python SDK TC3, body tampered", func() *http.Request {
			r := pythonTC3Request(t, f.srv.URL, endpoint, pyBody, permanent, ts)
			setBody(r, strings.Replace(pyBody, `"IsLatest": true`, `"IsLatest": false`, 1))
			return r
		}, "AuthFailure.SignatureFailure"},
		{"Python SDK TC3, wrong key", func() *http.Request {
			return pythonTC3Request(t, f.srv.URL, endpoint, pyBody, Key{SecretID: permanent.SecretID, SecretKey: "wrong"}, ts)
		}, "AuthFailure.SignatureFailure"},
		{"tccli HmacSHA256", func() *http.Request { return formRequest(t, f.srv.URL, tccliV1Form(endpoint, permanent, ts)) }, ""},
		{"tccli HmacSHA256, parameter tampered", func() *http.Request {
			form := tccliV1Form(endpoint, permanent, ts)
			form.Set("LocalImageIDs.1", "sha256:0000")
			return formRequest(t, f.srv.URL, form)
		}, "AuthFailure.SignatureFailure"},
		{"tccli HmacSHA256, wrong key", func() *http.Request {
			return formRequest(t, f.srv.URL, tccliV1Form(endpoint, Key{SecretID: permanent.SecretID, SecretKey: "wrong"}, ts))
		}, "AuthFailure.SignatureFailure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := send(t, tt.req())
			if a.code() != tt.want {
				t.Fatalf("code = %q (%+v), want %q", a.code(), a.Response.Error, tt.want)
			}
			if tt.want == "" && a.Response.LocalTaskID == 0 {
				t.Fatalf("no task: %+v", a.Response)
			}
		})
	}
}

func formRequest(t *testing.T, srvURL string, form url.Values) *http.Request {
	t.Helper()
	// Python's urlencode (quote_plus) and Go's Encode agree on these values.
	r, err := http.NewRequest(http.MethodPost, srvURL+"/", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}
