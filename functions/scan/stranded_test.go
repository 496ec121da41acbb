package scan_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/scan/scantest"
)

// afterCall runs a hook once TCSS has answered and before the service records it: the moment a
// store failure strands an outcome.
type afterCall struct {
	scan.Scanner
	hook func()
}

func (a afterCall) CreateVulScanTask(ctx context.Context, r scan.Request) (scan.TaskIDs, error) {
	ids, err := a.Scanner.CreateVulScanTask(ctx, r)
	a.hook()
	return ids, err
}

// pgProxy forwards TCP to PostgreSQL until stopped: stopping it is the server going away for
// this process (the shared test server itself cannot be stopped).
type pgProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	down   bool
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.stop() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			if !down {
				p.conns = append(p.conns, c)
			}
			p.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			go p.forward(c)
		}
	}()
	return p
}

func (p *pgProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, up)
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

// stop cuts every connection and refuses new ones.
func (p *pgProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *pgProxy) start() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// proxiedPostgres opens the PostgreSQL store through a proxy the test can stop.
func proxiedPostgres(t *testing.T) (*sqlstore.Store, *pgProxy) {
	dsn := sqlstoretest.PostgresDSN(t)
	host := dsn[strings.Index(dsn, "@")+1:]
	host = host[:strings.IndexAny(host, "/")]
	p := newPGProxy(t, host)
	s, err := sqlstore.OpenPostgres(context.Background(), strings.Replace(dsn, host, p.ln.Addr().String(), 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, p
}

// When the store fails after TCSS answered, the outcome append is retried; if the store stays
// down, the whole outcome record goes to the log as one line, and reconcile --from-log puts it
// back: the task ID is in the chain and the chain verifies.
func TestAnOutcomeTheStoreWouldNotTakeIsNotLost(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		store    func(t *testing.T) (scan.AuditLog, func() (fail, heal func()))
		tries    int
		stranded bool
	}{
		{
			name: "SQLite: another writer holds the lock through every try",
			store: func(t *testing.T) (scan.AuditLog, func() (func(), func())) {
				path := t.TempDir() + "/audit.db"
				s := scantest.OpenStore(t, path)
				return s, func() (func(), func()) {
					var tx *sql.Tx
					other, err := sql.Open("sqlite", path+"?_txlock=immediate")
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { other.Close() })
					return func() {
							if tx, err = other.Begin(); err != nil { // BEGIN IMMEDIATE: the write lock
								t.Fatal(err)
							}
						}, func() {
							tx.Rollback()
						}
				}
			},
			tries: 1, stranded: true,
		},
		{
			name: "PostgreSQL: the server goes away through every try",
			store: func(t *testing.T) (scan.AuditLog, func() (func(), func())) {
				s, p := proxiedPostgres(t)
				return s, func() (func(), func()) { return p.stop, p.start }
			},
			tries: 3, stranded: true,
		},
		{
			name: "PostgreSQL: the server comes back before the last try",
			store: func(t *testing.T) (scan.AuditLog, func() (func(), func())) {
				s, p := proxiedPostgres(t)
				return s, func() (func(), func()) { return p.stop, p.start }
			},
			tries: 3, stranded: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, faults := tt.store(t)
			fail, heal := faults()
			var stranded bytes.Buffer
			opts := scan.Options{OutcomeTries: tt.tries, Stranded: &stranded, OutcomeBackoff: func(try int) time.Duration {
				if !tt.stranded && try == tt.tries-2 {
					heal() // back before the last try
				}
				return time.Millisecond
			}}
			w := scantest.New(t, scantest.Options{
				AuditLog: func(scan.AuditLog) scan.AuditLog { return log },
				Scanner:  func(s scan.Scanner) scan.Scanner { return afterCall{Scanner: s, hook: fail} },
				Service:  opts,
			})
			a, err := w.Service.Start(ctx, scan.Request{RegistryImageScanType: "NOT_SCAN"}, "outcome-key", caller)
			if !tt.stranded {
				if err != nil || a.Outcome == nil || a.Outcome.RegistryTaskID == 0 {
					t.Fatalf("the retried append should have recorded the outcome: %+v %v", a, err)
				}
				if stranded.Len() != 0 {
					t.Errorf("a recorded outcome was also written as stranded: %s", stranded.String())
				}
				return
			}
			if scan.ErrorCode(err) != scan.EUNAVAILABLE || a.ID() == 0 {
				t.Fatalf("got %+v %v, want EUNAVAILABLE naming the attempt", a, err)
			}
			heal()
			if n := strings.Count(stranded.String(), "\n"); n != 1 {
				t.Fatalf("stranded log has %d lines, want 1:\n%s", n, stranded.String())
			}
			// Before: the attempt is pending and its key answers in progress.
			if _, err := w.Service.Start(ctx, scan.Request{RegistryImageScanType: "NOT_SCAN"}, "outcome-key", caller); scan.ErrorCode(err) != scan.EINPROGRESS {
				t.Fatalf("before reconciling: %v, want in progress", err)
			}
			// The platform log holds other lines too, with its own prefixes.
			platformLog := "START RequestId: 1\n2026-12-03T10:00:00Z\tINFO\tother line\n2026-12-03T10:00:01Z\tERROR\t" + stranded.String()
			rep, err := w.Service.ReconcileFromLog(ctx, strings.NewReader(platformLog))
			if err != nil || len(rep.Restored) != 1 || rep.Restored[0] != a.ID() {
				t.Fatalf("reconcile: %+v %v", rep, err)
			}
			got, err := w.Service.Attempt(ctx, a.ID())
			if err != nil || got.State() != audit.OutcomeSucceeded || got.Outcome.RegistryTaskID == 0 {
				t.Fatalf("after reconciling: %+v %v", got, err)
			}
			// Again: nothing more to restore.
			rep, err = w.Service.ReconcileFromLog(ctx, strings.NewReader(platformLog))
			if err != nil || len(rep.Restored) != 0 || len(rep.Skipped) != 1 {
				t.Errorf("second reconcile: %+v %v", rep, err)
			}
			verifier, ok := log.(interface {
				Verify(context.Context) (audit.Report, error)
			})
			if !ok {
				t.Fatal("store cannot verify")
			}
			if r, err := verifier.Verify(ctx); err != nil || !r.OK() {
				t.Fatalf("chain: %v %v", r, err)
			}
		})
	}
}

// An attempt left pending (its process killed mid-call) is closed as unknown by reconciliation,
// and only once the longest call is over; its key then stays bound (a scan may exist).
func TestReconcileClosesOrphanedAttempts(t *testing.T) {
	ctx := context.Background()
	now := testNow
	r := scantest.New(t, scantest.Options{Now: func() time.Time { return now }})
	params := []byte(`{"LocalImageScanType":"ALL"}`)
	orphan, err := r.Store.Append(ctx, audit.Record{Time: now, Trigger: audit.TriggerAPI, Actor: caller.Actor, Action: audit.ActionCreateVulScanTask,
		Params: params, IdempotencyKey: "orphan", Outcome: audit.OutcomePending})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		after  time.Duration
		closed int
	}{
		{"a call that may still be running is left alone", scan.MaxCallDuration - time.Second, 0},
		{"an attempt older than any call is closed as unknown", scan.MaxCallDuration + time.Second, 1},
		{"a second pass finds nothing", scan.MaxCallDuration + time.Hour, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now = testNow.Add(tc.after)
			rep, err := r.Service.ReconcileStale(ctx, r.Store, scan.MaxCallDuration, time.Time{})
			if err != nil || len(rep.Closed) != tc.closed {
				t.Fatalf("closed %v (%v), want %d", rep.Closed, err, tc.closed)
			}
		})
	}
	a, err := r.Service.Attempt(ctx, orphan.ID)
	if err != nil || a.State() != audit.OutcomeUnknown || a.Outcome.ErrorCode != scan.CodeNoOutcomeRecorded ||
		!strings.Contains(a.Outcome.ErrorMessage, "No outcome was recorded") {
		t.Fatalf("orphan after reconciling: %+v %v", a.Outcome, err)
	}
	var se *scan.Error
	if _, err := r.Service.Start(ctx, scan.Request{LocalImageScanType: "ALL"}, "orphan", caller); !errors.As(err, &se) || se.Code != scan.EUNKNOWN {
		t.Errorf("its key: %v, want a replay of the unknown outcome", err)
	}
	r.Verify(t)
}

// failAfterPending lets the pending record through and fails every later append, counting them.
type failAfterPending struct {
	scan.AuditLog
	mu    sync.Mutex
	tries int
}

func (f *failAfterPending) Append(ctx context.Context, rec audit.Record) (audit.Record, error) {
	if rec.Outcome == audit.OutcomePending {
		return f.AuditLog.Append(ctx, rec)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries++
	return audit.Record{}, errors.New("database is locked")
}

// The outcome's retries stop at their budget, however many tries are allowed, so that a store
// stuck on a lock cannot hold the caller's answer past its deadline.
func TestOutcomeRetriesStopAtTheirBudget(t *testing.T) {
	var log *failAfterPending
	var stranded bytes.Buffer
	w := scantest.New(t, scantest.Options{
		AuditLog: func(l scan.AuditLog) scan.AuditLog { log = &failAfterPending{AuditLog: l}; return log },
		Service: scan.Options{OutcomeTries: 1000, OutcomeBudget: 50 * time.Millisecond, Stranded: &stranded,
			OutcomeBackoff: func(int) time.Duration { return 20 * time.Millisecond }},
	})
	_, err := w.Service.Start(context.Background(), scan.Request{RegistryImageScanType: "NOT_SCAN"}, "", caller)
	if scan.ErrorCode(err) != scan.EUNAVAILABLE {
		t.Fatalf("got %v, want EUNAVAILABLE", err)
	}
	// The budget, not the allowed count, ended the retries (the exact count depends on the clock).
	if log.tries < 1 || log.tries >= 1000 {
		t.Errorf("%d tries, want the budget to stop them well before 1000", log.tries)
	}
	if recs, err := scan.ReadStranded(&stranded); err != nil || len(recs) != 1 {
		t.Errorf("stranded outcomes %v, %v; want the one", recs, err)
	}
}

// staleView is another process's view of the log, taken before the attempt was closed: its
// finder still lists it.
type staleView struct {
	scan.AuditLog
	pending audit.Record
}

func (v staleView) StalePending(context.Context, time.Time, time.Time, int) ([]audit.Record, error) {
	return []audit.Record{v.pending}, nil
}

// Two processes reconciling at once close an attempt once: the store refuses the second closing
// record in the transaction that would append it, and the second process counts it as closed
// by another, not as a failure.
func TestTwoReconcilersCloseAnAttemptOnce(t *testing.T) {
	ctx := context.Background()
	now := testNow
	r := scantest.New(t, scantest.Options{Now: func() time.Time { return now }})
	orphan, err := r.Store.Append(ctx, audit.Record{Time: now, Trigger: audit.TriggerAPI, Action: audit.ActionCreateVulScanTask,
		Params: []byte(`{"LocalImageScanType":"ALL"}`), Outcome: audit.OutcomePending})
	if err != nil {
		t.Fatal(err)
	}
	now = testNow.Add(scan.MaxCallDuration + time.Minute)
	if rep, err := r.Service.ReconcileStale(ctx, r.Store, scan.MaxCallDuration, time.Time{}); err != nil || len(rep.Closed) != 1 {
		t.Fatalf("first process closed %v (%v), want the orphan", rep.Closed, err)
	}
	stale := staleView{AuditLog: r.Store, pending: orphan}
	other := scan.NewService(nil, stale, func() time.Time { return now }, slog.New(slog.DiscardHandler))
	rep, err := other.ReconcileStale(ctx, stale, scan.MaxCallDuration, time.Time{})
	if err != nil || len(rep.Closed) != 0 {
		t.Fatalf("second process closed %v (%v), want nothing and no error", rep.Closed, err)
	}
	var outcomes int
	r.Store.Each(ctx, audit.Filter{}, func(rec audit.Record) error {
		if rec.PendingID == orphan.ID {
			outcomes++
		}
		return nil
	})
	if outcomes != 1 {
		t.Errorf("the orphan has %d outcome records, want 1", outcomes)
	}
	r.Verify(t)
}
