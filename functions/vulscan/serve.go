package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

func init() { httpMode = serveHTTP }

// Server timeouts: generous enough for a slow TCSS answer, short enough that idle or trickling
// clients cannot hold connections.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
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
	if a.emulator != nil {
		fmt.Fprintf(e.stdout, "vulscan: TCSS is the built-in emulator (no cloud account needed)\n")
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
