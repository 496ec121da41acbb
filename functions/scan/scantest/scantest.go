// Package scantest runs the real scan path for tests: scan.Service over the TCSS client, talking
// to the TCSS emulator, with a SQLite audit log in a temporary directory. Every package whose
// tests need "a scan service" uses it, so that they all exercise the same wiring.
package scantest

import (
	"context"
	"log/slog"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// Options adjust a World; the zero value is the plain real path.
type Options struct {
	// Now is the service's clock; nil means time.Now.
	Now scan.Clock
	// TemporaryKey signs with a key that has a session token, as SCF's execution role does.
	TemporaryKey bool
	// Emulator adjusts the TCSS emulator's options (its rate limit, clock) before it starts.
	Emulator func(*tcsstest.Options)
	// Client adjusts the TCSS client's configuration before it is built.
	Client func(*tcss.Config)
	// AuditLog wraps the store as the service sees it (to make it fail, say); the World's Store
	// stays the real one.
	AuditLog func(scan.AuditLog) scan.AuditLog
	// Scanner wraps the TCSS client as the service sees it (to add scan.Provenance, say).
	Scanner func(scan.Scanner) scan.Scanner
	// Logger receives the service's and client's logs; nil discards them.
	Logger *slog.Logger
	// Service tunes the service (call deadline, outcome retries, where stranded outcomes go).
	Service scan.Options
}

// World is one real scan path.
type World struct {
	Service  *scan.Service
	Client   *tcss.Client // the TCSS client behind Service (also TCSS's inventory)
	Emulator *tcsstest.Emulator
	Store    *sqlstore.Store
	Key      tcsstest.Key // the key the client signs with
	Path     string       // the SQLite file of Store
	URL      string       // the emulator's base URL
}

// Discard is a logger that drops everything.
var Discard = slog.New(slog.DiscardHandler)

// New builds a World that lives until the test ends. Pacing is off and rate-limit backoff is a
// millisecond, so tests stay fast; the emulator still enforces TCSS's own limit.
func New(t testing.TB, o Options) *World {
	t.Helper()
	if o.Logger == nil {
		o.Logger = Discard
	}
	w := &World{Key: tcsstest.RandomKey(), Path: filepath.Join(t.TempDir(), "audit.db")}
	if o.TemporaryKey {
		w.Key.Token = "session-token-" + w.Key.SecretID
	}
	emuOpts := tcsstest.Options{Keys: []tcsstest.Key{w.Key}}
	if o.Emulator != nil {
		o.Emulator(&emuOpts)
	}
	emu, srv := tcsstest.NewServer(emuOpts)
	t.Cleanup(srv.Close)
	w.Emulator, w.URL = emu, srv.URL

	cfg := tcss.Config{
		Endpoint:   srv.URL,
		Credential: common.NewTokenCredential(w.Key.SecretID, w.Key.SecretKey, w.Key.Token),
		Limiter:    tcss.NewPacer(math.Inf(1)),
		Backoff:    func(int) time.Duration { return time.Millisecond },
		Logger:     o.Logger,
	}
	if o.Client != nil {
		o.Client(&cfg)
	}
	client, err := tcss.New(cfg)
	if err != nil {
		t.Fatalf("scantest: TCSS client: %v", err)
	}
	w.Store = OpenStore(t, w.Path)
	var log scan.AuditLog = w.Store
	if o.AuditLog != nil {
		log = o.AuditLog(w.Store)
	}
	var scanner scan.Scanner = client
	if o.Scanner != nil {
		scanner = o.Scanner(client)
	}
	w.Client = client
	w.Service = scan.NewService(scanner, log, o.Now, o.Logger, o.Service)
	return w
}

// OpenStore opens the SQLite audit store at path until the test ends.
func OpenStore(t testing.TB, path string) *sqlstore.Store {
	t.Helper()
	store, err := sqlstore.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatalf("scantest: audit store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// Records returns the whole audit log, oldest first.
func (w *World) Records(t testing.TB) []audit.Record {
	t.Helper()
	var recs []audit.Record
	if err := w.Store.Each(context.Background(), audit.Filter{}, func(r audit.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatalf("scantest: reading the audit log: %v", err)
	}
	return recs
}

// Verify fails the test unless the audit log's hash chain is intact.
func (w *World) Verify(t testing.TB) {
	t.Helper()
	rep, err := w.Store.Verify(context.Background())
	if err != nil || !rep.OK() {
		t.Fatalf("scantest: audit chain: %v %v", rep, err)
	}
}
