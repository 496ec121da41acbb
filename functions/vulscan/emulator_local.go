//go:build !release

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// The TCSS emulator is part of the developer build only: the release build (`task package`,
// tag release) links neither it nor net/http/httptest, so a deployed function can never answer
// from a simulation.
func init() { startLocalEmulator = startEmulatorServer }

// emulatorEpoch is where clock-seeded task IDs count from: IDs stay short and above the 36001
// that Tencent's examples show.
var emulatorEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// emulatorFirstTaskID seeds an emulator's task IDs from the clock, one per millisecond: a
// restarted emulator starts above every ID the previous run can have handed out (TCSS's limit
// of 20 calls a second is far below one a millisecond), so an audit log that outlives the
// emulator never sees an ID twice.
func emulatorFirstTaskID(now time.Time) int64 {
	return 36001 + max(0, now.Sub(emulatorEpoch).Milliseconds())
}

// startEmulatorServer serves a TCSS emulator, with a key of its own, on a loopback port.
func startEmulatorServer(logger *slog.Logger) (*localEmulator, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("TCSS emulator: %w", err)
	}
	key := tcsstest.RandomKey()
	emu := tcsstest.New(tcsstest.Options{Keys: []tcsstest.Key{key}, Logger: logger, FirstTaskID: emulatorFirstTaskID(time.Now())})
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("TCSS emulator stopped", "err", err)
		}
	}()
	return &localEmulator{
		url:       "http://" + ln.Addr().String(),
		secretID:  key.SecretID,
		secretKey: key.SecretKey,
		close: func() error {
			ctx, cancel := context.WithTimeout(context.Background(), emulatorShutdownGrace)
			defer cancel()
			return srv.Shutdown(ctx)
		},
	}, nil
}
