package awsidentity

import (
	"encoding/xml"
	"testing"
)

// xmlText reads STS's answers as encoding/xml would: AWS's documented response shapes, entities,
// an element whose name starts another's, an empty element, and what is missing.
func TestXMLText(t *testing.T) {
	const ok = `<GetWebIdentityTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetWebIdentityTokenResult>
    <WebIdentityToken>eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln</WebIdentityToken>
    <Expiration>2026-12-03T16:00:00Z</Expiration>
  </GetWebIdentityTokenResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</GetWebIdentityTokenResponse>`
	const failed = `<?xml version="1.0" encoding="UTF-8"?>
<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>InvalidClientTokenId</Code>
    <Message>The security token included in the request is invalid &amp; &#39;unknown&#39; &lt;here&gt;.</Message>
  </Error>
  <RequestId>4ad5d4a5-4dc4-4a9f-9b8f-d0c1e7a0d5b1</RequestId>
</ErrorResponse>`
	tests := []struct {
		name, doc string
		path      []string
		want      string
		found     bool
	}{
		{"token", ok, []string{"GetWebIdentityTokenResult", "WebIdentityToken"}, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln", true},
		{"error code past ErrorResponse", failed, []string{"Error", "Code"}, "InvalidClientTokenId", true},
		{"error message with references", failed, []string{"Error", "Message"}, "The security token included in the request is invalid & 'unknown' <here>.", true},
		{"element with attributes", `<A x="1"><B y="2">v</B></A>`, []string{"A", "B"}, "v", true},
		{"empty element", `<A><B/></A>`, []string{"A", "B"}, "", true},
		{"missing inner", ok, []string{"GetWebIdentityTokenResult", "Token"}, "", false},
		{"missing outer", failed, []string{"GetWebIdentityTokenResult", "WebIdentityToken"}, "", false},
		{"not XML", `Service Unavailable`, []string{"Error", "Code"}, "", false},
		{"unterminated", `<A><B>v`, []string{"A", "B"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := xmlText([]byte(tt.doc), tt.path...)
			if got != tt.want || found != tt.found {
				t.Errorf("xmlText(%v) = %q, %v; want %q, %v", tt.path, got, found, tt.want, tt.found)
			}
		})
	}
	// The two documents as encoding/xml reads them, as the package read them before.
	var e struct {
		Code    string `xml:"Error>Code"`
		Message string `xml:"Error>Message"`
	}
	if err := xml.Unmarshal([]byte(failed), &e); err != nil {
		t.Fatal(err)
	}
	if code, _ := xmlText([]byte(failed), "Error", "Code"); code != e.Code {
		t.Errorf("code %q, encoding/xml %q", code, e.Code)
	}
	if msg, _ := xmlText([]byte(failed), "Error", "Message"); msg != e.Message {
		t.Errorf("message %q, encoding/xml %q", msg, e.Message)
	}
}
