package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// A VULSCAN_BROAD_SCOPE_ACTORS pattern written for a signed-in person's subject in the actor's
// old form (oidc:<subject>) matches nobody now that such a person is oidc-sub:<issuer>#<subject>:
// the server says so at start, naming the pattern, and leaves the others alone.
func TestTheStartWarnsOfABroadScopePatternForAnOldSubjectActor(t *testing.T) {
	_, env, _ := hangingTCSS(t)
	_, _, stderr, _ := serveInProcess(t, append(env,
		"VULSCAN_BROAD_SCOPE_ACTORS=oidc:00u1abcd,oidc:*@example.com,oidc:*,oidc-sub:https://idp.example#00u2,apikey:ci"))
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
