//go:build !release

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/vulscan/vulscan/functions/tcss"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

func init() {
	commands["emulator"] = command{
		summary: "serve the TCSS emulator (the scan actions, and the inventory the pickers list) on VULSCAN_ADDR",
		run:     runEmulator,
	}
}

// emulatorUsage is `vulscan emulator`'s help: it takes no arguments, only settings.
const emulatorUsage = `usage: vulscan emulator
      Serve the TCSS emulator on VULSCAN_ADDR (default ` + emulatorDefaultAddr + `; PORT is not read) until
      interrupted. It accepts the key in TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (with
      TENCENTCLOUD_SESSION_TOKEN for a temporary key); without them it makes one and prints it in
      the export line to paste. AssumeRole grants the roles in TENCENTCLOUD_ROLE_ARN (comma-separated).`

// emulatorDefaultAddr is where the emulator listens without VULSCAN_ADDR.
const emulatorDefaultAddr = "127.0.0.1:8080"

// emulatorShutdownGrace is how long in-flight calls may finish once the command is told to stop.
const emulatorShutdownGrace = 5 * time.Second

// runEmulator serves tcsstest.Emulator until ctx ends. It accepts the key pair in its own
// TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY (+ TENCENTCLOUD_SESSION_TOKEN for a temporary
// key), or generates one and prints it as export lines. Its first stdout line is
// "listening on http://ADDR", so that scripts and tests can find a port chosen with ":0".
func runEmulator(ctx context.Context, args []string, e env) int {
	if len(args) > 0 {
		switch args[0] {
		case "help", "-h", "-help", "--help":
			fmt.Fprintln(e.stdout, emulatorUsage)
			return exitOK
		}
		fmt.Fprintln(e.stderr, emulatorUsage)
		return exitRejected
	}
	addr := strings.TrimSpace(e.getenv("VULSCAN_ADDR"))
	if addr == "" {
		addr = emulatorDefaultAddr
	}
	if err := checkListenAddr(addr); err != nil {
		// As the server's: net.Listen would take a service name (:http is port 80) and name
		// no setting for a port that is none.
		fmt.Fprintf(e.stderr, "vulscan emulator: VULSCAN_ADDR=%q: want host:port, e.g. 127.0.0.1:8080: %v\n", scanShort(addr), err)
		return exitRejected
	}
	key := tcsstest.Key{
		SecretID:  strings.TrimSpace(e.getenv("TENCENTCLOUD_SECRET_ID")),
		SecretKey: strings.TrimSpace(e.getenv("TENCENTCLOUD_SECRET_KEY")),
		Token:     strings.TrimSpace(e.getenv("TENCENTCLOUD_SESSION_TOKEN")),
	}
	generated := key.SecretID == "" || key.SecretKey == ""
	if generated {
		key = tcsstest.RandomKey()
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan emulator: listen on %s: %v\n", addr, err)
		return 1
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	// The roles AssumeRole grants: the one vulscan will assume, so that the role path can be tried.
	var roles []string
	for _, r := range strings.Split(e.getenv("TENCENTCLOUD_ROLE_ARN"), ",") {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, r)
		}
	}
	emu := tcsstest.New(tcsstest.Options{Keys: []tcsstest.Key{key}, Roles: roles, Logger: logger,
		FirstTaskID: emulatorFirstTaskID(time.Now())})
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}

	reach, all := reachableAddr(addr, ln.Addr())
	url := "http://" + reach
	if all == "" {
		fmt.Fprintf(e.stdout, "listening on %s\n", url)
	} else {
		fmt.Fprintf(e.stdout, "listening on %s, all interfaces; from this machine: %s\n", all, url)
	}
	// The emulator: prefix puts "emulator" on every audit record of the scans started against it.
	if generated {
		fmt.Fprintf(e.stdout, "export TENCENTCLOUD_SECRET_ID=%s TENCENTCLOUD_SECRET_KEY=%s VULSCAN_TCSS_ENDPOINT=%s%s\n",
			key.SecretID, key.SecretKey, tcss.EmulatorPrefix, url)
	} else {
		fmt.Fprintf(e.stdout, "export VULSCAN_TCSS_ENDPOINT=%s%s   # accepting the key in TENCENTCLOUD_SECRET_ID\n", tcss.EmulatorPrefix, url)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintf(e.stderr, "vulscan emulator: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), emulatorShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(e.stderr, "vulscan emulator: shutdown: %v\n", err)
		return 1
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(e.stderr, "vulscan emulator: %v\n", err)
		return 1
	}
	logger.Info("emulator stopped")
	return 0
}
