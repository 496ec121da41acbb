package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// A function instance serves what needs no audit log while its store opens, and everything that
// needs the log waits for the open: GET / answers at once; POST /api/scans answers only once the
// store is open, and its records are in it, the pending record before the call to TCSS.
func TestFunctionServesTheFormWhileTheStoreOpens(t *testing.T) {
	key := tcsstest.RandomKey()
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}})
	defer srv.Close()
	env := map[string]string{
		"SCF_RUNTIME_API": "127.0.0.1", "VULSCAN_PUBLIC": "I-understand",
		"VULSCAN_AUDIT_DSN":      "sqlite:" + filepath.Join(t.TempDir(), "audit.db"),
		"VULSCAN_TCSS_ENDPOINT":  srv.URL,
		"TENCENTCLOUD_SECRET_ID": key.SecretID, "TENCENTCLOUD_SECRET_KEY": key.SecretKey,
		"VULSCAN_AUDIT_WITNESS": "off",
	}
	e := mapEnv(env)
	a, err := newFunctionApp(e)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	release := make(chan struct{})
	opened := make(chan struct{})
	go func() {
		a.opening.run(t.Context(), func(ctx context.Context) (audit.Store, audit.Store, error) {
			<-release // the store is still connecting
			w, r, err := a.openWritable(e)(ctx)
			close(opened)
			return w, r, err
		})
	}()

	form := httptest.NewRecorder()
	a.handler.ServeHTTP(form, httptest.NewRequest(http.MethodGet, "/", nil))
	if form.Code != http.StatusOK || !strings.Contains(form.Body.String(), "<form") {
		t.Fatalf("GET / while the store opens: %d\n%s", form.Code, form.Body.String())
	}

	answered := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		req := httptest.NewRequest(http.MethodPost, "/api/scans", strings.NewReader(`{"LocalImageScanType":"ALL"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "while-opening-1")
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		answered <- rec
	}()
	select {
	case rec := <-answered:
		t.Fatalf("POST /api/scans answered %d before the store was open:\n%s", rec.Code, rec.Body.String())
	case <-time.After(200 * time.Millisecond):
	}
	if n := emu.Calls("CreateVulScanTask"); n != 0 {
		t.Fatalf("TCSS was called %d times before the store was open", n)
	}
	close(release)
	<-opened
	rec := <-answered
	if rec.Code/100 != 2 {
		t.Fatalf("POST /api/scans once the store opened: %d\n%s", rec.Code, rec.Body.String())
	}
	recs, err := a.store.List(t.Context(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1].Outcome != audit.OutcomePending || recs[0].Outcome != audit.OutcomeSucceeded {
		t.Fatalf("the log holds %+v; want the pending record, then the outcome", recs)
	}
}

// mapEnv is an env reading from m, with output discarded.
func mapEnv(m map[string]string) env {
	return env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string { return m[k] }}
}

// openingStore passes every call to the store once it is open, or the open's error; a Close
// before any open started returns at once, and one during an open waits for it.
func TestOpeningStore(t *testing.T) {
	openErr := errors.New("connection refused")
	cases := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"opened", nil, false},
		{"failed", openErr, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := newOpeningStore()
			raw := &closeCounter{}
			go o.run(t.Context(), func(context.Context) (audit.Store, audit.Store, error) {
				time.Sleep(20 * time.Millisecond)
				if c.err != nil {
					return nil, nil, c.err
				}
				return raw, raw, nil
			})
			_, err := o.Get(t.Context(), 1)
			if c.wantErr != (err != nil) || c.wantErr && !errors.Is(err, openErr) {
				t.Fatalf("Get: %v; want the open's error: %v", err, c.wantErr)
			}
			if err := o.Close(); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{false: 1, true: 0}[c.wantErr]; raw.closed != want {
				t.Errorf("the store was closed %d times, want %d", raw.closed, want)
			}
		})
	}
	t.Run("waiting ends with the caller's context", func(t *testing.T) {
		o := newOpeningStore()
		o.started.Store(true) // an open that never ends
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		if _, err := o.Append(ctx, audit.Record{}); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Append: %v; want the deadline", err)
		}
	})
	t.Run("close before any open", func(t *testing.T) {
		if err := newOpeningStore().Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// closeCounter is an audit.Store that only counts its closes.
type closeCounter struct {
	audit.Store
	closed int
}

func (c *closeCounter) Get(context.Context, int64) (audit.Record, error) { return audit.Record{}, nil }
func (c *closeCounter) Close() error                                     { c.closed++; return nil }

// A function instance does not look the operating-system user up at start: only mode none, on a
// loopback server, names its actor after it.
func TestFunctionStartReadsNoUserDatabase(t *testing.T) {
	defer func(f func() (*user.User, error)) { currentUser = f }(currentUser)
	currentUser = func() (*user.User, error) {
		t.Error("a function's start looked the user up")
		return nil, errors.New("no passwd entry")
	}
	a, err := newFunctionApp(mapEnv(map[string]string{
		"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "VULSCAN_PUBLIC": "I-understand",
		"VULSCAN_AUDIT_DSN": "postgres://vulscan@127.0.0.1:1/audit", "VULSCAN_TCSS_ENDPOINT": "http://127.0.0.1:1",
		"TENCENTCLOUD_SECRET_ID": "id", "TENCENTCLOUD_SECRET_KEY": "key",
	}))
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
}
