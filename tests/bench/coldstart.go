package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/vulscan/vulscan/functions/audit/sqlstore"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// sizes reports the deploy bootstrap and its zip (deflated, as `task package` zips it) beside
// the hello-world Lambda's.
func (s *suite) sizes() ([]row, error) {
	var rows []row
	zipped := map[string]float64{}
	for _, name := range []string{"bootstrap", "hellolambda"} {
		n, err := zipSize(s.bin[name])
		if err != nil {
			return nil, err
		}
		zipped[name] = n
	}
	binMB := func(name string) float64 {
		fi, _ := os.Stat(s.bin[name])
		return float64(fi.Size()) / 1e6
	}
	rows = append(rows,
		row{item: "bootstrap binary", unit: "MB", ours: []float64{binMB("bootstrap")}, anchor: "hello-world Lambda", base: []float64{binMB("hellolambda")}},
		row{item: "lambda.zip / scf.zip", unit: "MB", ours: []float64{zipped["bootstrap"]}, anchor: "hello-world Lambda", base: []float64{zipped["hellolambda"]},
			target: target{kind: "max", limit: 5}})
	return rows, nil
}

// zipSize is the size in MB of a zip holding path as bootstrap, made as `task package` makes the
// deploy zips (Info-ZIP's zip -X, default level): Go's archive/zip deflates about 3% larger, and
// the figure is the size of what is uploaded.
func zipSize(path string) (float64, error) {
	dir, err := os.MkdirTemp("", "vulscan-zip-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), data, 0o755); err != nil {
		return 0, err
	}
	zip := exec.Command("zip", "-q", "-X", "bootstrap.zip", "bootstrap")
	zip.Dir = dir
	if out, err := zip.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("zip (task package needs it too; Debian: apt-get install -y zip): %v\n%s", err, out)
	}
	fi, err := os.Stat(filepath.Join(dir, "bootstrap.zip"))
	if err != nil {
		return 0, err
	}
	return float64(fi.Size()) / 1e6, nil
}

// emulator starts the TCSS emulator in this process with one key; rate is its per-second limit.
func emulator(rate int) (*tcsstest.Emulator, *httptest.Server, tcsstest.Key) {
	key := tcsstest.RandomKey()
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}, RatePerSecond: rate})
	return emu, srv, key
}

// functionEnv is the environment of a deployed vulscan: a durable audit store, the TCSS endpoint
// and a key, and an access decision (a deployed function refuses pages without one). The
// per-actor start limit is off: the load generator is one actor, and the suite measures the
// audited path and TCSS's 20/s pace, not that limit.
func (s *suite) functionEnv(dsn, endpoint string, key tcsstest.Key, extra ...string) []string {
	return cleanEnv(append([]string{
		"VULSCAN_AUDIT_DSN=" + dsn, "VULSCAN_TCSS_ENDPOINT=" + endpoint,
		"TENCENTCLOUD_SECRET_ID=" + key.SecretID, "TENCENTCLOUD_SECRET_KEY=" + key.SecretKey,
		"VULSCAN_PUBLIC=I-understand", "VULSCAN_START_LIMIT=off",
	}, extra...)...)
}

// deployDSN is the audit store a deployed function has: PostgreSQL (the deploy bootstrap has no
// SQLite), in a schema of the suite's own on the server VULSCAN_TEST_POSTGRES_DSN names. The log
// is created once before the samples, so that each start opens an existing log, as a deployed
// function's does; drop removes the schema.
func (s *suite) deployDSN() (dsn string, drop func(), err error) {
	base := os.Getenv("VULSCAN_TEST_POSTGRES_DSN")
	if base == "" {
		return "", nil, errors.New("the deploy bootstrap keeps its audit log in PostgreSQL: set VULSCAN_TEST_POSTGRES_DSN (postgres://…)")
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("VULSCAN_TEST_POSTGRES_DSN: %w", err)
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", nil, err
	}
	schema := fmt.Sprintf("vulscan_bench_%d", os.Getpid())
	if _, err := admin.Exec(`CREATE SCHEMA IF NOT EXISTS ` + schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("creating schema %s: %w", schema, err)
	}
	drop = func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			s.log("dropping schema %s: %v", schema, err)
		}
		admin.Close()
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	store, err := sqlstore.OpenPostgres(context.Background(), u.String())
	if err != nil {
		drop()
		return "", nil, err
	}
	store.Close()
	return u.String(), drop, nil
}

// lambdaColdStart times the first answer of a fresh function under AWS's runtime interface
// emulator, which starts the bootstrap when the first event arrives: exec, Go runtime and package
// initialisation, vulscan's start (settings, TCSS client; the audit store opens 200 ms after
// start, since GET / does not need it) and the answer to GET /.
func (s *suite) lambdaColdStart() ([]row, error) {
	rie := os.Getenv("VULSCAN_TEST_RIE")
	if rie == "" {
		var err error
		if rie, err = exec.LookPath("aws-lambda-rie"); err != nil {
			return nil, errors.New("aws-lambda-rie not found (set VULSCAN_TEST_RIE)")
		}
	}
	_, srv, key := emulator(1 << 30)
	defer srv.Close()
	dsn, drop, err := s.deployDSN()
	if err != nil {
		return nil, err
	}
	defer drop()
	env := s.functionEnv(dsn, srv.URL, key)
	event := []byte(`{"version":"2.0","routeKey":"$default","rawPath":"/","rawQueryString":"",` +
		`"headers":{"host":"abc.lambda-url.ap-southeast-1.on.aws","user-agent":"bench"},` +
		`"requestContext":{"domainName":"abc.lambda-url.ap-southeast-1.on.aws","requestId":"bench",` +
		`"http":{"method":"GET","path":"/","protocol":"HTTP/1.1","sourceIp":"127.0.0.1","userAgent":"bench"}},` +
		`"isBase64Encoded":false}`)
	var ours, base []float64
	for i := range s.coldRuns {
		for _, name := range order(i, "bootstrap", "hellolambda") {
			d, status, err := s.firstLambdaAnswer(rie, s.bin[name], env, event)
			if err != nil {
				return nil, err
			}
			if status != 200 {
				return nil, fmt.Errorf("%s answered GET / with status %d", name, status)
			}
			if name == "bootstrap" {
				ours = append(ours, ms(d))
			} else {
				base = append(base, ms(d))
			}
		}
	}
	return []row{{item: "Lambda cold start, first answer under the runtime emulator", unit: "ms", ours: ours,
		anchor: "hello-world aws-lambda-go", base: base, target: target{kind: "ratio", limit: 1.2}}}, nil
}

// order alternates which program goes first, so that neither always runs on a warmer machine.
func order(i int, a, b string) []string {
	if i%2 == 0 {
		return []string{a, b}
	}
	return []string{b, a}
}

// firstLambdaAnswer starts the runtime emulator with bootstrap, waits until it listens, and
// times the first invocation; it returns the function's HTTP status.
func (s *suite) firstLambdaAnswer(rie, bootstrap string, env []string, event []byte) (time.Duration, int, error) {
	addrs := freeAddrs(2)
	invoke, api := addrs[0], addrs[1]
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", invoke, "--runtime-api-address", api, bootstrap)
	cmd.Env, cmd.Dir = env, s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
	}
	defer stop()
	if err := waitListening(invoke); err != nil {
		stop()
		return 0, 0, fmt.Errorf("aws-lambda-rie: %v\n%s", err, out.String())
	}
	start := time.Now()
	resp, err := http.Post("http://"+invoke+"/2015-03-31/functions/function/invocations", "application/json", bytes.NewReader(event))
	if err != nil {
		// Which process failed, and what the emulator and the bootstrap printed, once they stopped
		// writing to out.
		stop()
		return 0, 0, fmt.Errorf("%s under aws-lambda-rie: %v\n%s", filepath.Base(bootstrap), err, out.String())
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	var answer struct {
		StatusCode int `json:"statusCode"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return 0, 0, fmt.Errorf("%s answered %q: %v\n%s", filepath.Base(bootstrap), body, err, out.String())
	}
	return d, answer.StatusCode, nil
}

// scfColdStart times a fresh process from exec to POST /runtime/init/ready on a fake SCF runtime
// API: the time SCF waits before it can hand the instance its first event. The audit store
// opens once the first answer is posted, or at once for an event that needs it (which waits for it).
func (s *suite) scfColdStart() ([]row, error) {
	ready := make(chan struct{}, 1)
	rt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/runtime/init/ready" {
			ready <- struct{}{}
			return
		}
		<-r.Context().Done() // the next-event long poll: hold it until the process goes
	}))
	defer rt.Close()
	host, port, _ := net.SplitHostPort(rt.Listener.Addr().String())
	_, srv, key := emulator(1 << 30)
	defer srv.Close()
	dsn, drop, err := s.deployDSN()
	if err != nil {
		return nil, err
	}
	defer drop()
	env := s.functionEnv(dsn, srv.URL, key,
		"SCF_RUNTIME_API="+host, "SCF_RUNTIME_API_PORT="+port, "TENCENTCLOUD_RUNENV=SCF",
		"TENCENTCLOUD_SECRETID="+key.SecretID, "TENCENTCLOUD_SECRETKEY="+key.SecretKey, "TENCENTCLOUD_SESSIONTOKEN=")
	var ours, base []float64
	for i := range s.coldRuns {
		for _, name := range order(i, "bootstrap", "minimalscf") {
			cmd := exec.Command(s.bin[name])
			cmd.Env, cmd.Dir = env, s.dir
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			if err := cmd.Start(); err != nil {
				return nil, err
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case <-ready:
			case err := <-exited:
				return nil, fmt.Errorf("%s exited before init/ready: %v\n%s", name, err, out.String())
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				return nil, fmt.Errorf("%s: no init/ready within 30 s\n%s", name, out.String())
			}
			d := time.Since(start)
			_ = cmd.Process.Kill()
			<-exited
			if name == "bootstrap" {
				ours = append(ours, ms(d))
			} else {
				base = append(base, ms(d))
			}
		}
	}
	return []row{{item: "SCF cold start, exec to init/ready", unit: "ms", ours: ours,
		anchor: "minimal custom runtime", base: base, target: target{kind: "ratio", limit: 1.5}}}, nil
}

// freeAddr is a loopback address whose port was free a moment ago.
func freeAddr() string { return freeAddrs(1)[0] }

// freeAddrs is n loopback addresses with distinct ports that were free a moment ago. Each port is
// held until all are chosen: the kernel may hand a port just released straight back, and two
// calls of freeAddr then named one port twice. The runtime emulator, given it for both of its
// addresses, panics ("bind: address already in use") and resets the timed invocation: a
// scratch harness with the same two calls hit it twice in about 500 starts, and a full run had
// lost its Lambda figure to such a reset before the suite printed the emulator's output.
func freeAddrs(n int) []string {
	addrs := make([]string, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs
}

// waitListening polls addr until it accepts a connection (30 s at most).
func waitListening(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not listening: %w", addr, err)
		case <-time.After(2 * time.Millisecond):
		}
	}
}
