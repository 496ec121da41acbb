package awsidentity

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signV4 signs as AWS documents it: AWS's own published example (the SigV4 test suite's
// get-vanilla), and, for the request this package sends, byte for byte what the AWS SDK's
// signer writes (the SDK is a test dependency only).
func TestSignV4(t *testing.T) {
	t.Run("AWS test suite: get-vanilla", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "https://example.amazonaws.com/", nil)
		signV4(req, nil, Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
			"us-east-1", "service", time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC))
		want := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " +
			"SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
		if got := req.Header.Get("Authorization"); got != want {
			t.Errorf("Authorization\n got %s\nwant %s", got, want)
		}
	})
	for _, c := range []struct {
		name     string
		endpoint string
		creds    Credentials
	}{
		{"temporary credentials", "https://sts.ap-southeast-1.amazonaws.com", Credentials{"ASIAEXAMPLE", "secret/key+1", "session-token"}},
		{"long-term key, endpoint with a port and path", "http://127.0.0.1:4566/sts/", Credentials{"AKIAEXAMPLE", "another-secret", ""}},
	} {
		t.Run("as the AWS SDK signs: "+c.name, func(t *testing.T) {
			body := "Action=GetWebIdentityToken&Audience.member.1=sts.tencentcloudapi.com&DurationSeconds=300&SigningAlgorithm=RS256&Version=2011-06-15"
			at := time.Date(2026, 12, 3, 13, 40, 5, 0, time.UTC)
			ours, _ := http.NewRequest(http.MethodPost, c.endpoint, strings.NewReader(body))
			ours.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			signV4(ours, []byte(body), c.creds, "ap-southeast-1", "sts", at)

			sdk, _ := http.NewRequest(http.MethodPost, c.endpoint, strings.NewReader(body))
			sdk.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			err := v4.NewSigner().SignHTTP(context.Background(),
				aws.Credentials{AccessKeyID: c.creds.AccessKeyID, SecretAccessKey: c.creds.SecretAccessKey, SessionToken: c.creds.SessionToken},
				sdk, hexSHA256([]byte(body)), "sts", "ap-southeast-1", at)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
				if got, want := ours.Header.Get(h), sdk.Header.Get(h); got != want {
					t.Errorf("%s\n got %s\nwant %s (the AWS SDK's)", h, got, want)
				}
			}
		})
	}
}
