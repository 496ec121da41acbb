package main

import (
	"fmt"
	"strings"
	"testing"
)

// SIGINT and SIGTERM end the HTTP server and the commands (they close the store); a function
// instance, which its platform retires between invocations or kills, does not listen.
func TestProcessContextListensOutsideFunctions(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		listen bool
	}{
		{"HTTP server", nil, nil, true},
		{"Lambda", nil, map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, false},
		{"SCF custom runtime", nil, map[string]string{"SCF_RUNTIME_API": "127.0.0.1", "SCF_RUNTIME_API_PORT": "9001"}, false},
		{"a command on Lambda", []string{"audit", "verify"}, map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, true},
		{"a command", []string{"scan"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, stop := processContext(tt.args, func(k string) string { return tt.env[k] })
			defer stop()
			if listens := strings.HasPrefix(fmt.Sprint(ctx), "signal.NotifyContext"); listens != tt.listen {
				t.Errorf("listens for signals: %v (context %v), want %v", listens, ctx, tt.listen)
			}
		})
	}
}
