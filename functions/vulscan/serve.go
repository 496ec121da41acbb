package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

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
	shutdownTimeout   = 10 * time.Second
)

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
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	fmt.Fprintf(e.stdout, "vulscan: serving on http://%s/\n", ln.Addr())
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
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(e.stderr, "vulscan: shutdown: %v\n", err)
		return 1
	}
	return 0
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
	fmt.Fprintf(w, "export VULSCAN_TCSS_ENDPOINT=%s TENCENTCLOUD_SECRET_ID=%s TENCENTCLOUD_SECRET_KEY=%s VULSCAN_AUDIT_DSN=%s\n",
		shellQuote(tcss.EmulatorPrefix+a.emulator.url), shellQuote(a.emulator.secretID), shellQuote(a.emulator.secretKey), shellQuote(dsn))
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:/@%+=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
