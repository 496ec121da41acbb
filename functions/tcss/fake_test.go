package tcss

import (
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// fakeTCSS is an httptest server answering in TCSS's shape; answer decides the n-th (1-based)
// answer. It records every request it sees.
type fakeTCSS struct {
	*httptest.Server
	answer func(n int, w http.ResponseWriter, r *http.Request)

	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	header http.Header
	body   []byte
}

func newFake(t testing.TB, answer func(n int, w http.ResponseWriter, r *http.Request)) *fakeTCSS {
	t.Helper()
	f := &fakeTCSS{answer: answer}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.seen = append(f.seen, seenRequest{header: r.Header.Clone(), body: body})
		n := len(f.seen)
		f.mu.Unlock()
		f.answer(n, w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeTCSS) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

// writeResponse answers HTTP 200 with {"Response": fields + RequestId}.
func writeResponse(w http.ResponseWriter, fields map[string]any) {
	resp := map[string]any{"RequestId": "req-ok"}
	for k, v := range fields {
		resp[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"Response": resp})
}

// writeError answers a TCSS error as TCSS does: HTTP 200 with Response.Error.
func writeError(w http.ResponseWriter, code, message, requestID string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"Response": map[string]any{
		"Error":     map[string]string{"Code": code, "Message": message},
		"RequestId": requestID,
	}})
}

func createdTask(w http.ResponseWriter) {
	writeResponse(w, map[string]any{"LocalTaskID": 36002, "RegistryTaskID": 0})
}

// dropConnection closes the connection without answering.
func dropConnection(t testing.TB) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	}
}

// testConfig is a Config for f with a fixed key, no pacing, no backoff and no logs.
func testConfig(url string) Config {
	return Config{
		Endpoint:   url,
		Credential: common.NewCredential("AKIDtestkey", "testsecret"),
		Limiter:    NewPacer(math.Inf(1)),
		Backoff:    func(int) time.Duration { return 0 },
		Logger:     slog.New(slog.DiscardHandler),
	}
}

func newTestClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// secretIDOf returns the SecretId named in a TC3 Authorization header.
func secretIDOf(authorization string) string {
	_, rest, ok := strings.Cut(authorization, "Credential=")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}
