package main

import (
	"context"
	"encoding/json"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// A VULSCAN_BROAD_SCOPE_ACTORS pattern written for a signed-in person's subject in the actor's
// old form (oidc:<subject>) matches nobody now that such a person is oidc-sub:<issuer>#<subject>:
// the server says so at start, naming the pattern, and leaves the others alone.
func TestTheStartWarnsOfABroadScopePatternForAnOldSubjectActor(t *testing.T) {
	_, env, _ := hangingTCSS(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	ctx, stop := context.WithCancel(context.Background())
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, nil, env2(append(env, "VULSCAN_ADDR="+addr, "VULSCAN_AUDIT_WITNESS=off",
			"VULSCAN_BROAD_SCOPE_ACTORS=oidc:00u1abcd,oidc:*@example.com,oidc:*,oidc-sub:https://idp.example#00u2,apikey:ci"), stdout, stderr))
	}()
	defer func() { stop(); <-exit }()
	for !strings.Contains(stdout.String(), "serving on") {
		select {
		case code := <-exit:
			t.Fatalf("the server ended (%d) before serving: %s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	var warned []string
	for l := range strings.Lines(stderr.String()) {
		var line struct{ Msg, Pattern string }
		if json.Unmarshal([]byte(l), &line) == nil && strings.Contains(line.Msg, "VULSCAN_BROAD_SCOPE_ACTORS") {
			warned = append(warned, line.Pattern)
			if !strings.Contains(line.Msg, "oidc-sub:<issuer>#<subject>") {
				t.Errorf("the warning does not say what the actor is now: %s", line.Msg)
			}
		}
	}
	if !slices.Equal(warned, []string{"oidc:00u1abcd"}) {
		t.Errorf("warned of %q, want only oidc:00u1abcd; stderr:\n%s", warned, stderr.String())
	}
}
