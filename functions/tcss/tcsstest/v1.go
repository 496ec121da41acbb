package tcsstest

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Signature v1 (HmacSHA256 / HmacSHA1) is the older scheme: every parameter travels in an
// application/x-www-form-urlencoded body, and the signature covers
// METHOD + host + path + "?" + the parameters sorted by name as k=v joined by "&" (unescaped).
// tccli signs this way (its generated service clients set signMethod="HmacSHA256";
// TencentCloud/tencentcloud-cli tccli/services/tcss/tcss_client.py), through the Python SDK's
// _build_req_with_old_signature and _format_sign_string
// (TencentCloud/tencentcloud-sdk-python tencentcloud/common/abstract_client.py); the Go SDK's
// signRequest/getStringToSign (tencentcloud/common/sign.go) compose the same string.

// v1Common are the common parameters of a v1 request, which are not action parameters.
var v1Common = []string{"Action", "Version", "Region", "Timestamp", "Nonce", "SecretId", "Signature",
	"SignatureMethod", "Token", "RequestClient", "Language"}

// V1StringToSign is the string a v1 signature covers. Parameter names have "_" read as "." (the
// Python SDK's legacy spelling of nested names).
func V1StringToSign(method, host, path string, form url.Values) string {
	values := make(map[string]string, len(form))
	for k, vs := range form {
		if k == "Signature" || len(vs) == 0 {
			continue
		}
		values[strings.ReplaceAll(k, "_", ".")] = vs[0]
	}
	pairs := make([]string, 0, len(values))
	for _, k := range sortedKeys(values) { // sorted by name, as the SDKs sort, not by "k=v"
		pairs = append(pairs, k+"="+values[k])
	}
	return method + host + path + "?" + strings.Join(pairs, "&")
}

// V1Signature is base64(HMAC(secretKey, s)) with SHA-256 for "HmacSHA256", else SHA-1.
func V1Signature(s, secretKey, method string) string {
	h := sha1.New
	if method == "HmacSHA256" {
		h = sha256.New
	}
	m := hmac.New(func() hash.Hash { return h() }, []byte(secretKey))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// SignV1 adds the common parameters and the v1 signature to form, as the SDKs do for a POST to
// host (with "/" as path).
func SignV1(form url.Values, host string, k Key, method string, at time.Time) {
	form.Set("SecretId", k.SecretID)
	form.Set("Timestamp", strconv.FormatInt(at.Unix(), 10))
	if form.Get("Nonce") == "" {
		form.Set("Nonce", strconv.FormatInt(at.UnixNano()%1000000007+1, 10))
	}
	form.Set("SignatureMethod", method)
	if k.Token != "" {
		form.Set("Token", k.Token)
	}
	form.Del("Signature")
	form.Set("Signature", V1Signature(V1StringToSign(http.MethodPost, host, "/", form), k.SecretKey, method))
}

// readV1 authenticates a form-encoded v1 request and returns its call.
func (e *Emulator) readV1(r *http.Request, body []byte) (*call, *apiError) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &apiError{Code: "InvalidParameter", Message: "The form-encoded body could not be parsed."}
	}
	c := &call{action: form.Get("Action"), version: form.Get("Version")}
	if c.action == "" {
		return nil, &apiError{Code: "MissingParameter", Message: "The request is missing the required parameter Action."}
	}
	for _, p := range []string{"SecretId", "Signature", "Timestamp"} {
		if form.Get(p) == "" {
			return nil, &apiError{Code: "MissingParameter", Message: "The request is missing the required parameter " + p + "."}
		}
	}
	ts, err := strconv.ParseInt(form.Get("Timestamp"), 10, 64)
	if err != nil {
		return nil, &apiError{Code: "InvalidParameter", Message: "Timestamp must be a Unix time in seconds."}
	}
	if aerr := e.checkSkew(ts); aerr != nil {
		return nil, aerr
	}
	key, expires, ok := e.lookupKey(form.Get("SecretId"))
	if !ok {
		return nil, errSecretIDNotFound()
	}
	method := form.Get("SignatureMethod")
	switch method {
	case "":
		method = "HmacSHA1"
	case "HmacSHA1", "HmacSHA256":
	default:
		return nil, &apiError{Code: "InvalidParameterValue", Message: "SignatureMethod must be HmacSHA256 or HmacSHA1."}
	}
	want := V1Signature(V1StringToSign(r.Method, r.Host, r.URL.Path, form), key.SecretKey, method)
	if !hmac.Equal([]byte(want), []byte(form.Get("Signature"))) {
		return nil, errSignature("")
	}
	if aerr := e.checkToken(key, expires, form.Get("Token")); aerr != nil {
		return nil, aerr
	}
	c.secretID = key.SecretID
	for _, p := range v1Common {
		form.Del(p)
	}
	c.bind = func(fields map[string]any) *apiError { return bindForm(form, fields) }
	return c, nil
}

// bindForm decodes flattened form parameters ("Name", "List.0", "List.1") into fields.
func bindForm(form url.Values, fields map[string]any) *apiError {
	lists := map[string]map[int]string{}
	for _, key := range sortedKeys(form) {
		name, index, indexed := strings.Cut(key, ".")
		dst, ok := fields[name]
		if !ok {
			return &apiError{Code: "UnknownParameter", Message: "The parameter `" + key + "` is not recognized."}
		}
		v := form.Get(key)
		wrong := &apiError{Code: "InvalidParameter", Message: "The parameter `" + key + "` has the wrong type: want " + jsonType(dst) + "."}
		switch d := dst.(type) {
		case *[]string, *[]uint64:
			i, err := strconv.Atoi(index)
			if !indexed || err != nil || i < 0 || i >= maxListLen {
				return wrong
			}
			if lists[name] == nil {
				lists[name] = map[int]string{}
			}
			lists[name][i] = v
		case *string:
			if indexed {
				return wrong
			}
			*d = v
		case *int64:
			n, err := strconv.ParseInt(v, 10, 64)
			if indexed || err != nil {
				return wrong
			}
			*d = n
		case *bool:
			b, err := strconv.ParseBool(v)
			if indexed || err != nil {
				return wrong
			}
			*d = b
		}
	}
	for name, items := range lists {
		idx := make([]int, 0, len(items))
		for i := range items {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		switch d := fields[name].(type) {
		case *[]string:
			for _, i := range idx {
				*d = append(*d, items[i])
			}
		case *[]uint64:
			for _, i := range idx {
				n, err := strconv.ParseUint(items[i], 10, 64)
				if err != nil {
					return &apiError{Code: "InvalidParameter", Message: "The parameter `" + name + "` has the wrong type: want " + jsonType(d) + "."}
				}
				*d = append(*d, n)
			}
		}
	}
	return checkLists(fields)
}
