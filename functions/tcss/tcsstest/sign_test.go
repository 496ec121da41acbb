package tcsstest

import (
	"bytes"
	"net/http"
	"testing"
	"time"
)

// Tencent's published TC3 example (API 3.0 "Signature v3" page, CVM DescribeInstances):
// https://www.tencentcloud.com/document/product/1163/52898. The asterisks are part of the keys.
const (
	exampleSecretID  = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******"
	exampleSecretKey = "Gu5t9xGARNpq86cd98joQYCN3*******"
	exampleTimestamp = 1551113065
	exampleBody      = `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`
)

func TestSignPublishedExample(t *testing.T) {
	c := Canonical{
		Method: "POST", URI: "/",
		Headers: []Header{
			{Name: "content-type", Value: "application/json; charset=utf-8"},
			{Name: "host", Value: "cvm.tencentcloudapi.com"},
		},
		PayloadSHA256: HashHex([]byte(exampleBody)),
	}
	checks := []struct{ name, got, want string }{
		{"hashed payload", c.PayloadSHA256, "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"},
		{"canonical request", c.String(), "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n" +
			"35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"},
		{"hashed canonical request", HashHex([]byte(c.String())), "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"},
		{"string to sign", StringToSign(exampleTimestamp, "cvm", c), "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n" +
			"5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"},
		{"signature", Signature(exampleSecretKey, "2019-02-25", "cvm", StringToSign(exampleTimestamp, "cvm", c)),
			"2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %q, want %q", ck.name, ck.got, ck.want)
		}
	}
}

func TestSignSetsPublishedAuthorization(t *testing.T) {
	r, err := http.NewRequest(http.MethodPost, "https://cvm.tencentcloudapi.com/", bytes.NewReader([]byte(exampleBody)))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	Sign(r, []byte(exampleBody), Key{SecretID: exampleSecretID, SecretKey: exampleSecretKey},
		SignOptions{Service: "cvm", Time: time.Unix(exampleTimestamp, 0)})
	want := "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, " +
		"SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
	if got := r.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization = %q\nwant %q", got, want)
	}
	if got := r.Header.Get("X-TC-Timestamp"); got != "1551113065" {
		t.Errorf("X-TC-Timestamp = %q", got)
	}
}
