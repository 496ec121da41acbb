package main

import (
	"context"
	"fmt"

	"github.com/vulscan/vulscan/functions/platform"
	"github.com/vulscan/vulscan/web"
)

func init() { scfMode = serveSCF }

// serveSCF is the SCF custom-runtime mode: build the app once (SCF's cold start, which it times:
// 3 s by default), report ready, then serve invocations until SCF stops the instance. A runtime
// API that stays unreachable ends the process non-zero, and SCF starts a fresh one.
func serveSCF(ctx context.Context, e env) int {
	rt, err := platform.SCFRuntimeFromEnv(e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan: %v\n", err)
		return 1
	}
	a, err := startApp(ctx, e)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan: %v\n", err)
		return 1
	}
	defer a.Close()
	a.startCheckpoints(ctx)
	rt.Logger = a.logger
	rt.Replied = func() {
		a.opening.begin()          // an answered event lets the store's open begin (openInBackground)
		a.invocations.scfReplied() // or ends an instance whose store failed to open meanwhile
	}
	if err := rt.Run(ctx, a.invocations.scfHandler(a.dispatcher().Handle)); err != nil {
		a.logger.Error("SCF runtime loop ended", "err", err)
		return 1
	}
	return 0
}

// dispatcher serves platform events (SCF and Lambda) with the app: HTTP events go to the web
// handler with what the gateway knows of the caller, timers of the configured schedules at their
// due times go to the guarded scan service.
func (a *app) dispatcher() *platform.Dispatcher {
	return platform.New(platform.Options{
		Handler:        a.handler,
		Scans:          a.guard,
		Schedules:      a.schedule,
		RequestContext: callerFromGateway,
		Refuse:         web.WriteRefusal,
		Logger:         a.logger,
	})
}
