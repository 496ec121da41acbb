package web_test

import (
	"context"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
)

// A refused POST is on the record even when its caller's connection failed or closed while it
// was refused (the request's context is cancelled then): hanging up must not hide a probe.
func TestARefusalIsRecordedAfterTheCallerHasGone(t *testing.T) {
	for _, tc := range []struct {
		name, path, contentType, body string
	}{
		{"API body that is not JSON", "/api/scans", "application/json", `{"LocalImageScanType":`},
		{"API body of unknown fields", "/api/scans", "application/json", `{"Bogus":1}`},
		{"API body of the wrong type", "/api/scans", "text/plain", `{}`},
		{"form without its key", "/", "application/x-www-form-urlencoded", url.Values{"LocalImageScanType": {"NOT_SCAN"}}.Encode()},
		{"form with a bad number", "/", "application/x-www-form-urlencoded",
			url.Values{"LocalTaskID": {"x"}, "IdempotencyKey": {"form-1"}}.Encode()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			r := newRequest(http.MethodPost, tc.path, tc.body).WithContext(ctx)
			r.Header.Set("Content-Type", tc.contentType)
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			h.do(r)
			recs := h.records()
			if len(recs) != 1 || recs[0].Outcome != audit.OutcomeRejected {
				t.Errorf("records %+v, want the refusal", recs)
			}
			if h.creates() != 0 {
				t.Error("TCSS called")
			}
		})
	}
}

// A page is still rendered when the request's context has ended (its POST deadline passed
// while it waited, its connection failed): the caller gets the page the answer calls for, not
// a bare 500.
func TestAPageIsRenderedAfterTheRequestsContextEnded(t *testing.T) {
	expired, cancelExpired := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancelExpired()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{
		{"deadline passed", expired},
		{"connection gone", cancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			r := newRequest(http.MethodPost, "/", url.Values{"LocalImageScanType": {"NOT_SCAN"}}.Encode()).WithContext(tc.ctx)
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			resp := h.do(r)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%d %s, want the form again (422, HTML)", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		})
	}
}

// failingBody fails every read with err.
type failingBody struct{ err error }

func (b failingBody) Read([]byte) (int, error) { return 0, b.err }

// A form body the connection failed to deliver (too slow for the server's read timeout, cut
// off) is refused 400 and recorded, in words that name none of the server's addresses; a body
// that arrived but cannot be decoded is still quoted.
func TestAnUnreadableFormBodyIsRefusedWithoutAddresses(t *testing.T) {
	timeout := &net.OpError{Op: "read", Net: "tcp", Source: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 9000},
		Addr: &net.TCPAddr{IP: net.IPv4(10, 9, 8, 7), Port: 41234}, Err: os.ErrDeadlineExceeded}
	for _, tc := range []struct {
		name string
		body io.Reader
		want string
	}{
		{"read timed out", failingBody{timeout}, "the connection failed or sent it too slowly"},
		{"connection cut off", failingBody{io.ErrUnexpectedEOF}, "the connection failed or sent it too slowly"},
		{"bad escape", strings.NewReader("IdempotencyKey=%zz"), `invalid URL escape "%zz"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			r := httptest.NewRequest(http.MethodPost, "/", tc.body)
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			resp := h.do(r)
			page := body(t, resp)
			recs := h.records()
			if resp.StatusCode != http.StatusBadRequest || len(recs) != 1 {
				t.Fatalf("%d with %d records, want 400 and the refusal", resp.StatusCode, len(recs))
			}
			for _, text := range []string{html.UnescapeString(page), recs[0].ErrorMessage} {
				if !strings.Contains(text, tc.want) || strings.Contains(text, "10.1.2.3") || strings.Contains(text, "9000") {
					t.Errorf("says %q, want %q and no address", recs[0].ErrorMessage, tc.want)
				}
			}
		})
	}
}
