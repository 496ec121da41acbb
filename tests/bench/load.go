package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// loadResult is what tests/bench/loadgen prints.
type loadResult struct {
	Latencies []time.Duration `json:"latencies_ns"`
	Answered  []time.Duration `json:"answered_ns"`
	Statuses  map[string]int  `json:"statuses"`
	Errors    []string        `json:"errors"`
	Elapsed   time.Duration   `json:"elapsed_ns"`
}

func (r loadResult) latenciesMS() []float64 {
	out := make([]float64, len(r.Latencies))
	for i, d := range r.Latencies {
		out[i] = ms(d)
	}
	return out
}

// loadgen runs the load generator (its own process) and decodes its result.
func (s *suite) loadgen(env []string, args ...string) (loadResult, error) {
	cmd := exec.Command(s.bin["loadgen"], args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return loadResult{}, fmt.Errorf("loadgen %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var r loadResult
	if err := json.Unmarshal(out, &r); err != nil {
		return loadResult{}, fmt.Errorf("loadgen printed %.200q: %v", out, err)
	}
	return r, nil
}

// server is vulscan in HTTP mode, started for one item.
type server struct {
	url string
	cmd *exec.Cmd
	out *bytes.Buffer
}

func (s *suite) startServer(env []string) (*server, error) {
	addr := freeAddr()
	cmd := exec.Command(s.bin["vulscan"])
	cmd.Env, cmd.Dir = append(env, "VULSCAN_ADDR="+addr), s.dir
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if err := waitListening(addr); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("vulscan: %v\n%s", err, out.String())
	}
	return &server{url: "http://" + addr, cmd: cmd, out: out}, nil
}

// peakRSSMB is the server's peak resident set so far (VmHWM).
func (v *server) peakRSSMB() float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", v.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func (v *server) stop() {
	_ = v.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = v.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = v.cmd.Process.Kill()
		<-done
	}
}

// Warm latency's sample: warmChunks chunks of warmChunk requests a side at warmRate, the two
// sides alternating chunk by chunk (600 requests a side, about 80 s in all). A p99 over 150
// requests a side was its second-largest sample, one hiccup of the shared machine; over 600 it
// is the sixth, and a stall of the disk or the scheduler lands in both sides' chunks alike.
const (
	warmRate   = 15
	warmChunk  = 100
	warmChunks = 6
)

// warmLatency sends POST /api/scans at 15 requests a second to a warm server (SQLite audit log)
// and the same signed call straight to the emulator; both from the load generator, interleaved.
func (s *suite) warmLatency() ([]row, error) {
	_, srv, key := emulator(1 << 30)
	defer srv.Close()
	v, err := s.startServer(s.functionEnv("sqlite:"+filepath.Join(s.dir, "warm.db"), srv.URL, key))
	if err != nil {
		return nil, err
	}
	defer v.stop()
	rate, chunk := strconv.Itoa(warmRate), strconv.Itoa(warmChunk)
	apiArgs := []string{"-mode", "api", "-url", v.url, "-rate", rate, "-n", chunk}
	tcssArgs := []string{"-mode", "tcss", "-url", srv.URL, "-rate", rate, "-n", chunk}
	tcssEnv := cleanEnv("SECRET_ID="+key.SecretID, "SECRET_KEY="+key.SecretKey)
	if _, err := s.loadgen(nil, "-mode", "api", "-url", v.url, "-rate", rate, "-n", "15"); err != nil { // warm up
		return nil, err
	}
	// The sample starts a second after the warm-up, as an open loop at 15 a second would: started
	// at once, its first request came some 10 ms after the warm-up's last, and TCSS's pace (one
	// call per 52.5 ms) held it and the next two for the warm-up's slots, 42, 29 and 13 ms: three
	// of the six largest samples the p99 is taken from.
	time.Sleep(time.Second)
	var ours, base, syncs []float64
	stalls := watchStalls(s.dir)
	defer stalls.stop() // on an early return; the end reads its error
	for i := range warmChunks {
		// The disk the log syncs to, sampled beside each chunk: the floor of the pending record's
		// commit, which the anchor does not pay.
		d, err := syncLatencies(s.dir, syncProbes)
		if err != nil {
			return nil, err
		}
		syncs = append(syncs, d...)
		for _, which := range order(i, "api", "tcss") {
			var r loadResult
			if which == "api" {
				r, err = s.loadgen(nil, apiArgs...)
			} else {
				r, err = s.loadgen(tcssEnv, tcssArgs...)
			}
			if err != nil {
				return nil, err
			}
			if bad := notOK(r); bad != "" {
				return nil, fmt.Errorf("%s: %s", which, bad)
			}
			if which == "api" {
				ours = append(ours, r.latenciesMS()...)
			} else {
				base = append(base, r.latenciesMS()...)
			}
		}
	}
	if err := stalls.stop(); err != nil {
		return nil, err
	}
	return []row{
		{item: "warm `POST /api/scans`, 15 req/s open loop, latency", unit: "ms", ours: ours,
			anchor: "the signed call alone", base: base, note: "median compared"},
		{item: "warm `POST /api/scans`, p99", unit: "ms", ours: []float64{percentile(ours, 99)},
			anchor: "the signed call alone, p99", base: []float64{percentile(base, 99)}, target: target{kind: "added-max", limit: 2}},
		{item: "warm: this disk's sync (4 KB write + fsync beside the log, before each chunk), p99", unit: "ms",
			ours: []float64{percentile(syncs, 99)}, note: fmt.Sprintf("median %s ms, %d samples", num(median(syncs)), len(syncs))},
		stalls.syncRow(), stalls.wakeRow(),
	}, nil
}

// A stallWatch samples, while the warm chunks run, what can hold a request up without being
// vulscan's doing: this disk (a 4 KB write and fsync every stallSyncEvery, beside the log) and
// the scheduler (how late a stallSleep sleep wakes). The probe before each chunk sees only the
// moments between chunks, so a stall inside one (a 1.7 s freeze gave one run's p99 of 919 ms)
// went unexplained. One sync every half second adds about 3% to the server's 30 a second.
type stallWatch struct {
	syncs, wakes []float64 // ms
	quit         chan struct{}
	wg           sync.WaitGroup
	err          error // the sync probe's, if it failed
}

const (
	stallSyncEvery = 500 * time.Millisecond
	stallSleep     = 20 * time.Millisecond
	stallOver      = 20.0 // ms: a sync or a late wake this long is counted as a stall
)

// watchStalls starts the two probes in dir; stop ends them.
func watchStalls(dir string) *stallWatch {
	w := &stallWatch{quit: make(chan struct{})}
	w.wg.Add(2)
	go func() {
		defer w.wg.Done()
		f, err := os.CreateTemp(dir, "stall-probe-")
		if err != nil {
			w.err = err
			return
		}
		defer os.Remove(f.Name())
		defer f.Close()
		page := make([]byte, 4096)
		tick := time.NewTicker(stallSyncEvery)
		defer tick.Stop()
		for {
			select {
			case <-w.quit:
				return
			case <-tick.C:
			}
			d, err := timedSync(f, page, 0)
			if err != nil {
				w.err = err
				return
			}
			w.syncs = append(w.syncs, d)
		}
	}()
	go func() {
		defer w.wg.Done()
		for {
			start := time.Now()
			select {
			case <-w.quit:
				return
			case <-time.After(stallSleep):
			}
			w.wakes = append(w.wakes, ms(time.Since(start)-stallSleep))
		}
	}()
	return w
}

// stop ends the probes and returns the sync probe's error. It may be called more than once.
func (w *stallWatch) stop() error {
	select {
	case <-w.quit:
	default:
		close(w.quit)
	}
	w.wg.Wait()
	if w.err != nil {
		return fmt.Errorf("stall probe: %w", w.err)
	}
	return nil
}

func (w *stallWatch) syncRow() row {
	return row{item: "warm: this disk's longest sync while the chunks ran (4 KB write + fsync every 0.5 s)", unit: "ms",
		ours: []float64{maxOf(w.syncs)}, note: stallNote(w.syncs)}
}

func (w *stallWatch) wakeRow() row {
	return row{item: "warm: the scheduler's longest delay while the chunks ran (a 20 ms sleep's late wake)", unit: "ms",
		ours: []float64{maxOf(w.wakes)}, note: stallNote(w.wakes)}
}

// stallNote says how many of samples were stalls.
func stallNote(samples []float64) string {
	over := 0
	for _, v := range samples {
		if v >= stallOver {
			over++
		}
	}
	return fmt.Sprintf("median %s ms, %d of %d samples %s ms or more", num(median(samples)), over, len(samples), num(stallOver))
}

// syncProbes is how many syncs syncLatencies times before each warm chunk (about 0.5 s).
const syncProbes = 25

// syncLatencies times n synced 4 KB writes (timedSync) to a file in dir, 20 ms apart.
func syncLatencies(dir string, n int) ([]float64, error) {
	f, err := os.CreateTemp(dir, "sync-probe-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	page := make([]byte, 4096)
	out := make([]float64, 0, n)
	for i := range n {
		d, err := timedSync(f, page, int64(i%16)*int64(len(page)))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
		time.Sleep(20 * time.Millisecond)
	}
	return out, nil
}

// timedSync writes page at off in f and returns how long the fsync after it took, in ms: what one
// synced commit of the audit log costs on this disk at the moment.
func timedSync(f *os.File, page []byte, off int64) (float64, error) {
	if _, err := f.WriteAt(page, off); err != nil {
		return 0, err
	}
	start := time.Now()
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return ms(time.Since(start)), nil
}

// notOK describes any request that was not answered with a 2xx.
func notOK(r loadResult) string {
	for status, n := range r.Statuses {
		if !strings.HasPrefix(status, "2") {
			return fmt.Sprintf("%d answered %s (%v)", n, status, r.Errors)
		}
	}
	return ""
}

// callLog records when the emulator was called, to check the pace vulscan keeps.
type callLog struct {
	h     http.Handler
	mu    sync.Mutex
	times []time.Time
}

func (c *callLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-TC-Action") == "CreateVulScanTask" {
		c.mu.Lock()
		c.times = append(c.times, time.Now())
		c.mu.Unlock()
	}
	c.h.ServeHTTP(w, r)
}

// maxPerSecond is the most calls that arrived in any one-second window (sliding), and in any
// one clock second (how the emulator, like TCSS, counts its limit).
func (c *callLog) maxPerSecond() (sliding, clock int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := slices.Clone(c.times)
	slices.SortFunc(t, func(a, b time.Time) int { return a.Compare(b) })
	j := 0
	perSecond := map[int64]int{}
	for i := range t {
		for t[i].Sub(t[j]) >= time.Second {
			j++
		}
		sliding = max(sliding, i-j+1)
		perSecond[t[i].Unix()]++
		clock = max(clock, perSecond[t[i].Unix()])
	}
	return sliding, clock
}

// burst sends 500 requests at once to a fresh server whose upstream allows TCSS's 20 calls a
// second: every request must be answered, the upstream never see more than 20 in a second, the
// queue drain in 25 s (+10%), the audit log hold both records of each attempt, and the server's
// memory stay bounded.
func (s *suite) burst() ([]row, error) {
	key := tcsstest.RandomKey()
	emu := tcsstest.New(tcsstest.Options{Keys: []tcsstest.Key{key}})
	calls := &callLog{h: emu}
	srv := httptest.NewServer(calls)
	defer srv.Close()
	dsn := "sqlite:" + filepath.Join(s.dir, "burst.db")
	v, err := s.startServer(s.functionEnv(dsn, srv.URL, key))
	if err != nil {
		return nil, err
	}
	const n = 500
	r, err := s.loadgen(nil, "-mode", "api", "-url", v.url, "-rate", "0", "-n", strconv.Itoa(n), "-timeout", "2m")
	rss := v.peakRSSMB()
	v.stop()
	if err != nil {
		return nil, err
	}
	answered := 0
	for status, k := range r.Statuses {
		if strings.HasPrefix(status, "2") {
			answered += k
		}
	}
	records, verr := s.auditCount(dsn)
	sliding, clock := calls.maxPerSecond()
	rows := []row{
		{item: "burst of 500: answered 2xx", unit: "requests", ours: []float64{float64(answered)}, target: target{kind: "min", limit: n}},
		{item: "burst: upstream calls in one clock second (TCSS's count)", unit: "calls", ours: []float64{float64(clock)}, target: target{kind: "max", limit: 20}},
		{item: "burst: upstream calls arriving in any 1 s window (sliding)", unit: "calls", ours: []float64{float64(sliding)}, target: target{kind: "max", limit: 20}},
		{item: "burst: upstream calls in all (more than 500: refused and retried)", unit: "calls", ours: []float64{float64(emu.Calls("CreateVulScanTask"))}, target: target{kind: "max", limit: n}},
		{item: "burst: drain, first request to last answer", unit: "s", ours: []float64{r.Elapsed.Seconds()}, target: target{kind: "max", limit: 27.5},
			note: "500 calls at 20/s take 25 s; target within 10%"},
		{item: "burst: audit records, chain verified", unit: "records", ours: []float64{float64(records)}, target: target{kind: "min", limit: 2 * n}},
		{item: "burst: HTTP server peak RSS", unit: "MB", ours: []float64{rss}, target: target{kind: "max", limit: 40}},
	}
	if bad := notOK(r); bad != "" {
		verr = fmt.Errorf("burst: %s", bad)
	}
	return rows, verr
}

var verified = regexp.MustCompile(`^ok: (\d+) records`)

// auditCount runs `vulscan audit verify` and returns how many records the intact chain holds.
func (s *suite) auditCount(dsn string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, s.bin["vulscan"], "audit", "verify", "--dsn", dsn).CombinedOutput()
	m := verified.FindSubmatch(out)
	if err != nil || m == nil {
		return 0, fmt.Errorf("vulscan audit verify: %v\n%s", err, out)
	}
	return strconv.Atoi(string(m[1]))
}
