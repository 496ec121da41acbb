package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/tcss"
)

func init() { httpMode = serveHTTP }

// Server timeouts: generous enough for a slow TCSS answer, short enough that idle or trickling
// clients cannot hold connections. They are layered: the TCSS call (scan.DefaultCallTimeout)
// ends before the request (requestTimeout, less the service's answer margin), which ends before
// the server stops writing (writeTimeout), so a slow TCSS still gets the caller its 504 or the
// form's redirect to the attempt page.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	requestTimeout    = 50 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
)

// shutdownTimeout is the grace a signal gives the requests in flight: they finish and record
// their outcomes, while new connections are refused. Those still running when it ends are
// cancelled, and get shutdownDrain to record how they ended (a TCSS call cut off is unknown)
// before the store closes: the outcome's retried append takes up to scan's 8 s budget. A
// variable for tests.
var shutdownTimeout = 10 * time.Second

const shutdownDrain = 10 * time.Second

// serveHTTP is HTTP mode: the web handler on VULSCAN_ADDR until ctx ends.
func serveHTTP(ctx context.Context, e env) int {
	a, err := openApp(ctx, e, "")
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan: %v\n", err)
		return 1
	}
	defer a.Close()
	a.startCheckpoints(ctx)

	ln, err := net.Listen("tcp", a.settings.addr)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan: %v\n", err)
		return 1
	}
	// Requests run in a context of their own, not the signal's: a signal must not cut off a
	// TCSS call that has started a scan (its answer would be lost, the attempt recorded unknown).
	// It ends only when the grace after the signal runs out (shutdown).
	requests, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		// A client that disconnects cancels its request's context but not its TCSS call, which
		// only the end of the grace cuts off.
		BaseContext: func(net.Listener) context.Context { return scan.WithCallLifetime(requests, requests) },
	}
	fmt.Fprintf(e.stdout, "vulscan: %s\n", servingLine(a.settings.addr, ln.Addr(), a.settings.allowedHosts))
	fmt.Fprintf(e.stdout, "vulscan: audit log %s\n", a.describeAudit())
	fmt.Fprintf(e.stdout, "vulscan: callers admitted by %s\n", describeAuth(a.auth))
	if a.emulator != nil {
		printEmulatorEnv(e.stdout, a)
	} else {
		fmt.Fprintf(e.stdout, "vulscan: TCSS endpoint %s\n", a.settings.tcssEndpoint)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(e.stderr, "vulscan: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	// Nothing waiting is started any more: a TCSS call begun now might outlast the grace.
	a.queue.Stop()
	if err := shutdown(srv, cancelRequests); err != nil {
		fmt.Fprintf(e.stderr, "vulscan: shutdown: %v\n", err)
		return 1
	}
	return 0
}

// shutdown stops srv gracefully: it closes the listener at once and lets the requests in flight
// finish for shutdownTimeout. Then it cancels those still running and waits up to shutdownDrain
// for their handlers to record how they ended, so that the store is not closed under them.
func shutdown(srv *http.Server, cancelRequests context.CancelFunc) error {
	grace, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(grace)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	cancelRequests()
	drain, cancelDrain := context.WithTimeout(context.Background(), shutdownDrain)
	defer cancelDrain()
	// The first Shutdown closed the listener; this one only waits for the connections to idle.
	if derr := srv.Shutdown(drain); derr != nil {
		srv.Close()
		return fmt.Errorf("requests still running %s after the signal were cancelled, and some did not end within %s: %w",
			shutdownTimeout, shutdownDrain, derr)
	}
	return fmt.Errorf("requests still running %s after the signal were cancelled", shutdownTimeout)
}

// printEmulatorEnv says that TCSS is the local emulator and prints the environment under which
// `vulscan scan` (and the audit commands) in a second terminal use the same emulator and audit
// log as this server: one set of task IDs, so the web page can show the CLI's scans too.
func printEmulatorEnv(w io.Writer, a *app) {
	dsn := a.settings.auditDSN
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		if abs, err := filepath.Abs(path); err == nil {
			dsn = "sqlite:" + abs
		}
	}
	fmt.Fprintf(w, "vulscan: TCSS is the local emulator on %s (VULSCAN_TCSS_ENDPOINT=emulator): nothing reaches Tencent Cloud\n", a.emulator.url)
	fmt.Fprintf(w, "vulscan: for `vulscan scan` in a second terminal, on the same emulator and audit log (again after a restart):\n")
	exportDSN := " VULSCAN_AUDIT_DSN=" + shellQuote(dsn)
	if dsnHasPassword(dsn) {
		// The emulator's key is its own throwaway; a database password is a real secret, and
		// stdout goes to terminals' scrollback and service logs.
		exportDSN = ""
	}
	fmt.Fprintf(w, "export VULSCAN_TCSS_ENDPOINT=%s TENCENTCLOUD_SECRET_ID=%s TENCENTCLOUD_SECRET_KEY=%s%s\n",
		shellQuote(tcss.EmulatorPrefix+a.emulator.url), shellQuote(a.emulator.secretID), shellQuote(a.emulator.secretKey), exportDSN)
	if exportDSN == "" {
		fmt.Fprintf(w, "vulscan: and VULSCAN_AUDIT_DSN as this server's, %s (its password is not printed)\n", redactDSN(dsn))
	}
}

// dsnHasPassword reports whether a DSN holds a password (PostgreSQL's, in its user info or a
// query parameter); one it cannot read may.
func dsnHasPassword(dsn string) bool {
	if strings.HasPrefix(dsn, "sqlite:") {
		return false
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return true
	}
	if _, ok := u.User.Password(); ok {
		return true
	}
	for name := range u.Query() {
		if isPasswordParam(name) {
			return true
		}
	}
	return false
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:/@%+=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// servingLine says where the server listens. On one address that is the URL to open. On all
// interfaces it says the address configured and the loopback URL that works from this machine
// (reachableAddr), unless VULSCAN_ALLOWED_HOSTS names the only Host names the server answers to
// (the loopback one among them or not).
func servingLine(configured string, bound net.Addr, allowedHosts []string) string {
	reach, all := reachableAddr(configured, bound)
	if all == "" {
		return "serving on http://" + reach + "/"
	}
	if len(allowedHosts) > 0 {
		return "serving on " + all + ", all interfaces, to the Host names in VULSCAN_ALLOWED_HOSTS only"
	}
	return "serving on " + all + ", all interfaces; from this machine: http://" + reach + "/"
}

// reachableAddr is the host:port at which a listener configured on configured and bound at
// bound is reached: bound itself, or on all interfaces (0.0.0.0, ::, or no host: PORT and
// SCF's default are 0.0.0.0) the loopback address at bound's port, as bound is then [::]:PORT,
// which nobody opens. all is then the configured host with that port; else "".
func reachableAddr(configured string, bound net.Addr) (reach, all string) {
	host, _, _ := net.SplitHostPort(configured)
	ip := net.ParseIP(host)
	if host != "" && (ip == nil || !ip.IsUnspecified()) {
		return bound.String(), ""
	}
	_, port, _ := net.SplitHostPort(bound.String())
	loopback := "127.0.0.1"
	if ip != nil && ip.To4() == nil {
		loopback = "::1"
	}
	return net.JoinHostPort(loopback, port), net.JoinHostPort(host, port)
}
