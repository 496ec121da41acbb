package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
	"github.com/vulscan/vulscan/functions/platform"
	"github.com/vulscan/vulscan/web"
)

// failingRead is an audit log whose walk fails after a number of records, as a store that goes
// away in the middle of a download.
type failingRead struct {
	web.AuditLog
	after int
	read  int // records handed over so far, over every read
}

func (f *failingRead) Each(ctx context.Context, flt audit.Filter, fn func(audit.Record) error) error {
	return f.AuditLog.Each(ctx, flt, func(r audit.Record) error {
		if f.read++; f.read > f.after {
			return errors.New("the store went away")
		}
		return fn(r)
	})
}

// An audit download through a function URL that cannot be finished, because the log is larger
// than a function may answer or the read fails once the file has begun, is answered with a 500
// that says why; the handler's abort of the response (panic(http.ErrAbortHandler)) must neither
// end the invocation (Lambda's runtime exits the instance after a panic) nor reach the caller as
// a 200 holding part of the file.
func TestAuditDownloadThroughAFunctionThatCannotFinish(t *testing.T) {
	tests := []struct {
		name   string
		fill   int
		wrap   func(web.AuditLog) web.AuditLog
		says   []string
		denies string
	}{
		{"larger than a function's answer", 12000, nil, []string{"4 MiB", "vulscan audit export"}, "id,time"},
		{"the read fails once the file has begun", 3000,
			func(l web.AuditLog) web.AuditLog { return &failingRead{AuditLog: l, after: 2000} }, []string{"could not be completed"}, "id,time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []harnessOption
			if tc.wrap != nil {
				opts = append(opts, withAuditLog(tc.wrap))
			}
			h := newHarness(t, opts...)
			sqlstoretest.Fill(t, h.store, tc.fill)
			d := platform.New(platform.Options{Handler: h.handler, Logger: discard})
			event := `{"version":"2.0","rawPath":"/audit.csv","rawQueryString":"","headers":{"host":"example.lambda-url.us-east-1.on.aws"},
				"requestContext":{"http":{"method":"GET","path":"/audit.csv","protocol":"HTTP/1.1","sourceIp":"192.0.2.7","userAgent":"curl"},
				"requestId":"req-1","domainName":"example.lambda-url.us-east-1.on.aws"},"isBase64Encoded":false}`
			var out []byte
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("the invocation panicked: %v", p)
					}
				}()
				out, err = d.Handle(context.Background(), platform.Invocation{RequestID: "req-1"}, []byte(event))
			}()
			if err != nil {
				t.Fatalf("invocation error: %v", err)
			}
			var reply struct {
				StatusCode int    `json:"statusCode"`
				Body       string `json:"body"`
			}
			if err := json.Unmarshal(out, &reply); err != nil {
				t.Fatal(err)
			}
			if reply.StatusCode != http.StatusInternalServerError || strings.Contains(reply.Body, tc.denies) {
				t.Fatalf("reply %d %.200q; want a 500 without part of the file", reply.StatusCode, reply.Body)
			}
			for _, want := range tc.says {
				if !strings.Contains(reply.Body, want) {
					t.Errorf("reply %q does not say %q", reply.Body, want)
				}
			}
		})
	}
}
